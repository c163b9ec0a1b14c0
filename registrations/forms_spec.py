"""The participant form of a session, built from its requiredFields, and the checks on its answers.

Used by the public /register pages, the public JSON API and the submit/import services alike.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from registrations.validators import CATALOGUE, CATALOGUE_BY_KEY, HIDDEN, REQUIRED, default_required_fields
from rostering.common.jsonio import encoded_size
from rostering.common.patterns import PatternError, fullmatch

MAX_TEXT = 300
MAX_PAYLOAD_BYTES = 64 * 1024  # a whole set of answers, as JSON; far above any real form
NOT_SAVED = "This answer was not saved."
PLACEMENT_KEYS = ("grade_level_id", "class_division_id")


@dataclass
class FormField:
    key: str
    label: str
    type: str
    state: str
    group: str
    choices: list[tuple[str, str]] = field(default_factory=list)
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    help: str = ""
    locked: bool = False
    custom: bool = False

    @property
    def required(self) -> bool:
        return self.state == REQUIRED

    def as_json(self) -> dict[str, Any]:
        data = {
            "key": self.key, "label": self.label, "type": self.type, "state": self.state, "group": self.group,
            "required": self.required, "locked": self.locked,
        }
        if self.choices:
            data["choices"] = [{"value": v, "label": lbl} for v, lbl in self.choices]
        for name, value in (("pattern", self.pattern), ("minLength", self.min_length), ("maxLength", self.max_length),
                            ("help", self.help)):
            if value not in (None, ""):
                data[name] = value
        return data


GROUP_TITLES = {
    "personal": "About you", "contact": "Contact details", "guardian": "Parent or guardian",
    "history": "Previous school", "professional": "Teaching", "placement": "Class placement", "custom": "More questions",
}


@dataclass
class SelectionContext:
    grade_levels: list
    class_divisions: list
    subjects: list
    grade_locked: bool
    class_locked: bool
    locked_grade_level_id: str | None
    locked_class_division_id: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "gradeLevels": [{"id": str(g.pk), "code": g.code, "name": g.name} for g in self.grade_levels],
            "classDivisions": [
                {"id": str(c.pk), "name": c.name, "gradeLevelId": str(c.grade_level_id)} for c in self.class_divisions
            ],
            "subjects": [{"id": str(s.pk), "code": s.code, "name": s.name} for s in self.subjects],
            "locks": {
                "gradeLocked": self.grade_locked,
                "classLocked": self.class_locked,
                "gradeLevelId": self.locked_grade_level_id,
                "classDivisionId": self.locked_class_division_id,
            },
        }


def selection_context(session) -> SelectionContext:
    """The school's grades, classes and subjects, and the session's locks (three small queries)."""
    from django.db.models import Q

    from rostering.models import ClassDivision, GradeLevel, Subject

    grades = list(
        GradeLevel.objects.filter(Q(school_id=session.school_id) | Q(school__isnull=True), district_id=session.district_id)
        .order_by("rank", "name")
    )
    classes = list(
        ClassDivision.objects.filter(school_id=session.school_id)
        .filter(Q(academic_session_id=session.academic_year_id) | Q(academic_session__isnull=True)
                if session.academic_year_id else Q())
        .order_by("grade_level__rank", "name")
    )
    used_grades = {c.grade_level_id for c in classes}
    grades = [g for g in grades if g.school_id or g.pk in used_grades or not used_grades]
    subjects = list(Subject.objects.filter(district_id=session.district_id).order_by("name"))
    grade_id = str(session.grade_level_id) if session.grade_level_id else None
    class_id = str(session.class_division_id) if session.class_division_id else None
    return SelectionContext(
        grade_levels=grades, class_divisions=classes, subjects=subjects,
        grade_locked=bool(grade_id), class_locked=bool(class_id),
        locked_grade_level_id=grade_id, locked_class_division_id=class_id,
    )


def form_fields(session, context: SelectionContext | None = None) -> list[FormField]:
    """The visible fields of the session's participant form, in catalogue order, then custom questions."""
    config = session.required_fields or default_required_fields(session.mode)
    rules_by_key = config.get("fields", {})
    context = context or selection_context(session)
    fields: list[FormField] = []
    for spec in CATALOGUE:
        rules = {"state": spec.default_state(session.mode), **rules_by_key.get(spec.key, {})}
        if rules["state"] == HIDDEN:
            continue
        choices = list((rules.get("choices") and [(c, c) for c in rules["choices"]]) or spec.choices)
        locked = False
        if spec.key == "grade_level_id":
            choices = [(str(g.pk), g.name) for g in context.grade_levels]
            locked = context.grade_locked
        elif spec.key == "class_division_id":
            choices = [(str(c.pk), c.name) for c in context.class_divisions]
            locked = context.class_locked
        elif spec.key == "subjects_taught":
            choices = [(str(s.pk), s.name) for s in context.subjects]
        elif spec.key == "classes_taught":
            choices = [(str(c.pk), c.name) for c in context.class_divisions]
        fields.append(FormField(
            key=spec.key, label=rules.get("label") or spec.label,
            type="choice" if rules.get("choices") and spec.type in {"text", "tel", "email"} else spec.type,
            state=REQUIRED if locked else rules["state"], group=spec.group, choices=choices,
            pattern=rules.get("pattern"), min_length=rules.get("minLength"), max_length=rules.get("maxLength"),
            help=rules.get("help") or spec.help, locked=locked,
        ))
    for q in config.get("custom", []):
        fields.append(FormField(
            key=q["key"], label=q.get("label") or q["key"], type=q.get("type", "text"), state=q.get("state", "optional"),
            group="custom", choices=[(c, c) for c in q.get("choices", [])], pattern=q.get("pattern"),
            min_length=q.get("minLength"), max_length=q.get("maxLength"), help=q.get("help", ""), custom=True,
        ))
    return fields


