"""The seed's registration-session API and the access-code endpoints under a session.

Thin on purpose: reads start from ``RegistrationSession.objects.for_user(user)`` or the selectors (a
session outside the user's schools is a 404), writes call ``registrations.services`` (role too low: 403;
bad input: 400 under the API's camelCase names; a status that does not allow it: 409).
"""

from __future__ import annotations

import csv
from contextlib import contextmanager
from datetime import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from registrations.api.schema import error_responses
from registrations.api.serializers import (
    AccessCodeListQuerySerializer,
    AccessCodeRevokeSerializer,
    AccessCodeSerializer,
    GenerateAccessCodesResultSerializer,
    GenerateAccessCodesSerializer,
    RegistrationProgressSerializer,
    RegistrationSessionCreateSerializer,
    RegistrationSessionListQuerySerializer,
    RegistrationSessionSerializer,
    RegistrationSessionTransitionSerializer,
    RegistrationSessionUpdateSerializer,
)
from registrations.choices import CodeStatus, SessionStatus
from registrations.codes import format_code, normalize_code
from registrations.models import AccessCode, RegistrationSession
from registrations.selectors import (
    attach_progress,
    build_progress,
    registration_progress,
    registration_session_list,
)
from registrations.services import (
    CAMEL,
    access_code_revoke,
    access_codes_generate,
    registration_session_create,
    registration_session_transition,
    registration_session_update,
)
from rostering.permissions import Perm, has_any_perm, has_perm, require_perm

CODE_CAMEL = {
    "count": "count",
    "prefix": "prefix",
    "format": "format",
    "expires_at": "expiresAt",
    "assign_from_class_roster": "assignFromClassRoster",
    "include_roster_hints_on_printout": "includeRosterHintsOnPrintout",
}
TAG_SESSIONS = "Registration sessions"
TAG_CODES = "Access codes"
SESSION_RELATED = ("school", "class_division", "grade_level", "academic_year", "term", "created_by")


class RegistrationWritePermission(permissions.BasePermission):
    """Refuse writes up front to members who may manage registrations nowhere (viewers, class teachers).

    Where exactly a write may land is decided by the services, per session.
    """

    message = "Your role does not allow managing registration sessions."

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or has_any_perm(request.user, Perm.REGISTRATIONS_MANAGE)


@contextmanager
def camel_errors(names: dict[str, str]):
    """Report a service's ``ValidationError`` under the API's field names (``class_division`` → ``classDivisionId``)."""
    try:
        yield
    except DjangoValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise DjangoValidationError({names.get(key, key): errors for key, errors in exc.error_dict.items()}) from exc


def _parse(serializer_class, data, context=None) -> dict:
    serializer = serializer_class(data=data if data is not None else {}, context=context or {})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- OpenAPI examples ------------------------------------------------------------------------------

