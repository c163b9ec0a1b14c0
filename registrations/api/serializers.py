"""Serializers of the registrations API: the seed's camelCase JSON. They parse and present, never decide.

- Output: ``RegistrationSessionSerializer`` (every field of the seed + ``progress``), the progress summary,
  access codes and the result of a code generation.
- Input: create/update/transition/generate/revoke serializers. They check types and resolve ids among
  the objects the requesting user can see (an unknown or another district's id is a 400); the rules
  (editing per status, placement lock, roster policies, JSON settings) are the services' and validators'.
- The review queue: submissions (list, detail with what a reviewer needs beside it), the review actions'
  bodies and the bulk approval's result.
- Unknown input keys are refused (400) rather than silently dropped, so a typo never goes unnoticed.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from registrations.api.schema import APPROVAL_POLICY_SCHEMA, REQUIRED_FIELDS_SCHEMA
from registrations.choices import (
    SESSION_TRANSITIONS,
    CodeFormat,
    CodeStatus,
    PersonType,
    RegistrationMode,
    RosterPolicy,
    SessionStatus,
    SubmissionStatus,
)
from registrations.codes import format_code
from registrations.filtersets import AWAITING_REVIEW, CODE_STATUS_CHOICES
from registrations.models import RegistrationSession
from registrations.selectors import progress_from_annotated, registration_progress
from registrations.services.codes import MAX_CODES_PER_REQUEST
from registrations.services.review import MAX_BULK
from rostering.common.fields import BoundedJSONField, ScopedRelatedIdField
from rostering.common.serializers import StrictInputSerializer
from rostering.models import AcademicSession, ClassDivision, GradeLevel, School

# --- shared pieces --------------------------------------------------------------------------------


@extend_schema_field(REQUIRED_FIELDS_SCHEMA)
class RequiredFieldsField(BoundedJSONField):
    """``requiredFields``: parsed as JSON here, checked by ``registrations.validators``."""


@extend_schema_field(APPROVAL_POLICY_SCHEMA)
class ApprovalPolicyField(BoundedJSONField):
    """``approvalPolicy``: parsed as JSON here, checked by ``registrations.validators``."""


class RegistrationUserBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return user.get_full_name() or user.get_username()


# --- progress ------------------------------------------------------------------------------------


class RegistrationProgressSummarySerializer(serializers.Serializer):
    """The seed's RegistrationProgressSummary (counters over the session's access codes)."""

    expectedCount = serializers.IntegerField(allow_null=True, help_text="Total participants expected.")
    codesGenerated = serializers.IntegerField(help_text="Codes issued (revoked ones included).")
    unused = serializers.IntegerField(help_text="Live codes nobody has used yet (expired ones included).")
    started = serializers.IntegerField(help_text="The participant has begun but not submitted (draft).")
    submitted = serializers.IntegerField(help_text="Submitted or resubmitted: awaiting staff review.")
    needsCorrection = serializers.IntegerField(help_text="Sent back to the participant.")
    approved = serializers.IntegerField(help_text="Accepted by staff, not yet written to the roster.")
    rejected = serializers.IntegerField(help_text="Rejected by staff.")
    imported = serializers.IntegerField(help_text="Written to the roster.")
    revoked = serializers.IntegerField(help_text="Codes revoked before use.")
    completionPercent = serializers.FloatField(
        help_text="(submitted + approved + imported) / expectedCount × 100, one decimal; 0 without expectedCount."
    )
    approvalPercent = serializers.FloatField(
        help_text="(approved + imported) / (submitted + needsCorrection + approved + rejected + imported) × 100, "
        "one decimal; 0 when nothing has reached review."
    )


class RegistrationSchoolRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    code = serializers.CharField()


class RegistrationGradeLevelRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()


class RegistrationClassDivisionRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    gradeLevelId = serializers.UUIDField(source="grade_level_id")


class RegistrationAcademicSessionRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    type = serializers.CharField()
    startDate = serializers.DateField(source="start_date")
    endDate = serializers.DateField(source="end_date")


class RegistrationProgressSerializer(RegistrationProgressSummarySerializer):
    """``GET …/progress``: the summary plus the session's school, placement and calendar, hydrated."""

    sessionId = serializers.UUIDField()
    status = serializers.ChoiceField(choices=SessionStatus.choices)
    school = RegistrationSchoolRefSerializer()
    gradeLevel = RegistrationGradeLevelRefSerializer(allow_null=True)
    classDivision = RegistrationClassDivisionRefSerializer(allow_null=True)
    academicYear = RegistrationAcademicSessionRefSerializer(allow_null=True)
    term = RegistrationAcademicSessionRefSerializer(allow_null=True)

    @staticmethod
    def data_for(session, summary) -> dict:
        return {
            **summary.as_camel(),
            "sessionId": session.pk,
            "status": session.status,
            "school": session.school,
            "gradeLevel": session.grade_level,
            "classDivision": session.class_division,
            "academicYear": session.academic_year,
            "term": session.term,
        }


