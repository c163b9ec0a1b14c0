"""Session set-up: the wizard that sets up an academic year or an exam session, and what it leaves behind.

- ``SessionSetup`` is the seed's resource (``session_type``, ``academic_session``, ``exam_session``, ``status``,
  ``current_step``) plus ``district`` (the tenant), ``school`` (the scope: the session's school, empty for a
  district-wide year), ``source_session`` (the year rolled over from) and ``created_by``.
- ``SessionSetupStatusChange``: one row per status or step change (who, from, to, when, why).
- ``StudentPromotion``: the decision per student of last year (promote, repeat, transfer, graduate, drop out).
- ``PromotionExecution``: one run of the decisions (a background task with its progress).
- ``PromotionHistory``: a row per student and execution (decision, who decided, when, source and destination
  class), kept for good; ``undone_at`` marks the rows of an execution that was undone.
- ``ExamSlot``: the scheduled date and time of one exam (an assessments ``Activity``) of an exam session.

Rows carry ``district`` so that every query is scoped by one indexed column.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from rostering.common.jsonio import JSONBoundsValidator
from rostering.models import TenantQuerySet
from session_setup.choices import (
    ExecutionStatus,
    PromotionAction,
    SetupSessionType,
    SetupStatus,
    last_step,
    steps_for,
)

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
WIZARD_DATA_MAX_BYTES = 32 * 1024


def _values(choices) -> list[str]:
    return [value for value, _label in choices.choices]


class SetupRow(models.Model):
    district = models.ForeignKey("rostering.District", on_delete=models.CASCADE, related_name="+")

    tenant_school_field: str | None = None
    tenant_school_nullable = False

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


class SessionSetup(SetupRow):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session_type = models.CharField(max_length=20, choices=SetupSessionType.choices)
    academic_session = models.ForeignKey(
        "rostering.AcademicSession", null=True, blank=True, on_delete=models.PROTECT, related_name="setups",
    )
    exam_session = models.ForeignKey(
        "assessments.ExamSession", null=True, blank=True, on_delete=models.PROTECT, related_name="setups",
    )
    status = models.CharField(max_length=20, choices=SetupStatus.choices, default=SetupStatus.NOT_STARTED)
    current_step = models.IntegerField(
        default=-1, validators=[MinValueValidator(INT32_MIN), MaxValueValidator(INT32_MAX)],
    )
    school = models.ForeignKey(
        "rostering.School", null=True, blank=True, on_delete=models.CASCADE, related_name="session_setups",
        help_text="The school set up (the session's school); empty for a district-wide school year.",
    )
    source_session = models.ForeignKey(
        "rostering.AcademicSession", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Academic setups: last year, whose classes and students are rolled over.",
    )
    data = models.JSONField(
        default=dict, blank=True, validators=[JSONBoundsValidator(WIZARD_DATA_MAX_BYTES)],
        help_text="What the wizard remembers between steps (e.g. the subjects chosen per grade).",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_school_field = "school_id"
    tenant_school_nullable = True

    class Meta:
        ordering = ["-updated_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(session_type__in=_values(SetupSessionType)), name="setup_type_valid"),
            models.CheckConstraint(condition=Q(status__in=_values(SetupStatus)), name="setup_status_valid"),
            models.CheckConstraint(
                condition=(Q(status=SetupStatus.NOT_STARTED) & Q(current_step=-1))
                | (~Q(status=SetupStatus.NOT_STARTED) & Q(current_step__gte=0)),
                name="setup_status_matches_step",
            ),
            models.CheckConstraint(
                condition=~Q(session_type=SetupSessionType.ACADEMIC_SESSION) | Q(exam_session__isnull=True),
                name="setup_academic_has_no_exam",
            ),
            models.UniqueConstraint(
                fields=["academic_session"],
                condition=Q(session_type=SetupSessionType.ACADEMIC_SESSION, academic_session__isnull=False)
                & ~Q(status=SetupStatus.COMPLETED), name="setup_one_open_per_academic_session",
            ),
            models.UniqueConstraint(
                fields=["exam_session"], condition=Q(exam_session__isnull=False) & ~Q(status=SetupStatus.COMPLETED),
                name="setup_one_open_per_exam_session",
            ),
        ]
        indexes = [
            models.Index(fields=["district", "-updated_at"], name="setup_district_updated"),
            models.Index(fields=["district", "status"], name="setup_district_status"),
        ]

    def __str__(self) -> str:
        session = self.exam_session if self.exam_session_id else self.academic_session
        return f"{self.get_session_type_display()} setup: {session or 'not named yet'}"

    @property
    def steps(self) -> tuple[str, ...]:
        return steps_for(self.session_type)

    @property
    def last_step(self) -> int:
        return last_step(self.session_type)

    @property
    def steps_done(self) -> int:
        if self.status == SetupStatus.COMPLETED:
            return len(self.steps)
        return max(self.current_step, 0)

    @property
    def progress_percent(self) -> int:
        return round(self.steps_done * 100 / len(self.steps)) if self.steps else 0

    @property
    def session(self):
        return self.exam_session if self.session_type == SetupSessionType.EXAM_SESSION else self.academic_session


class SessionSetupStatusChange(SetupRow):
    setup = models.ForeignKey(SessionSetup, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=20, choices=SetupStatus.choices)
    to_status = models.CharField(max_length=20, choices=SetupStatus.choices)
    from_step = models.IntegerField()
    to_step = models.IntegerField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=300, blank=True, default="")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["setup", "-at"], name="setupchange_setup_at")]

    def __str__(self) -> str:
        return f"{self.from_status}/{self.from_step} → {self.to_status}/{self.to_step}"


class StudentPromotion(SetupRow):
    """The decision for one student of last year's class (before it is executed)."""

    setup = models.ForeignKey(SessionSetup, on_delete=models.CASCADE, related_name="promotions")
    student = models.ForeignKey("rostering.Person", on_delete=models.CASCADE, related_name="+")
    source_enrollment = models.ForeignKey("rostering.Enrollment", null=True, on_delete=models.SET_NULL, related_name="+")
    source_class = models.ForeignKey("rostering.ClassDivision", on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=20, choices=PromotionAction.choices, default=PromotionAction.PENDING)
    destination_class = models.ForeignKey(
        "rostering.ClassDivision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True)
    is_default = models.BooleanField(default=True, help_text="Still the wizard's suggestion (nobody changed it).")

    class Meta:
        ordering = ["source_class_id", "student__family_name", "student__given_name"]
        constraints = [
            models.UniqueConstraint(fields=["setup", "student"], name="promotion_one_per_student"),
            models.CheckConstraint(condition=Q(action__in=_values(PromotionAction)), name="promotion_action_valid"),
        ]
        indexes = [models.Index(fields=["setup", "source_class"], name="promotion_setup_class")]

    def __str__(self) -> str:
        return f"{self.student_id}: {self.action}"


class PromotionExecution(SetupRow):
    setup = models.ForeignKey(SessionSetup, on_delete=models.CASCADE, related_name="executions")
    status = models.CharField(max_length=20, choices=ExecutionStatus.choices, default=ExecutionStatus.QUEUED)
    total = models.PositiveIntegerField(default=0, help_text="Students to process.")
    processed = models.PositiveIntegerField(default=0)
    classes_total = models.PositiveIntegerField(default=0)
    classes_done = models.PositiveIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True, default="")
    error = models.TextField(blank=True, default="")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=_values(ExecutionStatus)), name="execution_status_valid"),
            models.CheckConstraint(condition=Q(processed__lte=F("total")), name="execution_processed_le_total"),
        ]

    def __str__(self) -> str:
        return f"Execution of {self.setup_id}: {self.status}"

    @property
    def percent(self) -> int:
        if self.status == ExecutionStatus.DONE:
            return 100
        return round(self.processed * 100 / self.total) if self.total else 0


