"""The error bodies of ``rostering.common.exceptions.api_exception_handler``, documented once for every API.

Each API says what its 400/401/403/404/409 mean and gives its own examples; the shapes are these.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers


class ApiErrorSerializer(serializers.Serializer):
    """``{"detail", "code"}``: every error that is not a validation error."""

    detail = serializers.CharField(help_text="A sentence for a human.")
    code = serializers.CharField(help_text="A stable machine-readable code, e.g. `not_found`, `permission_denied`.")


class ApiValidationErrorSerializer(ApiErrorSerializer):
    """``{"detail", "code": "invalid", "errors": {field: [messages]}}``: bad input, nothing was written."""

    errors = serializers.DictField(
        child=serializers.JSONField(),
        help_text="Messages per input field, under the API's own field names (`non_field_errors` for the whole).",
    )


class ApiRefusalSerializer(ApiErrorSerializer):
    """A refusal because of the state of things (409, 429 …): ``detail`` and ``code`` plus what the code needs."""

    currentStatus = serializers.CharField(required=False, help_text="`invalid_transition`: the status now.")
    allowedTargets = serializers.ListField(child=serializers.CharField(), required=False,
                                           help_text="`invalid_transition`: where it may go from here.")
    currentVersion = serializers.IntegerField(required=False, help_text="`stale_version`: the version now.")
    status = serializers.CharField(required=False, help_text="`stale_version`, `not_editable`: the status now.")
    sessionStatus = serializers.CharField(required=False, help_text="`session_not_open`: the session's status.")
    importError = serializers.CharField(required=False, help_text="`import_failed`: why.")
    retryAfter = serializers.IntegerField(required=False, help_text="429: seconds to wait (also in Retry-After).")
    errors = serializers.DictField(child=serializers.JSONField(), required=False,
                                   help_text="400 only: messages per input field.")


def serializer_for(status: int) -> type[serializers.Serializer]:
    if status == 400:
        return ApiValidationErrorSerializer
    if status in (409, 429):
        return ApiRefusalSerializer
    return ApiErrorSerializer


def error_responses(
    codes: Sequence[int],
    *,
    descriptions: Mapping[int, str],
    examples: Mapping[int, OpenApiExample | Sequence[OpenApiExample]],
) -> dict[int, OpenApiResponse]:
    """``{400: OpenApiResponse(...), …}`` for ``extend_schema(responses=...)``, in the one error format."""
    out = {}
    for code in codes:
        given = examples.get(code, ())
        out[code] = OpenApiResponse(
            response=serializer_for(code),
            description=descriptions[code],
            examples=list(given) if isinstance(given, list | tuple) else [given],
        )
    return out