# --- sessions: output ----------------------------------------------------------------------------


class RegistrationSessionSerializer(serializers.ModelSerializer):
    """A registration session as the seed names it, with its live progress summary."""

    schoolId = serializers.UUIDField(source="school_id", read_only=True)
    classDivisionId = serializers.UUIDField(source="class_division_id", read_only=True, allow_null=True)
    gradeLevelId = serializers.UUIDField(
        source="grade_level_id", read_only=True, allow_null=True,
        help_text="For a class-locked session: the class division's grade (derived and stored).",
    )
    academicYearId = serializers.UUIDField(source="academic_year_id", read_only=True, allow_null=True)
    termId = serializers.UUIDField(source="term_id", read_only=True, allow_null=True)
    startsAt = serializers.DateTimeField(source="starts_at", read_only=True, allow_null=True)
    endsAt = serializers.DateTimeField(source="ends_at", read_only=True, allow_null=True)
    expectedCount = serializers.IntegerField(source="expected_count", read_only=True, allow_null=True)
    rosterPolicy = serializers.ChoiceField(source="roster_policy", choices=RosterPolicy.choices, read_only=True)
    requiredFields = RequiredFieldsField(source="required_fields", read_only=True)
    approvalPolicy = ApprovalPolicyField(source="approval_policy", read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)
    createdBy = RegistrationUserBriefSerializer(source="created_by", read_only=True, allow_null=True)
    allowedTransitions = serializers.SerializerMethodField(
        help_text="The statuses this session can move to now (the action buttons to show)."
    )
    progress = serializers.SerializerMethodField()

    class Meta:
        model = RegistrationSession
        fields = (
            "id", "mode", "schoolId", "title", "description", "classDivisionId", "gradeLevelId",
            "academicYearId", "termId", "startsAt", "endsAt", "expectedCount", "rosterPolicy", "requiredFields",
            "approvalPolicy", "status", "createdAt", "updatedAt", "createdBy", "allowedTransitions", "progress",
        )
        read_only_fields = fields

    def get_allowedTransitions(self, session) -> list[str]:
        return sorted(SESSION_TRANSITIONS.get(session.status, ()))

    @extend_schema_field(RegistrationProgressSummarySerializer)
    def get_progress(self, session) -> dict:
        summary = self.context.get("progress", {}).get(session.pk)
        if summary is None:
            summary = (
                progress_from_annotated(session)
                if hasattr(session, "progress_codes_generated")
                else registration_progress(session=session)
            )
        return summary.as_camel()


# --- sessions: input -----------------------------------------------------------------------------

_SESSION_READ_ONLY_HINTS = {
    "id": "Read-only.",
    "status": "Read-only: change it with POST …/open, …/pause, …/close or …/archive.",
    "createdAt": "Read-only.",
    "updatedAt": "Read-only.",
    "createdBy": "Read-only.",
    "progress": "Read-only: computed from the session's access codes.",
    "allowedTransitions": "Read-only.",
}


