"""``Authorization: Bearer sit_…``: a district's integration token (``IntegrationToken``), read-only."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions

from rostering.common.authentication import BearerAuthentication
from rostering.services import integration_token_authenticate


class IntegrationTokenAuthentication(BearerAuthentication):
    """The request's user is anonymous: an integration acts for its district, not for a person. ``request.auth``
    is the ``IntegrationToken``."""

    token_name = "integration token"
    realm = "graph"
    malformed_code = "INVALID_TOKEN"

    def authenticate_token(self, request, raw: str):
        token = integration_token_authenticate(raw=raw)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked integration token.", code="INVALID_TOKEN")
        from django.contrib.auth.models import AnonymousUser

        return AnonymousUser(), token


class IntegrationTokenScheme(OpenApiAuthenticationExtension):
    target_class = IntegrationTokenAuthentication
    name = "integrationToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "A district's integration token (sit_…), from the Integrations page or "
                               "`manage.py create_integration_token`."}
