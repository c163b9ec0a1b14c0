"""Staff forms. Field widgets get our CSS through the templates' field partial.

Roster forms never carry ``district``: a new object goes into the district of its school (or class),
or — for district-level objects — into the user's district (a district select appears only when the
user could write in several). Every choice list is limited to what the user can see, so another
district's id is a form error, and all writes go through ``rostering.services``.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
)
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Q
from django.utils import timezone

from rostering.choices import EnrollmentRole, PersonRole, SessionState, SessionType
from rostering.models import (
    AcademicSession,
    ClassDivision,
    District,
    Enrollment,
    GradeLevel,
    Person,
    School,
    Subject,
)
from rostering.permissions import Perm, has_perm, tenant_wide_districts


class StyledAuthenticationForm(AuthenticationForm):
    pass


class StyledPasswordChangeForm(PasswordChangeForm):
    pass


class StyledPasswordResetForm(PasswordResetForm):
    pass


class StyledSetPasswordForm(SetPasswordForm):
    pass


class SigninUnlockForm(forms.Form):
    """The Unlock button of the sign-in lockouts page: an account (username) or a client address."""

    ACCOUNT = "account"
    ADDRESS = "address"

    kind = forms.ChoiceField(choices=[(ACCOUNT, "Account"), (ADDRESS, "Address")])
    value = forms.CharField(max_length=255)


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What will use this token, e.g. “SIS nightly sync”.")
    expires_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Optional. Leave empty for a token that lasts until revoked.",
    )

    def clean_expires_at(self):
        value = self.cleaned_data.get("expires_at")
        if value and value <= timezone.now():
            raise forms.ValidationError("The expiry must be in the future.")
        return value


# --- helpers ---------------------------------------------------------------------------------------


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


# Friendly wording for database constraints that Django reports by name.
CONSTRAINT_MESSAGES: dict[str, tuple[str | None, str]] = {
    "school_code_unique_in_district": ("code", "Another school in this district already uses this code."),
    "subject_code_unique_in_district": ("code", "Another subject in this district already uses this code."),
    "gradelevel_code_unique_district": (
        "code",
        "The district already has a district-wide grade with this code.",
    ),
    "gradelevel_code_unique_school": ("code", "This school already has a grade with this code."),
    "classdivision_name_unique_in_session": (
        "name",
        "This school already has a class with this name in that session.",
    ),
    "classdivision_name_unique_in_school": ("name", "This school already has a class with this name."),
    "person_sis_id_unique_in_district": (
        "sis_id",
        "Another person in this district already has this number.",
    ),
    "enrollment_unique_no_subject": (
        "person",
        "This person is already enrolled in this class with this role.",
    ),
    "enrollment_unique_with_subject": (
        "person",
        "This person is already enrolled in this class for this subject.",
    ),
    "academic_session_end_after_start": ("end_date", "The end date must be after the start date."),
    "enrollment_end_not_before_start": ("end_date", "The end date cannot be before the start date."),
}


# (model, field) → message for "<Model> with this District and <Field> already exists."
UNIQUE_IN_DISTRICT_MESSAGES: dict[tuple[str, str], str] = {
    ("school", "code"): CONSTRAINT_MESSAGES["school_code_unique_in_district"][1],
    ("subject", "code"): CONSTRAINT_MESSAGES["subject_code_unique_in_district"][1],
}


def _friendly(error: ValidationError, field: str) -> tuple[str, str]:
    """Map one error to (field, message): named constraints and (district, x) uniqueness get words."""
    message = " ".join(error.messages)
    for name, (target, text) in CONSTRAINT_MESSAGES.items():
        if f"“{name}”" in message or f'"{name}"' in message:
            return (target or field), text
    params = error.params if isinstance(getattr(error, "params", None), dict) else {}
    unique_check = params.get("unique_check")
    if unique_check:
        rest = [f for f in unique_check if f != "district"]
        if len(rest) == 1:
            model_class = params.get("model_class")
            model_name = model_class._meta.model_name if model_class is not None else ""
            return rest[0], UNIQUE_IN_DISTRICT_MESSAGES.get((model_name, rest[0]), message)
    return field, message


def apply_validation_error(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a ValidationError raised by a service back into ``form``: on its field when the form has
    one, otherwise at the top of the form."""
    if hasattr(exc, "error_dict"):
        items = [(name, e) for name, errors in exc.error_dict.items() for e in errors]
    else:
        items = [(NON_FIELD_ERRORS, e) for e in exc.error_list]
    for name, error in items:
        target, message = _friendly(error, name)
        if target not in form.fields:
            target = None
        if target is not None and target in form.errors and message in form.errors[target]:
            continue
        form.add_error(target, message)


