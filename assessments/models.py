"""Assessment data: exam sessions, activities, items and questions, learners' assessment sessions with
their responses and item timings, Data API consumers and jobs.

Every row carries ``district`` (the tenant), so every query — the staff pages and the Learnosity-compatible
Data API alike — is scoped by one indexed column; another district's ids are simply not found. Reads go
through ``Model.objects.for_user(user)`` (staff) or ``.filter(district=consumer.district)`` (the Data API).

``AssessmentSession`` is the big table (millions of rows): its indexes lead with ``district`` and end with
``(updated_at, id)``, the keyset of the Data API's pages, so that a 50-row page under any one filter is an
index range scan whatever the depth of the page.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from assessments.choices import ItemScoringType, JobStatus, QuestionType, SessionStatus
from rostering.common.jsonio import JSONBoundsValidator
from rostering.models import TenantQuerySet

KB = 1024
SMALL_JSON = JSONBoundsValidator(16 * KB)
MEDIUM_JSON = JSONBoundsValidator(64 * KB)
LARGE_JSON = JSONBoundsValidator(256 * KB)
REQUEST_JSON = JSONBoundsValidator(1024 * KB)


def _values(choices) -> list[str]:
    return [value for value, _label in choices.choices]


class DistrictRow(models.Model):
    """A row owned by one district (the fields every assessments model shares)."""

    district = models.ForeignKey("rostering.District", on_delete=models.CASCADE, related_name="+", db_index=False)

    tenant_school_field: str | None = None
    tenant_school_nullable = False

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True

    def _same_district(self, errors: dict, **related) -> None:
        for name, obj in related.items():
            if obj is not None and obj.district_id != self.district_id:
                errors[name] = "This belongs to another district."


class ExamSession(DistrictRow):
    """An exam sitting of one school in one academic session (e.g. "Term 2 examinations 2026")."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    school = models.ForeignKey("rostering.School", on_delete=models.CASCADE, related_name="exam_sessions")
    academic_session = models.ForeignKey(
        "rostering.AcademicSession", on_delete=models.PROTECT, related_name="exam_sessions",
        help_text="The school year the exams belong to.",
    )
    term = models.ForeignKey(
        "rostering.AcademicSession", null=True, blank=True, on_delete=models.PROTECT, related_name="term_exam_sessions",
    )
    name = models.CharField(max_length=200)
    starts_on = models.DateField()
    ends_on = models.DateField()
    is_published = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_school_field = "school_id"

    class Meta:
        ordering = ["-starts_on", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="examsession_ends_after_start"),
        ]
        indexes = [models.Index(fields=["district", "school", "-starts_on"], name="examsession_district_school")]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        super().clean()
        errors: dict = {}
        self._same_district(errors, school=self.school if self.school_id else None,
                            academic_session=self.academic_session if self.academic_session_id else None,
                            term=self.term if self.term_id else None)
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = "The exams cannot end before they start."
        if errors:
            raise ValidationError(errors)


class Item(DistrictRow):
    """An item of the item bank: a piece of content holding one or more questions."""

    reference = models.CharField(max_length=150)
    title = models.CharField(max_length=200, blank=True, default="")
    content = models.TextField(blank=True, default="", help_text="The item's HTML layout.")
    scoring_type = models.CharField(max_length=20, choices=ItemScoringType.choices, default=ItemScoringType.PER_QUESTION)
    metadata = models.JSONField(default=dict, blank=True, validators=[SMALL_JSON])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["reference"]
        constraints = [
            models.UniqueConstraint(fields=["district", "reference"], name="item_reference_unique_in_district"),
            models.CheckConstraint(condition=Q(scoring_type__in=_values(ItemScoringType)), name="item_scoring_type_valid"),
        ]

    def __str__(self) -> str:
        return self.title or self.reference