class RegistrationSessionInputMixin(serializers.Serializer):
    """The writable fields, shared by create and update (same names, same parsing)."""

    read_only_hints = _SESSION_READ_ONLY_HINTS

    description = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=5000,
        help_text="Shown on the public form below the title.",
    )
    classDivisionId = ScopedRelatedIdField(
        source="class_division", queryset=ClassDivision.objects.all(), required=False, allow_null=True,
        help_text="Class-locked session: every participant is placed in this class; its grade is derived.",
    )
    gradeLevelId = ScopedRelatedIdField(
        source="grade_level", queryset=GradeLevel.objects.all(), required=False, allow_null=True,
        help_text="Grade-locked session (alone), or the class division's own grade (with classDivisionId); "
        "a different grade is a 400.",
    )
    academicYearId = ScopedRelatedIdField(
        source="academic_year", queryset=AcademicSession.objects.all(), required=False, allow_null=True,
        help_text="An academic session of type school_year in the session's district (and school, if it has one).",
    )
    termId = ScopedRelatedIdField(
        source="term", queryset=AcademicSession.objects.all(), required=False, allow_null=True,
        help_text="A term (not a school year); with academicYearId, it must be a term of that year.",
    )
    startsAt = serializers.DateTimeField(
        source="starts_at", required=False, allow_null=True, help_text="When the session becomes available."
    )
    endsAt = serializers.DateTimeField(
        source="ends_at", required=False, allow_null=True, help_text="Deadline shown to participants; after startsAt."
    )
    expectedCount = serializers.IntegerField(
        source="expected_count", required=False, allow_null=True, min_value=0, max_value=2_147_483_647,
        help_text="Participants expected: the base of completionPercent.",
    )
    rosterPolicy = serializers.ChoiceField(
        source="roster_policy", choices=RosterPolicy.choices, required=False,
        help_text="preloaded_only: roster-assigned codes only; open_with_code: open codes only; mixed: both. "
        "Default: preloaded_only for student_verification, open_with_code otherwise.",
    )
    requiredFields = RequiredFieldsField(source="required_fields", required=False, allow_null=True)
    approvalPolicy = ApprovalPolicyField(source="approval_policy", required=False, allow_null=True)

    def validate_description(self, value):
        return value or ""


class RegistrationSessionCreateSerializer(RegistrationSessionInputMixin, StrictInputSerializer):
    """``POST /sessions``: a new draft session."""

    mode = serializers.ChoiceField(choices=RegistrationMode.choices)
    schoolId = ScopedRelatedIdField(source="school", queryset=School.objects.all(), help_text="The session's school.")
    title = serializers.CharField(min_length=1, max_length=200, help_text="Displayed on the registration form.")


class RegistrationSessionUpdateSerializer(RegistrationSessionInputMixin, StrictInputSerializer):
    """``PATCH /sessions/{id}``: what may change depends on the status (the service says what and why).

    draft: everything but mode and schoolId; open/paused: title, description, startsAt, endsAt,
    expectedCount, requiredFields, approvalPolicy; closed/archived: nothing. Sending mode or schoolId
    with their current value is accepted (no change); another value is a 400.
    """

    mode = serializers.ChoiceField(choices=RegistrationMode.choices, required=False, help_text="Immutable.")
    schoolId = ScopedRelatedIdField(
        source="school", queryset=School.objects.all(), required=False, help_text="Immutable."
    )
    title = serializers.CharField(min_length=1, max_length=200, required=False)


class RegistrationSessionTransitionSerializer(StrictInputSerializer):
    """Optional body of ``POST …/open|pause|close|archive``."""

    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=1000, help_text="Why (kept in the session's history)."
    )


