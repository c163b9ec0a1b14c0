"""The registrations API: the seed's registration sessions, the access codes under a session, and the review
queue (``/submissions``).

Thin on purpose: reads go through the selectors (a session outside the user's schools, or a submission of a
class a class teacher doesn't teach, is a 404); writes call one service each (role too low: 403; bad input:
400 under the API's camelCase names; a status or version that does not allow it: 409; nothing is written on
any refusal).
"""

from __future__ import annotations

import uuid

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
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

from registrations.api.schema import error_responses, review_error_responses
from registrations.api.serializers import (
    AccessCodeListQuerySerializer,
    AccessCodeRevokeSerializer,
    AccessCodeSerializer,
    BulkApproveResultSerializer,
    BulkApproveSerializer,
    GenerateAccessCodesResultSerializer,
    GenerateAccessCodesSerializer,
    RegistrationProgressSerializer,
    RegistrationSessionCreateSerializer,
    RegistrationSessionListQuerySerializer,
    RegistrationSessionSerializer,
    RegistrationSessionTransitionSerializer,
    RegistrationSessionUpdateSerializer,
    SubmissionApproveSerializer,
    SubmissionCorrectionSerializer,
    SubmissionDetailSerializer,
    SubmissionListQuerySerializer,
    SubmissionRejectSerializer,
    SubmissionSerializer,
)
from registrations.choices import SessionStatus, SubmissionStatus
from registrations.exports import CSV_COLUMNS, access_codes_csv_response
from registrations.filtersets import REVIEWABLE
from registrations.models import AccessCode, RegistrationSession, Submission
from registrations.selectors import (
    SESSION_RELATED,
    access_code_list,
    attach_progress,
    build_progress,
    can_manage,
    can_review,
    match_person,
    possible_duplicates,
    registration_progress,
    registration_session_list,
    submission_detail_queryset,
    submission_list,
)
from registrations.services.codes import access_code_revoke, access_codes_generate
from registrations.services.review import (
    submission_approve,
    submission_reject,
    submission_request_correction,
    submissions_bulk_approve,
)
from registrations.services.roster_import import submission_import
from registrations.services.sessions import (
    registration_session_create,
    registration_session_transition,
    registration_session_update,
)
from registrations.validators import CAMEL
from rostering.common.errors import Conflict
from rostering.common.exceptions import renamed_errors
from rostering.common.parsers import BoundedJSONParser
from rostering.permissions import Perm, has_any_perm, require_perm

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
TAG_REVIEW = "Review"
REVIEW_CAMEL = {"flagged_fields": "flaggedFields", "expected_version": "expectedVersion"}


class RegistrationWritePermission(permissions.BasePermission):
    """Refuse writes up front to members who may manage registrations nowhere (viewers, class teachers).

    Where exactly a write may land is decided by the services, per session.
    """

    message = "Your role does not allow managing registration sessions."

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or has_any_perm(request.user, Perm.REGISTRATIONS_MANAGE)


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
        with renamed_errors(CAMEL):
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
        with renamed_errors(CAMEL):
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
            context["reveal_codes"] = can_manage(self.request.user, session)
        return context

    def list(self, request, pk=None):
        self.get_session()
        filters = _parse(AccessCodeListQuerySerializer, request.query_params)
        page = self.paginate_queryset(access_code_list(session=self.get_session(), filters=filters)
                                      .order_by("created_at", "code", "id"))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def create(self, request, pk=None):
        session = self.get_session()
        data = _parse(GenerateAccessCodesSerializer, request.data)
        data.pop("delivery", None)
        with renamed_errors(CODE_CAMEL):
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
        return access_codes_csv_response(
            session=session, codes=access_code_list(session=session, filters=filters),
            register_url=request.build_absolute_uri("/register"),
        )


# --- the review queue ---------------------------------------------------------------------------------


class ReviewPermission(permissions.BasePermission):
    """Refuse actions up front to members who may review nowhere (viewers). Where exactly a reviewer may
    act is decided per submission by the services (class teachers: their classes only)."""

    message = "Your role does not allow reviewing submissions."

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or has_any_perm(request.user, Perm.REGISTRATIONS_REVIEW)