@dataclass
class CheckedPayload:
    data: dict[str, Any]
    errors: dict[str, list[str]]
    missing: list[str]


def _is_blank(value) -> bool:
    return value is None or value == "" or value == []


def check_payload(fields: list[FormField], payload: Any) -> CheckedPayload:
    """Keep only the form's fields, normalise their values, and say what is wrong or missing.

    Drafts store what could be understood (with errors listed as warnings); a submit needs no errors
    and nothing missing.
    """
    if not isinstance(payload, dict):
        raise ValidationError({"payload": "The answers must be a JSON object of field: value."})
    try:
        size = encoded_size(payload)
    except (TypeError, ValueError):
        raise ValidationError({"payload": "The answers must be plain JSON values."}) from None
    if size > MAX_PAYLOAD_BYTES:
        raise ValidationError({"payload": f"The answers are {size:,} bytes; at most {MAX_PAYLOAD_BYTES:,} are accepted."})
    known = {f.key for f in fields} | set(CATALOGUE_BY_KEY)
    unknown = sorted(k for k in payload if k not in known)
    if unknown:
        raise ValidationError({"payload": f"Unknown field(s): {', '.join(unknown[:10])}."})
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    missing: list[str] = []
    for f in fields:
        raw = payload.get(f.key)
        try:
            value = _normalise(f, raw)
        except ValidationError as exc:
            errors[f.key] = exc.messages
            value = _keepable(f, raw)
            if value is None and not _is_blank(raw):
                errors[f.key] = [*exc.messages, NOT_SAVED]
        if not _is_blank(value):
            data[f.key] = value
        elif f.required:
            missing.append(f.key)
    return CheckedPayload(data=data, errors=errors, missing=missing)


def field_limit(f: FormField) -> int:
    """The most characters an answer to ``f`` may have (and so the most a draft keeps)."""
    return min(f.max_length, MAX_TEXT) if f.max_length is not None else MAX_TEXT


def _keepable(f: FormField, raw: Any) -> str | None:
    """What a draft keeps of an answer that has an error: the text as typed, so the participant can fix it,
    but only when it is within the field's limits; otherwise nothing (and the error says so)."""
    if not isinstance(raw, str) or f.type in {"subjects", "classes", "boolean"}:
        return None
    text = raw.strip()
    if not text or "\x00" in text or len(text) > field_limit(f):
        return None
    return text


def _normalise(f: FormField, raw: Any) -> Any:
    if raw is None or raw == "":
        return None
    if isinstance(raw, str) and "\x00" in raw:
        raise ValidationError("Remove the NUL character (\\u0000): it cannot be stored.")
    if f.type in {"subjects", "classes"}:
        values = raw if isinstance(raw, list) else [raw]
        allowed = {v for v, _ in f.choices}
        if not all(isinstance(v, str) for v in values) or not set(values) <= allowed:
            raise ValidationError("Choose from the list.")
        return sorted(set(values), key=values.index)
    if f.type == "boolean":
        if isinstance(raw, bool):
            return raw
        if str(raw).lower() in {"true", "on", "1", "yes"}:
            return True
        if str(raw).lower() in {"false", "off", "0", "no"}:
            return False
        raise ValidationError("Answer yes or no.")
    if not isinstance(raw, (str, int, float)) or isinstance(raw, bool):
        raise ValidationError("Enter text.")
    value = str(raw).strip()
    if len(value) > MAX_TEXT:
        raise ValidationError(f"At most {MAX_TEXT} characters.")
    if not value:
        return None
    if f.type == "date":
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise ValidationError("Enter a date as YYYY-MM-DD.") from None
        if day > dt.date.today() or day.year < 1900:
            raise ValidationError("Enter a real date in the past.")
        return day.isoformat()
    if f.type == "number":
        try:
            number = float(value)
        except ValueError:
            raise ValidationError("Enter a number.") from None
        return int(number) if number.is_integer() else number
    if f.type == "email":
        validate_email(value)
        value = value.lower()
    if f.type == "tel" and not re.fullmatch(r"\+?[0-9][0-9 ()\-]{5,20}", value):
        raise ValidationError("Enter a phone number, e.g. +263 77 123 4567.")
    if f.choices and f.type in {"choice", "grade_level", "class_division"} and value not in {v for v, _ in f.choices}:
        raise ValidationError("Choose from the list.")
    if f.min_length is not None and len(value) < f.min_length:
        raise ValidationError(f"At least {f.min_length} characters.")
    if f.max_length is not None and len(value) > f.max_length:
        raise ValidationError(f"At most {f.max_length} characters.")
    if f.pattern and not _matches(f.pattern, value):
        raise ValidationError("This does not have the expected format.")
    return value


def _matches(pattern: str, value: str) -> bool:
    """Staff patterns run on RE2 (linear time). One stored before RE2 was required and that RE2 can't
    run is not enforced: the staff check refuses such patterns on every save now."""
    try:
        return fullmatch(pattern, value)
    except PatternError:
        return True


def changed_fields(snapshot: dict[str, Any], data: dict[str, Any], fields: list[FormField]) -> list[str]:
    """Keys whose answer differs from the roster snapshot (student verification)."""
    changed = []
    for f in fields:
        if f.key not in snapshot:
            continue
        before = snapshot.get(f.key) or None
        after = data.get(f.key) or None
        if (str(before).strip().lower() if before else None) != (str(after).strip().lower() if after else None):
            changed.append(f.key)
    return changed
