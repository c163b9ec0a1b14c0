"""Building blocks of the roster pages: list (with an htmx partial), detail, create, edit and delete.

Reads start from ``for_user`` (another district's object is a 404); writes go through
``rostering.services`` (a too-low role is a 403, bad input comes back into the form).
"""

from __future__ import annotations

import copy

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.vary import vary_on_headers
from django.views.generic import DetailView, ListView, TemplateView

from rostering.common.errors import ApplicationError, Conflict
from rostering.common.http import HtmxHttpRequest, safe_next, wants_partial
from rostering.context_processors import SESSION_SCHOOL_KEY
from rostering.forms import apply_validation_error
from rostering.models import District, School, Subject
from rostering.permissions import Perm, has_any_perm, has_perm, tenant_wide_districts, visible_district_ids
from rostering.services import (
    roster_object_create,
    roster_object_delete,
    roster_object_update,
    tenant_school_id,
)

PER_PAGE_CHOICES = (10, 25, 50, 100)
DISTRICT_LEVEL_MODELS = (School, Subject)


def can_create(user, model) -> bool:
    """Show "New …" to users who may create this kind of object somewhere."""
    if user.is_superuser:
        return True
    if model in DISTRICT_LEVEL_MODELS:
        return bool(tenant_wide_districts(user, Perm.ROSTER_CHANGE))
    return has_any_perm(user, Perm.ROSTER_CHANGE)


def can_change(user, obj) -> bool:
    return has_perm(user, Perm.ROSTER_CHANGE, district_id=obj.district_id, school_id=tenant_school_id(obj))


class RosterMixin(LoginRequiredMixin):
    """Common to every roster page: login, the model, the active tab."""

    model = None
    section = ""  # the tab: schools, sessions, grades, classes, subjects, people, enrollments
    request: HtmxHttpRequest

    @property
    def model_name(self) -> str:
        return self.model._meta.model_name

    def url(self, action: str, *args) -> str:
        return reverse(f"rostering:{self.model_name}_{action}", args=args)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            section=self.section,
            verbose_name=self.model._meta.verbose_name,
            verbose_name_plural=self.model._meta.verbose_name_plural,
            can_create=can_create(self.request.user, self.model),
            list_url=self.url("list"),
            create_url=self.url("create"),
            multi_district=self.multi_district(),
        )
        return context

    def multi_district(self) -> bool:
        """Does the user see more than one district? (Then lists name the district.)"""
        user = self.request.user
        if user.is_superuser:
            return District.objects.count() > 1
        return len(visible_district_ids(user)) > 1


@method_decorator(vary_on_headers("HX-Request"), name="dispatch")
class RosterListView(RosterMixin, ListView):
    """A filterable, paginated list; htmx requests get only the ``results`` partial."""

    selector = None
    filter_form_class = None
    paginate_by = 25
    partial = "results"

    def filter_params(self):
        """The query string, plus the school switcher's focus when the list filters by school and the
        request names none (``?school_id=`` with an empty value still means every school)."""
        if not hasattr(self, "_filter_params"):
            params = self.request.GET.copy()
            focus = self.request.session.get(SESSION_SCHOOL_KEY)
            form_fields = getattr(self.filter_form_class, "base_fields", {})
            if focus and "school_id" in form_fields and "school_id" not in params:
                params["school_id"] = focus
            self._filter_params = params
        return self._filter_params

    def get_queryset(self):
        return type(self).selector(user=self.request.user, filters=self.filter_params())

    def get_paginate_by(self, queryset):
        try:
            size = int(self.request.GET.get("per_page", ""))
        except ValueError:
            return self.paginate_by
        return size if size in PER_PAGE_CHOICES else self.paginate_by

    def paginate_queryset(self, queryset, page_size):
        # get_page() never 404s: a bad or too-large page number shows the nearest page.
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get("page"))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_template_names(self):
        name = f"rostering/{self.model_name}_list.html"
        return [f"{name}#{self.partial}"] if wants_partial(self.request) else [name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        ignored = {"page", "per_page"}
        params = self.filter_params()
        context["filtered"] = any(v for k, v in params.items() if k not in ignored)
        if self.filter_form_class is not None and not wants_partial(self.request):
            context["filter_form"] = self.filter_form_class(params or None, user=self.request.user)
        context["per_page"] = self.get_paginate_by(None)
        return context


class RosterDetailView(RosterMixin, DetailView):
    selector = None

    def get_queryset(self):
        return type(self).selector(user=self.request.user)

    def get_template_names(self):
        return [f"rostering/{self.model_name}_detail.html"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_change"] = can_change(self.request.user, self.object)
        return context


class RosterFormView(RosterMixin, TemplateView):
    """Shared by create and edit: GET shows the form, POST calls the service."""

    form_class = None
    template_name = "rostering/object_form.html"

    def get_form_kwargs(self) -> dict:
        kwargs = {"user": self.request.user}
        if self.request.method == "POST":
            kwargs["data"] = self.request.POST
        return kwargs

    def get_form(self):
        return self.form_class(**self.get_form_kwargs())

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=self.get_form()))

    def post(self, request, *args, **kwargs):
        form = self.get_form()
        if form.is_valid():
            try:
                obj = self.save(form)
            except ValidationError as exc:
                apply_validation_error(form, exc)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, self.success_message(obj))
                return HttpResponseRedirect(self.success_url(obj))
        return self.render_to_response(self.get_context_data(form=form))

    def save(self, form):  # pragma: no cover - subclasses implement
        raise NotImplementedError

    def success_url(self, obj) -> str:
        return safe_next(self.request, self.url("detail", obj.pk))