class Question(DistrictRow):
    """One question (a Learnosity "widget"); ``validation`` follows Learnosity's question schema
    (``scoring_type``, ``valid_response {score, value}``, ``alt_responses``, ``penalty`` …)."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveIntegerField(default=0)
    reference = models.CharField(max_length=150, help_text="The question id (Learnosity's question.id).")
    type = models.CharField(max_length=40, choices=QuestionType.choices)
    stimulus = models.TextField(blank=True, default="")
    options = models.JSONField(default=list, blank=True, validators=[MEDIUM_JSON])
    validation = models.JSONField(default=dict, blank=True, validators=[MEDIUM_JSON])
    data = models.JSONField(
        default=dict, blank=True, validators=[MEDIUM_JSON],
        help_text="The rest of the question's JSON (stimulus_list, possible_responses, list, template, …).",
    )
    metadata = models.JSONField(default=dict, blank=True, validators=[SMALL_JSON])

    class Meta:
        ordering = ["item_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["district", "reference"], name="question_reference_unique_in_district"),
        ]
        indexes = [models.Index(fields=["item", "position"], name="question_item_position")]

    def __str__(self) -> str:
        return self.reference

    @property
    def max_score(self) -> float:
        validation = self.validation or {}
        for score in ((validation.get("valid_response") or {}).get("score"), validation.get("max_score")):
            if isinstance(score, int | float) and not isinstance(score, bool):
                return float(score)
        return 1.0

    @property
    def automarkable(self) -> bool:
        if self.type in (QuestionType.LONGTEXTV2, QuestionType.LONGTEXT, QuestionType.PLAINTEXT):
            return False
        return bool((self.validation or {}).get("automarkable", True))

    def clean(self):
        super().clean()
        errors: dict = {}
        if self.item_id and self.item.district_id != self.district_id:
            errors["item"] = "This belongs to another district."
        if not isinstance(self.validation, dict):
            errors["validation"] = "The validation must be a JSON object."
        if not isinstance(self.options, list):
            errors["options"] = "The options must be a JSON list."
        if errors:
            raise ValidationError(errors)


class Activity(DistrictRow):
    """An activity (a test): an ordered list of items, subscore definitions, a time limit."""

    reference = models.CharField(max_length=150, help_text="The activity id clients send (activity_id).")
    title = models.CharField(max_length=200)
    course_id = models.CharField(max_length=150, blank=True, default="")
    exam_session = models.ForeignKey(
        ExamSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities",
    )
    grade_level = models.ForeignKey("rostering.GradeLevel", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    subject = models.ForeignKey("rostering.Subject", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    items = models.ManyToManyField(Item, through="ActivityItem", related_name="activities")
    subscores = models.JSONField(
        default=list, blank=True, validators=[MEDIUM_JSON],
        help_text='Subscore definitions: [{"id": "subscore-1", "title": "Algebra", "items": ["item-ref", …]}].',
    )
    max_time = models.PositiveIntegerField(null=True, blank=True, help_text="Time limit in seconds.")
    metadata = models.JSONField(default=dict, blank=True, validators=[SMALL_JSON])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_school_field = "exam_session__school_id"
    tenant_school_nullable = True

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "activities"
        constraints = [
            models.UniqueConstraint(fields=["district", "reference"], name="activity_reference_unique_in_district"),
        ]
        indexes = [models.Index(fields=["district", "exam_session"], name="activity_district_exam")]

    def __str__(self) -> str:
        return self.title

    def clean(self):
        super().clean()
        errors: dict = {}
        self._same_district(
            errors,
            exam_session=self.exam_session if self.exam_session_id else None,
            grade_level=self.grade_level if self.grade_level_id else None,
            subject=self.subject if self.subject_id else None,
        )
        if not isinstance(self.subscores, list) or not all(
            isinstance(s, dict) and isinstance(s.get("id"), str) and isinstance(s.get("items", []), list)
            for s in self.subscores
        ):
            errors["subscores"] = 'Subscores must be a list of {"id", "title", "items": [item references]}.'
        if errors:
            raise ValidationError(errors)


class ActivityItem(DistrictRow):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="activity_items")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["activity_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "position"], name="activityitem_position_unique"),
            models.UniqueConstraint(fields=["activity", "item"], name="activityitem_item_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.position + 1}. item {self.item_id}"


class AssessmentSession(DistrictRow):
    """One learner's attempt at an activity, as Learnosity's Data API reports it."""

    id = models.BigAutoField(primary_key=True)
    session_id = models.CharField(max_length=64, help_text="The session id as the client sent it.")
    user_id = models.CharField(max_length=255)
    activity_id = models.CharField(max_length=150)
    linked_activity = models.ForeignKey(
        Activity, null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions",
        help_text="The activity of our item bank whose reference is activity_id, when there is one.",
    )
    school = models.ForeignKey("rostering.School", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    person = models.ForeignKey(
        "rostering.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="assessment_sessions",
        help_text="The roster person whose id is user_id, when there is one.",
    )
    course_id = models.CharField(max_length=150, blank=True, default="")
    status = models.CharField(max_length=20, choices=SessionStatus.choices, default=SessionStatus.INCOMPLETE)
    dt_started = models.DateTimeField(null=True, blank=True)
    dt_completed = models.DateTimeField(null=True, blank=True)
    dt_saved = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(help_text="Set by every write; the Data API's mintime/maxtime and paging key.")
    created_at = models.DateTimeField(auto_now_add=True)
    num_attempted = models.PositiveIntegerField(default=0)
    num_questions = models.PositiveIntegerField(default=0)
    score = models.FloatField(null=True, blank=True)
    max_score = models.FloatField(null=True, blank=True)
    subscores = models.JSONField(null=True, blank=True, validators=[MEDIUM_JSON])
    session_duration = models.PositiveIntegerField(
        null=True, blank=True, help_text="Minutes, rounded up, from dt_started to dt_completed (saved time included).",
    )
    metadata = models.JSONField(
        default=dict, blank=True, validators=[SMALL_JSON],
        help_text="The session's own metadata (activity_template_id, items_api_version, max_time, user_agent).",
    )
    session_metadata = models.JSONField(
        default=dict, blank=True, validators=[SMALL_JSON],
        help_text="Metadata stored for the session by SET jobs/sessions/metadata (session_tags, …).",
    )
    adaptive = models.JSONField(null=True, blank=True, validators=[MEDIUM_JSON])

    tenant_school_field = "school_id"
    tenant_school_nullable = True

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["district", "session_id"], name="assessmentsession_id_unique_in_district"),
            models.CheckConstraint(condition=Q(status__in=_values(SessionStatus)), name="assessmentsession_status_valid"),
            models.CheckConstraint(
                condition=Q(dt_completed__isnull=True) | Q(dt_started__isnull=True) | Q(dt_completed__gte=F("dt_started")),
                name="assessmentsession_completed_after_started",
            ),
        ]
        indexes = [
            models.Index(fields=["district", "updated_at", "id"], name="asess_district_updated"),
            models.Index(fields=["district", "user_id", "updated_at", "id"], name="asess_district_user"),
            models.Index(fields=["district", "activity_id", "updated_at", "id"], name="asess_district_activity"),
            models.Index(fields=["district", "status", "updated_at", "id"], name="asess_district_status"),
            models.Index(
                fields=["district", "updated_at", "id"], condition=Q(adaptive__isnull=False), name="asess_district_adaptive",
            ),
            models.Index(fields=["district", "school", "updated_at"], name="asess_district_school"),
            models.Index(fields=["person"], name="asess_person"),
        ]

    def __str__(self) -> str:
        return self.session_id

    @property
    def score_percent(self) -> float | None:
        if self.score is None or not self.max_score:
            return None
        return max(0.0, min(100.0, self.score / self.max_score * 100))


class SessionItem(DistrictRow):
    """An item as one learner met it: time on it (seconds), whether they flagged it, its responses."""

    id = models.BigAutoField(primary_key=True)
    session = models.ForeignKey(AssessmentSession, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField(default=0)
    reference = models.CharField(max_length=150)
    time = models.PositiveIntegerField(default=0, help_text="Seconds spent on the item.")
    user_flagged = models.BooleanField(default=False)
    response_ids = models.JSONField(default=list, blank=True, validators=[SMALL_JSON])
    scoring = models.JSONField(null=True, blank=True, validators=[SMALL_JSON], help_text='{"score", "max_score", "type"}')

    class Meta:
        ordering = ["session_id", "position"]
        indexes = [models.Index(fields=["session", "position"], name="sessionitem_session_position")]

    def __str__(self) -> str:
        return self.reference


class Response(DistrictRow):
    """A learner's response to one question, with its score."""

    id = models.BigAutoField(primary_key=True)
    session = models.ForeignKey(AssessmentSession, on_delete=models.CASCADE, related_name="responses")
    position = models.PositiveIntegerField(default=0)
    response_id = models.CharField(max_length=255)
    question = models.ForeignKey(Question, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    question_reference = models.CharField(max_length=150, blank=True, default="")
    question_type = models.CharField(max_length=40)
    item_reference = models.CharField(max_length=150, blank=True, default="")
    value = models.JSONField(
        null=True, blank=True, validators=[LARGE_JSON],
        help_text='The response as the learner gave it: {"value": …, "type", "apiVersion", "revision"}.',
    )
    revision = models.PositiveIntegerField(default=0)
    score = models.FloatField(null=True, blank=True)
    max_score = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0)])
    attempted = models.BooleanField(default=False)
    automarkable = models.BooleanField(default=True)
    manual_score = models.FloatField(null=True, blank=True)
    max_manual_score = models.FloatField(null=True, blank=True)
    dt_score_updated = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["district", "response_id"], name="response_id_unique_in_district"),
        ]
        indexes = [models.Index(fields=["session", "position"], name="response_session_position")]

    def __str__(self) -> str:
        return self.response_id


