"""Staff pages for roster data: schools, academic sessions, grades, classes, subjects, people, enrollments."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.urls import reverse

from rostering import selectors
from rostering.choices import SessionType
from rostering.common.errors import ApplicationError
from rostering.common.http import safe_next
from rostering.forms import (
    AcademicSessionFilterForm,
    AcademicSessionForm,
    ClassDivisionFilterForm,
    ClassDivisionForm,
    EnrollmentFilterForm,
    EnrollmentForm,
    GradeLevelFilterForm,
    GradeLevelForm,
    PersonFilterForm,
    PersonForm,
    SchoolFilterForm,
    SchoolForm,
    SubjectFilterForm,
    SubjectForm,
    TermFormSet,
    apply_validation_error,
)
from rostering.models import (
    AcademicSession,
    ClassDivision,
    Enrollment,
    GradeLevel,
    Person,
    School,
    Subject,
)
from rostering.services import academic_session_create_with_terms
from rostering.views.base import (
    RosterCreateView,
    RosterDeleteView,
    RosterDetailView,
    RosterListView,
    RosterUpdateView,
    can_change,
)

# --- schools --------------------------------------------------------------------------------------------


class SchoolMixin:
    model = School
    section = "schools"


class SchoolListView(SchoolMixin, RosterListView):
    selector = selectors.school_list
    filter_form_class = SchoolFilterForm


class SchoolDetailView(SchoolMixin, RosterDetailView):
    selector = selectors.school_list

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["class_divisions"] = selectors.class_division_list(
            user=user, filters={"school_id": self.object.pk}
        )
        context["sessions"] = (
            AcademicSession.objects.for_user(user)
            .filter(Q(school=self.object) | Q(school__isnull=True, district_id=self.object.district_id))
            .filter(type=SessionType.SCHOOL_YEAR)
            .select_related("school")[:5]
        )
        return context


class SchoolCreateView(SchoolMixin, RosterCreateView):
    form_class = SchoolForm


class SchoolUpdateView(SchoolMixin, RosterUpdateView):
    form_class = SchoolForm


class SchoolDeleteView(SchoolMixin, RosterDeleteView):
    consequences = (
        "Its classes, its own grade levels and academic sessions, and their enrollments are deleted too. "
        "People keep their records, without a school."
    )


# --- academic sessions ------------------------------------------------------------------------------------


class AcademicSessionMixin:
    model = AcademicSession
    section = "sessions"


class AcademicSessionListView(AcademicSessionMixin, RosterListView):
    selector = selectors.academic_session_list
    filter_form_class = AcademicSessionFilterForm


class AcademicSessionDetailView(AcademicSessionMixin, RosterDetailView):
    selector = selectors.academic_session_list

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["children"] = (
            AcademicSession.objects.for_user(self.request.user)
            .filter(parent=self.object)
            .select_related("school")
            .order_by("start_date", "name")
        )
        context["class_count"] = (
            ClassDivision.objects.for_user(self.request.user).filter(academic_session=self.object).count()
        )
        context["can_add_term"] = context["can_change"] and self.object.type in (
            SessionType.SCHOOL_YEAR,
            SessionType.SEMESTER,
        )
        return context


class AcademicSessionCreateView(AcademicSessionMixin, RosterCreateView):
    """A school year and its terms in one form (year fields + a formset of term rows).

    ``?parent=<id>`` (from a year's page) prefills the form to add a single term to that year.
    """

    form_class = AcademicSessionForm
    template_name = "rostering/academicsession_form.html"

    def get_initial(self) -> dict:
        initial = super().get_initial()
        parent_id = self.request.GET.get("parent")
        self.parent = None
        if parent_id:
            try:
                self.parent = AcademicSession.objects.for_user(self.request.user).filter(pk=parent_id).first()
            except ValidationError:  # not a UUID
                self.parent = None
        if self.parent is not None:
            initial.update(parent=self.parent.pk, type=SessionType.TERM, school=self.parent.school_id)
        else:
            initial.pop("parent", None)
        return initial

    def get_formset(self, form):
        year = None
        if form.is_bound:
            year = form.instance if form.target_district is not None else self.draft_year(form)
        data = self.request.POST if self.request.method == "POST" else None
        return TermFormSet(data, prefix="terms", user=self.request.user, year=year)

    @staticmethod
    def draft_year(form) -> AcademicSession | None:
        """The year as far as it was filled in, so term rows are checked against its dates even
        while the year itself still has errors."""
        cleaned = form.cleaned_data
        if not (cleaned.get("start_date") and cleaned.get("end_date")):
            return None
        school = cleaned.get("school")
        return AcademicSession(
            district=school.district if school else None,
            school=school,
            name=cleaned.get("name", ""),
            type=cleaned.get("type") or SessionType.SCHOOL_YEAR,
            start_date=cleaned["start_date"],
            end_date=cleaned["end_date"],
        )

    def get(self, request, *args, **kwargs):
        form = self.get_form()
        formset = None if self.parent is not None else self.get_formset(form)
        return self.render_to_response(self.get_context_data(form=form, formset=formset))

    def post(self, request, *args, **kwargs):
        form = self.get_form()
        form_ok = form.is_valid()
        formset = None if self.parent is not None else self.get_formset(form)
        formset_ok = formset is None or formset.is_valid()
        if form_ok and formset_ok:
            terms = formset.terms_data() if formset is not None else []
            try:
                year = academic_session_create_with_terms(
                    actor=request.user, district=form.target_district, data=form.service_data(), terms=terms
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                added = f" with {len(terms)} term{'s' if len(terms) != 1 else ''}" if terms else ""
                messages.success(request, f"{year.get_type_display()} “{year}” created{added}.")
                return HttpResponseRedirect(self.success_url(year))
        return self.render_to_response(self.get_context_data(form=form, formset=formset))

    def success_url(self, obj) -> str:
        if self.parent is not None:
            return safe_next(self.request, self.url("detail", self.parent.pk))
        return super().success_url(obj)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["parent"] = self.parent
        if self.parent is not None:
            context["title"] = f"Add a term to {self.parent}"
            context["submit_label"] = "Add term"
            context["cancel_url"] = safe_next(self.request, self.url("detail", self.parent.pk))
        else:
            context["title"] = "New academic session"
            context["submit_label"] = "Create academic session"
        return context


class AcademicSessionUpdateView(AcademicSessionMixin, RosterUpdateView):
    form_class = AcademicSessionForm


class AcademicSessionDeleteView(AcademicSessionMixin, RosterDeleteView):
    consequences = "Its terms are deleted too. Classes and enrollments linked to it stay, without a session."


# --- grade levels ------------------------------------------------------------------------------------------


class GradeLevelMixin:
    model = GradeLevel
    section = "grades"


class GradeLevelListView(GradeLevelMixin, RosterListView):
    selector = selectors.grade_level_list
    filter_form_class = GradeLevelFilterForm


class GradeLevelDetailView(GradeLevelMixin, RosterDetailView):
    selector = selectors.grade_level_list

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["class_divisions"] = selectors.class_division_list(
            user=self.request.user, filters={"grade_level_id": self.object.pk}
        )
        return context


class GradeLevelCreateView(GradeLevelMixin, RosterCreateView):
    form_class = GradeLevelForm


class GradeLevelUpdateView(GradeLevelMixin, RosterUpdateView):
    form_class = GradeLevelForm


class GradeLevelDeleteView(GradeLevelMixin, RosterDeleteView):
    consequences = (
        "A grade level that classes still use cannot be deleted. Students in it keep their records."
    )


# --- subjects ------------------------------------------------------------------------------------------


class SubjectMixin:
    model = Subject
    section = "subjects"


class SubjectListView(SubjectMixin, RosterListView):
    selector = selectors.subject_list
    filter_form_class = SubjectFilterForm


class SubjectDetailView(SubjectMixin, RosterDetailView):
    selector = selectors.subject_list

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["enrollments"] = selectors.enrollment_list(
            user=self.request.user, filters={"subject_id": self.object.pk}
        )[:50]
        return context


class SubjectCreateView(SubjectMixin, RosterCreateView):
    form_class = SubjectForm


class SubjectUpdateView(SubjectMixin, RosterUpdateView):
    form_class = SubjectForm


class SubjectDeleteView(SubjectMixin, RosterDeleteView):
    consequences = "Enrollments for this subject stay, without a subject."


# --- class divisions -------------------------------------------------------------------------------------


class ClassDivisionMixin:
    model = ClassDivision
    section = "classes"


class ClassDivisionListView(ClassDivisionMixin, RosterListView):
    selector = selectors.class_division_list
    filter_form_class = ClassDivisionFilterForm


class ClassDivisionDetailView(ClassDivisionMixin, RosterDetailView):
    selector = selectors.class_division_list

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(selectors.class_division_roster(class_division=self.object))
        return context


class ClassDivisionCreateView(ClassDivisionMixin, RosterCreateView):
    form_class = ClassDivisionForm


class ClassDivisionUpdateView(ClassDivisionMixin, RosterUpdateView):
    form_class = ClassDivisionForm


class ClassDivisionDeleteView(ClassDivisionMixin, RosterDeleteView):
    consequences = "Its enrollments are deleted too. The people stay on the roster."


# --- people ---------------------------------------------------------------------------------------------


class PersonMixin:
    model = Person
    section = "people"


class PersonListView(PersonMixin, RosterListView):
    selector = selectors.person_list
    filter_form_class = PersonFilterForm


class PersonDetailView(PersonMixin, RosterDetailView):
    selector = selectors.person_list

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["enrollments"] = (
            Enrollment.objects.for_user(self.request.user)
            .filter(person=self.object)
            .select_related("class_division", "class_division__school", "subject", "academic_session")
        )
        return context


class PersonCreateView(PersonMixin, RosterCreateView):
    form_class = PersonForm


class PersonUpdateView(PersonMixin, RosterUpdateView):
    form_class = PersonForm


class PersonDeleteView(PersonMixin, RosterDeleteView):
    consequences = "Their enrollments are deleted too."


# --- enrollments ----------------------------------------------------------------------------------------


class EnrollmentMixin:
    model = Enrollment
    section = "enrollments"


class EnrollmentListView(EnrollmentMixin, RosterListView):
    selector = selectors.enrollment_list
    filter_form_class = EnrollmentFilterForm


class EnrollmentDetailView(EnrollmentMixin, RosterDetailView):
    selector = selectors.enrollment_list


class EnrollmentCreateView(EnrollmentMixin, RosterCreateView):
    """``?class_division=<id>`` (from a class's page) fixes the class and offers that school's people."""

    form_class = EnrollmentForm

    def get_class_division(self):
        if not hasattr(self, "_class_division"):
            class_id = self.request.GET.get("class_division") or self.request.POST.get("class_division")
            found = None
            if class_id:
                try:
                    found = (
                        ClassDivision.objects.for_user(self.request.user)
                        .select_related("school")
                        .filter(pk=class_id)
                        .first()
                    )
                except ValidationError:
                    found = None
            self._class_division = (
                found if found is not None and can_change(self.request.user, found) else None
            )
        return self._class_division

    def get_form_kwargs(self) -> dict:
        kwargs = super().get_form_kwargs()
        kwargs["class_division"] = self.get_class_division()
        kwargs["initial"].pop("class_division", None)
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        class_division = self.get_class_division()
        if class_division is not None:
            context["title"] = f"Enroll someone in {class_division}"
            context["subtitle"] = class_division.school.name
        return context

    def success_url(self, obj) -> str:
        if self.get_class_division() is not None:
            default = reverse("rostering:classdivision_detail", args=[obj.class_division_id])
        else:
            default = self.url("detail", obj.pk)
        return safe_next(self.request, default)


class EnrollmentUpdateView(EnrollmentMixin, RosterUpdateView):
    form_class = EnrollmentForm


class EnrollmentDeleteView(EnrollmentMixin, RosterDeleteView):
    consequences = "The person and the class stay on the roster."
