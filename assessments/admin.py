"""Django admin for the assessments app (superusers). Consumers are created and rotated through the services:
the secret is shown once, in a message, and never stored in clear."""

from django.contrib import admin, messages

from assessments.models import (
    Activity,
    ActivityItem,
    AssessmentSession,
    Consumer,
    ExamSession,
    Item,
    Job,
    JobStatusChange,
    Question,
    Response,
    SessionItem,
)
from assessments.services import consumer_create, consumer_rotate, consumer_set_active


@admin.register(ExamSession)
class ExamSessionAdmin(admin.ModelAdmin):
    list_display = ("name", "school", "academic_session", "starts_on", "ends_on", "is_published")
    list_filter = ("is_published", "district")
    search_fields = ("name",)
    list_select_related = ("school", "academic_session")
    raw_id_fields = ("school", "academic_session", "term")


class ActivityItemInline(admin.TabularInline):
    model = ActivityItem
    extra = 0
    raw_id_fields = ("item",)
    fields = ("position", "item", "district")


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("reference", "title", "course_id", "exam_session", "max_time")
    search_fields = ("reference", "title")
    list_filter = ("district",)
    raw_id_fields = ("exam_session", "grade_level", "subject")
    inlines = [ActivityItemInline]


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 0
    fields = ("position", "reference", "type", "stimulus", "options", "validation", "data", "metadata", "district")


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ("reference", "title", "scoring_type")
    search_fields = ("reference", "title")
    list_filter = ("district", "scoring_type")
    inlines = [QuestionInline]


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SessionItemInline(ReadOnlyInline):
    model = SessionItem
    fields = ("position", "reference", "time", "user_flagged", "response_ids", "scoring")
    readonly_fields = fields


class ResponseInline(ReadOnlyInline):
    model = Response
    fields = ("position", "response_id", "question_type", "item_reference", "value", "score", "max_score", "attempted")
    readonly_fields = fields


@admin.register(AssessmentSession)
class AssessmentSessionAdmin(admin.ModelAdmin):
    list_display = ("session_id", "user_id", "activity_id", "status", "score", "max_score", "updated_at")
    list_filter = ("status", "district")
    search_fields = ("session_id", "user_id", "activity_id")
    raw_id_fields = ("linked_activity", "person", "school")
    readonly_fields = ("updated_at", "created_at")
    inlines = [SessionItemInline, ResponseInline]
    show_full_result_count = False


class JobStatusChangeInline(admin.TabularInline):
    model = JobStatusChange
    fields = ("from_status", "to_status", "reason", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Jobs are written by the Data API's writes and moved by the worker only: read here."""

    list_display = ("reference", "type", "status", "district", "dt_created", "dt_completed")
    list_filter = ("status", "type")
    search_fields = ("reference",)
    readonly_fields = ("reference", "district", "consumer", "type", "status", "attempts", "dt_created", "dt_started",
                       "dt_completed", "result", "errors", "request")
    fields = readonly_fields
    inlines = [JobStatusChangeInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Consumer)
class ConsumerAdmin(admin.ModelAdmin):
    list_display = ("consumer_key", "name", "district", "is_active", "created_at", "rotated_at", "last_used_at")
    list_filter = ("is_active", "district")
    search_fields = ("consumer_key", "name")
    readonly_fields = ("consumer_key", "created_at", "rotated_at", "deactivated_at", "last_used_at", "created_by",
                       "previous_secret_expires_at")
    fields = ("district", "name", "allowed_domains", "is_active", *readonly_fields)
    actions = ["rotate_secret", "deactivate", "activate"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if obj is not None:
            fields += ["district", "is_active"]
        return fields

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name", "allowed_domains"])
            return
        issued = consumer_create(
            district=obj.district, name=obj.name, allowed_domains=obj.allowed_domains, actor=request.user,
        )
        obj.pk = issued.consumer.pk
        obj.consumer_key = issued.consumer.consumer_key
        obj._state.adding = False
        self.message_user(
            request,
            f"Consumer {issued.consumer.consumer_key} created. Its secret, shown only now: {issued.secret}",
            messages.WARNING,
        )

    @admin.action(description="Rotate the secret (the old one stays valid for 7 days)")
    def rotate_secret(self, request, queryset):
        for consumer in queryset:
            issued = consumer_rotate(consumer=consumer, actor=request.user)
            self.message_user(request, f"{consumer.consumer_key}: new secret, shown only now: {issued.secret}", messages.WARNING)

    @admin.action(description="Deactivate")
    def deactivate(self, request, queryset):
        for consumer in queryset:
            consumer_set_active(consumer=consumer, active=False, actor=request.user)

    @admin.action(description="Activate")
    def activate(self, request, queryset):
        for consumer in queryset:
            consumer_set_active(consumer=consumer, active=True, actor=request.user)