class Consumer(DistrictRow):
    """A Data API client of one district: a 16-character key and an HMAC secret.

    The secret is needed in clear to check signatures, so it is stored encrypted (Fernet, with a key derived
    from ``SECRET_KEY``; ``assessments.secrets``), shown once when made. Rotating keeps the old secret valid
    until ``previous_secret_expires_at``.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, blank=True, default="")
    consumer_key = models.CharField(max_length=16, unique=True)
    secret_encrypted = models.TextField(editable=False)
    previous_secret_encrypted = models.TextField(blank=True, default="", editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    allowed_domains = models.JSONField(
        default=list, blank=True, validators=[SMALL_JSON],
        help_text='Domains the security packet may name, e.g. ["localhost", "*.example.org"]; empty: any.',
    )
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(consumer_key__regex=r"^[A-Za-z0-9]{16}$"), name="consumer_key_16_chars"),
        ]
        indexes = [models.Index(fields=["district", "-created_at"], name="consumer_district_created")]

    def __str__(self) -> str:
        return f"{self.consumer_key} ({self.name})" if self.name else self.consumer_key

    def clean(self):
        super().clean()
        if not isinstance(self.allowed_domains, list) or not all(
            isinstance(d, str) and d.strip() and len(d) <= 253 for d in self.allowed_domains
        ):
            raise ValidationError({"allowed_domains": "Allowed domains must be a list of host names."})


class Job(DistrictRow):
    """An asynchronous Data API job: written by the write endpoints (one row per request, queued), run by the
    ``run_job`` task (running → completed, or halted with its errors per entry and nothing changed), read by
    GET jobs and the staff jobs page."""

    ALLOWED_TRANSITIONS = {
        JobStatus.QUEUED: {JobStatus.RUNNING},
        JobStatus.RUNNING: {JobStatus.RUNNING, JobStatus.COMPLETED, JobStatus.HALTED},  # running again: a retry
    }

    id = models.BigAutoField(primary_key=True)
    reference = models.UUIDField(default=uuid.uuid4, editable=False)
    consumer = models.ForeignKey(Consumer, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")
    type = models.CharField(max_length=60)
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED)
    data = models.JSONField(default=dict, blank=True, validators=[LARGE_JSON],
                            help_text="What GET jobs shows with include data: the job's result or its errors.")
    request = models.JSONField(default=dict, blank=True, validators=[REQUEST_JSON],
                               help_text="The checked request packet the job runs (action, endpoint, entries).")
    result = models.JSONField(default=dict, blank=True, validators=[LARGE_JSON])
    errors = models.JSONField(default=list, blank=True, validators=[LARGE_JSON],
                              help_text='Per entry: [{"index", "session_id", "message"}].')
    attempts = models.PositiveSmallIntegerField(default=0)
    dt_created = models.DateTimeField()
    dt_started = models.DateTimeField(null=True, blank=True)
    dt_completed = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-dt_created", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["reference"], name="job_reference_unique"),
            models.CheckConstraint(condition=Q(status__in=_values(JobStatus)), name="job_status_valid"),
        ]
        indexes = [models.Index(fields=["district", "dt_created", "id"], name="job_district_created")]

    def __str__(self) -> str:
        return str(self.reference)


class JobStatusChange(DistrictRow):
    """One move of a job's status (who: the worker; when; why)."""

    id = models.BigAutoField(primary_key=True)
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=20, blank=True, default="")
    to_status = models.CharField(max_length=20, choices=JobStatus.choices)
    reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["job_id", "created_at", "id"]
        indexes = [models.Index(fields=["job", "created_at"], name="jobstatuschange_job")]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"
