"""Forms of the wizards' steps. They parse input only; the rules are in ``session_setup.services``."""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

from rostering.choices import SessionType
from rostering.models import AcademicSession, School
from rostering.permissions import grants_for


def manageable_schools(user):
    """Schools where the user may run the wizards (every school of a district they administer)."""
    if user.is_superuser:
        return School.objects.all()
    q = Q(pk__in=[])
    for g in grants_for(user):
        if g.role == "district_admin":
            q |= Q(district_id=g.district_id)
        elif g.role == "school_admin" and g.school_id:
            q |= Q(pk=g.school_id)
    return School.objects.filter(q).select_related("district")


def district_admin_of(user) -> set:
    if user.is_superuser:
        return set(School.objects.values_list("district_id", flat=True))
    return {g.district_id for g in grants_for(user) if g.role == "district_admin" and g.school_id is None}


class DateInput(forms.DateInput):
    input_type = "date"


class AcademicYearForm(forms.Form):
    """Step 0: the year (an existing school year or a new one) and the year it rolls over from."""

    scope = forms.ChoiceField(label="Which schools", help_text="A district-wide year rolls every school over at once.")
    year = forms.ModelChoiceField(
        queryset=AcademicSession.objects.none(), required=False, label="An existing school year",
        empty_label="— create a new year —",
    )
    name = forms.CharField(max_length=200, required=False, label="Name", help_text="For example 2027.")
    start_date = forms.DateField(required=False, widget=DateInput, label="First day")
    end_date = forms.DateField(required=False, widget=DateInput, label="Last day")
    source_session = forms.ModelChoiceField(
        queryset=AcademicSession.objects.none(), required=False, label="Roll over from",
        empty_label="— the year before (automatic) —",
        help_text="Last year: its classes are carried over and its students promoted.",
    )

    def __init__(self, *args, user, setup=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup = setup
        schools = list(manageable_schools(user))
        choices = [(f"district:{d}", "All schools of the district") for d in sorted(
            district_admin_of(user) & {s.district_id for s in schools}, key=str)]
        choices += [(f"school:{s.pk}", s.name) for s in schools]
        self.fields["scope"].choices = choices
        years = AcademicSession.objects.for_user(user).filter(type=SessionType.SCHOOL_YEAR).order_by("-start_date")
        self.fields["year"].queryset = years
        self.fields["source_session"].queryset = years
        if setup is not None:
            self.fields["scope"].required = False
            self.fields["scope"].disabled = True
            scope = f"school:{setup.school_id}" if setup.school_id else f"district:{setup.district_id}"
            self.fields["scope"].initial = scope
            if setup.academic_session_id:
                year = setup.academic_session
                self.fields["year"].initial = year.pk
                self.fields["name"].initial = year.name
                self.fields["start_date"].initial = year.start_date
                self.fields["end_date"].initial = year.end_date
            self.fields["source_session"].initial = setup.source_session_id
        elif len(choices) == 1:
            self.fields["scope"].initial = choices[0][0]

    def scope_objects(self):
        """(district, school) of the chosen scope."""
        value = self.cleaned_data.get("scope") or ""
        kind, _, pk = value.partition(":")
        if kind == "school":
            school = manageable_schools_cache(self).get(pk)
            return school.district, school
        from rostering.models import District

        return District.objects.get(pk=pk), None

    def clean(self):
        data = super().clean()
        if self.setup is None and not data.get("scope"):
            self.add_error("scope", "Choose the schools to set up.")
        if not data.get("year"):
            for field in ("name", "start_date", "end_date"):
                if not data.get(field) and field not in self.errors:
                    self.add_error(field, "Needed for a new year.")
        return data


def manageable_schools_cache(form) -> dict:
    schools = {str(s.pk): s for s in School.objects.filter(
        pk__in=[c.split(":", 1)[1] for c, _ in form.fields["scope"].choices if c.startswith("school:")])}
    return schools


class ExamDetailsForm(forms.Form):
    """Exam wizard step 0: name, school, year, term and dates."""

    name = forms.CharField(max_length=200, label="Name", help_text="For example “Term 2 examinations 2027”.")
    school = forms.ModelChoiceField(queryset=School.objects.none(), label="School")
    academic_session = forms.ModelChoiceField(queryset=AcademicSession.objects.none(), label="School year")
    term = forms.ModelChoiceField(queryset=AcademicSession.objects.none(), required=False, label="Term",
                                  empty_label="— the whole year —")
    starts_on = forms.DateField(widget=DateInput, label="First exam day")
    ends_on = forms.DateField(widget=DateInput, label="Last exam day")

    def __init__(self, *args, user, setup=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = manageable_schools(user)
        years = AcademicSession.objects.for_user(user).filter(type=SessionType.SCHOOL_YEAR).order_by("-start_date")
        self.fields["academic_session"].queryset = years
        terms = AcademicSession.objects.for_user(user).filter(type=SessionType.TERM).select_related("parent")
        self.fields["term"].queryset = terms.order_by("-start_date")
        self.fields["term"].label_from_instance = lambda t: f"{t.name} ({t.start_date:%d %b} – {t.end_date:%d %b %Y})"
        if setup is not None and setup.exam_session_id:
            exam = setup.exam_session
            self.fields["school"].disabled = True
            self.initial.update(name=exam.name, school=exam.school_id, academic_session=exam.academic_session_id,
                                term=exam.term_id, starts_on=exam.starts_on, ends_on=exam.ends_on)

    def clean(self):
        data = super().clean()
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", "The last exam day cannot be before the first.")
        return data


def parse_date(value: str, label: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat((value or "").strip())
    except ValueError:
        raise ValidationError(f"{label}: give a date (YYYY-MM-DD).") from None


def parse_int(value: str, label: str, *, minimum: int = 0, maximum: int = 100_000, optional: bool = False):
    value = (value or "").strip()
    if not value and optional:
        return None
    try:
        number = int(value)
    except ValueError:
        raise ValidationError(f"{label}: give a whole number.") from None
    if not minimum <= number <= maximum:
        raise ValidationError(f"{label}: between {minimum} and {maximum}.")
    return number
