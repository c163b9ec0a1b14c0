"""DRF's JSON parser on the bounded decoder: the only parser of the APIs.

The size limit is the view's ``json_max_bytes`` (default ``SCHOOL_SESSIONS["JSON_MAX_BYTES"]``); the body
is read at most one byte past it, whatever ``Content-Length`` says. A refused body is a 400 naming the
field (``{"detail": ..., "code": "invalid", "errors": {"requiredFields": [...]}}``) or a 413 when too large.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import BaseParser

from rostering.common.jsonio import DEFAULT_MAX_BYTES, JSONInputError, decode


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


def json_max_bytes(view) -> int:
    limit = getattr(view, "json_max_bytes", None)
    if limit:
        return int(limit)
    return int(settings.SCHOOL_SESSIONS.get("JSON_MAX_BYTES", DEFAULT_MAX_BYTES))


def raise_for(exc: JSONInputError, *, answers_under: str | None = None):
    """The API error for a refused JSON input, keyed by the top-level field it is in; with ``answers_under``
    (a view's ``json_answers_under``), an error inside that object is keyed by the answer's own key, as the
    view reports its other answer errors."""
    if exc.status == 413:
        raise PayloadTooLarge(exc.message)
    if exc.field:
        key = exc.field
        if answers_under and exc.path.startswith(f"{answers_under}."):
            key = exc.path[len(answers_under) + 1 :].split(".", 1)[0].split("[", 1)[0] or key
        raise exceptions.ValidationError({key: [exc.message]})
    raise exceptions.ParseError(exc.message)


class BoundedJSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        context = parser_context or {}
        limit = json_max_bytes(context.get("view"))
        request = context.get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(f"The request body is {int(declared):,} bytes; at most {limit:,} are accepted here.")
        if stream is None:
            raise exceptions.ParseError("The request body is empty: send a JSON document.")
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise PayloadTooLarge(f"The request body is over {limit:,} bytes, the most accepted here.")
        try:
            return decode(raw, max_bytes=limit)
        except JSONInputError as exc:
            raise_for(exc, answers_under=getattr(context.get("view"), "json_answers_under", None))
