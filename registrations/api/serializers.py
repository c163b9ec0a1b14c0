"""Serializers of the registrations API: the seed's camelCase JSON. They parse and present, never decide.

- Output: ``RegistrationSessionSerializer`` (every field of the seed + ``progress``), the progress summary,
  access codes and the result of a code generation.
- Input: create/update/transition/generate/revoke serializers. They check types and resolve ids among
  the objects the requesting user can see (an unknown or another district's id is a 400); the rules
  (editing per status, placement lock, roster policies, JSON settings) are the services' and validators'.
- Unknown input keys are refused (400) rather than silently dropped, so a typo never goes unnoticed.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from registrations.api.schema import APPROVAL_POLICY_SCHEMA, REQUIRED_FIELDS_SCHEMA
from registrations.choices import (
    SESSION_TRANSITIONS,
    CodeFormat,
    CodeStatus,
    RegistrationMode,
    RosterPolicy,
    SessionStatus,
)
from registrations.codes import format_code
from registrations.models import RegistrationSession
from registrations.selectors import progress_from_annotated, registration_progress
from registrations.services import MAX_CODES_PER_REQUEST
from rostering.common.fields import BoundedJSONField
from rostering.models import AcademicSession, ClassDivision, GradeLevel, School

# --- shared pieces --------------------------------------------------------------------------------


class ScopedIdField(serializers.PrimaryKeyRelatedField):
    """A ``…Id`` field whose choices are the objects the requesting user can see (``for_user``).

    An unknown id, another district's id and an id outside the user's schools are the same 400.
    """

    default_error_messages = {
        "does_not_exist": 'No {model} with id "{pk_value}" that you can see.',
        "incorrect_type": "Must be a UUID.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("pk_field", serializers.UUIDField())
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return super().get_queryset().for_user(getattr(request, "user", None))

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str):
            self.fail("incorrect_type")
        pk = self.pk_field.to_internal_value(data)
        queryset = self.get_queryset()
        try:
            return queryset.get(pk=pk)
        except queryset.model.DoesNotExist:
            self.fail("does_not_exist", model=queryset.model._meta.verbose_name, pk_value=data)


@extend_schema_field(REQUIRED_FIELDS_SCHEMA)
class RequiredFieldsField(BoundedJSONField):
    """``requiredFields``: parsed as JSON here, checked by ``registrations.validators``."""


@extend_schema_field(APPROVAL_POLICY_SCHEMA)
class ApprovalPolicyField(BoundedJSONField):
    """``approvalPolicy``: parsed as JSON here, checked by ``registrations.validators``."""


class StrictInputSerializer(serializers.Serializer):
    """Refuses keys it does not know (and says which are read-only), instead of ignoring them."""

    read_only_hints: dict[str, str] = {}

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, f in self.fields.items() if not f.read_only}
            unknown = [key for key in data if key not in writable]
            if unknown:
                raise serializers.ValidationError(
                    {key: [self.read_only_hints.get(key, "Unknown field.")] for key in unknown}
                )
        return super().to_internal_value(data)

    def create(self, validated_data):  # pragma: no cover - services write, never serializers
        raise NotImplementedError("Writes go through registrations.services.")

    def update(self, instance, validated_data):  # pragma: no cover
        raise NotImplementedError("Writes go through registrations.services.")


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
    classDivisionId = ScopedIdField(
        source="class_division", queryset=ClassDivision.objects.all(), required=False, allow_null=True,
        help_text="Class-locked session: every participant is placed in this class; its grade is derived.",
    )
    gradeLevelId = ScopedIdField(
        source="grade_level", queryset=GradeLevel.objects.all(), required=False, allow_null=True,
        help_text="Grade-locked session (alone), or the class division's own grade (with classDivisionId); "
        "a different grade is a 400.",
    )
    academicYearId = ScopedIdField(
        source="academic_year", queryset=AcademicSession.objects.all(), required=False, allow_null=True,
        help_text="An academic session of type school_year in the session's district (and school, if it has one).",
    )
    termId = ScopedIdField(
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
    schoolId = ScopedIdField(source="school", queryset=School.objects.all(), help_text="The session's school.")
    title = serializers.CharField(min_length=1, max_length=200, help_text="Displayed on the registration form.")


class RegistrationSessionUpdateSerializer(RegistrationSessionInputMixin, StrictInputSerializer):
    """``PATCH /sessions/{id}``: what may change depends on the status (the service says what and why).

    draft: everything but mode and schoolId; open/paused: title, description, startsAt, endsAt,
    expectedCount, requiredFields, approvalPolicy; closed/archived: nothing. Sending mode or schoolId
    with their current value is accepted (no change); another value is a 400.
    """

    mode = serializers.ChoiceField(choices=RegistrationMode.choices, required=False, help_text="Immutable.")
    schoolId = ScopedIdField(
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

CODE_LIST_STATUSES = [*CodeStatus.values, "revoked", "expired"]


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
        help_text="A participant status (live codes only), or `revoked`, or `expired` (live codes past expiresAt).",
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
