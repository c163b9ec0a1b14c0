"""Django admin for roster data, staff memberships and API tokens.

Admin is a superuser tool here: the roster admin pages don't scope by district, so every page
(and every write) requires a superuser, whatever model permissions a staff user holds. Roster
writes go through the same services as the rest of the app (``roster_object_create`` / ``_update``
/ ``_delete``), so they get the same validation. Changelists select their related rows up front,
so a page costs the same number of queries whatever its size.
"""

from __future__ import annotations

import uuid

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from rostering.choices import EnrollmentRole, PersonRole, SessionType
from rostering.models import (
    AcademicSession,
    ApiToken,
    ClassDivision,
    District,
    Enrollment,
    GradeLevel,
    Membership,
    Person,
    School,
    Subject,
    TenantModel,
)
from rostering.services import (
    api_token_revoke,
    roster_object_create,
    roster_object_delete,
    roster_object_update,
)

admin.site.site_header = "School Sessions administration"
admin.site.site_title = "School Sessions admin"
admin.site.index_title = "Superuser administration"

_BOOKKEEPING = {"district", "created_date", "updated_date"}


def _count_of(model, fk: str, **filters) -> Subquery:
    """A correlated ``COUNT(*)`` of ``model`` rows pointing at the outer row (one query per page)."""
    counted = (
        model.objects.filter(**{fk: OuterRef("pk")}, **filters)
        .order_by()
        .values(fk)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _fieldsets(*main: str) -> tuple:
    """The editable fields first; interoperability data and the record's bookkeeping folded away."""
    return (
        (None, {"fields": main}),
        ("Interoperability", {"classes": ("collapse",), "fields": ("identifiers", "properties")}),
        ("Record", {"classes": ("collapse",), "fields": ("id", "created_date", "updated_date")}),
    )


def _changelist_link(model, label, **params) -> str:
    url = reverse(f"admin:rostering_{model._meta.model_name}_changelist")
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return format_html('<a href="{}?{}">{}</a>', url, query, label)


def save_roster_object(actor, obj: TenantModel, changed: list[str]) -> TenantModel:
    """Write an admin-edited roster object through the services (create or update)."""
    if obj._state.adding:
        # The pk may be empty: inline formsets clear a new parent's generated key (it is regenerated on save).
        data = {
            f.name: getattr(obj, f.name)
            for f in obj._meta.concrete_fields
            if f.name not in _BOOKKEEPING and not (f.primary_key and obj.pk is None)
        }
        saved = roster_object_create(actor=actor, model=type(obj), district=obj.district, data=data)
        # Admin keeps working with its own instance (logging, redirects, inlines): make it the saved row.
        obj.pk = saved.pk
        obj._state.adding = False
        obj._state.db = saved._state.db
        return saved
    fields = {obj._meta.get_field(name).name for name in changed if _is_model_field(obj, name)}
    return roster_object_update(actor=actor, obj=obj, data={name: getattr(obj, name) for name in fields})


def _is_model_field(obj, name: str) -> bool:
    try:
        field = obj._meta.get_field(name)
    except Exception:  # a form-only field
        return False
    return field.concrete and name not in _BOOKKEEPING


class SuperuserOnlyMixin:
    """Every page and action of this admin needs an active superuser."""

    def _superuser(self, request) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_module_permission(self, request):
        return self._superuser(request)

    def has_view_permission(self, request, obj=None):
        return self._superuser(request)

    def has_add_permission(self, request, *args):
        return self._superuser(request)

    def has_change_permission(self, request, obj=None):
        return self._superuser(request)

    def has_delete_permission(self, request, obj=None):
        return self._superuser(request)


class RosterAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    """Base for tenant models: writes go through the roster services."""

    list_per_page = 50
    show_full_result_count = False
    readonly_fields = ("id", "created_date", "updated_date")

    def save_model(self, request, obj, form, change):
        save_roster_object(request.user, obj, form.changed_data)

    def delete_model(self, request, obj):
        roster_object_delete(actor=request.user, obj=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            roster_object_delete(actor=request.user, obj=obj)

    def save_formset(self, request, form, formset, change):
        if not issubclass(formset.model, TenantModel):
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        for obj in formset.deleted_objects:
            roster_object_delete(actor=request.user, obj=obj)
        for obj in formset.new_objects:
            save_roster_object(request.user, obj, [])
        for obj, changed in formset.changed_objects:
            save_roster_object(request.user, obj, changed)
        return None


class TenantInlineFormSet(BaseInlineFormSet):
    """Child rows inherit the parent's district (and school) and are validated against their parent."""

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        child = form.instance
        child.district_id = self.instance.district_id
        if (
            hasattr(child, "school_id")
            and child.school_id is None
            and getattr(self.instance, "school_id", None)
        ):
            child.school_id = self.instance.school_id
        return form

    def clean(self):
        """On an add page the parent has no key yet, so the rows' ``clean()`` skipped their parent checks
        (a term inside its year, ...): run them now against the parent being added."""
        super().clean()
        parent = self.instance
        if parent.pk is not None:
            return
        try:  # an invalid parent shows its own errors; its rows can't be checked against it
            parent.full_clean(exclude=["id"], validate_unique=False, validate_constraints=False)
        except ValidationError:
            return
        parent.pk = uuid.uuid4()  # only while validating; the real key is given when the parent is saved
        try:
            for form in self.forms:
                if not form.has_changed() or self._should_delete_form(form) or form.errors:
                    continue
                setattr(form.instance, self.fk.name, parent)
                try:
                    form.instance.clean()
                except ValidationError as exc:
                    for field, messages in exc.message_dict.items():
                        form.add_error(field if field in form.fields else None, messages)
        finally:
            parent.pk = None
            for form in self.forms:
                setattr(form.instance, self.fk.attname, None)


# --- District and school --------------------------------------------------------------------------


@admin.register(District)
class DistrictAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    """A district is the tenant itself, not a roster row: plain (superuser-only) saves."""

    list_display = ("name", "school_count", "member_count", "time_zone", "locale", "created_date")
    search_fields = ("name",)
    readonly_fields = ("id", "created_date", "updated_date")
    fieldsets = _fieldsets("name", "time_zone", "locale")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                num_schools=_count_of(School, "district"), num_members=_count_of(Membership, "district")
            )
        )

    @admin.display(description="schools", ordering="num_schools")
    def school_count(self, obj):
        return _changelist_link(School, obj.num_schools, district__id__exact=obj.pk)

    @admin.display(description="staff memberships", ordering="num_members")
    def member_count(self, obj):
        return _changelist_link(Membership, obj.num_members, district__id__exact=obj.pk)