CREATE_EXAMPLE = OpenApiExample(
    "Class-locked student verification",
    request_only=True,
    value={
        "mode": "student_verification",
        "schoolId": "6f1c2a64-3f0e-4a52-9a55-0d5b2f8e9c11",
        "title": "Grade 6A — check your details",
        "description": "Confirm or correct what the school has on file.",
        "classDivisionId": "0b7e4d0c-8f6b-4a0e-b3d5-1c2d3e4f5a6b",
        "academicYearId": "a3c5e7f9-1b2d-4f60-8a9c-0e1f2a3b4c5d",
        "startsAt": "2026-01-19T07:00:00Z",
        "endsAt": "2026-02-06T17:00:00Z",
        "expectedCount": 38,
        "rosterPolicy": "preloaded_only",
        "requiredFields": {"fields": {"phone": {"state": "required", "pattern": "^\\+?[0-9 ]{9,15}$"}}},
        "approvalPolicy": {"review": "manual", "autoApproveUnchangedVerifications": True},
    },
)
CREATE_EXAMPLE_SCHOOL_WIDE = OpenApiExample(
    "School-wide teacher self-registration (defaults)",
    request_only=True,
    value={
        "mode": "teacher_self_registration",
        "schoolId": "6f1c2a64-3f0e-4a52-9a55-0d5b2f8e9c11",
        "title": "Teacher profiles 2026",
    },
)
UPDATE_EXAMPLE = OpenApiExample(
    "Move the deadline",
    request_only=True,
    value={"endsAt": "2026-02-13T17:00:00Z", "expectedCount": 40},
)
GENERATE_EXAMPLE_OPEN = OpenApiExample(
    "500 open codes",
    request_only=True,
    value={"count": 500, "prefix": "AVP", "expiresAt": "2026-03-01T00:00:00Z"},
)
GENERATE_EXAMPLE_ROSTER = OpenApiExample(
    "One code per student of the class, with name hints",
    request_only=True,
    value={"assignFromClassRoster": True, "includeRosterHintsOnPrintout": True},
)
GENERATE_RESULT_EXAMPLE = OpenApiExample(
    "Generated",
    response_only=True,
    status_codes=["201"],
    value={
        "printBatchId": "5d0b8c2e-2f4a-4c1e-9d3b-7a6e5f4d3c2b",
        "count": 1,
        "warnings": [],
        "codes": [
            {
                "id": "9b2f6c1e-7d4a-4e3b-8c5d-2a1b0c9d8e7f",
                "code": "AVP-K7MQ2-X9TRH",
                "assignedPersonId": "1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6",
                "displayNameHint": "Rudo Chikore",
                "studentNumberHint": "S000412",
                "teacherNumberHint": None,
                "expiresAt": None,
            }
        ],
    },
)