class PromotionHistory(SetupRow):
    execution = models.ForeignKey(PromotionExecution, on_delete=models.PROTECT, related_name="rows")
    setup = models.ForeignKey(SessionSetup, on_delete=models.PROTECT, related_name="promotion_history")
    student = models.ForeignKey("rostering.Person", on_delete=models.CASCADE, related_name="promotion_history")
    action = models.CharField(max_length=20, choices=PromotionAction.choices)
    source_class = models.ForeignKey("rostering.ClassDivision", on_delete=models.PROTECT, related_name="+")
    destination_class = models.ForeignKey(
        "rostering.ClassDivision", null=True, on_delete=models.PROTECT, related_name="+",
    )
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True)
    executed_at = models.DateTimeField()
    ended_enrollment = models.ForeignKey(
        "rostering.Enrollment", null=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Last year's enrollment this execution ended (restored by an undo).",
    )
    created_enrollment = models.ForeignKey(
        "rostering.Enrollment", null=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The new year's enrollment this execution created (removed by an undo).",
    )
    previous_grade_level = models.ForeignKey("rostering.GradeLevel", null=True, on_delete=models.SET_NULL, related_name="+")
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-executed_at", "student_id"]
        verbose_name_plural = "promotion history"
        constraints = [
            models.CheckConstraint(condition=Q(action__in=_values(PromotionAction)), name="history_action_valid"),
        ]
        indexes = [
            models.Index(fields=["district", "student", "-executed_at"], name="history_student"),
            models.Index(fields=["district", "source_class"], name="history_source_class"),
            models.Index(fields=["district", "destination_class"], name="history_destination_class"),
            models.Index(fields=["execution"], name="history_execution"),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} {self.action} ({self.executed_at:%Y-%m-%d})"


class ExamSlot(SetupRow):
    """When one exam of an exam session sits."""

    setup = models.ForeignKey(SessionSetup, on_delete=models.CASCADE, related_name="slots")
    activity = models.OneToOneField("assessments.Activity", on_delete=models.CASCADE, related_name="exam_slot")
    grade_level = models.ForeignKey("rostering.GradeLevel", on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at", "grade_level__rank"]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="examslot_ends_after_start")]
        indexes = [models.Index(fields=["setup", "grade_level", "starts_at"], name="examslot_setup_grade")]

    def __str__(self) -> str:
        return f"{self.activity_id} at {self.starts_at:%Y-%m-%d %H:%M}"