@admin.register(School)
class SchoolAdmin(RosterAdmin):
    list_display = ("name", "code", "district", "grades", "class_count", "student_count", "phone")
    list_filter = ("district",)
    list_select_related = ("district",)
    search_fields = ("name", "code")
    autocomplete_fields = ("district",)
    fieldsets = _fieldsets("district", "name", "code", "address", "phone", "grade_codes")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                num_classes=_count_of(ClassDivision, "school"),
                num_students=_count_of(Person, "school", role=PersonRole.STUDENT),
            )
        )

    @admin.display(description="grades")
    def grades(self, obj):
        return ", ".join(obj.grade_codes or []) or "—"

    @admin.display(description="classes", ordering="num_classes")
    def class_count(self, obj):
        return _changelist_link(ClassDivision, obj.num_classes, school__id__exact=obj.pk)

    @admin.display(description="students", ordering="num_students")
    def student_count(self, obj):
        return _changelist_link(
            Person, obj.num_students, school__id__exact=obj.pk, role__exact=PersonRole.STUDENT
        )


# --- Academic sessions, grades, subjects, classes ----------------------------------------------------


TERM_TYPES = (SessionType.TERM, SessionType.GRADING_PERIOD, SessionType.SEMESTER)


class TermInlineFormSet(TenantInlineFormSet):
    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        if index is None or index >= self.initial_form_count():
            kwargs["initial"] = {"type": SessionType.TERM, **kwargs.get("initial", {})}
        return kwargs