class RegistrationSessionListQuerySerializer(StrictInputSerializer):
    """Query parameters of ``GET /sessions``."""

    mode = serializers.ChoiceField(choices=RegistrationMode.choices, required=False)
    status = serializers.ChoiceField(choices=SessionStatus.choices, required=False)
    schoolId = serializers.UUIDField(required=False, source="school_id")
    tenantWide = serializers.BooleanField(
        required=False, default=False, source="tenant_wide",
        help_text="District-wide view across all schools; needs a district-level role (403 otherwise).",
    )
    page = serializers.IntegerField(required=False, min_value=1, help_text="Page number (from 1).")
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=200, help_text="Rows per page (default 50, at most 200)."
    )


# --- access codes --------------------------------------------------------------------------------

CODE_LIST_STATUSES = [value for value, _label in CODE_STATUS_CHOICES]


class AccessCodeSerializer(serializers.Serializer):
    """One access code (one participant slot)."""

    id = serializers.UUIDField()
    sessionId = serializers.UUIDField(source="session_id")
    code = serializers.CharField(
        source="display_code",
        help_text="As printed: PREFIX-ABCDE-FGHJK. Codes are credentials: members who cannot manage the "
        "session's registrations (class teachers, viewers) see only the first three characters (ABC•••••).",
    )
    status = serializers.ChoiceField(
        choices=CodeStatus.choices, help_text="The participant's progress with this code."
    )
    revoked = serializers.BooleanField(source="is_revoked")
    expired = serializers.BooleanField(source="is_expired")
    assignedPersonId = serializers.UUIDField(source="assigned_person_id", allow_null=True)
    displayNameHint = serializers.CharField(source="display_name_hint")
    studentNumberHint = serializers.SerializerMethodField()
    teacherNumberHint = serializers.SerializerMethodField()
    includeHintOnPrintout = serializers.BooleanField(source="include_hint_on_printout")
    rosterSnapshot = serializers.JSONField(
        source="roster_snapshot", help_text="What the roster knew about the assigned person when the code was made."
    )
    printBatchId = serializers.UUIDField(source="print_batch")
    expiresAt = serializers.DateTimeField(source="expires_at", allow_null=True)
    revokedAt = serializers.DateTimeField(source="revoked_at", allow_null=True)
    firstUsedAt = serializers.DateTimeField(source="first_used_at", allow_null=True)
    createdAt = serializers.DateTimeField(source="created_at")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("reveal_codes", True):
            data["code"] = data["code"][:3] + "•••••"
        return data

    def _is_teacher_code(self, code) -> bool:
        mode = self.context.get("session_mode") or code.session.mode
        return mode == RegistrationMode.TEACHER_SELF_REGISTRATION

    @extend_schema_field(OpenApiTypes.STR)
    def get_studentNumberHint(self, code) -> str | None:
        return None if self._is_teacher_code(code) or not code.assigned_person_id else code.number_hint

    @extend_schema_field(OpenApiTypes.STR)
    def get_teacherNumberHint(self, code) -> str | None:
        return code.number_hint if self._is_teacher_code(code) and code.assigned_person_id else None


class AccessCodeListQuerySerializer(StrictInputSerializer):
    """Query parameters of ``GET …/codes`` and ``GET …/codes/export``."""

    status = serializers.ChoiceField(
        choices=CODE_LIST_STATUSES, required=False,
        help_text="A participant status (live codes only), or `live` (not revoked), `revoked`, or `expired` (live "
        "codes past expiresAt, never used in time).",
    )
    printBatchId = serializers.UUIDField(required=False, source="print_batch")
    search = serializers.CharField(
        required=False, max_length=100, help_text="Part of a code (dashes and case ignored) or of a name/number hint."
    )
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=200)


