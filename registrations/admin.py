"""Django admin for registration sessions, access codes and submissions.

Statuses never change here (they change only through the transition services, which keep the history):
the status fields and every history row are read-only.
"""

from django.contrib import admin

from registrations.models import (
    AccessCode,
    AccessCodeStatusChange,
    CodeAttempt,
    CodeGeneration,
    CodeGenerationStatusChange,
    RegistrationSession,
    SessionStatusChange,
    Submission,
    SubmissionStatusChange,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SessionStatusChangeInline(ReadOnlyInline):
    model = SessionStatusChange
    fields = ("created_at", "from_status", "to_status", "actor", "reason")
    readonly_fields = fields
    ordering = ("-created_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class SubmissionStatusChangeInline(ReadOnlyInline):
    model = SubmissionStatusChange
    fields = ("created_at", "from_status", "to_status", "actor", "reason")
    readonly_fields = fields
    ordering = ("-created_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class AccessCodeStatusChangeInline(SubmissionStatusChangeInline):
    model = AccessCodeStatusChange


class CodeGenerationStatusChangeInline(SubmissionStatusChangeInline):
    model = CodeGenerationStatusChange


@admin.register(RegistrationSession)
class RegistrationSessionAdmin(admin.ModelAdmin):
    list_display = ("title", "school", "mode", "status", "roster_policy", "expected_count", "created_at")
    list_filter = ("status", "mode", "roster_policy", "school__district", "school")
    search_fields = ("title", "school__name", "school__code")
    list_select_related = ("school",)
    raw_id_fields = ("district", "school", "class_division", "grade_level", "academic_year", "term", "created_by")
    readonly_fields = ("id", "status", "created_at", "updated_at")
    date_hierarchy = "created_at"
    inlines = [SessionStatusChangeInline]
    fieldsets = (
        (None, {"fields": ("id", "district", "school", "mode", "title", "description", "status")}),
        ("Scope", {"fields": ("class_division", "grade_level", "academic_year", "term")}),
        ("Schedule", {"fields": ("starts_at", "ends_at", "expected_count")}),
        ("Policies", {"fields": ("roster_policy", "required_fields", "approval_policy")}),
        ("Record", {"fields": ("created_by", "created_at", "updated_at")}),
    )


@admin.register(AccessCode)
class AccessCodeAdmin(admin.ModelAdmin):
    list_display = ("code", "session", "school", "status", "assigned_person", "expires_at", "revoked_at", "created_at")
    list_filter = ("status", ("revoked_at", admin.EmptyFieldListFilter), "session__mode", "school")
    search_fields = ("code", "display_name_hint", "number_hint", "session__title")
    list_select_related = ("session", "school", "assigned_person")
    raw_id_fields = ("district", "session", "school", "assigned_person", "revoked_by", "created_by")
    readonly_fields = ("id", "code", "status", "print_batch", "roster_snapshot", "created_at", "first_used_at",
                       "revoked_at", "revoked_by")
    date_hierarchy = "created_at"
    inlines = [AccessCodeStatusChangeInline]


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "session", "person_type", "status", "version", "submitted_at", "reviewed_at")
    list_filter = ("status", "person_type", "session__mode", "session__school")
    search_fields = ("access_code__code", "session__title", "payload__given_name", "payload__family_name")
    list_select_related = ("session", "access_code")
    raw_id_fields = ("district", "session", "access_code", "grade_level", "class_division", "reviewed_by",
                     "imported_person")
    readonly_fields = ("id", "status", "version", "submitted_at", "reviewed_by", "reviewed_at", "imported_person",
                       "imported_at", "created_at", "updated_at")
    date_hierarchy = "created_at"
    inlines = [SubmissionStatusChangeInline]


@admin.register(CodeAttempt)
class CodeAttemptAdmin(admin.ModelAdmin):
    """Failed and throttled /register attempts: read-only, for watching for code guessing."""

    list_display = ("created_at", "outcome", "ip_address", "code_hint", "school_code", "session")
    list_filter = ("outcome", "district")
    search_fields = ("ip_address", "code_hint", "school_code")
    list_select_related = ("session",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CodeGeneration)
class CodeGenerationAdmin(admin.ModelAdmin):
    """Background code generations: read-only (they change only through the generation task)."""

    list_display = ("created_at", "session", "status", "done", "total", "created_by")
    list_filter = ("status",)
    list_select_related = ("session", "created_by")
    inlines = [CodeGenerationStatusChangeInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
