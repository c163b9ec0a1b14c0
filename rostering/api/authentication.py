from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions

from rostering.common.authentication import BearerAuthentication
from rostering.services import api_token_authenticate


class BearerTokenAuthentication(BearerAuthentication):
    """``Authorization: Bearer sst_…`` — a staff API token (stored hashed, revocable)."""

    def authenticate_token(self, request, raw: str):
        token = api_token_authenticate(raw=raw)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        return token.user, token


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A staff API token (sst_…)."}
