"""The base of every bearer-token credential: staff API tokens, the registration token, integration tokens.

Subclasses say what a token is (``authenticate_token``) and how a wrong one is answered; the header
parsing and its errors are here once.
"""

from __future__ import annotations

from rest_framework import authentication, exceptions


class BearerAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <token>``. Another scheme is left to the next authentication class."""

    keyword = "Bearer"
    token_name = "token"  # in messages: "use 'Bearer <token>'"
    realm: str | None = None
    malformed_code = "authentication_failed"

    def authenticate(self, request):
        raw = self.bearer_token(request)
        if raw is None:
            return None
        return self.authenticate_token(request, raw)

    def bearer_token(self, request) -> str | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        parts = header.split()
        if not parts or parts[0].lower() != self.keyword.lower():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                f"Malformed Authorization header: use '{self.keyword} <{self.token_name}>'.", code=self.malformed_code
            )
        return parts[1]

    def authenticate_token(self, request, raw: str):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def authenticate_header(self, request):
        return f'{self.keyword} realm="{self.realm}"' if self.realm else self.keyword
