"""The public participant JSON API: validate a code, then save drafts, submit and read the status.

Mounted at ``/api/v1/public/registrations/``. No staff account: ``access-codes/validate`` is open to anyone
(rate-limited by the service, one generic error) and answers with a signed ``registrationToken``; the other
calls take it as ``Authorization: Bearer <registrationToken>`` (``RegistrationTokenAuthentication``). No
session cookie is involved, so there is no CSRF to check. The same services as the /register pages do all
the work (``registrations.services.participation``); serializers are in ``serializers.py``; errors come in the project's one format.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from registrations.models import Submission
from registrations.public.authentication import HasRegistrationToken, RegistrationTokenAuthentication
from registrations.public.common import client_ip, device_name, prefill_for, session_json, submission_json
from registrations.public.serializers import (
    PublicAccessCodeValidateSerializer,
    PublicAccessCodeValidationSerializer,
    PublicDraftSavedSerializer,
    PublicDraftSaveSerializer,
    PublicParticipantStatusSerializer,
    PublicSubmitSerializer,
)
from registrations.selectors import form_fields
from registrations.services.participation import (
    GENERIC_CODE_ERROR,
    access_code_from_token,
    access_code_validate,
    participant_status,
    submission_of,
    submission_save_draft,
    submission_submit,
)
from rostering.common.parsers import BoundedJSONParser
from rostering.common.schema import ApiRefusalSerializer

TAG = "Public registration"



# --- examples ------------------------------------------------------------------------------------------------

_E = ApiRefusalSerializer
_SESSION_EXAMPLE = {
    "id": "6f1c2e0a-3b9e-4a55-9d51-0c1d2e3f4a5b", "mode": "student_intake", "title": "Form 1 Intake - 2026",
    "description": "Welcome to Avondale Primary!", "schoolId": "0a6c5b1e-8f5d-4a3c-b2e1-7d9f8c6b5a4e",
    "schoolName": "Avondale Primary", "classDivisionId": None, "gradeLevelId": "1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
    "academicYearId": None, "termId": None, "endsAt": "2026-02-28T17:00:00+00:00", "rosterPolicy": "open_with_code",
}
_SUMMARY_EXAMPLE = {"errors": {}, "missing": ["guardian_phone"], "changedFields": [],
                    "warnings": ["Parent / guardian phone is required."]}
_STATUS_EXAMPLE = {
    "status": "submitted", "nextStep": "read_only_status", "version": 4, "submittedAt": "2026-02-03T10:42:00+00:00",
    "correctionMessage": "", "flaggedFields": [], "reviewReason": "",
    "payload": {"given_name": "Rudo", "family_name": "Chikwanha", "date_of_birth": "2014-05-02", "gender": "female"},
    "validationSummary": {"errors": {}, "missing": [], "changedFields": [], "warnings": []},
}
TOKEN_401 = OpenApiResponse(_E, description="Token missing, malformed, forged, expired (after an hour) or its code "
                            "was revoked: validate the code again.", examples=[
    OpenApiExample("Expired", value={"detail": "Your registration session has expired. Enter your code again.",
                                     "code": "token_expired"}),
    OpenApiExample("Missing", value={"detail": HasRegistrationToken.message, "code": "token_missing"}),
])
NOT_OPEN_409 = OpenApiExample("Session not open", value={
    "detail": "Registration for “Form 1 Intake - 2026” is paused for now. Nothing you entered is lost: come back "
              "later with the same code.", "code": "session_not_open", "sessionStatus": "paused"})
STALE_409 = OpenApiExample("Stale version", value={
    "detail": "This form was changed in another tab or on another device since you opened it. Reload to see the "
              "latest answers, then make your change again.", "code": "stale_version", "currentVersion": 5})
NOT_EDITABLE_409 = OpenApiExample("Already submitted", value={
    "detail": "This registration has already been submitted and can no longer be changed.", "code": "not_editable",
    "status": "submitted"})
BAD_INPUT_400 = OpenApiExample("Unknown field", value={
    "detail": "Unknown field(s): favourite_colour.", "code": "invalid",
    "errors": {"payload": ["Unknown field(s): favourite_colour."]}})
PLACEMENT_400 = OpenApiExample("Class outside the locked grade", value={
    "detail": "Class 7A is not in Grade 6.", "code": "invalid", "errors": {"class_division_id": ["Class 7A is not in Grade 6."]}})


# --- views -------------------------------------------------------------------------------------------------------


class _PublicApi(APIView):
    renderer_classes = [JSONRenderer]
    parser_classes = [BoundedJSONParser]
    json_max_bytes = 96 * 1024  # the answers (at most 64 KB of JSON) and their envelope
    json_answers_under = "payload"  # a refused answer is reported under its own key, like every answer error
    throttle_classes: list = []

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"  # tokens and personal answers: never in a shared cache
        return response


class _ParticipantApi(_PublicApi):
    authentication_classes = [RegistrationTokenAuthentication]
    permission_classes = [HasRegistrationToken]

    def permission_denied(self, request, message=None, code=None):
        raise exceptions.NotAuthenticated(HasRegistrationToken.message, code="token_missing")


def _status_json(submission: Submission | None) -> dict:
    """Where the participant stands, with their answers (``submission``: the code's, or ``None``)."""
    info = participant_status(None, submission)
    submission = submission_json(submission)
    info["reviewReason"] = submission["reviewReason"] if submission else ""
    info["payload"] = submission["payload"] if submission else {}
    info["validationSummary"] = submission["validationSummary"] if submission else {
        "errors": {}, "missing": [], "changedFields": [], "warnings": []}
    return info


class PublicAccessCodeValidateApi(_PublicApi):
    json_max_bytes = 4 * 1024  # a code, a school code and a device name
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=[TAG],
        operation_id="public_registration_access_code_validate",
        summary="Validate an access code and get a registration token",
        description=(
            "Checks a typed access code (and optional school code). Wrong, revoked and expired codes, and a school "
            "code that does not match, all get the same `invalid_code` answer. Failed attempts are logged for staff "
            "and rate-limited per client address, per code prefix and per school code: over the limit the answer "
            "is a 429 with `Retry-After`. A valid code of a session that is not open gets a 409 explaining why "
            "(nothing the participant entered is lost).\n\nOn success: a signed `registrationToken` (one hour), "
            "`nextStep` (`complete_form`, `corrections_required` or `read_only_status`), the session settings, the "
            "form's fields, the `selectionContext` (the school's grades, classes and subjects, and the session's "
            "placement locks), the roster `prefill` for student verification, and the current submission if any."
        ),
        auth=[],
        request=PublicAccessCodeValidateSerializer,
        responses={
            200: PublicAccessCodeValidationSerializer,
            400: OpenApiResponse(_E, description="Wrong, revoked or expired code (one generic message), or bad input.",
                                 examples=[OpenApiExample("Invalid code", value={"detail": GENERIC_CODE_ERROR, "code": "invalid_code"})]),
            409: OpenApiResponse(_E, description="The session is not open (draft, paused, closed or archived).",
                                 examples=[NOT_OPEN_409]),
            429: OpenApiResponse(_E, description="Too many wrong codes from this address, code prefix or school.",
                                 examples=[OpenApiExample("Throttled", value={
                                     "detail": "Too many wrong codes. Please wait a while and try again, or ask your "
                                               "school for help.", "code": "rate_limited", "retryAfter": 120})]),
        },
        examples=[
            OpenApiExample("Code", request_only=True,
                           value={"code": "A1B2-C3D4-E5", "schoolCode": "AVP", "deviceName": "Chrome / Android"}),
            OpenApiExample("Validated", response_only=True, status_codes=["200"], value={
                "registrationToken": "eyJjIjoiNmYxYz…", "expiresInSeconds": 3600, "nextStep": "complete_form",
                "session": _SESSION_EXAMPLE,
                "form": {"fields": [
                    {"key": "given_name", "label": "First name", "type": "text", "state": "required",
                     "group": "personal", "required": True, "locked": False},
                    {"key": "grade_level_id", "label": "Grade", "type": "grade_level", "state": "required",
                     "group": "placement", "required": True, "locked": True,
                     "choices": [{"value": "1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "label": "Grade 6"}]},
                ]},
                "selectionContext": {
                    "gradeLevels": [{"id": "1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "code": "06", "name": "Grade 6"}],
                    "classDivisions": [{"id": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d", "name": "6A",
                                        "gradeLevelId": "1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d"}],
                    "subjects": [],
                    "locks": {"gradeLocked": True, "classLocked": False,
                              "gradeLevelId": "1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "classDivisionId": None},
                },
                "prefill": None,
                "submission": None,
            }),
        ],
    )
    def post(self, request):
        data = PublicAccessCodeValidateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        validation = access_code_validate(
            code=d["code"], school_code=d["schoolCode"], ip=client_ip(request),
            device_name=device_name(request, d["deviceName"]),
        )
        access = validation.access_code
        session = access.session
        fields = form_fields(session, validation.context)
        submission = submission_of(access)
        return Response({
            "registrationToken": validation.token,
            "expiresInSeconds": validation.expires_in,
            "nextStep": validation.next_step,
            "session": session_json(session),
            "form": {"fields": [f.as_json() for f in fields]},
            "selectionContext": validation.context.as_json(),
            "prefill": prefill_for(access, fields, validation.context) if access.roster_snapshot else None,
            "submission": submission_json(submission),
        })


_DRAFT_SCHEMA = dict(
    tags=[TAG],
    summary="Save the answers so far (autosave)",
    description=(
        "Stores a draft (or the corrections of a submission sent back for correction). Answers that are not "
        "valid yet are kept out and listed in `validationSummary`; missing required fields are listed too. "
        "Optimistic lock: send the `version` you last received; a save from a stale copy is a 409 "
        "`stale_version` and changes nothing. Placement locks always win: a locked class or grade replaces "
        "whatever is sent; a class of another grade or another school is a 400. A session that is not open "
        "is a 409 and changes nothing; so is a submission that was already sent (`not_editable`)."
    ),
    request=PublicDraftSaveSerializer,
    responses={
        200: PublicDraftSavedSerializer,
        400: OpenApiResponse(_E, description="Bad input: not an object, unknown field, bad placement, missing version.",
                             examples=[BAD_INPUT_400, PLACEMENT_400]),
        401: TOKEN_401,
        409: OpenApiResponse(_E, description="Stale version, session not open, or already submitted.",
                             examples=[STALE_409, NOT_OPEN_409, NOT_EDITABLE_409]),
    },
    examples=[
        OpenApiExample("Draft", request_only=True, value={
            "version": 3, "payload": {"given_name": "Rudo", "family_name": "Chikwanha", "guardian_phone": ""}}),
        OpenApiExample("Saved", response_only=True, status_codes=["200"], value={
            "version": 4, "status": "draft", "validationSummary": _SUMMARY_EXAMPLE,
            "savedAt": "2026-02-03T10:42:00+00:00"}),
    ],
)


class PublicSubmissionDraftApi(_ParticipantApi):
    @extend_schema(operation_id="public_registration_draft_save", **_DRAFT_SCHEMA)
    def put(self, request):
        return self._save(request)

    @extend_schema(operation_id="public_registration_draft_save_post", **_DRAFT_SCHEMA)
    def post(self, request):
        return self._save(request)

    def _save(self, request):
        data = PublicDraftSaveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        submission = submission_save_draft(
            access_code_id=request.auth.access_code_id, session_id=request.auth.session_id,
            payload=data.validated_data["payload"],
            version=data.validated_data.get("version"), device_name=device_name(request),
        )
        return Response({
            "version": submission.version,
            "status": submission.status,
            "validationSummary": submission.validation_summary,
            "savedAt": submission.updated_at.isoformat(),
        })


class PublicSubmissionSubmitApi(_ParticipantApi):
    @extend_schema(
        tags=[TAG],
        operation_id="public_registration_submit",
        summary="Submit the answers for review",
        description=(
            "Sends the draft (or the corrections) to the school: `submitted`, or `resubmitted` after a correction "
            "request. Every required field must be answered and every answer valid, or it is a 400 listing them "
            "per field and nothing changes. With `payload`, the answers are first saved like a draft. The session's "
            "approval policy may approve it at once (the answer then says `approved` or `imported`)."
        ),
        request=PublicSubmitSerializer,
        responses={
            200: PublicParticipantStatusSerializer,
            400: OpenApiResponse(_E, description="Missing or invalid answers (per field), or bad input.", examples=[
                OpenApiExample("Missing answers", value={
                    "detail": "This field is required.", "code": "invalid",
                    "errors": {"guardian_phone": ["This field is required."]}}), PLACEMENT_400]),
            401: TOKEN_401,
            409: OpenApiResponse(_E, description="Stale version, session not open, or already submitted.",
                                 examples=[STALE_409, NOT_OPEN_409, NOT_EDITABLE_409]),
        },
        examples=[
            OpenApiExample("Submit", request_only=True, value={"version": 4}),
            OpenApiExample("Submitted", response_only=True, status_codes=["200"], value=_STATUS_EXAMPLE),
        ],
    )
    def post(self, request):
        data = PublicSubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        submission = submission_submit(
            access_code_id=request.auth.access_code_id, session_id=request.auth.session_id,
            version=data.validated_data.get("version"),
            payload=data.validated_data.get("payload"),
        )
        return Response(_status_json(submission))


class PublicSubmissionStatusApi(_ParticipantApi):
    @extend_schema(
        tags=[TAG],
        operation_id="public_registration_status",
        summary="The participant's submission and where it stands",
        description=(
            "Readable whatever the session's status. `needs_correction` comes with the staff's `correctionMessage` "
            "and the `flaggedFields` to fix; `rejected` with the `reviewReason`."
        ),
        responses={200: PublicParticipantStatusSerializer, 401: TOKEN_401},
        examples=[OpenApiExample("Needs correction", response_only=True, status_codes=["200"], value={
            **_STATUS_EXAMPLE, "status": "needs_correction", "nextStep": "corrections_required", "version": 5,
            "correctionMessage": "Your date of birth does not match your birth certificate.",
            "flaggedFields": ["date_of_birth"]})],
    )
    def get(self, request):
        return Response(_status_json(submission_of(access_code_from_token(request.auth))))