def _class_label(c: ClassDivision) -> str:
    return f"{c.name} · {c.school.name}"


def _person_label(p: Person) -> str:
    number = f" ({p.sis_id})" if p.sis_id else ""
    return f"{p.family_name}, {p.given_name}{number} · {p.get_role_display()}"


def _district_choices(user):
    """Districts where ``user`` may write district-level roster data."""
    if user.is_superuser:
        return District.objects.order_by("name")
    return District.objects.filter(pk__in=tenant_wide_districts(user, Perm.ROSTER_CHANGE)).order_by("name")


class RosterForm(forms.ModelForm):
    """Base for roster object forms.

    ``placement`` names the field whose object decides the district (and school) of a new row
    (``"school"`` or ``"class_division"``); ``None`` for district-level objects. Choice lists for the
    placement are limited to where the user may write; other related fields to what they may see.
    """

    placement: str | None = "school"
    placement_required = False

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.creating = self.instance._state.adding
        self.target_district: District | None = None if self.creating else self.instance.district
        self.default_district: District | None = None
        for name, formfield in self.fields.items():
            if not isinstance(formfield, forms.ModelChoiceField):
                continue
            model = formfield.queryset.model
            if not hasattr(model.objects, "for_user"):
                continue
            perm = Perm.ROSTER_CHANGE if name == self.placement else None
            formfield.queryset = self.limit_choices(name, model.objects.for_user(user, perm=perm))
        for formfield in self.fields.values():
            if isinstance(formfield, forms.DateField):
                formfield.widget = DateInput(attrs=formfield.widget.attrs)
        if self.creating:
            self._setup_district_choice()
            self._preselect_only_placement()
        elif self.placement and not has_perm(
            user, Perm.ROSTER_CHANGE, district_id=self.instance.district_id, school_id=None
        ):
            # Without district-wide rights an object cannot be moved out of the user's schools.
            self.fields[self.placement].required = True

    def limit_choices(self, name, queryset):
        """Hook: order or narrow a related field's choices."""
        if name in ("school", "class_division"):
            return (
                queryset.select_related("district")
                if name == "school"
                else queryset.select_related("district", "school")
            )
        return queryset

    def _setup_district_choice(self) -> None:
        if self.placement is not None and self.placement_required:
            return  # the school or class decides
        districts = list(_district_choices(self.user))
        if len(districts) == 1:
            self.default_district = districts[0]
        elif len(districts) > 1:
            field = forms.ModelChoiceField(
                queryset=_district_choices(self.user),
                required=self.placement is None,
                help_text=(
                    None
                    if self.placement is None
                    else "Used when no school is chosen: the district it belongs to."
                ),
            )
            self.fields = {"district": field, **self.fields}
        elif self.placement is not None:
            # No district-wide rights: the row must be placed in one of the user's schools.
            self.fields[self.placement].required = True
            self.fields[self.placement].help_text = "Your role covers your school(s) only: choose one."

    def _preselect_only_placement(self) -> None:
        """A user who can write in exactly one school (or class) gets it preselected."""
        field = self.fields.get(self.placement) if self.placement else None
        if field is None or not field.required or self.initial.get(self.placement):
            return
        options = list(field.queryset[:2])
        if len(options) == 1:
            self.initial[self.placement] = options[0].pk

    def clean(self):
        cleaned = super().clean()
        # Uniqueness and constraints are checked by the service, with the district in place.
        self._validate_unique = False
        self._validate_constraints = False
        if self.creating:
            self.target_district = self._resolve_district(cleaned)
            if self.target_district is not None:
                self.instance.district = self.target_district
        return cleaned

    def _resolve_district(self, cleaned) -> District | None:
        placed_in = cleaned.get(self.placement) if self.placement else None
        if placed_in is not None:
            return placed_in.district
        if self.placement and self.placement in self.errors:
            return None
        if "district" in self.fields:
            district = cleaned.get("district")
            if district is None and "district" not in self.errors:
                self.add_error("district", "Choose a district (or a school).")
            return district
        if self.default_district is not None:
            return self.default_district
        if self.placement and self.placement not in self.errors:
            self.add_error(self.placement, "Choose where this belongs.")
        return None

    def _post_clean(self):
        if self.creating and self.target_district is None:
            return  # nothing sensible to validate against yet; the errors above say why
        super()._post_clean()

    def add_error(self, field, error):
        # The model's clean() may name fields this form does not show (e.g. a term's parent): those
        # messages go to the top of the form instead of raising ValueError.
        if field is None and isinstance(error, ValidationError) and hasattr(error, "error_dict"):
            remapped: dict[str, list] = {}
            for name, errors in error.error_dict.items():
                key = name if name == NON_FIELD_ERRORS or name in self.fields else NON_FIELD_ERRORS
                remapped.setdefault(key, []).extend(errors)
            error = ValidationError(remapped)
        super().add_error(field, error)

    def service_data(self) -> dict:
        """The model fields to hand to the service."""
        return {name: self.cleaned_data[name] for name in self._meta.fields if name in self.cleaned_data}


