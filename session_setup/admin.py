"""Django admin for session set-up (superusers): setups with their history, decisions, executions, history rows.
Status and step change only through the wizards and the API (the services), so they are read-only here."""

from django.contrib import admin

from session_setup.models import (
    ExamSlot,
    PromotionExecution,
    PromotionHistory,
    SessionSetup,
    SessionSetupStatusChange,
    StudentPromotion,
)


class StatusChangeInline(admin.TabularInline):
    model = SessionSetupStatusChange
    extra = 0
    can_delete = False
    fields = ("at", "from_status", "from_step", "to_status", "to_step", "actor", "reason")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SessionSetup)
class SessionSetupAdmin(admin.ModelAdmin):
    list_display = ("__str__", "session_type", "status", "current_step", "school", "district", "updated_at")
    list_filter = ("session_type", "status", "district")
    search_fields = ("academic_session__name", "exam_session__name", "school__name")
    list_select_related = ("academic_session", "exam_session", "school", "district")
    readonly_fields = ("status", "current_step", "created_by", "created_at", "updated_at")
    raw_id_fields = ("academic_session", "exam_session", "school", "source_session", "district")
    inlines = [StatusChangeInline]


@admin.register(StudentPromotion)
class StudentPromotionAdmin(admin.ModelAdmin):
    list_display = ("student", "source_class", "action", "destination_class", "decided_by", "decided_at")
    list_filter = ("action",)
    list_select_related = ("student", "source_class", "destination_class", "decided_by")
    raw_id_fields = ("setup", "student", "source_enrollment", "source_class", "destination_class", "district")


@admin.register(PromotionExecution)
class PromotionExecutionAdmin(admin.ModelAdmin):
    list_display = ("setup", "status", "processed", "total", "created_at", "finished_at")
    list_filter = ("status",)
    readonly_fields = ("status", "processed", "total", "classes_done", "classes_total", "task_id", "error",
                       "started_at", "finished_at", "undone_at")
    raw_id_fields = ("setup", "district")


@admin.register(PromotionHistory)
class PromotionHistoryAdmin(admin.ModelAdmin):
    list_display = ("student", "action", "source_class", "destination_class", "decided_by", "executed_at", "undone_at")
    list_filter = ("action",)
    search_fields = ("student__family_name", "student__given_name", "student__sis_id")
    list_select_related = ("student", "source_class", "destination_class", "decided_by")
    raw_id_fields = ("execution", "setup", "student", "source_class", "destination_class", "ended_enrollment",
                     "created_enrollment", "previous_grade_level", "district")

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ExamSlot)
class ExamSlotAdmin(admin.ModelAdmin):
    list_display = ("activity", "grade_level", "starts_at", "ends_at")
    list_select_related = ("activity", "grade_level")
    raw_id_fields = ("setup", "activity", "grade_level", "district")