SESSION_ID = OpenApiParameter(
    "id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The registration session's id."
)
CODE_ID = OpenApiParameter("code_pk", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The access code's id.")

_SCOPE = (
    "Sessions outside your districts and schools answer 404. Reading needs any role in the session's school "
    "(or district); changes need district admin, school admin or registrar (403 otherwise)."
)


def _transition_docs(verb: str, target: str, sources: str):
    return extend_schema(
        tags=[TAG_SESSIONS],
        summary=f"{verb.capitalize()} a session",
        operation_id=f"{verb}RegistrationSession",
        description=f"Moves the session to `{target}` (allowed from {sources}) and records who, when and why "
        f"in its history. Any other current status is a 409 naming it and the allowed targets. {_SCOPE}",
        request=RegistrationSessionTransitionSerializer,
        responses={200: RegistrationSessionSerializer, **error_responses(400, 401, 403, 404, 409)},
    )


# --- sessions --------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        tags=[TAG_SESSIONS],
        summary="List registration sessions",
        operation_id="listRegistrationSessions",
        description="The sessions you can see, newest first, each with its progress summary. Filters: "
        "`mode`, `status`, `schoolId`; `tenantWide=true` asks for every school of your districts and needs a "
        "district-level role (403 otherwise). An unknown filter value is a 400.",
        parameters=[RegistrationSessionListQuerySerializer],
        responses={200: RegistrationSessionSerializer(many=True), **error_responses(400, 401, 403)},
    ),
    create=extend_schema(
        tags=[TAG_SESSIONS],
        summary="Create a registration session",
        operation_id="createRegistrationSession",
        description="Creates a `draft` session. Scope: leave classDivisionId and gradeLevelId empty for a "
        "school-wide session, set gradeLevelId alone to lock the grade, or classDivisionId to lock the class "
        "(its grade is derived and stored; a different gradeLevelId is a 400). Every id must belong to the "
        "session's school and district. requiredFields, approvalPolicy and rosterPolicy default per mode. "
        + _SCOPE,
        request=RegistrationSessionCreateSerializer,
        examples=[CREATE_EXAMPLE, CREATE_EXAMPLE_SCHOOL_WIDE],
        responses={201: RegistrationSessionSerializer, **error_responses(400, 401, 403)},
    ),
    retrieve=extend_schema(
        tags=[TAG_SESSIONS],
        summary="Get a registration session",
        operation_id="getRegistrationSession",
        description=_SCOPE,
        responses={200: RegistrationSessionSerializer, **error_responses(401, 404)},
    ),
    partial_update=extend_schema(
        tags=[TAG_SESSIONS],
        summary="Update a registration session",
        operation_id="updateRegistrationSession",
        description="draft: every field but mode and schoolId; open or paused: title, description, startsAt, "
        "endsAt, expectedCount, requiredFields, approvalPolicy; closed or archived: nothing. mode and "
        "schoolId never change. A refused field is a 400 naming it and the reason; nothing is written. "
        + _SCOPE,
        request=RegistrationSessionUpdateSerializer,
        examples=[UPDATE_EXAMPLE],
        responses={200: RegistrationSessionSerializer, **error_responses(400, 401, 403, 404)},
    ),
    open=_transition_docs("open", "open", "draft or paused"),
    pause=_transition_docs("pause", "paused", "open"),
    close=_transition_docs("close", "closed", "open or paused"),
    archive=_transition_docs("archive", "archived", "closed"),
    progress=extend_schema(
        tags=[TAG_SESSIONS],
        summary="Progress of a registration session",
        operation_id="getRegistrationSessionProgress",
        description="The RegistrationProgressSummary (one aggregate query over the session's codes) with the "
        "session's school, grade level, class division, academic year and term. " + _SCOPE,
        responses={200: RegistrationProgressSerializer, **error_responses(401, 404)},
    ),
)
class RegistrationSessionViewSet(viewsets.GenericViewSet):
    """``/sessions``: list, create, get, PATCH, open/pause/close/archive, progress. No PUT, no DELETE."""

    serializer_class = RegistrationSessionSerializer
    permission_classes = [permissions.IsAuthenticated, RegistrationWritePermission]
    filter_backends: list = []
    queryset = RegistrationSession.objects.none()

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return RegistrationSession.objects.none()
        qs = RegistrationSession.objects.for_user(self.request.user, perm=Perm.REGISTRATIONS_VIEW)
        return qs.select_related(*SESSION_RELATED)

    def _present(self, session, *, summary=None, status_code=status.HTTP_200_OK) -> Response:
        context = self.get_serializer_context()
        if summary is not None:
            context["progress"] = {session.pk: summary}
        return Response(RegistrationSessionSerializer(session, context=context).data, status=status_code)

    def list(self, request):
        query = _parse(RegistrationSessionListQuerySerializer, request.query_params)
        tenant_wide = query.pop("tenant_wide", False)
        qs = registration_session_list(
            user=request.user, tenant_wide=tenant_wide, filters=query, with_progress=False
        )
        page = attach_progress(self.paginate_queryset(qs.order_by("-created_at", "-id")))
        serializer = RegistrationSessionSerializer(page, many=True, context=self.get_serializer_context())
        return self.get_paginated_response(serializer.data)

    def create(self, request):
        data = _parse(RegistrationSessionCreateSerializer, request.data, self.get_serializer_context())
        with camel_errors(CAMEL):
            session = registration_session_create(
                actor=request.user, school=data.pop("school"), mode=data.pop("mode"), title=data.pop("title"), **data
            )
        return self._present(
            session, summary=build_progress(session.expected_count, {}), status_code=status.HTTP_201_CREATED
        )

    def retrieve(self, request, pk=None):
        return self._present(self.get_object())

    def partial_update(self, request, pk=None):
        session = self.get_object()
        data = _parse(RegistrationSessionUpdateSerializer, request.data, self.get_serializer_context())
        with camel_errors(CAMEL):
            session = registration_session_update(actor=request.user, session=session, data=data)
        return self._present(session)

    def _transition(self, request, to: str) -> Response:
        session = self.get_object()
        body = _parse(RegistrationSessionTransitionSerializer, request.data)
        session = registration_session_transition(
            session=session, to=to, actor=request.user, reason=body.get("reason", "")
        )
        return self._present(session)

    @action(detail=True, methods=["post"])
    def open(self, request, pk=None):
        return self._transition(request, SessionStatus.OPEN)

    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._transition(request, SessionStatus.PAUSED)

    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._transition(request, SessionStatus.CLOSED)

    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        return self._transition(request, SessionStatus.ARCHIVED)

    @action(detail=True, methods=["get"])
    def progress(self, request, pk=None):
        session = self.get_object()
        summary = registration_progress(session=session)
        return Response(RegistrationProgressSerializer(RegistrationProgressSerializer.data_for(session, summary)).data)


