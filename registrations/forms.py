"""Staff forms: registration sessions, access codes, the review queue and its actions.

Forms only parse input and limit choice lists to what the user may pick; every rule (placement lock,
roster policy, requiredFields/approvalPolicy, lifecycle) is checked by ``registrations.services``,
whose ``ValidationError`` is put back on these fields by ``apply_service_errors``.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Q

from registrations.choices import (
    SHORT_CODE_WARNING,
    CodeFormat,
    PersonType,
    RegistrationMode,
    RosterPolicy,
    SessionStatus,
)
from registrations.filtersets import CODE_STATUS_CHOICES, SUBMISSION_STATUS_CHOICES
from registrations.models import CodeAttempt
from registrations.services.codes import MAX_CODES_PER_REQUEST
from registrations.services.review import MAX_BULK
from registrations.validators import (
    APPROVAL_DEFAULTS,
    CATALOGUE,
    HIDDEN,
    OPTIONAL,
    REQUIRED,
    REQUIRED_FIELDS_MAX_BYTES,
    default_approval_policy,
    default_roster_policy,
    session_editable_fields,
)
from rostering.common.jsonio import JSONInputError, decode
from rostering.models import AcademicSession, ClassDivision, GradeLevel, School
from rostering.permissions import Perm

MODE_DESCRIPTIONS = {
    RegistrationMode.TEACHER_SELF_REGISTRATION: (
        "Teachers fill in their profile, subjects and classes — usually school-wide, with open codes."
    ),
    RegistrationMode.STUDENT_INTAKE: (
        "New students enter their own details before enrolment; you can lock them to a grade or class."
    ),
    RegistrationMode.STUDENT_VERIFICATION: (
        "Students already on the roster confirm or correct their details; one pre-assigned code each."
    ),
}
ROSTER_POLICY_DESCRIPTIONS = {
    RosterPolicy.PRELOADED_ONLY: "Every code is assigned to a person already on the roster.",
    RosterPolicy.OPEN_WITH_CODE: "Codes are not assigned: anyone holding a code can register.",
    RosterPolicy.MIXED: "Some codes are assigned to roster people, the others stay open.",
}
STATE_LABELS = {REQUIRED: "Required", OPTIONAL: "Optional", HIDDEN: "Hidden"}
GROUP_LABELS = {
    "personal": "Personal details",
    "contact": "Contact",
    "guardian": "Parent / guardian",
    "history": "History",
    "professional": "Teaching",
    "placement": "Placement",
}
APPROVAL_FIELDS = {
    # form field → approvalPolicy key
    "approval_auto_unchanged": "autoApproveUnchangedVerifications",
    "approval_import": "importOnApproval",
    "approval_reject_reason": "requireRejectReason",
    "approval_correction_message": "requireCorrectionMessage",
}
# Errors raised by services, keyed by model field: where they go in our forms.
SERVICE_ERROR_FIELDS = {"approval_policy": "approval_review", "school_id": "school"}


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


def apply_service_errors(form: forms.BaseForm, exc: ValidationError, *, field_map: dict | None = None) -> None:
    """Put a service's ``ValidationError`` on the form: on the field it names when the form has it,
    otherwise at the top of the form."""
    mapping = {**SERVICE_ERROR_FIELDS, **(field_map or {})}
    if hasattr(exc, "error_dict"):
        items = [(name, message) for name, errors in exc.error_dict.items() for e in errors for message in e]
    else:
        items = [(NON_FIELD_ERRORS, message) for message in exc.messages]
    for name, message in items:
        target = mapping.get(name, name)
        if target not in form.fields or form.fields[target].disabled:
            target = None
        form.add_error(target, message)


def rf_field_name(key: str) -> str:
    return f"rf_{key}"


class SessionForm(forms.Form):
    """The New Session form (``instance=None``) and the edit form (``instance=session``).

    ``mode`` comes first and decides which fields make sense; the htmx refresh re-renders the form with
    the mode's defaults and the chosen school's classes, grades and calendar.
    """

    mode = forms.ChoiceField(choices=RegistrationMode.choices, widget=forms.RadioSelect, label="Mode")
    school = forms.ModelChoiceField(
        queryset=School.objects.none(), empty_label="Choose a school…",
        error_messages={"invalid_choice": "Choose one of your schools."},
    )
    title = forms.CharField(max_length=200, help_text="Displayed to participants on the registration form.")
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="Shown on the public form below the title."
    )
    class_division = forms.ModelChoiceField(
        label="Class", required=False, queryset=ClassDivision.objects.none(), empty_label="No class lock",
        help_text="Locks every participant to this class; the grade comes from the class.",
        error_messages={"invalid_choice": "Choose a class of the session's school."},
    )
    grade_level = forms.ModelChoiceField(
        label="Grade", required=False, queryset=GradeLevel.objects.none(), empty_label="No grade lock",
        help_text="Locks every participant to this grade (leave empty when a class is chosen).",
        error_messages={"invalid_choice": "Choose a grade of the session's school."},
    )
    academic_year = forms.ModelChoiceField(
        label="Academic year", required=False, queryset=AcademicSession.objects.none(), empty_label="—",
        error_messages={"invalid_choice": "Choose a school year of the session's school."},
    )
    term = forms.ModelChoiceField(
        required=False, queryset=AcademicSession.objects.none(), empty_label="—",
        error_messages={"invalid_choice": "Choose a term of the session's school."},
    )
    starts_at = forms.DateTimeField(
        label="Starts", required=False, widget=DateTimeLocalInput(), help_text="Informational."
    )
    ends_at = forms.DateTimeField(label="Deadline", required=False, widget=DateTimeLocalInput(),
                                  help_text="Shown to participants.")
    expected_count = forms.IntegerField(
        label="Expected participants", required=False, min_value=0, max_value=1_000_000,
        help_text="Used for the completion percentage.",
    )
    roster_policy = forms.ChoiceField(label="Roster policy", required=False, choices=())
    approval_review = forms.ChoiceField(
        label="Review",
        choices=[("manual", "Staff review every submission"), ("auto_approve", "Approve submissions automatically")],
    )
    approval_auto_unchanged = forms.BooleanField(
        required=False, label="Approve verifications that change nothing automatically"
    )
    approval_import = forms.BooleanField(required=False, label="Write approved records into the roster")
    approval_reject_reason = forms.BooleanField(required=False, label="Require a reason to reject")
    approval_correction_message = forms.BooleanField(
        required=False, label="Require a message when asking for corrections"
    )
    required_fields = forms.CharField(
        label="Advanced: requiredFields JSON", required=False, widget=forms.Textarea(attrs={"rows": 6, "class": "mono"}),
        help_text="Optional. A full requiredFields document (labels, patterns, custom questions) replaces the table.",
    )

    def __init__(self, *args, user, instance=None, refresh_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.instance = instance
        self.refresh_url = refresh_url
        self.read_only = False
        if instance is not None:
            for name in ("title", "description", "class_division", "grade_level", "academic_year", "term",
                         "starts_at", "ends_at", "expected_count", "roster_policy"):
                self.initial.setdefault(name, getattr(instance, name))
            if instance.class_division_id:
                self.initial["grade_level"] = None  # taken from the class
            # mode and school never change: they are shown as text, not as fields.
            del self.fields["mode"]
            del self.fields["school"]
            self.chosen_school = instance.school
            self.chosen_mode = instance.mode
        else:
            schools = School.objects.for_user(user, perm=Perm.REGISTRATIONS_MANAGE).select_related("district")
            self.fields["school"].queryset = schools
            self.chosen_school = self._chosen("school", schools)
            self.chosen_mode = self._chosen_mode()
            if self.chosen_school is None and not self.is_bound and len(schools) == 1:
                self.chosen_school = schools[0]
                self.initial.setdefault("school", self.chosen_school.pk)
            if refresh_url:
                hx = {
                    "hx-post": refresh_url, "hx-trigger": "change", "hx-target": "#session-form-body",
                    "hx-swap": "outerHTML", "hx-indicator": "#session-form-indicator",
                }
                self.fields["mode"].widget.attrs.update({**hx, "hx-vals": '{"_refresh": "mode"}'})
                self.fields["school"].widget.attrs.update({**hx, "hx-vals": '{"_refresh": "school"}'})
        self._limit_choices()
        self._add_required_field_selects()
        self._set_mode_dependent_fields()
        if instance is not None:
            self._lock_for_status(instance.status)

    # --- choices ------------------------------------------------------------------------------------

    def _chosen(self, name, queryset):
        value = self.data.get(name) if self.is_bound else self.initial.get(name)
        if not value:
            return None
        try:
            return queryset.filter(pk=getattr(value, "pk", value)).first()
        except (ValueError, ValidationError):
            return None

    def _chosen_mode(self) -> str | None:
        value = self.data.get("mode") if self.is_bound else self.initial.get("mode")
        return value if value in RegistrationMode.values else None

    def _limit_choices(self) -> None:
        school = self.chosen_school
        if school is not None:
            district_q = Q(district_id=school.district_id) & (Q(school__isnull=True) | Q(school=school))
            classes = ClassDivision.objects.filter(school=school)
            grades = GradeLevel.objects.filter(district_q)
            calendar = AcademicSession.objects.filter(district_q)
        else:
            # No school yet (no JavaScript): everything the user could pick; the server checks the match.
            classes = ClassDivision.objects.for_user(self.user, perm=Perm.REGISTRATIONS_MANAGE)
            grades = GradeLevel.objects.for_user(self.user, perm=Perm.REGISTRATIONS_MANAGE)
            calendar = AcademicSession.objects.for_user(self.user, perm=Perm.REGISTRATIONS_MANAGE)
        self.fields["class_division"].queryset = classes.select_related("grade_level", "school").order_by(
            "school__name", "grade_level__rank", "name"
        )
        self.fields["class_division"].label_from_instance = (
            (lambda c: f"{c.name} · {c.grade_level.name}") if school is not None
            else (lambda c: f"{c.school.name} — {c.name} · {c.grade_level.name}")
        )
        self.fields["grade_level"].queryset = grades.order_by("rank", "name")
        self.fields["academic_year"].queryset = calendar.filter(type="school_year").order_by("-start_date")
        self.fields["term"].queryset = (
            calendar.exclude(type="school_year").select_related("parent").order_by("-start_date", "name")
        )
        self.fields["term"].label_from_instance = lambda t: f"{t.name} ({t.parent.name})" if t.parent_id else t.name

    # --- requiredFields and approvalPolicy editors ---------------------------------------------------

    def _base_required_fields(self) -> dict[str, Any]:
        if self.instance is not None:
            return self.instance.required_fields or {}
        return {}

    def _add_required_field_selects(self) -> None:
        mode = self.chosen_mode
        stored = self._base_required_fields().get("fields", {})
        self.required_field_rows: list[dict[str, Any]] = []
        for spec in CATALOGUE:
            default = spec.default_state(mode) if mode else None
            default_label = f"Mode default ({STATE_LABELS[default].lower()})" if default else "Mode default"
            states = (REQUIRED, OPTIONAL) if spec.key in {"given_name", "family_name"} else (REQUIRED, OPTIONAL, HIDDEN)
            name = rf_field_name(spec.key)
            self.fields[name] = forms.ChoiceField(
                label=spec.label, required=False,
                choices=[("", default_label), *[(s, STATE_LABELS[s]) for s in states]],
            )
            current = (stored.get(spec.key) or {}).get("state")
            if current and current != default:
                self.initial.setdefault(name, current)
            explicit = self[name].value()
            self.required_field_rows.append({
                "spec": spec, "field": self[name], "group": GROUP_LABELS.get(spec.group, spec.group),
                "extra": bool(mode) and default == HIDDEN and not explicit,
            })
        self.main_field_rows = [r for r in self.required_field_rows if not r["extra"]]
        self.extra_field_rows = [r for r in self.required_field_rows if r["extra"]]
        self.custom_questions = self._base_required_fields().get("custom", [])

    def _set_mode_dependent_fields(self) -> None:
        mode = self.chosen_mode
        policy_default = default_roster_policy(mode) if mode else None
        blank = (
            f"Mode default ({RosterPolicy(policy_default).label})" if policy_default
            else "Mode default (pre-loaded roster for verification, open codes otherwise)"
        )
        self.fields["roster_policy"].choices = [("", blank), *RosterPolicy.choices]
        self.roster_policy_descriptions = [(RosterPolicy(v).label, t) for v, t in ROSTER_POLICY_DESCRIPTIONS.items()]
        self.chosen_mode_label = RegistrationMode(mode).label if mode else ""
        if self.instance is not None:
            self.initial.setdefault("roster_policy", self.instance.roster_policy)
            policy = self.instance.approval_policy or default_approval_policy(self.instance.mode)
        else:
            policy = default_approval_policy(mode or RegistrationMode.STUDENT_INTAKE)
        self.initial.setdefault("approval_review", policy.get("review", APPROVAL_DEFAULTS["review"]))
        for name, key in APPROVAL_FIELDS.items():
            self.initial.setdefault(name, policy.get(key, APPROVAL_DEFAULTS[key]))
        # Fields that make no sense for the chosen mode are left out (the server still validates them).
        self.show_placement = mode != RegistrationMode.TEACHER_SELF_REGISTRATION
        self.show_auto_unchanged = mode in (None, RegistrationMode.STUDENT_VERIFICATION)
        if not self.show_placement:
            self.fields["class_division"].disabled = True
            self.fields["grade_level"].disabled = True
            self.initial["class_division"] = self.instance.class_division_id if self.instance else None
            self.initial["grade_level"] = self.instance.grade_level_id if self.instance else None
        if not self.show_auto_unchanged:
            self.fields["approval_auto_unchanged"].disabled = True
            self.initial["approval_auto_unchanged"] = False

    def _lock_for_status(self, status: str) -> None:
        """Disable what the service would refuse in this status (``validators.session_editable_fields``)."""
        editable = session_editable_fields(status)
        self.read_only = not editable
        for name, field in self.fields.items():
            if self._model_field(name) not in editable:
                field.disabled = True

    @staticmethod
    def _model_field(name: str) -> str:
        """The session field a form field edits (the requiredFields table and the approval settings)."""
        if name.startswith("rf_"):
            return "required_fields"
        if name in APPROVAL_FIELDS or name == "approval_review":
            return "approval_policy"
        return name

    # --- refresh (htmx) -----------------------------------------------------------------------------

    @classmethod
    def for_refresh(cls, data, *, user, trigger: str, refresh_url: str) -> SessionForm:
        """Re-render the form from what was typed so far, without showing errors.

        Changing the mode resets the roster policy and approval settings to that mode's defaults;
        changing the school drops a class or grade that belongs to another school.
        """
        probe = cls(data, user=user, refresh_url=refresh_url)
        initial = {name: probe[name].data for name in probe.fields}
        mode = initial.get("mode") if initial.get("mode") in RegistrationMode.values else None
        if trigger == "mode" and mode:
            initial["roster_policy"] = default_roster_policy(mode)
            policy = default_approval_policy(mode)
            initial["approval_review"] = policy["review"]
            for name, key in APPROVAL_FIELDS.items():
                initial[name] = policy[key]
        form = cls(user=user, initial=initial, refresh_url=refresh_url)
        for name in ("class_division", "grade_level", "academic_year", "term"):
            value = initial.get(name)
            if value and not form.fields[name].queryset.filter(pk=value).exists():
                form.initial[name] = None
        return form

    # --- output -------------------------------------------------------------------------------------

    @property
    def mode_cards(self):
        if "mode" not in self.fields:
            return []
        return [(radio, MODE_DESCRIPTIONS[radio.data["value"]]) for radio in self["mode"]]

    def clean_required_fields(self):
        raw = (self.cleaned_data.get("required_fields") or "").strip()
        if not raw:
            return None
        try:
            value = decode(raw, max_bytes=REQUIRED_FIELDS_MAX_BYTES)
        except JSONInputError as exc:
            raise ValidationError(exc.message) from None
        if not isinstance(value, dict):
            raise ValidationError("requiredFields must be a JSON object with 'fields' and 'custom'.")
        return value

    def required_fields_document(self) -> dict[str, Any]:
        """The table's choices merged into the stored document (labels, patterns and custom questions kept)."""
        advanced = self.cleaned_data.get("required_fields")
        if advanced is not None:
            return advanced
        base = self._base_required_fields()
        fields = {key: dict(rules) for key, rules in (base.get("fields") or {}).items()}
        for spec in CATALOGUE:
            name = rf_field_name(spec.key)
            state = self.cleaned_data.get(name) or ""
            if self.instance is None and not state:
                continue  # the service fills in the mode's default
            rules = fields.setdefault(spec.key, {})
            if state:
                rules["state"] = state
            elif self.instance is not None:
                rules["state"] = spec.default_state(self.instance.mode)
        return {"fields": fields, "custom": list(base.get("custom") or [])}

    def approval_policy_document(self) -> dict[str, Any]:
        base = dict(self.instance.approval_policy) if self.instance is not None else {}
        base["review"] = self.cleaned_data["approval_review"]
        for name, key in APPROVAL_FIELDS.items():
            base[key] = bool(self.cleaned_data.get(name))
        return base

    def service_data(self) -> dict[str, Any]:
        """Keyword arguments for ``registration_session_create`` / the ``data`` of ``registration_session_update``."""
        data: dict[str, Any] = {}
        for name in ("title", "description", "class_division", "grade_level", "academic_year", "term",
                     "starts_at", "ends_at", "expected_count"):
            if not self.fields[name].disabled:
                data[name] = self.cleaned_data.get(name)
        if not self.fields["roster_policy"].disabled:
            policy = self.cleaned_data.get("roster_policy")
            if policy or self.instance is None:
                data["roster_policy"] = policy or None
        if not self.fields["approval_review"].disabled:
            data["approval_policy"] = self.approval_policy_document()
        if not self.fields["required_fields"].disabled:
            data["required_fields"] = self.required_fields_document()
        if self.instance is None:
            data["mode"] = self.cleaned_data["mode"]
            data["school"] = self.cleaned_data["school"]
            if data.get("roster_policy") is None:
                data.pop("roster_policy", None)
        return data


class SessionFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, widget=forms.TextInput(attrs={"type": "search",
                                                                                       "placeholder": "Title or school"}))
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *SessionStatus.choices])
    mode = forms.ChoiceField(required=False, choices=[("", "Any mode"), *RegistrationMode.choices])
    school = forms.ModelChoiceField(required=False, queryset=School.objects.none(), empty_label="All my schools")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = School.objects.for_user(user, perm=Perm.REGISTRATIONS_VIEW).order_by("name")

    def filters(self) -> dict[str, Any]:
        """The valid filters (an invalid value, e.g. a school out of reach, is left out on its own)."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "search": data.get("q") or "",
            "status": data.get("status") or "",
            "mode": data.get("mode") or "",
            "school_id": data["school"].pk if data.get("school") else None,
        }


class CodeGenerateForm(forms.Form):
    assign_from_class_roster = forms.BooleanField(
        required=False, label="Assign each code to a person on the roster",
        help_text="One code per student (or teacher) in the session's class, grade or school who has no code yet.",
    )
    count = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_CODES_PER_REQUEST,
        help_text="Open codes: how many. Roster codes: leave empty for everyone, or cap the batch.",
    )
    prefix = forms.CharField(required=False, max_length=8, help_text="Optional, e.g. your school code (letters and digits).")
    format = forms.ChoiceField(choices=CodeFormat.choices, initial=CodeFormat.SECURE, widget=forms.RadioSelect)
    expires_at = forms.DateTimeField(label="Expires", required=False, widget=DateTimeLocalInput(),
                                     help_text="Optional. Codes stop working after this moment.")
    include_roster_hints_on_printout = forms.BooleanField(
        required=False, label="Print the person's name and number on the slip",
        help_text="Only for roster-assigned codes: helps hand the right slip to the right student.",
    )

    short_code_warning = SHORT_CODE_WARNING

    def __init__(self, *args, session, **kwargs):
        super().__init__(*args, **kwargs)
        self.session = session
        self.policy = session.roster_policy
        self.policy_label = RosterPolicy(session.roster_policy).label
        self.policy_description = ROSTER_POLICY_DESCRIPTIONS[session.roster_policy]
        if not self.is_bound:
            assigned = session.roster_policy != RosterPolicy.OPEN_WITH_CODE
            self.initial.setdefault("assign_from_class_roster", assigned)
            self.initial.setdefault("include_roster_hints_on_printout", assigned)

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "assign_from_class_roster": data["assign_from_class_roster"],
            "count": data.get("count"),
            "prefix": data.get("prefix") or "",
            "format": data["format"],
            "expires_at": data.get("expires_at"),
            "include_roster_hints_on_printout": data["include_roster_hints_on_printout"],
        }


class CodeFilterForm(forms.Form):
    """The codes tab's filters (GET ``q``, ``status``, ``batch``), as ``AccessCodeFilterSet`` filters."""

    q = forms.CharField(label="Search", required=False,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Code or name"}))
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *CODE_STATUS_CHOICES])
    batch = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def filters(self) -> dict[str, Any]:
        """The valid filters (an invalid value is left out on its own)."""
        self.is_valid()
        data = self.cleaned_data
        return {"search": data.get("q") or "", "status": data.get("status") or "",
                "print_batch": data.get("batch")}