# --- roster forms ----------------------------------------------------------------------------------


class SchoolForm(RosterForm):
    placement = None

    class Meta:
        model = School
        fields = ["name", "code", "address", "phone"]
        help_texts = {"code": "Short code participants may type on /register, e.g. AVP."}


class SubjectForm(RosterForm):
    placement = None

    class Meta:
        model = Subject
        fields = ["code", "name"]


class GradeLevelForm(RosterForm):
    class Meta:
        model = GradeLevel
        fields = ["school", "code", "name", "rank"]
        help_texts = {"school": "Leave empty for a grade used by the whole district."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.fields["school"].required:
            self.fields["school"].empty_label = "Whole district"


class AcademicSessionForm(RosterForm):
    class Meta:
        model = AcademicSession
        fields = ["school", "name", "type", "state", "start_date", "end_date", "parent"]
        labels = {"parent": "Part of"}
        help_texts = {
            "school": "Leave empty for a session that applies to every school in the district.",
            "parent": "For a term or semester: the school year it belongs to. Leave empty for a school year.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.fields["school"].required:
            self.fields["school"].empty_label = "Whole district"
        self.fields["parent"].empty_label = "—"

    def limit_choices(self, name, queryset):
        if name == "parent":
            qs = queryset.filter(type__in=[SessionType.SCHOOL_YEAR, SessionType.SEMESTER]).select_related(
                "school"
            )
            if self.instance.pk:
                qs = qs.exclude(pk=self.instance.pk)
            return qs
        return super().limit_choices(name, queryset)


class TermForm(RosterForm):
    """One term row of the "school year with terms" page. Its parent is the year being created."""

    placement = None

    class Meta:
        model = AcademicSession
        fields = ["name", "type", "start_date", "end_date"]

    def __init__(self, *args, year: AcademicSession | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.year = year
        self.fields["type"].choices = [
            (v, label) for v, label in SessionType.choices if v != SessionType.SCHOOL_YEAR
        ]
        self.fields["type"].initial = SessionType.TERM

    def _setup_district_choice(self) -> None:
        return  # the year decides

    def _resolve_district(self, cleaned):
        return self.year.district if self.year is not None and self.year.district_id else None

    def _post_clean(self):
        # Without a valid year the row is still checked on its own (dates, required fields).
        forms.ModelForm._post_clean(self)

    def clean(self):
        cleaned = super().clean()
        if self.year is not None:
            self.instance.parent = self.year
            self.instance.school = self.year.school
        return cleaned


class BaseTermFormSet(forms.BaseFormSet):
    def __init__(self, *args, user, year=None, **kwargs):
        self.user = user
        self.year = year
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "user": self.user, "year": self.year}

    def filled_forms(self) -> list[TermForm]:
        return [f for f in self.forms if f.has_changed()]

    def terms_data(self) -> list[dict]:
        return [f.service_data() for f in self.filled_forms()]


TermFormSet = forms.formset_factory(TermForm, formset=BaseTermFormSet, extra=3, max_num=12, validate_max=True)


class ClassDivisionForm(RosterForm):
    placement_required = True

    class Meta:
        model = ClassDivision
        fields = ["school", "grade_level", "academic_session", "name", "capacity"]
        labels = {"academic_session": "Academic session"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].required = True
        self.fields["academic_session"].empty_label = "—"

    def limit_choices(self, name, queryset):
        if name == "grade_level":
            return queryset.select_related("school")
        if name == "academic_session":
            return queryset.select_related("school")
        return super().limit_choices(name, queryset)


class PersonForm(RosterForm):
    class Meta:
        model = Person
        fields = [
            "role",
            "school",
            "given_name",
            "middle_name",
            "family_name",
            "sis_id",
            "grade_level",
            "email",
            "phone",
            "date_of_birth",
            "gender",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.fields["school"].required:
            self.fields["school"].empty_label = "No school (district level)"
        self.fields["grade_level"].empty_label = "—"

    def limit_choices(self, name, queryset):
        if name == "grade_level":
            return queryset.select_related("school")
        return super().limit_choices(name, queryset)


class EnrollmentForm(RosterForm):
    placement = "class_division"
    placement_required = True

    class Meta:
        model = Enrollment
        fields = [
            "class_division",
            "person",
            "role",
            "primary",
            "subject",
            "academic_session",
            "start_date",
            "end_date",
        ]
        labels = {"class_division": "Class", "primary": "Class teacher"}

    def __init__(self, *args, class_division: ClassDivision | None = None, **kwargs):
        self.fixed_class = class_division
        super().__init__(*args, **kwargs)
        self.fields["subject"].empty_label = "—"
        self.fields["academic_session"].empty_label = "—"
        self.fields["class_division"].label_from_instance = _class_label
        self.fields["person"].label_from_instance = _person_label
        if class_division is not None:
            self.fields["class_division"].initial = class_division.pk

    def limit_choices(self, name, queryset):
        if name == "person":
            qs = queryset.select_related("school")
            if self.fixed_class is not None:
                qs = qs.filter(
                    Q(school_id=self.fixed_class.school_id) | Q(school__isnull=True),
                    district_id=self.fixed_class.district_id,
                )
            return qs
        if name == "academic_session":
            return queryset.select_related("school")
        return super().limit_choices(name, queryset)


# --- list filters ------------------------------------------------------------------------------------
# Filter forms only render the filter bar (choices limited to the user's scope); the FilterSets in
# rostering/filtersets.py do the filtering.


class _FilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search")

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.user = user
        self.fields["q"].widget = forms.SearchInput(attrs={"placeholder": self.search_placeholder})

    search_placeholder = "Name or code"


def _choices(queryset, label=str):
    return [("", "All")] + [(str(obj.pk), label(obj)) for obj in queryset]


class SchoolFilterForm(_FilterForm):
    pass


class SubjectFilterForm(_FilterForm):
    pass


class GradeLevelFilterForm(_FilterForm):
    school_id = forms.ChoiceField(required=False, label="School")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school_id"].choices = _choices(School.objects.for_user(self.user).only("id", "name"))


class AcademicSessionFilterForm(_FilterForm):
    search_placeholder = "Name"
    type = forms.ChoiceField(required=False, choices=[("", "All"), *SessionType.choices])
    state = forms.ChoiceField(required=False, choices=[("", "All"), *SessionState.choices])
    school_id = forms.ChoiceField(required=False, label="School")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school_id"].choices = _choices(School.objects.for_user(self.user).only("id", "name"))


class ClassDivisionFilterForm(_FilterForm):
    search_placeholder = "Class name"
    school_id = forms.ChoiceField(required=False, label="School")
    grade_level_id = forms.ChoiceField(required=False, label="Grade")
    academic_session_id = forms.ChoiceField(required=False, label="Session")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.user
        self.fields["school_id"].choices = _choices(School.objects.for_user(user).only("id", "name"))
        self.fields["grade_level_id"].choices = _choices(GradeLevel.objects.for_user(user).only("id", "name"))
        self.fields["academic_session_id"].choices = _choices(
            AcademicSession.objects.for_user(user).filter(type=SessionType.SCHOOL_YEAR).only("id", "name")
        )


class PersonFilterForm(_FilterForm):
    search_placeholder = "Name, number, email or identifier"
    role = forms.ChoiceField(required=False, choices=[("", "All"), *PersonRole.choices])
    school_id = forms.ChoiceField(required=False, label="School")
    grade_level_id = forms.ChoiceField(required=False, label="Grade")
    class_division_id = forms.ChoiceField(required=False, label="Class")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.user
        self.fields["school_id"].choices = _choices(School.objects.for_user(user).only("id", "name"))
        self.fields["grade_level_id"].choices = _choices(GradeLevel.objects.for_user(user).only("id", "name"))
        self.fields["class_division_id"].choices = _choices(
            ClassDivision.objects.for_user(user).select_related("school").only("id", "name", "school__name"),
            _class_label,
        )


class EnrollmentFilterForm(forms.Form):
    role = forms.ChoiceField(required=False, choices=[("", "All"), *EnrollmentRole.choices])
    school_id = forms.ChoiceField(required=False, label="School")
    class_division_id = forms.ChoiceField(required=False, label="Class")
    subject_id = forms.ChoiceField(required=False, label="Subject")

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["school_id"].choices = _choices(School.objects.for_user(user).only("id", "name"))
        self.fields["class_division_id"].choices = _choices(
            ClassDivision.objects.for_user(user).select_related("school").only("id", "name", "school__name"),
            _class_label,
        )
        self.fields["subject_id"].choices = _choices(Subject.objects.for_user(user).only("id", "name"))