# --- access codes ----------------------------------------------------------------------------------

CSV_COLUMNS = (
    "code", "status", "assigned_person_id", "assigned_person_name", "display_name_hint", "number_hint",
    "expires_at", "revoked_at", "print_batch_id", "created_at",
)


class AccessCodeCSVRenderer(BaseRenderer):
    """``text/csv`` for the export (errors come out as a one-row CSV with detail and code)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, dict):
            rows = [["detail", "code"], [data.get("detail", ""), data.get("code", "")]]
            return "".join(",".join(f'"{str(v).replace(chr(34), chr(34) * 2)}"' for v in row) + "\r\n" for row in rows)
        return data or ""


class _Echo:
    def write(self, value):
        return value


def _cell(value) -> str:
    """A CSV cell that spreadsheets will not run as a formula."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def effective_code_status(code: AccessCode, now=None) -> str:
    if code.revoked_at is not None:
        return "revoked"
    if code.expires_at is not None and code.expires_at <= (now or timezone.now()) and code.status in (
        CodeStatus.UNUSED, CodeStatus.STARTED,
    ):
        return "expired"
    return code.status


def filter_codes(qs: QuerySet, filters: dict) -> QuerySet:
    status_value = filters.get("status")
    if status_value == "revoked":
        qs = qs.filter(revoked_at__isnull=False)
    elif status_value == "expired":
        qs = qs.filter(
            revoked_at__isnull=True, expires_at__lte=timezone.now(), status__in=[CodeStatus.UNUSED, CodeStatus.STARTED]
        )
    elif status_value:
        qs = qs.filter(status=status_value, revoked_at__isnull=True)
    if filters.get("print_batch"):
        qs = qs.filter(print_batch=filters["print_batch"])
    search = (filters.get("search") or "").strip()
    if search:
        q = Q(display_name_hint__icontains=search) | Q(number_hint__icontains=search)
        normalized = normalize_code(search)
        if normalized:
            q |= Q(code__contains=normalized)
        qs = qs.filter(q)
    return qs


