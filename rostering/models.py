"""Roster data: districts (our tenants), schools, academic sessions, grades, classes, people.

Every tenant-owned row carries ``district`` (denormalised where it could be derived) so that
every query is scoped by one indexed column. Reads go through ``Model.objects.for_user(user)``.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from rostering.choices import (
    EnrollmentRole,
    Gender,
    GradeLevelCode,
    MembershipRole,
    PersonRole,
    SessionState,
    SessionType,
)
from rostering.common.jsonio import JSONBoundsValidator
from rostering.permissions import scope_q, visible_district_ids

IDENTIFIERS_MAX_BYTES = 16 * 1024
PROPERTIES_MAX_BYTES = 64 * 1024


def _choice_values(choices) -> list[str]:
    return [value for value, _label in choices.choices]


class TenantQuerySet(models.QuerySet):
    """Scoping lives here so that no view or selector can forget it."""

    def for_user(self, user, perm: str | None = None):
        if user is None or not user.is_authenticated:
            return self.none()
        model = self.model
        q = scope_q(
            user,
            district_field=getattr(model, "tenant_district_field", "district"),
            school_field=getattr(model, "tenant_school_field", None),
            school_nullable=getattr(model, "tenant_school_nullable", False),
            perm=perm,
        )
        return self if q is None else self.filter(q)

    def in_district(self, district):
        return self.filter(district=district)


class TimestampedModel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_date = models.DateTimeField(auto_now_add=True, db_index=False)
    updated_date = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class TenantModel(TimestampedModel):
    """A row owned by one district. Subclasses say how to reach their school for scoping."""

    district = models.ForeignKey("rostering.District", on_delete=models.CASCADE, related_name="+")
    identifiers = models.JSONField(
        default=list, blank=True, help_text='Extra ids: [{"type": "sis_id", "value": "…"}]',
        validators=[JSONBoundsValidator(IDENTIFIERS_MAX_BYTES)],
    )
    properties = models.JSONField(
        default=dict, blank=True, help_text="Non-standard properties.", validators=[JSONBoundsValidator(PROPERTIES_MAX_BYTES)]
    )

    tenant_school_field: str | None = None
    tenant_school_nullable = False

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        if not isinstance(self.identifiers, list) or not all(
            isinstance(i, dict) and set(i) == {"type", "value"} and all(isinstance(v, str) for v in i.values())
            for i in self.identifiers
        ):
            raise ValidationError({"identifiers": 'Identifiers must be a list of {"type": …, "value": …} strings.'})
        if not isinstance(self.properties, dict):
            raise ValidationError({"properties": "Properties must be a JSON object."})


class DistrictQuerySet(models.QuerySet):
    def for_user(self, user, perm: str | None = None):
        if user is None or not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(pk__in=visible_district_ids(user))


class District(TimestampedModel):
    name = models.CharField(max_length=200)
    identifiers = models.JSONField(default=list, blank=True, validators=[JSONBoundsValidator(IDENTIFIERS_MAX_BYTES)])
    properties = models.JSONField(default=dict, blank=True, validators=[JSONBoundsValidator(PROPERTIES_MAX_BYTES)])
    time_zone = models.CharField(max_length=64, blank=True, default="")
    locale = models.CharField(max_length=16, blank=True, default="")

    objects = DistrictQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class School(TenantModel):
    name = models.CharField(max_length=200)
    code = models.CharField(
        max_length=32,
        help_text="Short school code participants may type on /register (letters, digits, dashes).",
    )
    address = models.CharField(max_length=300, blank=True, default="")
    phone = models.CharField(max_length=40, blank=True, default="")
    grade_codes = models.JSONField(
        default=list, blank=True, help_text="Grade codes the school teaches.", validators=[JSONBoundsValidator(4 * 1024)]
    )

    tenant_school_field = "pk"

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["district", "code"], name="school_code_unique_in_district"),
            models.CheckConstraint(condition=~Q(code=""), name="school_code_not_blank"),
        ]
        indexes = [models.Index(fields=["district", "name"], name="school_district_name")]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        super().clean()
        self.code = (self.code or "").strip().upper()


class AcademicSession(TenantModel):
    """A school year, semester, term or grading period (Edlink ``Session``)."""

    school = models.ForeignKey(School, null=True, blank=True, on_delete=models.CASCADE, related_name="academic_sessions")
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=20, choices=SessionType.choices, default=SessionType.SCHOOL_YEAR)
    state = models.CharField(max_length=20, choices=SessionState.choices, default=SessionState.UPCOMING)
    start_date = models.DateField()
    end_date = models.DateField()
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children",
        help_text="The school year (or semester) this term belongs to.",
    )

    tenant_school_field = "school_id"
    tenant_school_nullable = True

    class Meta:
        ordering = ["-start_date", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gt=F("start_date")), name="academic_session_end_after_start"),
            models.CheckConstraint(condition=Q(type__in=_choice_values(SessionType)), name="academic_session_type_valid"),
            models.CheckConstraint(condition=Q(state__in=_choice_values(SessionState)), name="academic_session_state_valid"),
            models.CheckConstraint(
                condition=~Q(type=SessionType.SCHOOL_YEAR) | Q(parent__isnull=True),
                name="academic_session_year_has_no_parent",
            ),
        ]
        indexes = [
            models.Index(fields=["district", "-start_date"], name="acsession_district_start"),
            models.Index(fields=["district", "school", "type"], name="acsession_district_school_type"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        super().clean()
        errors = {}
        if self.start_date and self.end_date and self.end_date <= self.start_date:
            errors["end_date"] = "The end date must be after the start date."
        if self.parent_id:
            parent = self.parent
            if self.type == SessionType.SCHOOL_YEAR:
                errors["parent"] = "A school year cannot sit inside another session."
            elif parent.district_id != self.district_id:
                errors["parent"] = "The parent session belongs to another district."
            elif parent.type not in (SessionType.SCHOOL_YEAR, SessionType.SEMESTER):
                errors["parent"] = "A term must sit inside a school year or semester."
            elif self.pk and parent.pk == self.pk:
                errors["parent"] = "A session cannot be its own parent."
            elif parent.school_id and self.school_id and parent.school_id != self.school_id:
                errors["parent"] = "The parent session belongs to another school."
            elif self.start_date and self.end_date and (
                self.start_date < parent.start_date or self.end_date > parent.end_date
            ):
                # Put the message on the date that is outside (the start when both are).
                outside = "start_date" if self.start_date < parent.start_date else "end_date"
                errors[outside] = (
                    f"A term must lie inside its year ({parent.start_date:%d %b %Y} – {parent.end_date:%d %b %Y})."
                )
        if self.school_id and self.school.district_id != self.district_id:
            errors["school"] = "The school belongs to another district."
        if errors:
            raise ValidationError(errors)


class GradeLevel(TenantModel):
    school = models.ForeignKey(School, null=True, blank=True, on_delete=models.CASCADE, related_name="grade_levels")
    code = models.CharField(max_length=8, choices=GradeLevelCode.choices, help_text="CEDS / OneRoster grade code.")
    name = models.CharField(max_length=100, help_text='Display name, e.g. "Form 1" or "Grade 6".')
    rank = models.PositiveSmallIntegerField(default=0, help_text="Sort order: lower comes first.")

    tenant_school_field = "school_id"
    tenant_school_nullable = True

    class Meta:
        ordering = ["rank", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "code"], condition=Q(school__isnull=True), name="gradelevel_code_unique_district"
            ),
            models.UniqueConstraint(
                fields=["school", "code"], condition=Q(school__isnull=False), name="gradelevel_code_unique_school"
            ),
            models.CheckConstraint(condition=Q(code__in=_choice_values(GradeLevelCode)), name="gradelevel_code_valid"),
        ]
        indexes = [models.Index(fields=["district", "rank"], name="gradelevel_district_rank")]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        super().clean()
        if self.school_id and self.school.district_id != self.district_id:
            raise ValidationError({"school": "The school belongs to another district."})


class Subject(TenantModel):
    code = models.CharField(max_length=32)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["district", "code"], name="subject_code_unique_in_district")]
        indexes = [models.Index(fields=["district", "name"], name="subject_district_name")]

    def __str__(self) -> str:
        return self.name


class ClassDivision(TenantModel):
    """The actual class group students are enrolled in ("Grade 6A", "Form 2B")."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="class_divisions")
    grade_level = models.ForeignKey(GradeLevel, on_delete=models.PROTECT, related_name="class_divisions")
    academic_session = models.ForeignKey(
        AcademicSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="class_divisions"
    )
    name = models.CharField(max_length=100)
    capacity = models.PositiveIntegerField(null=True, blank=True)

    tenant_school_field = "school_id"

    class Meta:
        ordering = ["grade_level__rank", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "academic_session", "name"],
                condition=Q(academic_session__isnull=False),
                name="classdivision_name_unique_in_session",
            ),
            models.UniqueConstraint(
                fields=["school", "name"], condition=Q(academic_session__isnull=True),
                name="classdivision_name_unique_in_school",
            ),
        ]
        indexes = [
            models.Index(fields=["district", "school", "name"], name="classdiv_district_school_name"),
            models.Index(fields=["grade_level"], name="classdiv_grade_level"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        super().clean()
        errors = {}
        if self.school_id and self.school.district_id != self.district_id:
            errors["school"] = "The school belongs to another district."
        if self.grade_level_id:
            gl = self.grade_level
            if gl.district_id != self.district_id or (gl.school_id and gl.school_id != self.school_id):
                errors["grade_level"] = "This grade level does not belong to the class's school."
        if self.academic_session_id:
            ses = self.academic_session
            if ses.district_id != self.district_id or (ses.school_id and ses.school_id != self.school_id):
                errors["academic_session"] = "This academic session does not belong to the class's school."
        if errors:
            raise ValidationError(errors)


class Person(TenantModel):
    role = models.CharField(max_length=20, choices=PersonRole.choices, default=PersonRole.STUDENT)
    school = models.ForeignKey(
        School, null=True, blank=True, on_delete=models.SET_NULL, related_name="people",
        help_text="The person's primary school (empty for district-level people).",
    )
    given_name = models.CharField(max_length=100)
    middle_name = models.CharField(max_length=100, blank=True, default="")
    family_name = models.CharField(max_length=100)
    sis_id = models.CharField(
        "Student/staff number", max_length=64, blank=True, default="",
        help_text="The school's own number for this person (unique in the district).",
    )
    email = models.EmailField(blank=True, default="")
    phone = models.CharField(max_length=40, blank=True, default="")
    date_of_birth = models.DateField(null=True, blank=True)
    gender = models.CharField(max_length=10, choices=Gender.choices, blank=True, default="")
    grade_level = models.ForeignKey(
        GradeLevel, null=True, blank=True, on_delete=models.SET_NULL, related_name="people",
        help_text="Current grade (students).",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="person"
    )

    tenant_school_field = "school_id"
    tenant_school_nullable = True

    class Meta:
        ordering = ["family_name", "given_name"]
        verbose_name_plural = "people"
        constraints = [
            models.UniqueConstraint(
                fields=["district", "sis_id"], condition=~Q(sis_id=""), name="person_sis_id_unique_in_district"
            ),
            models.CheckConstraint(condition=Q(role__in=_choice_values(PersonRole)), name="person_role_valid"),
        ]
        indexes = [
            models.Index(fields=["district", "family_name", "given_name"], name="person_district_name"),
            models.Index(fields=["district", "school", "role"], name="person_district_school_role"),
            models.Index(fields=["district", "grade_level"], name="person_district_grade"),
            models.Index(fields=["district", "id"], name="person_district_id"),  # Graph API keyset pages
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.given_name, self.middle_name, self.family_name) if p)

    def clean(self):
        super().clean()
        errors = {}
        if self.school_id and self.school.district_id != self.district_id:
            errors["school"] = "The school belongs to another district."
        if self.grade_level_id and self.grade_level.district_id != self.district_id:
            errors["grade_level"] = "The grade level belongs to another district."
        if self.date_of_birth and self.date_of_birth > timezone.localdate():
            errors["date_of_birth"] = "The date of birth is in the future."
        if errors:
            raise ValidationError(errors)


class Enrollment(TenantModel):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="enrollments")
    class_division = models.ForeignKey(ClassDivision, on_delete=models.CASCADE, related_name="enrollments")
    role = models.CharField(max_length=20, choices=EnrollmentRole.choices, default=EnrollmentRole.STUDENT)
    subject = models.ForeignKey(Subject, null=True, blank=True, on_delete=models.SET_NULL, related_name="enrollments")
    academic_session = models.ForeignKey(
        AcademicSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="enrollments"
    )
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    primary = models.BooleanField(default=False, help_text="The class teacher (for teachers).")

    tenant_school_field = "class_division__school_id"

    class Meta:
        ordering = ["class_division__name", "person__family_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "class_division", "role"], condition=Q(subject__isnull=True),
                name="enrollment_unique_no_subject",
            ),
            models.UniqueConstraint(
                fields=["person", "class_division", "role", "subject"], condition=Q(subject__isnull=False),
                name="enrollment_unique_with_subject",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(start_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="enrollment_end_not_before_start",
            ),
            models.CheckConstraint(condition=Q(role__in=_choice_values(EnrollmentRole)), name="enrollment_role_valid"),
        ]
        indexes = [
            models.Index(fields=["district", "class_division", "role"], name="enrollment_district_class_role"),
            models.Index(fields=["district", "person"], name="enrollment_district_person"),
            models.Index(fields=["district", "id"], name="enrollment_district_id"),  # Graph API keyset pages
        ]

    def __str__(self) -> str:
        return f"{self.person} in {self.class_division} ({self.get_role_display()})"

    def clean(self):
        super().clean()
        errors = {}
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = "The end date cannot be before the start date."
        for name in ("person", "class_division", "subject", "academic_session"):
            related = getattr(self, name) if getattr(self, f"{name}_id") else None
            if related is not None and related.district_id != self.district_id:
                errors[name] = "This belongs to another district."
        if errors:
            raise ValidationError(errors)


