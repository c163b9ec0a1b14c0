"""Registration sessions: campaigns, their one-time access codes, and the participants' submissions."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from registrations.choices import (
    CodeStatus,
    GenerationStatus,
    PersonType,
    RegistrationMode,
    RosterPolicy,
    SessionStatus,
    SubmissionStatus,
)
from registrations.validators import APPROVAL_POLICY_MAX_BYTES, MAX_PAYLOAD_BYTES, REQUIRED_FIELDS_MAX_BYTES
from rostering.common.jsonio import JSONBoundsValidator
from rostering.common.transitions import StatusChange
from rostering.models import TenantQuerySet


def _values(choices) -> list[str]:
    return [v for v, _ in choices.choices]


class RegistrationSession(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    district = models.ForeignKey("rostering.District", on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey("rostering.School", on_delete=models.PROTECT, related_name="registration_sessions")
    mode = models.CharField(max_length=32, choices=RegistrationMode.choices)
    title = models.CharField(max_length=200, help_text="Displayed to participants on the registration form.")
    description = models.TextField(blank=True, default="", help_text="Shown on the public form below the title.")
    class_division = models.ForeignKey(
        "rostering.ClassDivision", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Locks every participant to this class (and its grade).",
    )
    grade_level = models.ForeignKey(
        "rostering.GradeLevel", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Locks every participant to this grade.",
    )
    academic_year = models.ForeignKey(
        "rostering.AcademicSession", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    term = models.ForeignKey("rostering.AcademicSession", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField(null=True, blank=True, help_text="When the session becomes available (informational).")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Deadline shown to participants.")
    expected_count = models.PositiveIntegerField(null=True, blank=True, help_text="Used for the completion percentage.")
    roster_policy = models.CharField(max_length=20, choices=RosterPolicy.choices, default=RosterPolicy.OPEN_WITH_CODE)
    required_fields = models.JSONField(default=dict, blank=True, validators=[JSONBoundsValidator(REQUIRED_FIELDS_MAX_BYTES)])
    approval_policy = models.JSONField(default=dict, blank=True, validators=[JSONBoundsValidator(APPROVAL_POLICY_MAX_BYTES)])
    status = models.CharField(max_length=12, choices=SessionStatus.choices, default=SessionStatus.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()
    tenant_school_field = "school_id"

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=_values(SessionStatus)), name="regsession_status_valid"),
            models.CheckConstraint(condition=Q(mode__in=_values(RegistrationMode)), name="regsession_mode_valid"),
            models.CheckConstraint(
                condition=Q(roster_policy__in=_values(RosterPolicy)), name="regsession_roster_policy_valid"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(starts_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="regsession_ends_after_starts",
            ),
            models.CheckConstraint(condition=~Q(title=""), name="regsession_title_not_blank"),
        ]
        indexes = [
            models.Index(fields=["district", "status", "-created_at"], name="regsession_district_status"),
            models.Index(fields=["district", "school", "-created_at"], name="regsession_district_school"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def accepts_participants(self) -> bool:
        return self.status == SessionStatus.OPEN

    @property
    def person_type(self) -> str:
        return PersonType.TEACHER if self.mode == RegistrationMode.TEACHER_SELF_REGISTRATION else PersonType.STUDENT

    @property
    def scope_label(self) -> str:
        if self.class_division_id:
            return f"Class {self.class_division.name}"
        if self.grade_level_id:
            return self.grade_level.name
        return "Whole school"


class SessionStatusChange(StatusChange):
    """History of a session's lifecycle (who, from, to, when, why)."""

    subject_field = "session"

    session = models.ForeignKey(RegistrationSession, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=12, choices=SessionStatus.choices)
    to_status = models.CharField(max_length=12, choices=SessionStatus.choices)

    class Meta(StatusChange.Meta):
        indexes = [models.Index(fields=["session", "-created_at"], name="regsession_history")]


