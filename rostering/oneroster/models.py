"""OneRoster bookkeeping: which sourcedId names which of our objects, import and export runs, API clients.

A ``SourcedRecord`` keeps the identifier a student information system gave an object (``sourcedId``),
separate from our ids, one row per district × OneRoster type × sourcedId. ``object_id`` points at our
object (``District``/``School`` for orgs, ``AcademicSession``, ``ClassDivision``, ``Person`` for users and
demographics, ``Enrollment``); it is empty for what our roster does not model (courses, departments).
``data`` holds the row as last exchanged, in OneRoster names, so that what we do not model survives a
round trip and a second import of the same row is recognised as unchanged.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from rostering.common.jsonio import JSONBoundsValidator

RECORD_DATA_MAX_BYTES = 64 * 1024
REPORT_MAX_BYTES = 256 * 1024


class ObjectType(models.TextChoices):
    ORG = "org", "Org"
    ACADEMIC_SESSION = "academicSession", "Academic session"
    COURSE = "course", "Course"
    CLASS = "class", "Class"
    USER = "user", "User"
    ROLE = "role", "Role"
    ENROLLMENT = "enrollment", "Enrollment"
    DEMOGRAPHICS = "demographics", "Demographics"


class RecordStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    TOBEDELETED = "tobedeleted", "To be deleted"


class SourcedRecord(models.Model):
    district = models.ForeignKey("rostering.District", on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=20, choices=ObjectType.choices)
    sourced_id = models.CharField("sourcedId", max_length=255)
    object_id = models.UUIDField(null=True, blank=True, help_text="Our object (empty when we do not model it).")
    status = models.CharField(max_length=12, choices=RecordStatus.choices, default=RecordStatus.ACTIVE)
    date_last_modified = models.DateTimeField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True, validators=[JSONBoundsValidator(RECORD_DATA_MAX_BYTES)])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["type", "sourced_id"]
        constraints = [
            models.UniqueConstraint(fields=["district", "type", "sourced_id"], name="oneroster_record_unique"),
            models.CheckConstraint(condition=Q(type__in=ObjectType.values), name="oneroster_record_type_valid"),
            models.CheckConstraint(condition=Q(status__in=RecordStatus.values), name="oneroster_record_status_valid"),
        ]
        indexes = [models.Index(fields=["district", "type", "object_id"], name="oneroster_record_object")]

    def __str__(self) -> str:
        return f"{self.type} {self.sourced_id}"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    REJECTED = "rejected", "Rows rejected"
    FAILED = "failed", "Failed"


FINISHED = {RunStatus.SUCCEEDED, RunStatus.REJECTED, RunStatus.FAILED}


class ImportRun(models.Model):
    """One upload of a OneRoster package and its report."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    district = models.ForeignKey("rostering.District", on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(
        "rostering.School", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Set when the registrar of one school imports: rows outside it are rejected.",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source_name = models.CharField(max_length=255, help_text="The uploaded file (or folder) name.")
    package_path = models.CharField(max_length=500, blank=True, default="", help_text="Where the upload is kept.")
    version = models.CharField(max_length=8, blank=True, default="", help_text="oneroster.version of the manifest.")
    all_or_nothing = models.BooleanField(default=False, help_text="Apply nothing when any row is rejected.")
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.QUEUED)
    phase = models.CharField(max_length=40, blank=True, default="")
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True, validators=[JSONBoundsValidator(REPORT_MAX_BYTES)])
    rejected_count = models.PositiveIntegerField(default=0)
    applied = models.BooleanField(default=False, help_text="Whether the valid rows were written.")
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(status__in=RunStatus.values), name="oneroster_import_status_valid")]
        indexes = [models.Index(fields=["district", "-created_at"], name="oneroster_import_district")]

    def __str__(self) -> str:
        return f"Import of {self.source_name} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def percent(self) -> int:
        if self.is_finished:
            return 100
        if not self.progress_total:
            return 0
        return min(99, int(self.progress_done * 100 / self.progress_total))


class ImportRejection(models.Model):
    """A row (or a whole file) the import refused: where it is and why."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="rejections")
    file = models.CharField(max_length=64)
    line = models.PositiveIntegerField(help_text="Line in the file (the header is line 1; 0: the whole package).")
    column = models.CharField(max_length=64, blank=True, default="")
    sourced_id = models.CharField(max_length=255, blank=True, default="")
    code = models.CharField(max_length=64)
    reason = models.CharField(max_length=500)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.file}:{self.line} {self.reason}"


class ExportRun(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    district = models.ForeignKey("rostering.District", on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey("rostering.School", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.QUEUED)
    file_path = models.CharField(max_length=500, blank=True, default="")
    counts = models.JSONField(default=dict, blank=True, validators=[JSONBoundsValidator(REPORT_MAX_BYTES)])
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(status__in=RunStatus.values), name="oneroster_export_status_valid")]
        indexes = [models.Index(fields=["district", "-created_at"], name="oneroster_export_district")]

    def __str__(self) -> str:
        return f"Export of {self.district} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED


class ApiClient(models.Model):
    """A program that reads one district's roster through the OneRoster REST service.

    Its OAuth 2 credentials are a django-oauth-toolkit ``Application`` (client credentials grant, the
    secret stored hashed and shown once).
    """

    district = models.ForeignKey("rostering.District", on_delete=models.CASCADE, related_name="+")
    application = models.OneToOneField(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL, on_delete=models.CASCADE, related_name="oneroster_client"
    )
    name = models.CharField(max_length=100)
    demographics = models.BooleanField(default=False, help_text="May read demographics (birth dates, sex, race).")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
