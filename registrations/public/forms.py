"""Forms of the public /register pages.

The participant form is built from the session's ``requiredFields`` (``selectors.form_fields``); this
module only turns posted HTML form data into the JSON payload the services check, and prepares what the
templates show per field. The checks themselves are ``validators.check_payload`` and the placement lock
in ``validators.enforce_placement``, the same ones the JSON API uses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django import forms

from registrations.selectors import SelectionContext
from registrations.validators import GROUP_TITLES, FormField

RADIO_MAX_CHOICES = 4
AUTOCOMPLETE = {
    "given_name": "given-name",
    "middle_name": "additional-name",
    "family_name": "family-name",
    "date_of_birth": "bday",
    "gender": "sex",
    "phone": "tel",
    "email": "email",
    "address": "street-address",
    "guardian_name": "off",
    "guardian_phone": "off",
    "guardian_email": "off",
}


class CodeEntryForm(forms.Form):
    code = forms.CharField(
        label="Access code",
        max_length=60,
        help_text="The code on your slip or letter. Dashes and spaces don't matter.",
        error_messages={"required": "Enter the access code from your slip."},
        widget=forms.TextInput(attrs={
            "class": "code-input",
            "autocomplete": "one-time-code",
            "autocapitalize": "characters",
            "autocorrect": "off",
            "spellcheck": "false",
            "inputmode": "text",
            "enterkeyhint": "go",
        }),
    )
    school_code = forms.CharField(
        label="School code (optional)",
        max_length=32,
        required=False,
        help_text="Only if your slip shows one, for example AVP.",
        widget=forms.TextInput(attrs={
            "autocomplete": "off", "autocapitalize": "characters", "autocorrect": "off", "spellcheck": "false",
        }),
    )


def payload_from_post(fields: list[FormField], data) -> dict[str, Any]:
    """The answers in a posted form, as the JSON payload the services expect.

    Locked fields are left out (the session's lock is applied by the service whatever is sent);
    multi-choice fields become lists; fields not in the post stay unanswered.
    """
    payload: dict[str, Any] = {}
    for f in fields:
        if f.locked:
            continue
        if f.type in {"subjects", "classes"}:
            payload[f.key] = [v for v in data.getlist(f.key) if v]
        elif f.key in data:
            payload[f.key] = data.get(f.key, "")
    return payload


@dataclass
class Option:
    value: str
    label: str
    selected: bool


@dataclass
class OptionGroup:
    label: str
    options: list[Option]


@dataclass
class FieldView:
    """One question as the page shows it: its widget, current answer, errors and marks."""

    field: FormField
    value: Any = None
    errors: list[str] = field(default_factory=list)
    changed: bool = False
    flagged: bool = False
    original: str = ""
    option_groups: list[OptionGroup] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.field.key

    @property
    def label(self) -> str:
        return self.field.label

    @property
    def required(self) -> bool:
        return self.field.required

    @property
    def locked(self) -> bool:
        return self.field.locked

    @property
    def help(self) -> str:
        return self.field.help

    @property
    def input_id(self) -> str:
        return f"f-{self.key}"

    @property
    def error_id(self) -> str:
        return f"err-{self.key}"

    @property
    def help_id(self) -> str:
        return f"help-{self.key}"

    @property
    def described_by(self) -> str:
        ids = []
        if self.help or self.locked:
            ids.append(self.help_id)
        ids.append(self.error_id)
        return " ".join(ids)

    @property
    def widget(self) -> str:
        t = self.field.type
        if t in {"subjects", "classes"}:
            return "checkboxes"
        if t == "boolean":
            return "radios"
        if t == "choice":
            return "radios" if len(self.field.choices) <= RADIO_MAX_CHOICES else "select"
        if t in {"grade_level", "class_division"}:
            return "select"
        return "input"

    @property
    def input_type(self) -> str:
        return {"email": "email", "tel": "tel", "date": "date", "number": "number"}.get(self.field.type, "text")

    @property
    def autocomplete(self) -> str:
        return AUTOCOMPLETE.get(self.key, "")

    @property
    def inputmode(self) -> str:
        return {"tel": "tel", "email": "email", "number": "decimal"}.get(self.field.type, "")

    @property
    def today(self) -> str:
        return dt.date.today().isoformat()

    @property
    def choices(self) -> list[Option]:
        if self.field.type == "boolean":
            pairs = [("true", "Yes"), ("false", "No")]
            current = {True: "true", False: "false"}.get(self.value, str(self.value or "").lower())
            return [Option(v, lbl, v == current) for v, lbl in pairs]
        selected = set(self.value) if isinstance(self.value, list) else {str(self.value or "")}
        return [Option(v, lbl, v in selected) for v, lbl in self.field.choices]

    @property
    def display(self) -> str:
        """The answer in words, for the review and status pages."""
        return display_value(self.field, self.value)

    @property
    def answered(self) -> bool:
        return self.value not in (None, "", [])


def display_value(f: FormField, value: Any) -> str:
    if value in (None, "", []):
        return ""
    if f.type == "boolean":
        return "Yes" if value is True or str(value).lower() == "true" else "No"
    labels = dict(f.choices)
    if isinstance(value, list):
        return ", ".join(labels.get(v, v) for v in value)
    if f.type == "date":
        try:
            day = dt.date.fromisoformat(str(value))
            return f"{day.day} {day:%B %Y}"
        except ValueError:
            return str(value)
    return labels.get(str(value), str(value))


def _class_option_groups(f: FormField, context: SelectionContext, value: Any) -> list[OptionGroup]:
    """Classes grouped by grade; a grade-locked session only offers its grade's classes."""
    grade_names = {str(g.pk): g.name for g in context.grade_levels}
    selected = str(value or "")
    groups: dict[str, OptionGroup] = {}
    for c in context.class_divisions:
        grade_id = str(c.grade_level_id)
        if context.grade_locked and not context.class_locked and grade_id != context.locked_grade_level_id:
            continue
        group = groups.setdefault(grade_id, OptionGroup(grade_names.get(grade_id, ""), []))
        group.options.append(Option(str(c.pk), c.name, str(c.pk) == selected))
    return list(groups.values())


def field_views(
    fields: list[FormField],
    context: SelectionContext,
    values: dict[str, Any],
    *,
    errors: dict[str, list[str]] | None = None,
    changed: list[str] | None = None,
    flagged: list[str] | None = None,
    snapshot: dict[str, Any] | None = None,
) -> list[FieldView]:
    errors = errors or {}
    changed_keys = set(changed or [])
    flagged_keys = set(flagged or [])
    snapshot = snapshot or {}
    views = []
    for f in fields:
        value = values.get(f.key)
        if f.key == "class_division_id" and context.locked_class_division_id:
            value = context.locked_class_division_id
        elif f.key == "grade_level_id" and context.locked_grade_level_id:
            value = context.locked_grade_level_id
        view = FieldView(
            field=f, value=value, errors=list(errors.get(f.key, [])), changed=f.key in changed_keys,
            flagged=f.key in flagged_keys,
            original=display_value(f, snapshot.get(f.key)) if f.key in changed_keys else "",
        )
        if f.key == "class_division_id":
            view.option_groups = _class_option_groups(f, context, value)
        views.append(view)
    return views


@dataclass
class FieldGroup:
    key: str
    title: str
    fields: list[FieldView]


def grouped(views: list[FieldView]) -> list[FieldGroup]:
    """Questions under their headings, in the order the catalogue gives them."""
    groups: dict[str, FieldGroup] = {}
    for v in views:
        group = groups.setdefault(v.field.group, FieldGroup(v.field.group, GROUP_TITLES.get(v.field.group, ""), []))
        group.fields.append(v)
    return list(groups.values())