class TermInline(SuperuserOnlyMixin, admin.TabularInline):
    """The terms (or grading periods) inside a school year or semester."""

    model = AcademicSession
    fk_name = "parent"
    formset = TermInlineFormSet
    fields = ("name", "type", "state", "start_date", "end_date")
    extra = 0
    show_change_link = True
    verbose_name = "term"
    verbose_name_plural = "terms inside this session"

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("start_date")

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "type":
            kwargs["choices"] = [(t.value, t.label) for t in TERM_TYPES]
        return super().formfield_for_choice_field(db_field, request, **kwargs)


@admin.register(AcademicSession)
class AcademicSessionAdmin(RosterAdmin):
    list_display = ("name", "type", "state", "start_date", "end_date", "parent", "school", "district")
    list_filter = ("type", "state", "district")
    list_select_related = ("district", "school", "parent")
    search_fields = ("name", "parent__name")
    autocomplete_fields = ("district", "school", "parent")
    date_hierarchy = "start_date"
    ordering = ("-start_date", "name")
    fieldsets = _fieldsets("district", "school", "name", "type", "state", "start_date", "end_date", "parent")

    def get_inlines(self, request, obj):
        if obj is None or obj.type in (SessionType.SCHOOL_YEAR, SessionType.SEMESTER):
            return [TermInline]
        return []


@admin.register(GradeLevel)
class GradeLevelAdmin(RosterAdmin):
    list_display = ("name", "code", "rank", "school", "district", "class_count")
    list_filter = ("district", "code")
    list_select_related = ("district", "school")
    search_fields = ("name", "code")
    autocomplete_fields = ("district", "school")
    ordering = ("district__name", "rank", "name")
    fieldsets = _fieldsets("district", "school", "code", "name", "rank")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(num_classes=_count_of(ClassDivision, "grade_level"))

    @admin.display(description="classes", ordering="num_classes")
    def class_count(self, obj):
        return _changelist_link(ClassDivision, obj.num_classes, grade_level__id__exact=obj.pk)


@admin.register(Subject)
class SubjectAdmin(RosterAdmin):
    list_display = ("name", "code", "district", "enrollment_count")
    list_filter = ("district",)
    list_select_related = ("district",)
    search_fields = ("name", "code")
    autocomplete_fields = ("district",)
    fieldsets = _fieldsets("district", "code", "name")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(num_enrollments=_count_of(Enrollment, "subject"))

    @admin.display(description="teaching enrollments", ordering="num_enrollments")
    def enrollment_count(self, obj):
        return _changelist_link(Enrollment, obj.num_enrollments, subject__id__exact=obj.pk)


@admin.register(ClassDivision)
class ClassDivisionAdmin(RosterAdmin):
    list_display = (
        "name",
        "school",
        "grade_level",
        "academic_session",
        "student_count",
        "capacity",
        "district",
    )
    list_filter = ("district", "school", "grade_level__name", "academic_session__name")
    list_select_related = ("district", "school", "grade_level", "academic_session")
    search_fields = ("name", "school__name", "school__code")
    autocomplete_fields = ("district", "school", "grade_level", "academic_session")
    ordering = ("school__name", "grade_level__rank", "name")
    fieldsets = _fieldsets("district", "school", "grade_level", "academic_session", "name", "capacity")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(num_students=_count_of(Enrollment, "class_division", role=EnrollmentRole.STUDENT))
        )

    @admin.display(description="students", ordering="num_students")
    def student_count(self, obj):
        return _changelist_link(Enrollment, obj.num_students, class_division__id__exact=obj.pk)


# --- People and enrollments ------------------------------------------------------------------------


@admin.register(Person)
class PersonAdmin(RosterAdmin):
    list_display = (
        "family_name",
        "given_name",
        "role",
        "sis_id",
        "school",
        "grade_level",
        "gender",
        "email",
        "user",
        "district",
    )
    list_display_links = ("family_name", "given_name")
    list_filter = ("role", "gender", "district", "school", "grade_level__name")
    list_select_related = ("district", "school", "grade_level", "user")
    search_fields = ("family_name", "given_name", "middle_name", "sis_id", "email", "phone")
    autocomplete_fields = ("district", "school", "grade_level", "user")
    fieldsets = (
        (
            None,
            {"fields": ("district", "school", "role", "given_name", "middle_name", "family_name", "sis_id")},
        ),
        ("Details", {"fields": ("date_of_birth", "gender", "grade_level", "email", "phone", "user")}),
        *_fieldsets()[1:],
    )


