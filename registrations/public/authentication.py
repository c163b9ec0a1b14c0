"""The registration token as a DRF authentication class, for the public participant API only.

It is NOT in ``DEFAULT_AUTHENTICATION_CLASSES``: only the views of ``registrations.public.api`` use it.
``request.auth`` is the ``RegistrationToken`` (the code and session it is bound to), checked for signature and
age here without a query; the services check the code itself under their lock (a revoked or expired code
is a 401 there), and the status call loads it. ``request.user`` stays anonymous.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, permissions

from registrations.services.participation import TOKEN_MAX_AGE, RegistrationToken, read_token
from rostering.common.authentication import BearerAuthentication
from rostering.common.errors import Unauthorized


class RegistrationTokenAuthentication(BearerAuthentication):
    """``Authorization: Bearer <registrationToken>`` from ``access-codes/validate``."""

    token_name = "registrationToken"
    realm = "registration"
    malformed_code = "token_invalid"

    def authenticate_token(self, request, raw: str):
        try:
            token = read_token(raw)
        except Unauthorized as exc:
            raise exceptions.AuthenticationFailed(exc.message, code=exc.code) from None
        return AnonymousUser(), token


class HasRegistrationToken(permissions.BasePermission):
    message = "Send the registration token from access-codes/validate as 'Authorization: Bearer <token>'."

    def has_permission(self, request, view):
        return isinstance(request.auth, RegistrationToken)


class RegistrationTokenScheme(OpenApiAuthenticationExtension):
    target_class = RegistrationTokenAuthentication
    name = "registrationToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "The `registrationToken` returned by `POST /api/v1/public/registrations/access-codes/validate`: "
                f"signed, bound to one access code, valid for {TOKEN_MAX_AGE // 60} minutes. Validate the code "
                "again for a new one."
            ),
        }