class GenerateAccessCodesSerializer(StrictInputSerializer):
    """``POST …/codes``: the product's generation options."""

    count = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_CODES_PER_REQUEST,
        help_text="How many open codes. With assignFromClassRoster: at most this many people (default: all "
        "people in the session's scope who have no live code yet).",
    )
    prefix = serializers.CharField(
        required=False, allow_blank=True, max_length=12, default="",
        help_text="Up to 8 letters A–Z or digits 0–9 put in front of every code, e.g. SCH1 (lower case is "
        "stored in capitals, and the answer says so in warnings).",
    )
    format = serializers.ChoiceField(
        choices=CodeFormat.choices, required=False, default=CodeFormat.SECURE,
        help_text="secure: 10 random characters (default). The product's short formats are accepted and "
        "answered with a warning: they are easy to guess.",
    )
    expiresAt = serializers.DateTimeField(source="expires_at", required=False, allow_null=True)
    assignFromClassRoster = serializers.BooleanField(
        source="assign_from_class_roster", required=False, default=False,
        help_text="One code per roster person in the session's scope (class, grade or school); needs the "
        "preloaded_only or mixed roster policy. Open codes need open_with_code or mixed.",
    )
    includeRosterHintsOnPrintout = serializers.BooleanField(
        source="include_roster_hints_on_printout", required=False, default=False,
        help_text="Print the person's name and number next to roster-assigned codes.",
    )
    delivery = serializers.ChoiceField(
        choices=[("print", "Print")], required=False, default="print",
        help_text="How the codes are handed out: `print` (the codes come back in the response).",
    )


class GeneratedAccessCodeSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField(help_text="The code as printed (PREFIX-ABCDE-FGHJK).")
    assignedPersonId = serializers.UUIDField(allow_null=True)
    displayNameHint = serializers.CharField(allow_blank=True)
    studentNumberHint = serializers.CharField(allow_null=True)
    teacherNumberHint = serializers.CharField(allow_null=True)
    expiresAt = serializers.DateTimeField(allow_null=True)


class GenerateAccessCodesResultSerializer(serializers.Serializer):
    """The product's GenerateRegistrationCodesResult."""

    printBatchId = serializers.UUIDField(help_text="Groups the codes generated together (filter the list with it).")
    count = serializers.IntegerField()
    warnings = serializers.ListField(child=serializers.CharField())
    codes = GeneratedAccessCodeSerializer(many=True)

    @staticmethod
    def data_for(result, *, mode: str) -> dict:
        teacher = mode == RegistrationMode.TEACHER_SELF_REGISTRATION
        codes = []
        for row in result.codes:
            number = row.number_hint if row.assigned_person_id else None
            codes.append({
                "id": row.pk,
                "code": format_code(row.code, row.prefix_length),
                "assignedPersonId": row.assigned_person_id,
                "displayNameHint": row.display_name_hint,
                "studentNumberHint": None if teacher else number,
                "teacherNumberHint": number if teacher else None,
                "expiresAt": row.expires_at,
            })
        return {"printBatchId": result.print_batch_id, "count": len(codes), "warnings": result.warnings,
                "codes": codes}


class AccessCodeRevokeSerializer(StrictInputSerializer):
    """Optional body of ``POST …/codes/{codeId}/revoke``."""

    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)


# --- review queue: input ----------------------------------------------------------------------------------------------


class ExpectedVersionMixin(serializers.Serializer):
    expectedVersion = serializers.IntegerField(
        required=False, allow_null=True, min_value=1,
        help_text="The `version` you reviewed. If the submission changed since (another reviewer, or the "
        "participant), the action is refused with a 409 `stale_version` and nothing changes. Leave it out to "
        "act on whatever the current version is.",
    )


class SubmissionApproveSerializer(ExpectedVersionMixin, StrictInputSerializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="",
                                 help_text="Kept in the history.")


class SubmissionRejectSerializer(ExpectedVersionMixin, StrictInputSerializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, default="",
        help_text="Why. Required when the session's approvalPolicy.requireRejectReason is true (the default).",
    )