@admin.register(Enrollment)
class EnrollmentAdmin(RosterAdmin):
    list_display = (
        "person",
        "person_sis_id",
        "class_division",
        "school",
        "role",
        "subject",
        "primary",
        "academic_session",
        "start_date",
        "end_date",
    )
    list_filter = ("role", "primary", "district", "class_division__school", "subject")
    list_select_related = (
        "person",
        "class_division",
        "class_division__school",
        "subject",
        "academic_session",
    )
    search_fields = ("person__family_name", "person__given_name", "person__sis_id", "class_division__name")
    autocomplete_fields = ("district", "person", "class_division", "subject", "academic_session")
    date_hierarchy = "start_date"
    ordering = (
        "class_division__school__name",
        "class_division__name",
        "role",
        "person__family_name",
        "person__given_name",
    )
    fieldsets = _fieldsets(
        "district",
        "person",
        "class_division",
        "role",
        "subject",
        "primary",
        "academic_session",
        "start_date",
        "end_date",
    )

    @admin.display(description="number", ordering="person__sis_id")
    def person_sis_id(self, obj):
        return obj.person.sis_id or "—"

    @admin.display(description="school", ordering="class_division__school__name")
    def school(self, obj):
        return obj.class_division.school


# --- Staff memberships and the User admin ------------------------------------------------------------


@admin.register(Membership)
class MembershipAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    list_display = ("user", "user_full_name", "role", "district", "school", "created_date")
    list_filter = ("role", "district", "school")
    list_select_related = ("user", "district", "school")
    search_fields = ("user__username", "user__email", "user__first_name", "user__last_name")
    autocomplete_fields = ("user", "district", "school")
    date_hierarchy = "created_date"
    readonly_fields = ("id", "created_date", "updated_date")
    fields = ("user", "district", "school", "role", *readonly_fields)

    @admin.display(description="name", ordering="user__last_name")
    def user_full_name(self, obj):
        return obj.user.get_full_name() or "—"


class MembershipInline(SuperuserOnlyMixin, admin.TabularInline):
    model = Membership
    fk_name = "user"
    fields = ("district", "school", "role")
    autocomplete_fields = ("district", "school")
    extra = 0
    verbose_name = "staff membership"
    verbose_name_plural = "staff memberships (district-wide when the school is empty)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("district", "school")


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin, plus the user's staff memberships inline."""

    inlines = [*DjangoUserAdmin.inlines, MembershipInline]


# --- API tokens ----------------------------------------------------------------------------------------


class TokenStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return (("active", "Active"), ("expired", "Expired"), ("revoked", "Revoked"))

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True).filter(
                Q(expires_at__isnull=True) | Q(expires_at__gt=now)
            )
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    """Tokens are created by their owner (Account → API tokens, or ``manage.py create_api_token``).

    Only the SHA-256 of a token is stored, so admin can show its hint but never the token itself.
    Admin can revoke tokens (and delete them); it cannot create or edit them.
    """

    list_display = (
        "name",
        "user",
        "hint_display",
        "status",
        "created_date",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = (TokenStatusFilter,)
    list_select_related = ("user",)
    search_fields = ("name", "hint", "user__username", "user__email")
    date_hierarchy = "created_date"
    actions = ("revoke_selected",)
    fields = (
        "name",
        "user",
        "hint_display",
        "key_hash",
        "status",
        "created_date",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request):
        return self._superuser(request)

    @admin.display(description="hint", ordering="hint")
    def hint_display(self, obj):
        return f"{obj.hint}…"

    @admin.display(description="status")
    def status(self, obj):
        if obj.revoked_at:
            return "Revoked"
        if not obj.is_active:
            return "Expired"
        return "Active"

    @admin.action(description="Revoke selected tokens", permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True):
            api_token_revoke(token=token, actor=request.user)
            revoked += 1
        if revoked:
            self.message_user(
                request, f"Revoked {revoked} token{'s' if revoked != 1 else ''}.", messages.SUCCESS
            )
        else:
            self.message_user(request, "The selected tokens were already revoked.", messages.INFO)