# --- the review queue --------------------------------------------------------------------------------

ALL_STATUSES = "all"


class SubmissionFilterForm(forms.Form):
    """The queue's filters (GET). Without a status the queue shows what awaits review."""

    q = forms.CharField(
        label="Search", required=False, max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "Name, code or number", "type": "search"}),
    )
    status = forms.ChoiceField(label="Status", required=False,
                               choices=[*SUBMISSION_STATUS_CHOICES[:1], (ALL_STATUSES, "All statuses"),
                                        *SUBMISSION_STATUS_CHOICES[1:]])
    session = forms.ChoiceField(label="Session", required=False)
    person_type = forms.ChoiceField(label="Person type", required=False,
                                    choices=[("", "Everyone"), *PersonType.choices])
    class_division = forms.ChoiceField(label="Class", required=False)

    def __init__(self, *args, sessions=(), classes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["session"].choices = [("", "All sessions")] + [
            (str(s.pk), f"{s.title} · {s.school.name}") for s in sessions
        ]
        self.fields["class_division"].choices = [("", "All classes")] + [
            (str(c.pk), f"{c.name} · {c.school.name}") for c in classes
        ]

    def selector_filters(self) -> dict:
        """The cleaned values as ``submission_list`` filters (a value that is not a choice is ignored)."""
        data = {}
        if self.is_bound:
            self.is_valid()
            data = self.cleaned_data
        status = data.get("status") or self.initial_status()
        return {
            "search": data.get("q", ""),
            "status": "" if status == ALL_STATUSES else status,
            "session_id": data.get("session") or None,
            "person_type": data.get("person_type") or None,
            "class_division_id": data.get("class_division") or None,
        }

    @staticmethod
    def initial_status() -> str:
        return SUBMISSION_STATUS_CHOICES[0][0]


class VersionedActionForm(forms.Form):
    """Every action posts the version the reviewer saw: a newer one means someone else acted (409)."""

    expected_version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class ApproveForm(VersionedActionForm):
    note = forms.CharField(label="Note (optional)", required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class RejectForm(VersionedActionForm):
    reason = forms.CharField(
        label="Reason", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept in the history and shown to the participant. Rejection is final.",
    )


class CorrectionForm(VersionedActionForm):
    message = forms.CharField(
        label="Message to the participant", required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Say what to fix; the participant sees it when they enter their code again.",
    )
    flagged_fields = forms.MultipleChoiceField(
        label="Fields to correct", required=False, widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, fields=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["flagged_fields"].choices = [(f.key, f.label) for f in fields]


class BulkApproveForm(forms.Form):
    ids = forms.CharField(required=False)  # replaced by the getlist parsing below
    next = forms.CharField(required=False)

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        self._raw_ids = data.getlist("ids") if data is not None and hasattr(data, "getlist") else []

    def clean(self):
        cleaned = super().clean()
        ids: list[uuid.UUID] = []
        for raw in self._raw_ids:
            try:
                value = uuid.UUID(str(raw))
            except ValueError:
                raise forms.ValidationError("The selection contains an invalid id.") from None
            if value not in ids:
                ids.append(value)
        if not ids:
            raise forms.ValidationError("Select at least one submission to approve.")
        if len(ids) > MAX_BULK:
            raise forms.ValidationError(f"Approve at most {MAX_BULK} submissions at a time.")
        cleaned["ids"] = ids
        return cleaned


class CodeAttemptFilterForm(forms.Form):
    outcome = forms.ChoiceField(label="Outcome", required=False,
                                choices=[("", "All outcomes"), *CodeAttempt.Outcome.choices])