class SubmissionCorrectionSerializer(ExpectedVersionMixin, StrictInputSerializer):
    message = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, default="",
        help_text="What the participant should fix. Required when approvalPolicy.requireCorrectionMessage is "
        "true (the default).",
    )
    flaggedFields = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, default=list, max_length=100,
        help_text="Keys of the form's fields to highlight for the participant (e.g. `date_of_birth`). A key "
        "that is not on this session's form is a 400.",
    )


class BulkApproveSerializer(StrictInputSerializer):
    ids = serializers.ListField(
        child=serializers.UUIDField(), min_length=1, max_length=MAX_BULK,
        help_text=f"Submission ids to approve (at most {MAX_BULK}). Duplicates count once.",
    )

    def validate_ids(self, value):
        return list(dict.fromkeys(value))


class SubmissionListQuerySerializer(serializers.Serializer):
    """The queue's filters (query parameters)."""

    sessionId = serializers.UUIDField(required=False, help_text="Only this registration session.")
    status = serializers.ChoiceField(
        choices=[AWAITING_REVIEW, *SubmissionStatus.values], required=False,
        help_text="One status, or `awaiting_review` for submitted + resubmitted.",
    )
    personType = serializers.ChoiceField(choices=PersonType.values, required=False)
    classDivisionId = serializers.UUIDField(
        required=False, help_text="Only this class (class teachers only ever see their own classes)."
    )
    search = serializers.CharField(
        required=False, allow_blank=True, max_length=100,
        help_text="Words of the participant's name, their access code (with or without dashes), or their "
        "student/teacher number.",
    )

    def to_filters(self) -> dict[str, Any]:
        data = self.validated_data
        return {
            "session_id": data.get("sessionId"),
            "status": data.get("status"),
            "person_type": data.get("personType"),
            "class_division_id": data.get("classDivisionId"),
            "search": data.get("search", ""),
        }


# --- review queue: output ---------------------------------------------------------------------------------------------


class SubmissionReviewerSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return user.get_full_name() or user.get_username()


class SubmissionValidationSummarySerializer(serializers.Serializer):
    """Computed by the server on every save and submit."""

    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False,
                                   help_text="Messages per field key.")
    missing = serializers.ListField(child=serializers.CharField(), required=False,
                                    help_text="Required fields left empty.")
    changedFields = serializers.ListField(child=serializers.CharField(), required=False,
                                          help_text="Verifications: fields that differ from the roster snapshot.")
    warnings = serializers.ListField(child=serializers.CharField(), required=False,
                                     help_text="The same, as sentences for a human.")


class SubmissionIdentitySerializer(serializers.Serializer):
    """Key fields the server extracted from the payload."""

    givenName = serializers.CharField(required=False)
    familyName = serializers.CharField(required=False)
    dateOfBirth = serializers.CharField(required=False)
    phone = serializers.CharField(required=False)
    guardianName = serializers.CharField(required=False)
    guardianPhone = serializers.CharField(required=False)
    number = serializers.CharField(required=False)
    gradeLevelId = serializers.CharField(required=False)
    classDivisionId = serializers.CharField(required=False)