class RosterCreateView(RosterFormView):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not can_create(request.user, self.model):
            raise PermissionDenied("Your role does not allow creating this here.")
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self) -> dict:
        """Prefill from the query string (e.g. ``?school=<id>`` from a school's page)."""
        form_fields = self.form_class.base_fields
        return {k: v for k, v in self.request.GET.items() if k in form_fields and v}

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "initial": self.get_initial()}

    def save(self, form):
        return roster_object_create(
            actor=self.request.user, model=self.model, district=form.target_district, data=form.service_data()
        )

    def success_message(self, obj) -> str:
        return f"{self.model._meta.verbose_name.capitalize()} “{obj}” created."

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            title=f"New {self.model._meta.verbose_name}",
            submit_label=f"Create {self.model._meta.verbose_name}",
            cancel_url=safe_next(self.request, self.url("list")),
        )
        return context


class RosterObjectMixin:
    """Load the object through ``for_user`` (404 outside reach) and require the right to change it (403)."""

    def get_object(self):
        if not hasattr(self, "_object"):
            obj = get_object_or_404(self.model.objects.for_user(self.request.user), pk=self.kwargs["pk"])
            if not can_change(self.request.user, obj):
                raise PermissionDenied("Your role does not allow changing this.")
            self._object = obj
        return self._object

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["object"] = self.object
        context["detail_url"] = self.url("detail", self.object.pk)
        return context


class RosterUpdateView(RosterObjectMixin, RosterFormView):
    def get_form_kwargs(self) -> dict:
        # The form works on a copy: the service compares against the stored row itself.
        return {**super().get_form_kwargs(), "instance": copy.copy(self.object)}

    def save(self, form):
        return roster_object_update(actor=self.request.user, obj=self.object, data=form.service_data())

    def success_message(self, obj) -> str:
        return f"{self.model._meta.verbose_name.capitalize()} “{obj}” saved."

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            title=f"Edit {self.object}",
            submit_label="Save changes",
            cancel_url=safe_next(self.request, self.url("detail", self.object.pk)),
        )
        return context


class RosterDeleteView(RosterObjectMixin, RosterMixin, TemplateView):
    """GET asks for confirmation; POST deletes through the service. A Conflict comes back as a message."""

    template_name = "rostering/object_confirm_delete.html"
    consequences = ""

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        label = str(obj)
        try:
            roster_object_delete(actor=request.user, obj=obj)
        except Conflict as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(self.url("detail", obj.pk))
        messages.success(request, f"{self.model._meta.verbose_name.capitalize()} “{label}” deleted.")
        return HttpResponseRedirect(safe_next(request, self.url("list")))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            consequences=self.consequences,
            next=safe_next(self.request, ""),
            cancel_url=safe_next(self.request, self.url("detail", self.object.pk)),
        )
        return context
