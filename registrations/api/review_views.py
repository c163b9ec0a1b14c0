"""The review-queue API: ``/api/v1/registrations/submissions[/{id}[/approve|reject|request-correction|import]]``
and ``/bulk-approve``.

Thin on purpose: reads go through ``registrations.review_selectors`` (another district's submission, or a
class the class teacher doesn't teach, is a 404); every action calls one service of
``registrations.review`` (role too low: 403; missing reason or unknown flagged field: 400; stale
``expectedVersion`` or an action the status doesn't allow: 409; nothing is written on any refusal).
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, viewsets
from rest_framework.response import Response

from registrations.api.review_serializers import (
    BulkApproveResultSerializer,
    BulkApproveSerializer,
    ReviewConflictSerializer,
    ReviewErrorSerializer,
    ReviewValidationErrorSerializer,
    SubmissionApproveSerializer,
    SubmissionCorrectionSerializer,
    SubmissionDetailSerializer,
    SubmissionListQuerySerializer,
    SubmissionRejectSerializer,
    SubmissionSerializer,
)
from registrations.choices import SubmissionStatus
from registrations.models import Submission
from registrations.review import (
    REVIEWABLE,
    can_review,
    match_person,
    possible_duplicates,
    submission_approve,
    submission_import,
    submission_reject,
    submission_request_correction,
    submissions_bulk_approve,
)
from registrations.review_selectors import submission_detail_queryset, submission_list
from rostering.common.errors import Conflict
from rostering.common.parsers import BoundedJSONParser
from rostering.permissions import Perm, has_any_perm, has_perm

TAG = "Review"
CAMEL = {"flagged_fields": "flaggedFields", "expected_version": "expectedVersion", "message": "message",
         "reason": "reason"}


@contextmanager
def camel_errors():
    """Report a service's ``ValidationError`` under the API's names (``flagged_fields`` → ``flaggedFields``)."""
    try:
        yield
    except DjangoValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise DjangoValidationError({CAMEL.get(k, k): v for k, v in exc.error_dict.items()}) from exc


class ReviewPermission(permissions.BasePermission):
    """Refuse actions up front to members who may review nowhere (viewers). Where exactly a reviewer may
    act is decided per submission by the services (class teachers: their classes only)."""

    message = "Your role does not allow reviewing submissions."

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or has_any_perm(request.user, Perm.REGISTRATIONS_REVIEW)


def _parse(serializer_class, data) -> dict:
    serializer = serializer_class(data=data if data is not None else {})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- OpenAPI ------------------------------------------------------------------------------------------

_ERRORS = {
    400: ("Bad input: malformed JSON, unknown keys, a missing reason or message the session's policy requires, "
          "a flagged field that is not on the form, a bad filter or page size. Nothing was written.",
          ReviewValidationErrorSerializer,
          OpenApiExample("Reason required", value={
              "detail": "Give a reason for the rejection.", "code": "invalid",
              "errors": {"reason": ["Give a reason for the rejection."]}})),
    401: ("Missing, invalid, expired or revoked credentials.", ReviewErrorSerializer,
          OpenApiExample("Not authenticated", value={"detail": "Invalid, expired or revoked token.",
                                                     "code": "authentication_failed"})),
    403: ("Your role does not allow this here (viewers are read-only; only roles that manage registrations "
          "import).", ReviewErrorSerializer,
          OpenApiExample("Role too low", value={"detail": "Your role does not allow reviewing submissions.",
                                                "code": "permission_denied"})),
    404: ("No such submission, or it is outside your districts and schools (class teachers: outside their "
          "classes).", ReviewErrorSerializer,
          OpenApiExample("Not found", value={"detail": "Not found.", "code": "not_found"})),
    409: ("Refused because of the submission's state: `invalid_transition` (the status does not allow the "
          "action), `stale_version` (expectedVersion is not the current version) or `import_failed`. Nothing "
          "changed (a failed import records its reason on the submission).", ReviewConflictSerializer,
          OpenApiExample("Stale version", value={
              "detail": "This submission changed since you opened it (another reviewer or the participant acted). "
                        "Reload it.", "code": "stale_version", "currentVersion": 4, "status": "approved"})),
}
_INVALID_TRANSITION = OpenApiExample("Invalid transition", value={
    "detail": "Cannot move this submission from 'imported' to 'approved'. From 'imported' the allowed targets "
              "are: none (final status).",
    "code": "invalid_transition", "currentStatus": "imported", "allowedTargets": []})


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    out = {}
    for code in codes:
        description, serializer, example = _ERRORS[code]
        examples = [example, _INVALID_TRANSITION] if code == 409 else [example]
        out[code] = OpenApiResponse(response=serializer, description=description, examples=examples)
    return out


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
        tags=[TAG], summary=summary, description=f"{description} {_SCOPE}", parameters=[SUBMISSION_ID],
        request=request, examples=[example, OpenApiExample("Result", value=result_example, response_only=True)],
        responses={200: SubmissionSerializer, **errors(400, 401, 403, 404, 409)},
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
        tags=[TAG], summary="List submissions (the review queue)",
        description="Newest submitted first (drafts last). Filters: `sessionId`, `status` (or `awaiting_review` "
        "for submitted + resubmitted), `personType`, `classDivisionId`, `search` (name words, access code, "
        "student/teacher number). A malformed filter value is a 400; an id you cannot see simply matches "
        f"nothing. Paginated with `page` and `page_size` (at most 200). {_SCOPE}",
        parameters=[SubmissionListQuerySerializer],
        responses={200: SubmissionSerializer(many=True), **errors(400, 401)},
        examples=[OpenApiExample("A page of the queue", response_only=True, value={
            "count": 1, "next": None, "previous": None, "results": [_EXAMPLE_SUBMISSION]})],
    )
    def list(self, request):
        query = SubmissionListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = self.paginate_queryset(submission_list(user=request.user, filters=query.to_filters()))
        return self.get_paginated_response(SubmissionSerializer(page, many=True).data)

    @extend_schema(
        tags=[TAG], summary="Get a submission",
        description="The submission with the roster snapshot its code was issued with (verifications), the "
        "roster person an import would update, possible duplicates in the roster, its history, and the "
        f"actions you may take now. {_SCOPE}",
        parameters=[SUBMISSION_ID],
        responses={200: SubmissionDetailSerializer, **errors(401, 404)},
        examples=[OpenApiExample("A submission awaiting review", value=_EXAMPLE_DETAIL, response_only=True)],
    )
    def retrieve(self, request, pk=None):
        submission = self.get_object()
        user = request.user
        allowed = []
        if submission.status in REVIEWABLE and can_review(user, submission):
            allowed = ["approve", "reject", "requestCorrection"]
        session = submission.session
        if submission.status == SubmissionStatus.APPROVED and has_perm(
            user, Perm.REGISTRATIONS_MANAGE, district_id=session.district_id, school_id=session.school_id
        ):
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
        with camel_errors():
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
        with camel_errors():
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
        with camel_errors():
            submission_request_correction(
                submission=submission, actor=request.user, message=body["message"],
                flagged_fields=body["flaggedFields"], expected_version=body.get("expectedVersion"),
            )
        return self._present(submission.pk)

    @extend_schema(
        tags=[TAG], summary="Approve many submissions",
        description="Approves each submission on its own (one refusal does not undo the others) and imports "
        "them when the session says so. Ids you cannot see, or that cannot be approved in their status, are "
        f"listed under `failed` with the reason. {_SCOPE}",
        request=BulkApproveSerializer,
        responses={200: BulkApproveResultSerializer, **errors(400, 401, 403)},
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
        tags=[TAG], summary="Import an approved submission into the roster",
        description="Writes an `approved` submission to the roster: creates or updates the person (matched by "
        "the code's roster assignment, then student/teacher number, national id, then name and date of birth), "
        "sets their identifiers and enrolls them in the class for the session's year. Idempotent: an "
        "`imported` submission answers 200 unchanged. A failure (e.g. the number belongs to someone else) "
        "writes nothing to the roster, keeps the submission `approved` with `importError` set, and answers "
        "409 `import_failed`. Needs district admin, school admin or registrar (403 otherwise). Send no body "
        "(or `{}`).",
        parameters=[SUBMISSION_ID], request=None,
        responses={200: SubmissionSerializer, **errors(401, 403, 404, 409)},
        examples=[OpenApiExample("Imported", value=_EXAMPLE_APPROVED, response_only=True)],
    )
    def import_submission(self, request, pk=None):
        submission = self.get_object()
        session = submission.session
        if not has_perm(request.user, Perm.REGISTRATIONS_MANAGE, district_id=session.district_id,
                        school_id=session.school_id):
            raise PermissionDenied("Only staff who manage registrations can import into the roster.")
        result = submission_import(submission=submission, actor=request.user)
        if result.status != SubmissionStatus.IMPORTED:
            raise Conflict(f"Not imported: {result.import_error}", code="import_failed",
                           extra={"importError": result.import_error, "status": result.status})
        return self._present(submission.pk)