class SubmissionSerializer(serializers.Serializer):
    """One submission in the queue."""

    id = serializers.UUIDField(read_only=True)
    sessionId = serializers.UUIDField(source="session_id", read_only=True)
    accessCode = serializers.CharField(source="access_code.display_code", read_only=True,
                                       help_text="The access code as printed (grouped with dashes).")
    displayName = serializers.CharField(source="display_name", read_only=True)
    personType = serializers.ChoiceField(source="person_type", choices=PersonType.choices, read_only=True)
    status = serializers.ChoiceField(choices=SubmissionStatus.choices, read_only=True)
    version = serializers.IntegerField(read_only=True,
                                       help_text="Incremented on every save, submit and review: send it back as "
                                       "`expectedVersion`.")
    payload = serializers.JSONField(read_only=True, help_text="The raw form data, keyed by form field.")
    normalizedIdentity = SubmissionIdentitySerializer(source="normalized_identity", read_only=True)
    validationSummary = SubmissionValidationSummarySerializer(source="validation_summary", read_only=True)
    gradeLevelId = serializers.UUIDField(source="grade_level_id", read_only=True, allow_null=True)
    classDivisionId = serializers.UUIDField(source="class_division_id", read_only=True, allow_null=True)
    correctionMessage = serializers.CharField(source="correction_message", read_only=True)
    flaggedFields = serializers.ListField(source="flagged_fields", child=serializers.CharField(), read_only=True)
    reviewReason = serializers.CharField(source="review_reason", read_only=True)
    submittedAt = serializers.DateTimeField(source="submitted_at", read_only=True, allow_null=True)
    reviewedBy = SubmissionReviewerSerializer(source="reviewed_by", read_only=True, allow_null=True)
    reviewedAt = serializers.DateTimeField(source="reviewed_at", read_only=True, allow_null=True)
    importedPersonId = serializers.UUIDField(source="imported_person_id", read_only=True, allow_null=True)
    importedAt = serializers.DateTimeField(source="imported_at", read_only=True, allow_null=True)
    importError = serializers.CharField(source="import_error", read_only=True,
                                        help_text="Why the last import failed (empty when it did not).")
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)


class SubmissionDuplicateSerializer(serializers.Serializer):
    """A roster person who looks like this participant."""

    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(source="full_name", read_only=True)
    role = serializers.CharField(read_only=True)
    number = serializers.CharField(source="sis_id", read_only=True)
    dateOfBirth = serializers.DateField(source="date_of_birth", read_only=True, allow_null=True)
    schoolId = serializers.UUIDField(source="school_id", read_only=True, allow_null=True)
    gradeLevelId = serializers.UUIDField(source="grade_level_id", read_only=True, allow_null=True)


class SubmissionHistorySerializer(serializers.Serializer):
    """One status change (who, from, to, when, why)."""

    fromStatus = serializers.CharField(source="from_status", read_only=True,
                                       help_text="Empty for the first draft.")
    toStatus = serializers.CharField(source="to_status", read_only=True)
    actor = SubmissionReviewerSerializer(read_only=True, allow_null=True,
                                         help_text="The staff member; null for the participant or automatic steps.")
    reason = serializers.CharField(read_only=True)
    at = serializers.DateTimeField(source="created_at", read_only=True)


ACTIONS = ("approve", "reject", "requestCorrection", "import")


class SubmissionDetailSerializer(SubmissionSerializer):
    """A submission with what a reviewer needs beside it."""

    rosterSnapshot = serializers.JSONField(
        source="access_code.roster_snapshot", read_only=True,
        help_text="Verifications: what the roster held when the code was generated (empty for open codes).",
    )
    rosterMatchId = serializers.SerializerMethodField(
        help_text="The roster person an import would update (null: an import creates a new person)."
    )
    possibleDuplicates = serializers.SerializerMethodField()
    history = SubmissionHistorySerializer(source="status_changes.all", many=True, read_only=True)
    allowedActions = serializers.SerializerMethodField(
        help_text="What you may do now, given the status and your role."
    )

    def get_rosterMatchId(self, obj) -> str | None:
        match = self.context.get("match")
        return str(match.pk) if match is not None else None

    @extend_schema_field(SubmissionDuplicateSerializer(many=True))
    def get_possibleDuplicates(self, obj) -> list[dict]:
        return SubmissionDuplicateSerializer(self.context.get("duplicates", []), many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=ACTIONS)))
    def get_allowedActions(self, obj) -> list[str]:
        return list(self.context.get("allowed_actions", []))


class BulkApproveResultSerializer(serializers.Serializer):
    approved = serializers.ListField(child=serializers.UUIDField(), help_text="Ids that are now approved.")
    failed = serializers.DictField(child=serializers.CharField(), help_text="Id → why it was not approved.")
