"""One error format for the native API.

- validation errors: 400 ``{"detail": "Invalid input.", "code": "invalid", "errors": {field: [messages]}}``
- application errors: their status with ``{"detail": message, "code": code, **extra}``
- everything DRF raises (401/403/404/405/415/429): ``{"detail": ..., "code": ...}``
"""

from collections.abc import Mapping
from contextlib import contextmanager

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler

from rostering.common.errors import ApplicationError, RateLimited


def _validation_response(detail) -> Response:
    if isinstance(detail, dict):
        errors = detail
    else:
        errors = {"non_field_errors": detail if isinstance(detail, list) else [detail]}
    first = next(iter(errors.values()), ["Invalid input."])
    summary = first[0] if isinstance(first, list) and first else "Invalid input."
    if isinstance(summary, dict):
        summary = "Invalid input."
    return Response(
        {"detail": str(summary), "code": "invalid", "errors": errors},
        status=status.HTTP_400_BAD_REQUEST,
    )


def api_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        return _validation_response(as_serializer_error(exc))
    if isinstance(exc, ApplicationError):
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        return Response({"detail": exc.message, "code": exc.code, **exc.extra}, status=exc.status_code, headers=headers)
    if isinstance(exc, exceptions.ValidationError):
        return _validation_response(exc.detail)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        response.data = {
            "detail": str(exc.detail) if not isinstance(exc.detail, (list, dict)) else "Request refused.",
            "code": codes if isinstance(codes, str) else "error",
        }
    return response


@contextmanager
def renamed_errors(names: Mapping[str, str]):
    """Report a service's ``ValidationError`` under the API's field names (``class_division`` →
    ``classDivisionId``): services speak of model fields, each API of its own wire names."""
    try:
        yield
    except DjangoValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise DjangoValidationError({names.get(key, key): errors for key, errors in exc.error_dict.items()}) from exc