SUBMISSION_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The submission's id.")
_SCOPE = (
    "Submissions outside your districts and schools answer 404; class teachers only see (and review) the "
    "submissions of the classes they teach. Reviewing needs district admin, school admin, registrar or "
    "class teacher (viewers get 403)."
)
_EXAMPLE_SUBMISSION = {
    "id": "5c0d8f43-2a7e-4b8e-9f61-0b3d5e7a9c21",
    "sessionId": "9b2f6c1e-7d4a-4e3b-8c5d-2a1b0c9d8e7f",
    "accessCode": "K7MQ2-X9TRH",
    "displayName": "Chipo Dube",
    "personType": "student",
    "status": "submitted",
    "version": 3,
    "payload": {"given_name": "Chipo", "family_name": "Dube", "date_of_birth": "2014-05-02", "gender": "female",
                "guardian_name": "Grace Dube", "guardian_relationship": "mother",
                "guardian_phone": "+263 77 123 4567",
                "grade_level_id": "0b7e4d0c-8f6b-4a0e-b3d5-1c2d3e4f5a6b"},
    "normalizedIdentity": {"givenName": "Chipo", "familyName": "Dube", "dateOfBirth": "2014-05-02",
                           "phone": "", "guardianName": "Grace Dube", "guardianPhone": "+263 77 123 4567",
                           "number": "", "gradeLevelId": "0b7e4d0c-8f6b-4a0e-b3d5-1c2d3e4f5a6b",
                           "classDivisionId": ""},
    "validationSummary": {"errors": {}, "missing": [], "changedFields": [], "warnings": []},
    "gradeLevelId": "0b7e4d0c-8f6b-4a0e-b3d5-1c2d3e4f5a6b",
    "classDivisionId": None,
    "correctionMessage": "",
    "flaggedFields": [],
    "reviewReason": "",
    "submittedAt": "2026-01-21T09:14:05Z",
    "reviewedBy": None,
    "reviewedAt": None,
    "importedPersonId": None,
    "importedAt": None,
    "importError": "",
    "createdAt": "2026-01-21T09:02:41Z",
    "updatedAt": "2026-01-21T09:14:05Z",
}
_EXAMPLE_DETAIL = {
    **_EXAMPLE_SUBMISSION,
    "rosterSnapshot": {},
    "rosterMatchId": None,
    "possibleDuplicates": [{"id": "1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6", "name": "Chipo Dube", "role": "student",
                            "number": "S000412", "dateOfBirth": "2013-11-30",
                            "schoolId": "6f1c2a64-3f0e-4a52-9a55-0d5b2f8e9c11", "gradeLevelId": None}],
    "history": [
        {"fromStatus": "draft", "toStatus": "submitted", "actor": None, "reason": "", "at": "2026-01-21T09:14:05Z"},
        {"fromStatus": "", "toStatus": "draft", "actor": None, "reason": "", "at": "2026-01-21T09:02:41Z"},
    ],
    "allowedActions": ["approve", "reject", "requestCorrection"],
}
_EXAMPLE_APPROVED = {**_EXAMPLE_SUBMISSION, "status": "imported", "version": 5,
                     "reviewedBy": {"id": 7, "name": "Rudo Chikore"}, "reviewedAt": "2026-01-22T08:00:12Z",
                     "importedPersonId": "3a9f0c1d-6b2e-4f7a-8c5d-9e0f1a2b3c4d",
                     "importedAt": "2026-01-22T08:00:12Z"}


def _action_docs(summary: str, description: str, request, example: OpenApiExample, result_example: dict):
    return extend_schema(
        tags=[TAG_REVIEW], summary=summary, description=f"{description} {_SCOPE}", parameters=[SUBMISSION_ID],
        request=request, examples=[example, OpenApiExample("Result", value=result_example, response_only=True)],
        responses={200: SubmissionSerializer, **review_error_responses(400, 401, 403, 404, 409)},
    )