class Membership(TimestampedModel):
    """A staff user's role in a district, district-wide (no school) or for one school."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="memberships")
    school = models.ForeignKey(School, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=MembershipRole.choices)

    objects = TenantQuerySet.as_manager()
    tenant_school_field = "school_id"
    tenant_school_nullable = True

    class Meta:
        ordering = ["district__name", "school__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "district"], condition=Q(school__isnull=True), name="membership_unique_district"
            ),
            models.UniqueConstraint(
                fields=["user", "school"], condition=Q(school__isnull=False), name="membership_unique_school"
            ),
            models.CheckConstraint(condition=Q(role__in=_choice_values(MembershipRole)), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        where = self.school.name if self.school_id else f"all of {self.district.name}"
        return f"{self.user} — {self.get_role_display()} ({where})"

    def clean(self):
        super().clean()
        if self.school_id and self.school.district_id != self.district_id:
            raise ValidationError({"school": "The school belongs to another district."})
        if self.role == MembershipRole.DISTRICT_ADMIN and self.school_id:
            raise ValidationError({"school": "A district admin covers the whole district: leave the school empty."})


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(TimestampedModel):
    """A staff API token. Only its SHA-256 is stored; the raw token is shown once."""

    PREFIX = "sst_"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What this token is for.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=16, editable=False, help_text="The first characters, to recognise it.")
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_date"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @classmethod
    def generate_raw(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())


class IntegrationToken(TimestampedModel):
    """A district's Edlink-style integration token: read-only access to that district's roster through the
    Graph API (``/api/v2/graph/…``). Only its SHA-256 is stored; the raw token is shown once."""

    PREFIX = "sit_"

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="integration_tokens")
    name = models.CharField(max_length=100, help_text="Which integration (product or vendor) uses this token.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=16, editable=False, help_text="The first characters, to recognise it.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_date"]
        indexes = [models.Index(fields=["district", "-created_date"], name="integrationtoken_district")]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @classmethod
    def generate_raw(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IntegrationTokenUsage(models.Model):
    """Requests of one integration token to one Graph resource in one hour (for "requests in the last day"
    and "which integration reads what"). One upsert per request."""

    token = models.ForeignKey(IntegrationToken, on_delete=models.CASCADE, related_name="usage")
    hour = models.DateTimeField(help_text="The hour (UTC) the requests fall in.")
    resource = models.CharField(max_length=32, help_text='The Graph resource read, e.g. "people".')
    requests = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token", "hour", "resource"], name="integrationusage_unique_bucket"),
        ]

    def __str__(self) -> str:
        return f"{self.token_id} {self.hour:%Y-%m-%d %H}h {self.resource}: {self.requests}"