class AccessCode(models.Model):
    """One code = one participant slot. ``code`` is stored normalised: upper case, no separators."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    district = models.ForeignKey("rostering.District", on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(RegistrationSession, on_delete=models.CASCADE, related_name="access_codes")
    school = models.ForeignKey("rostering.School", on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=40, unique=True)
    prefix_length = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=20, choices=CodeStatus.choices, default=CodeStatus.UNUSED)
    assigned_person = models.ForeignKey(
        "rostering.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="registration_codes"
    )
    roster_snapshot = models.JSONField(default=dict, blank=True, validators=[JSONBoundsValidator(16 * 1024)])
    display_name_hint = models.CharField(max_length=200, blank=True, default="")
    number_hint = models.CharField(max_length=64, blank=True, default="")
    include_hint_on_printout = models.BooleanField(default=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    print_batch = models.UUIDField(db_index=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    first_used_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_school_field = "school_id"

    class Meta:
        ordering = ["created_at", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=_values(CodeStatus)), name="accesscode_status_valid"),
            models.UniqueConstraint(
                fields=["session", "assigned_person"],
                condition=Q(assigned_person__isnull=False, revoked_at__isnull=True),
                name="accesscode_one_live_code_per_person",
            ),
        ]
        indexes = [
            models.Index(fields=["session", "status"], name="accesscode_session_status"),
            models.Index(fields=["session", "print_batch"], name="accesscode_session_batch"),
        ]

    def __str__(self) -> str:
        return self.display_code

    @property
    def display_code(self) -> str:
        from registrations.codes import format_code

        return format_code(self.code, self.prefix_length)

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_live(self) -> bool:
        return not self.is_revoked and not self.is_expired


class Submission(models.Model):
    """A participant's answers for one access code, from first draft to import."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    district = models.ForeignKey("rostering.District", on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(RegistrationSession, on_delete=models.CASCADE, related_name="submissions")
    access_code = models.OneToOneField(AccessCode, on_delete=models.CASCADE, related_name="submission")
    person_type = models.CharField(max_length=10, choices=PersonType.choices)
    payload = models.JSONField(
        default=dict, blank=True, help_text="The raw form data.", validators=[JSONBoundsValidator(MAX_PAYLOAD_BYTES)]
    )
    normalized_identity = models.JSONField(default=dict, blank=True, validators=[JSONBoundsValidator(16 * 1024)])
    validation_summary = models.JSONField(default=dict, blank=True, validators=[JSONBoundsValidator(64 * 1024)])
    grade_level = models.ForeignKey("rostering.GradeLevel", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    class_division = models.ForeignKey(
        "rostering.ClassDivision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=20, choices=SubmissionStatus.choices, default=SubmissionStatus.DRAFT)
    version = models.PositiveIntegerField(default=1, help_text="Incremented on every save; optimistic lock.")
    correction_message = models.TextField(blank=True, default="")
    flagged_fields = models.JSONField(default=list, blank=True, validators=[JSONBoundsValidator(8 * 1024)])
    review_reason = models.TextField(blank=True, default="")
    device_name = models.CharField(max_length=200, blank=True, default="")
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    imported_person = models.ForeignKey(
        "rostering.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="registration_submissions"
    )
    imported_at = models.DateTimeField(null=True, blank=True)
    import_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()
    tenant_school_field = "session__school_id"

    class Meta:
        ordering = ["-submitted_at", "-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=_values(SubmissionStatus)), name="submission_status_valid"),
        ]
        indexes = [
            models.Index(fields=["district", "session", "status"], name="submission_session_status"),
            models.Index(fields=["district", "status", "-submitted_at"], name="submission_district_status"),
            models.Index(fields=["class_division", "status"], name="submission_class_status"),
        ]

    def __str__(self) -> str:
        name = " ".join(filter(None, [self.payload.get("given_name"), self.payload.get("family_name")]))
        return name or f"Submission for {self.access_code.display_code}"

    @property
    def display_name(self) -> str:
        p = self.payload or {}
        return " ".join(filter(None, [p.get("given_name"), p.get("family_name")])) or "(no name yet)"


class SubmissionStatusChange(StatusChange):
    subject_field = "submission"

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=SubmissionStatus.choices, blank=True, default="")
    to_status = models.CharField(max_length=20, choices=SubmissionStatus.choices)

    class Meta(StatusChange.Meta):
        indexes = [models.Index(fields=["submission", "-created_at"], name="submission_history")]


class AccessCodeStatusChange(StatusChange):
    """History of an access code's status (it mirrors its participant's journey)."""

    subject_field = "access_code"

    access_code = models.ForeignKey(AccessCode, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=CodeStatus.choices)
    to_status = models.CharField(max_length=20, choices=CodeStatus.choices)

    class Meta(StatusChange.Meta):
        indexes = [models.Index(fields=["access_code", "-created_at"], name="accesscode_history")]


class CodeAttempt(models.Model):
    """A failed or throttled access-code attempt on /register, for staff to watch for guessing."""

    class Outcome(models.TextChoices):
        INVALID = "invalid", "Unknown, revoked or expired code"
        SESSION_NOT_OPEN = "session_not_open", "Session not open"
        THROTTLED = "throttled", "Throttled"

    district = models.ForeignKey("rostering.District", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(RegistrationSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    code_hint = models.CharField(max_length=12, blank=True, default="", help_text="The first characters typed.")
    school_code = models.CharField(max_length=32, blank=True, default="")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["district", "-created_at"], name="codeattempt_district_created"),
            models.Index(fields=["-created_at"], name="codeattempt_created"),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} from {self.ip_address} at {self.created_at:%Y-%m-%d %H:%M}"


class CodeGeneration(models.Model):
    """A batch of access codes generated by the task worker (too many for one request), with its progress.

    The codes are inserted in one transaction: until ``completed`` none of them exists; a ``failed``
    generation leaves none behind. ``done`` is written as the rows go in (outside that transaction).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    district = models.ForeignKey("rostering.District", on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(RegistrationSession, on_delete=models.CASCADE, related_name="code_generations")
    print_batch = models.UUIDField(default=uuid.uuid4)
    options = models.JSONField(default=dict, blank=True, validators=[JSONBoundsValidator(4 * 1024)])
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=12, choices=GenerationStatus.choices, default=GenerationStatus.QUEUED)
    error = models.TextField(blank=True, default="")
    warnings = models.JSONField(default=list, blank=True, validators=[JSONBoundsValidator(4 * 1024)])
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()
    tenant_school_field = "session__school_id"

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=_values(GenerationStatus)), name="codegeneration_status_valid"),
        ]
        indexes = [models.Index(fields=["session", "status"], name="codegeneration_session_status")]

    def __str__(self) -> str:
        return f"{self.total:,} codes for {self.session_id} ({self.status})"

    @property
    def percent(self) -> float:
        return round(self.done * 100 / self.total, 1) if self.total else 0.0

    @property
    def is_active(self) -> bool:
        return self.status in (GenerationStatus.QUEUED, GenerationStatus.RUNNING)


class CodeGenerationStatusChange(StatusChange):
    subject_field = "generation"

    generation = models.ForeignKey(CodeGeneration, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=12, choices=GenerationStatus.choices, blank=True, default="")
    to_status = models.CharField(max_length=12, choices=GenerationStatus.choices)
