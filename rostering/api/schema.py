"""OpenAPI building blocks shared by the native API: the one error format, documented honestly.

The bodies match ``rostering.common.exceptions.api_exception_handler``.
"""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse

from rostering.common import schema

_DESCRIPTIONS = {
    400: "Bad input (validation, unknown or out-of-reach ids, malformed JSON, bad filter or page size). Nothing was written.",
    401: "Missing, invalid, expired or revoked credentials.",
    403: "Your role does not allow this action here.",
    404: "No such object, or it is outside your districts and schools.",
    409: "The object is still in use and cannot be removed.",
}

_EXAMPLES = {
    400: OpenApiExample(
        "Invalid input",
        value={
            "detail": "The end date must be after the start date.",
            "code": "invalid",
            "errors": {"end_date": ["The end date must be after the start date."]},
        },
    ),
    401: OpenApiExample(
        "Not authenticated", value={"detail": "Invalid, expired or revoked token.", "code": "authentication_failed"}
    ),
    403: OpenApiExample(
        "Role too low", value={"detail": "Your role does not allow this action here.", "code": "permission_denied"}
    ),
    404: OpenApiExample("Not found", value={"detail": "Not found.", "code": "not_found"}),
    409: OpenApiExample(
        "In use",
        value={
            "detail": "Grade level 'Grade 6' is still used by class divisions; remove those first.",
            "code": "in_use",
        },
    ),
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """``{400: OpenApiResponse(...), 404: ...}`` for ``extend_schema(responses=...)``."""
    return schema.error_responses(codes, descriptions=_DESCRIPTIONS, examples=_EXAMPLES)