class SubmissionViewSet(viewsets.GenericViewSet):
    """The review queue: list, detail, approve, reject, request correction, bulk approve, import."""

    serializer_class = SubmissionSerializer
    permission_classes = [permissions.IsAuthenticated, ReviewPermission]
    parser_classes = [BoundedJSONParser]
    filter_backends: list = []
    queryset = Submission.objects.none()
    lookup_value_regex = "[^/]+"

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return Submission.objects.none()
        return submission_detail_queryset(user=self.request.user)

    def get_object(self) -> Submission:
        try:
            pk = uuid.UUID(str(self.kwargs["pk"]))
        except ValueError:
            raise Http404 from None
        obj = self.get_queryset().filter(pk=pk).first()
        if obj is None:
            raise Http404
        return obj

    def _present(self, pk) -> Response:
        return Response(SubmissionSerializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(
        tags=[TAG_REVIEW], summary="List submissions (the review queue)",
        description="Newest submitted first (drafts last). Filters: `sessionId`, `status` (or `awaiting_review` "
        "for submitted + resubmitted), `personType`, `classDivisionId`, `search` (name words, access code, "
        "student/teacher number). A malformed filter value is a 400; an id you cannot see simply matches "
        f"nothing. Paginated with `page` and `page_size` (at most 200). {_SCOPE}",
        parameters=[SubmissionListQuerySerializer],
        responses={200: SubmissionSerializer(many=True), **review_error_responses(400, 401)},
        examples=[OpenApiExample("A page of the queue", response_only=True, value={
            "count": 1, "next": None, "previous": None, "results": [_EXAMPLE_SUBMISSION]})],
    )
    def list(self, request):
        query = SubmissionListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = self.paginate_queryset(submission_list(user=request.user, filters=query.to_filters()))
        return self.get_paginated_response(SubmissionSerializer(page, many=True).data)

    @extend_schema(
        tags=[TAG_REVIEW], summary="Get a submission",
        description="The submission with the roster snapshot its code was issued with (verifications), the "
        "roster person an import would update, possible duplicates in the roster, its history, and the "
        f"actions you may take now. {_SCOPE}",
        parameters=[SUBMISSION_ID],
        responses={200: SubmissionDetailSerializer, **review_error_responses(401, 404)},
        examples=[OpenApiExample("A submission awaiting review", value=_EXAMPLE_DETAIL, response_only=True)],
    )
    def retrieve(self, request, pk=None):
        submission = self.get_object()
        user = request.user
        allowed = []
        if submission.status in REVIEWABLE and can_review(user, submission):
            allowed = ["approve", "reject", "requestCorrection"]
        session = submission.session
        if submission.status == SubmissionStatus.APPROVED and can_manage(user, session):
            allowed.append("import")
        final = (SubmissionStatus.IMPORTED, SubmissionStatus.REJECTED, SubmissionStatus.CANCELLED)
        context = {
            "duplicates": possible_duplicates(submission),
            "match": None if submission.status in final else match_person(submission),
            "allowed_actions": allowed,
        }
        return Response(SubmissionDetailSerializer(submission, context=context).data)

    @_action_docs(
        "Approve a submission",
        "Approves a `submitted` or `resubmitted` submission. When the session's approvalPolicy.importOnApproval "
        "is true (the default) it is written to the roster at once (status `imported`); if that import fails it "
        "stays `approved` with `importError` set.",
        SubmissionApproveSerializer,
        OpenApiExample("Approve what I reviewed", value={"expectedVersion": 3}, request_only=True),
        _EXAMPLE_APPROVED,
    )
    def approve(self, request, pk=None):
        submission = self.get_object()
        body = _parse(SubmissionApproveSerializer, request.data)
        with renamed_errors(REVIEW_CAMEL):
            submission_approve(submission=submission, actor=request.user,
                               expected_version=body.get("expectedVersion"), note=body["note"])
        return self._present(submission.pk)

    @_action_docs(
        "Reject a submission",
        "Rejects a `submitted` or `resubmitted` submission for good. The reason is required when the session's "
        "approvalPolicy.requireRejectReason is true (the default).",
        SubmissionRejectSerializer,
        OpenApiExample("Reject with a reason", request_only=True,
                       value={"expectedVersion": 3, "reason": "Not a pupil of this school: registered twice."}),
        {**_EXAMPLE_SUBMISSION, "status": "rejected", "version": 4,
         "reviewReason": "Not a pupil of this school: registered twice."},
    )
    def reject(self, request, pk=None):
        submission = self.get_object()
        body = _parse(SubmissionRejectSerializer, request.data)
        with renamed_errors(REVIEW_CAMEL):
            submission_reject(submission=submission, actor=request.user, reason=body["reason"],
                              expected_version=body.get("expectedVersion"))
        return self._present(submission.pk)

    @_action_docs(
        "Request a correction",
        "Sends a `submitted` or `resubmitted` submission back to the participant (`needs_correction`) with a "
        "message and the fields to fix; they see both when they enter their code again, and resubmit.",
        SubmissionCorrectionSerializer,
        OpenApiExample("Ask for the date of birth", request_only=True, value={
            "expectedVersion": 3, "message": "Please enter the date of birth from the birth certificate.",
            "flaggedFields": ["date_of_birth"]}),
        {**_EXAMPLE_SUBMISSION, "status": "needs_correction", "version": 4,
         "correctionMessage": "Please enter the date of birth from the birth certificate.",
         "flaggedFields": ["date_of_birth"]},
    )
    def request_correction(self, request, pk=None):
        submission = self.get_object()
        body = _parse(SubmissionCorrectionSerializer, request.data)
        with renamed_errors(REVIEW_CAMEL):
            submission_request_correction(
                submission=submission, actor=request.user, message=body["message"],
                flagged_fields=body["flaggedFields"], expected_version=body.get("expectedVersion"),
            )
        return self._present(submission.pk)

    @extend_schema(
        tags=[TAG_REVIEW], summary="Approve many submissions",
        description="Approves each submission on its own (one refusal does not undo the others) and imports "
        "them when the session says so. Ids you cannot see, or that cannot be approved in their status, are "
        f"listed under `failed` with the reason. {_SCOPE}",
        request=BulkApproveSerializer,
        responses={200: BulkApproveResultSerializer, **review_error_responses(400, 401, 403)},
        examples=[
            OpenApiExample("Three ids", request_only=True, value={"ids": [
                "5c0d8f43-2a7e-4b8e-9f61-0b3d5e7a9c21", "0f1e2d3c-4b5a-4697-8877-665544332211",
                "7a6b5c4d-3e2f-4109-a8b7-c6d5e4f3a2b1"]}),
            OpenApiExample("Two approved, one refused", response_only=True, value={
                "approved": ["5c0d8f43-2a7e-4b8e-9f61-0b3d5e7a9c21", "0f1e2d3c-4b5a-4697-8877-665544332211"],
                "failed": {"7a6b5c4d-3e2f-4109-a8b7-c6d5e4f3a2b1": "Cannot move this submission from "
                           "'needs_correction' to 'approved'. From 'needs_correction' the allowed targets are: "
                           "cancelled, resubmitted."}}),
        ],
    )
    def bulk_approve(self, request):
        body = _parse(BulkApproveSerializer, request.data)
        result = submissions_bulk_approve(submission_ids=body["ids"], actor=request.user)
        return Response(BulkApproveResultSerializer({
            "approved": [s.pk for s in result["approved"]], "failed": result["failed"],
        }).data)

    @extend_schema(
        tags=[TAG_REVIEW], summary="Import an approved submission into the roster",
        description="Writes an `approved` submission to the roster: creates or updates the person (matched by "
        "the code's roster assignment, then student/teacher number, national id, then name and date of birth), "
        "sets their identifiers and enrolls them in the class for the session's year. Idempotent: an "
        "`imported` submission answers 200 unchanged. A failure (e.g. the number belongs to someone else) "
        "writes nothing to the roster, keeps the submission `approved` with `importError` set, and answers "
        "409 `import_failed`. Needs district admin, school admin or registrar (403 otherwise). Send no body "
        "(or `{}`).",
        parameters=[SUBMISSION_ID], request=None,
        responses={200: SubmissionSerializer, **review_error_responses(401, 403, 404, 409)},
        examples=[OpenApiExample("Imported", value=_EXAMPLE_APPROVED, response_only=True)],
    )
    def import_submission(self, request, pk=None):
        submission = self.get_object()
        session = submission.session
        if not can_manage(request.user, session):
            raise PermissionDenied("Only staff who manage registrations can import into the roster.")
        result = submission_import(submission=submission, actor=request.user)
        if result.status != SubmissionStatus.IMPORTED:
            raise Conflict(f"Not imported: {result.import_error}", code="import_failed",
                           extra={"importError": result.import_error, "status": result.status})
        return self._present(submission.pk)