@extend_schema_view(
    list=extend_schema(
        tags=[TAG_CODES],
        summary="List a session's access codes",
        operation_id="listRegistrationCodes",
        description="Filter with `status` (a participant status among live codes, `revoked` or `expired`), "
        "`printBatchId` and `search` (part of a code, or of a name or number hint). " + _SCOPE,
        parameters=[SESSION_ID, AccessCodeListQuerySerializer],
        responses={200: AccessCodeSerializer(many=True), **error_responses(400, 401, 404)},
    ),
    create=extend_schema(
        tags=[TAG_CODES],
        summary="Generate access codes",
        operation_id="generateRegistrationCodes",
        description="One bulk operation. Open codes: `count` of them. `assignFromClassRoster: true`: one code "
        "per person in the session's scope (class, grade or school roster) who has no live code in this "
        "session yet, each with a rosterSnapshot and name/number hints. The roster policy decides what is "
        "allowed: preloaded_only → roster codes only, open_with_code → open codes only, mixed → both (400 "
        "otherwise). A closed or archived session is a 409. Codes use 32 symbols without 0/O/1/I; the "
        "default format has 10 random characters; the short formats come with a warning. " + _SCOPE,
        parameters=[SESSION_ID],
        request=GenerateAccessCodesSerializer,
        examples=[GENERATE_EXAMPLE_OPEN, GENERATE_EXAMPLE_ROSTER, GENERATE_RESULT_EXAMPLE],
        responses={201: GenerateAccessCodesResultSerializer, **error_responses(400, 401, 403, 404, 409)},
    ),
)
class AccessCodeViewSet(viewsets.GenericViewSet):
    """``/sessions/{id}/codes``: list, generate, revoke, export."""

    serializer_class = AccessCodeSerializer
    permission_classes = [permissions.IsAuthenticated, RegistrationWritePermission]
    filter_backends: list = []
    lookup_url_kwarg = "code_pk"
    queryset = AccessCode.objects.none()

    def get_renderers(self):
        if getattr(self, "action", None) == "export":
            return [JSONRenderer(), AccessCodeCSVRenderer()]
        return super().get_renderers()

    def get_session(self) -> RegistrationSession:
        if not hasattr(self, "_session"):
            qs = RegistrationSession.objects.for_user(self.request.user, perm=Perm.REGISTRATIONS_VIEW)
            try:
                self._session = get_object_or_404(qs, pk=self.kwargs["pk"])
            except DjangoValidationError:  # not a UUID
                raise Http404 from None
        return self._session

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return AccessCode.objects.none()
        return AccessCode.objects.filter(session=self.get_session()).order_by("created_at", "code", "id")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False) and "pk" in self.kwargs:
            session = self.get_session()
            context["session_mode"] = session.mode
            context["reveal_codes"] = has_perm(
                self.request.user, Perm.REGISTRATIONS_MANAGE, district_id=session.district_id, school_id=session.school_id
            )
        return context

    def list(self, request, pk=None):
        self.get_session()
        filters = _parse(AccessCodeListQuerySerializer, request.query_params)
        page = self.paginate_queryset(filter_codes(self.get_queryset(), filters))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def create(self, request, pk=None):
        session = self.get_session()
        data = _parse(GenerateAccessCodesSerializer, request.data)
        data.pop("delivery", None)
        with camel_errors(CODE_CAMEL):
            result = access_codes_generate(session=session, actor=request.user, **data)
        return Response(GenerateAccessCodesResultSerializer.data_for(result, mode=session.mode),
                        status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=[TAG_CODES],
        summary="Revoke an access code",
        operation_id="revokeRegistrationCode",
        description="The code stops working at once (a started draft stays but can no longer be used). Only "
        "unused or started codes can be revoked (409 otherwise); revoking twice changes nothing. A roster "
        "person whose code was revoked can get a new one. " + _SCOPE,
        parameters=[SESSION_ID, CODE_ID],
        request=AccessCodeRevokeSerializer,
        responses={200: AccessCodeSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def revoke(self, request, pk=None, code_pk=None):
        code = self.get_object()
        body = _parse(AccessCodeRevokeSerializer, request.data)
        code = access_code_revoke(code=code, actor=request.user, reason=body.get("reason", ""))
        return Response(self.get_serializer(code).data)

    @extend_schema(
        tags=[TAG_CODES],
        summary="Export a session's access codes as CSV",
        operation_id="exportRegistrationCodes",
        description="Columns: " + ", ".join(CSV_COLUMNS) + ". `status` is the participant status, or "
        "`revoked` / `expired`. Takes the same filters as the list. " + _SCOPE,
        parameters=[
            SESSION_ID,
            AccessCodeListQuerySerializer,
            OpenApiParameter("page", exclude=True),
            OpenApiParameter("page_size", exclude=True),
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The CSV file (UTF-8, with a header)."),
            **error_responses(400, 401, 403, 404),
        },
    )
    def export(self, request, pk=None):
        session = self.get_session()
        # A file of live codes is a stack of credentials: only those who manage the session get one.
        require_perm(request.user, Perm.REGISTRATIONS_MANAGE, district_id=session.district_id, school_id=session.school_id)
        filters = _parse(AccessCodeListQuerySerializer, request.query_params)
        codes = filter_codes(self.get_queryset(), filters).select_related("assigned_person")
        now = timezone.now()
        writer = csv.writer(_Echo())

        def rows():
            yield "\ufeff" + writer.writerow(CSV_COLUMNS)
            for code in codes.iterator(chunk_size=2000):
                person = code.assigned_person
                yield writer.writerow([
                    format_code(code.code, code.prefix_length),
                    effective_code_status(code, now),
                    code.assigned_person_id or "",
                    _cell(person.full_name if person else ""),
                    _cell(code.display_name_hint),
                    _cell(code.number_hint),
                    _cell(code.expires_at),
                    _cell(code.revoked_at),
                    code.print_batch,
                    _cell(code.created_at),
                ])

        filename = f"access-codes-{slugify(session.title)[:40] or session.pk}-{now:%Y%m%d}.csv"
        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
