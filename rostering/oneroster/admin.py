from django.contrib import admin

from rostering.oneroster.models import ApiClient, ExportRun, ImportRejection, ImportRun, SourcedRecord


@admin.register(SourcedRecord)
class SourcedRecordAdmin(admin.ModelAdmin):
    list_display = ("sourced_id", "type", "district", "status", "object_id", "date_last_modified")
    list_filter = ("type", "status", "district")
    search_fields = ("sourced_id", "object_id")
    list_select_related = ("district",)
    readonly_fields = ("created_at", "updated_at")
    show_full_result_count = False


class ImportRejectionInline(admin.TabularInline):
    model = ImportRejection
    extra = 0
    can_delete = False
    fields = ("file", "line", "column", "sourced_id", "code", "reason")
    readonly_fields = fields
    max_num = 0


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ("source_name", "district", "school", "status", "applied", "rejected_count", "created_at")
    list_filter = ("status", "applied", "dry_run", "district")
    list_select_related = ("district", "school")
    readonly_fields = ("counts", "created_at", "started_at", "finished_at", "progress_done", "progress_total", "phase")
    inlines = [ImportRejectionInline]


@admin.register(ExportRun)
class ExportRunAdmin(admin.ModelAdmin):
    list_display = ("district", "school", "status", "created_at", "finished_at")
    list_filter = ("status", "district")
    list_select_related = ("district", "school")
    readonly_fields = ("counts", "file_path", "created_at", "finished_at")


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ("name", "district", "demographics", "created_at", "revoked_at")
    list_filter = ("district", "demographics")
    list_select_related = ("district", "application")
    raw_id_fields = ("application",)
