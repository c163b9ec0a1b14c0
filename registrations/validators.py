"""Rules shared by the staff API, the staff pages, the public /register pages and the services.

- the participant form's fields (``FormField``) and the checks on a participant's answers
  (``check_payload``, ``changed_fields``): drafts keep what can be understood, a submit needs everything.

- ``requiredFields``: which fields the participant form shows, per mode, and their rules.
- ``approvalPolicy``: how submissions are reviewed and imported.
- the session scope (school-wide, grade-locked, class-locked) and the placement lock that
  participants can never escape, whatever their client sends.

requiredFields format (JSON)::

    {
      "fields": {
        "<catalogue key>": {
          "state": "required" | "optional" | "hidden",
          "label": "text shown instead of the default label",          (optional)
          "pattern": "^[0-9]{7,15}$",                                  (optional, an RE2 regular expression)
          "minLength": 2, "maxLength": 80,                              (optional, text fields)
          "choices": ["a", "b"]                                         (optional, text fields)
        }, ...
      },
      "custom": [
        {"key": "house", "label": "Sports house", "type": "text" | "number" | "date" | "choice" | "boolean",
         "state": "required" | "optional", "choices": [...], "pattern": ..., "minLength": ..., "maxLength": ...,
         "help": "…"}
      ]
    }

Keys left out keep the mode's default. approvalPolicy format (JSON)::

    {
      "review": "manual" | "auto_approve",
      "autoApproveUnchangedVerifications": false,
      "importOnApproval": true,
      "requireRejectReason": true,
      "requireCorrectionMessage": true
    }
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from registrations.choices import (
    EDITABLE_WHEN_LIVE,
    IMMUTABLE_FIELDS,
    RegistrationMode,
    RosterPolicy,
    SessionStatus,
)
from rostering.common.ids import is_uuid
from rostering.common.jsonio import encoded_size
from rostering.common.patterns import PatternError, compile_pattern, fullmatch

M = RegistrationMode
# Size caps of the stored JSON documents (checked by the model fields' validators and the staff form).
REQUIRED_FIELDS_MAX_BYTES = 64 * 1024
APPROVAL_POLICY_MAX_BYTES = 4 * 1024
REQUIRED, OPTIONAL, HIDDEN = "required", "optional", "hidden"
FIELD_STATES = (REQUIRED, OPTIONAL, HIDDEN)
FIELD_TYPES = ("text", "email", "tel", "date", "choice", "number", "boolean", "grade_level", "class_division",
               "subjects", "classes")
CUSTOM_TYPES = ("text", "number", "date", "choice", "boolean")


@dataclass(frozen=True)
class CatalogueField:
    key: str
    label: str
    type: str
    group: str
    defaults: dict[str, str]  # mode -> state
    choices: tuple[tuple[str, str], ...] = ()
    help: str = ""

    def default_state(self, mode: str) -> str:
        return self.defaults.get(mode, HIDDEN)


def _d(teacher: str, intake: str, verification: str) -> dict[str, str]:
    return {M.TEACHER_SELF_REGISTRATION: teacher, M.STUDENT_INTAKE: intake, M.STUDENT_VERIFICATION: verification}


GENDER_CHOICES = (("female", "Female"), ("male", "Male"), ("other", "Other"))
RELATIONSHIP_CHOICES = (
    ("mother", "Mother"), ("father", "Father"), ("guardian", "Guardian"), ("grandparent", "Grandparent"),
    ("sibling", "Sibling"), ("other", "Other"),
)

CATALOGUE: tuple[CatalogueField, ...] = (
    CatalogueField("given_name", "First name", "text", "personal", _d(REQUIRED, REQUIRED, REQUIRED)),
    CatalogueField("middle_name", "Middle name", "text", "personal", _d(OPTIONAL, OPTIONAL, OPTIONAL)),
    CatalogueField("family_name", "Surname", "text", "personal", _d(REQUIRED, REQUIRED, REQUIRED)),
    CatalogueField("date_of_birth", "Date of birth", "date", "personal", _d(OPTIONAL, REQUIRED, REQUIRED)),
    CatalogueField("gender", "Gender", "choice", "personal", _d(OPTIONAL, REQUIRED, REQUIRED), GENDER_CHOICES),
    CatalogueField("national_id", "National ID / birth certificate number", "text", "personal",
                   _d(OPTIONAL, OPTIONAL, OPTIONAL)),
    CatalogueField("student_number", "Student number", "text", "personal", _d(HIDDEN, HIDDEN, OPTIONAL)),
    CatalogueField("teacher_number", "Teacher / staff number", "text", "personal", _d(OPTIONAL, HIDDEN, HIDDEN)),
    CatalogueField("phone", "Phone number", "tel", "contact", _d(REQUIRED, OPTIONAL, OPTIONAL)),
    CatalogueField("email", "Email address", "email", "contact", _d(REQUIRED, OPTIONAL, OPTIONAL)),
    CatalogueField("address", "Home address", "text", "contact", _d(OPTIONAL, OPTIONAL, OPTIONAL)),
    CatalogueField("guardian_name", "Parent / guardian name", "text", "guardian", _d(HIDDEN, REQUIRED, OPTIONAL)),
    CatalogueField("guardian_relationship", "Relationship to the student", "choice", "guardian",
                   _d(HIDDEN, REQUIRED, OPTIONAL), RELATIONSHIP_CHOICES),
    CatalogueField("guardian_phone", "Parent / guardian phone", "tel", "guardian", _d(HIDDEN, REQUIRED, OPTIONAL)),
    CatalogueField("guardian_email", "Parent / guardian email", "email", "guardian", _d(HIDDEN, OPTIONAL, OPTIONAL)),
    CatalogueField("previous_school", "Previous school", "text", "history", _d(HIDDEN, OPTIONAL, HIDDEN)),
    CatalogueField("qualifications", "Qualifications", "text", "professional", _d(OPTIONAL, HIDDEN, HIDDEN)),
    CatalogueField("subjects_taught", "Subjects taught", "subjects", "professional", _d(REQUIRED, HIDDEN, HIDDEN)),
    CatalogueField("classes_taught", "Classes taught", "classes", "professional", _d(OPTIONAL, HIDDEN, HIDDEN)),
    CatalogueField("grade_level_id", "Grade", "grade_level", "placement", _d(HIDDEN, REQUIRED, REQUIRED)),
    CatalogueField("class_division_id", "Class", "class_division", "placement", _d(HIDDEN, OPTIONAL, REQUIRED)),
)
CATALOGUE_BY_KEY = {f.key: f for f in CATALOGUE}
TEXT_LIKE = {"text", "email", "tel", "choice"}

FIELD_RULE_KEYS = {"state", "label", "pattern", "minLength", "maxLength", "choices", "help"}
CUSTOM_KEYS = FIELD_RULE_KEYS | {"key", "type"}
_CUSTOM_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def default_required_fields(mode: str) -> dict[str, Any]:
    return {"fields": {f.key: {"state": f.default_state(mode)} for f in CATALOGUE}, "custom": []}


def _check_rules(path: str, rules: dict, errors: list[str], *, field_type: str, custom: bool) -> dict:
    allowed = CUSTOM_KEYS if custom else FIELD_RULE_KEYS
    unknown = sorted(set(rules) - allowed)
    if unknown:
        errors.append(f"{path}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}.")
    clean: dict[str, Any] = {}
    state = rules.get("state", OPTIONAL if custom else None)
    if state is not None:
        if state not in FIELD_STATES or (custom and state == HIDDEN):
            allowed_states = "required, optional" if custom else ", ".join(FIELD_STATES)
            errors.append(f"{path}.state: must be one of {allowed_states}.")
        clean["state"] = state
    for key in ("label", "help"):
        if key in rules:
            if not isinstance(rules[key], str) or len(rules[key]) > 200:
                errors.append(f"{path}.{key}: must be text of at most 200 characters.")
            else:
                clean[key] = rules[key]
    text_rules = {"pattern", "minLength", "maxLength", "choices"} & set(rules)
    if text_rules and field_type not in TEXT_LIKE:
        errors.append(f"{path}: {', '.join(sorted(text_rules))} only apply to text fields, not '{field_type}'.")
        return clean
    if "pattern" in rules:
        pattern = rules["pattern"]
        try:
            compile_pattern(pattern)  # RE2: linear-time matching, so no pattern can hang a worker
            clean["pattern"] = pattern
        except PatternError as exc:
            errors.append(f"{path}.pattern: {exc}.")
    for key in ("minLength", "maxLength"):
        if key in rules:
            value = rules[key]
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 5000:
                errors.append(f"{path}.{key}: must be a whole number from 0 to 5000.")
            else:
                clean[key] = value
    if "minLength" in clean and "maxLength" in clean and clean["minLength"] > clean["maxLength"]:
        errors.append(f"{path}: minLength is greater than maxLength.")
    if "choices" in rules:
        choices = rules["choices"]
        if (
            not isinstance(choices, list) or not choices or len(choices) > 100
            or not all(isinstance(c, str) and c.strip() for c in choices)
        ):
            errors.append(f"{path}.choices: must be a list of 1 to 100 non-empty strings.")
        elif len(set(choices)) != len(choices):
            errors.append(f"{path}.choices: has duplicates.")
        else:
            clean["choices"] = choices
    return clean


def validate_required_fields(value: Any, *, mode: str) -> dict[str, Any]:
    """Check a ``requiredFields`` document and return it complete (the mode's defaults filled in)."""
    if value in (None, ""):
        return default_required_fields(mode)
    errors: list[str] = []
    if not isinstance(value, dict):
        raise ValidationError({"required_fields": "requiredFields must be a JSON object with 'fields' and 'custom'."})
    unknown = sorted(set(value) - {"fields", "custom"})
    if unknown:
        errors.append(f"requiredFields: unknown key(s) {', '.join(unknown)}; allowed: custom, fields.")
    result = default_required_fields(mode)
    fields = value.get("fields", {})
    if not isinstance(fields, dict):
        errors.append("requiredFields.fields: must be an object keyed by field name.")
        fields = {}
    for key, rules in fields.items():
        path = f"requiredFields.fields.{key}"
        spec = CATALOGUE_BY_KEY.get(key)
        if spec is None:
            errors.append(f"{path}: unknown field; known fields: {', '.join(CATALOGUE_BY_KEY)}.")
            continue
        if isinstance(rules, str):
            rules = {"state": rules}
        if not isinstance(rules, dict):
            errors.append(f"{path}: must be an object like {{\"state\": \"required\"}}.")
            continue
        clean = _check_rules(path, rules, errors, field_type=spec.type, custom=False)
        if key in {"given_name", "family_name"} and clean.get("state") == HIDDEN:
            errors.append(f"{path}.state: names cannot be hidden.")
        result["fields"][key] = {**result["fields"][key], **clean}
    custom = value.get("custom", [])
    if not isinstance(custom, list) or len(custom) > 30:
        errors.append("requiredFields.custom: must be a list of at most 30 questions.")
        custom = []
    seen: set[str] = set()
    for index, question in enumerate(custom):
        path = f"requiredFields.custom[{index}]"
        if not isinstance(question, dict):
            errors.append(f"{path}: must be an object.")
            continue
        key = question.get("key")
        if not isinstance(key, str) or not _CUSTOM_KEY_RE.match(key):
            errors.append(f"{path}.key: must start with a letter and use a-z, 0-9 and _ (at most 40).")
            continue
        if key in CATALOGUE_BY_KEY or key in seen:
            errors.append(f"{path}.key: '{key}' is already used.")
            continue
        seen.add(key)
        qtype = question.get("type", "text")
        if qtype not in CUSTOM_TYPES:
            errors.append(f"{path}.type: must be one of {', '.join(CUSTOM_TYPES)}.")
            continue
        if not isinstance(question.get("label"), str) or not question["label"].strip():
            errors.append(f"{path}.label: a custom question needs a label.")
        clean = _check_rules(path, question, errors, field_type="choice" if qtype == "choice" else qtype,
                             custom=True)
        if qtype == "choice" and "choices" not in clean:
            errors.append(f"{path}.choices: a choice question needs its choices.")
        result["custom"].append({"key": key, "type": qtype, **clean})
    if errors:
        raise ValidationError({"required_fields": errors})
    return result


APPROVAL_DEFAULTS: dict[str, Any] = {
    "review": "manual",
    "autoApproveUnchangedVerifications": False,
    "importOnApproval": True,
    "requireRejectReason": True,
    "requireCorrectionMessage": True,
}
APPROVAL_REVIEW_VALUES = ("manual", "auto_approve")


def default_roster_policy(mode: str) -> str:
    return RosterPolicy.PRELOADED_ONLY if mode == RegistrationMode.STUDENT_VERIFICATION else RosterPolicy.OPEN_WITH_CODE


def default_approval_policy(mode: str) -> dict[str, Any]:
    policy = dict(APPROVAL_DEFAULTS)
    if mode == M.STUDENT_VERIFICATION:
        policy["autoApproveUnchangedVerifications"] = True
    return policy


def validate_approval_policy(value: Any, *, mode: str) -> dict[str, Any]:
    if value in (None, ""):
        return default_approval_policy(mode)
    if not isinstance(value, dict):
        raise ValidationError({"approval_policy": "approvalPolicy must be a JSON object."})
    errors = []
    unknown = sorted(set(value) - set(APPROVAL_DEFAULTS))
    if unknown:
        errors.append(
            f"approvalPolicy: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(APPROVAL_DEFAULTS))}."
        )
    result = default_approval_policy(mode)
    for key in APPROVAL_DEFAULTS:
        if key not in value:
            continue
        v = value[key]
        if key == "review":
            if v not in APPROVAL_REVIEW_VALUES:
                errors.append(f"approvalPolicy.review: must be one of {', '.join(APPROVAL_REVIEW_VALUES)}.")
                continue
        elif not isinstance(v, bool):
            errors.append(f"approvalPolicy.{key}: must be true or false.")
            continue
        result[key] = v
    if errors:
        raise ValidationError({"approval_policy": errors})
    return result


SESSION_FIELDS = (
    "mode", "school", "title", "description", "class_division", "grade_level", "academic_year", "term",
    "starts_at", "ends_at", "expected_count", "roster_policy", "required_fields", "approval_policy",
)
CAMEL = {
    "mode": "mode", "school": "schoolId", "title": "title", "description": "description",
    "class_division": "classDivisionId", "grade_level": "gradeLevelId", "academic_year": "academicYearId",
    "term": "termId", "starts_at": "startsAt", "ends_at": "endsAt", "expected_count": "expectedCount",
    "roster_policy": "rosterPolicy", "required_fields": "requiredFields", "approval_policy": "approvalPolicy",
    "status": "status",
}




def session_editable_fields(status: str) -> frozenset[str]:
    """What staff may change in a session of this status: a draft everything but mode and school, an open or
    paused one the seed's 'limited' fields, a closed or archived one nothing."""
    if status in (SessionStatus.CLOSED, SessionStatus.ARCHIVED):
        return frozenset()
    if status == SessionStatus.DRAFT:
        return frozenset(SESSION_FIELDS) - IMMUTABLE_FIELDS
    return EDITABLE_WHEN_LIVE


def session_edit_refusal(status: str, name: str) -> str | None:
    """Why field ``name`` cannot change in this status (``None``: it can)."""
    label = CAMEL.get(name, name)
    if name in IMMUTABLE_FIELDS:
        return f"'{label}' cannot be changed after the session is created."
    if status in (SessionStatus.CLOSED, SessionStatus.ARCHIVED):
        return f"A {status} session cannot be edited ('{label}')."
    if name not in session_editable_fields(status):
        return (
            f"'{label}' can only be changed while the session is a draft; it is {status}. "
            f"Editable now: {', '.join(CAMEL[f] for f in sorted(EDITABLE_WHEN_LIVE))}."
        )
    return None


# --- scope and placement lock -------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    grade_level: Any
    class_division: Any


def validate_session_scope(*, district, school, class_division=None, grade_level=None, academic_year=None,
                           term=None) -> Scope:
    """Check the session's placement lock and calendar; returns the grade level to store.

    A class-locked session derives its grade from the class; a different grade is refused.
    Every related object must belong to the session's school (or be district-wide) and district.
    """
    errors: dict[str, str] = {}
    if school is not None and school.district_id != district.pk:
        errors["school"] = "This school belongs to another district."
    if class_division is not None:
        if class_division.district_id != district.pk or (school is not None and class_division.school_id != school.pk):
            errors["class_division"] = "This class division does not belong to the session's school."
        elif grade_level is not None and grade_level.pk != class_division.grade_level_id:
            errors["grade_level"] = (
                f"Class {class_division.name} is in {class_division.grade_level.name}: the grade level is taken "
                "from the class division; leave it empty or use that grade."
            )
        else:
            grade_level = class_division.grade_level
    if grade_level is not None and "grade_level" not in errors and (
        grade_level.district_id != district.pk
        or (grade_level.school_id is not None and school is not None and grade_level.school_id != school.pk)
    ):
        errors["grade_level"] = "This grade level does not belong to the session's school."
    if academic_year is not None:
        if academic_year.district_id != district.pk or (
            academic_year.school_id is not None and school is not None and academic_year.school_id != school.pk
        ):
            errors["academic_year"] = "This academic year belongs to another school or district."
        elif academic_year.type != "school_year":
            errors["academic_year"] = f"'{academic_year.name}' is a {academic_year.get_type_display().lower()}, not a school year."
    if term is not None:
        if term.district_id != district.pk or (
            term.school_id is not None and school is not None and term.school_id != school.pk
        ):
            errors["term"] = "This term belongs to another school or district."
        elif term.type == "school_year":
            errors["term"] = f"'{term.name}' is a school year, not a term."
        elif academic_year is not None and "academic_year" not in errors and term.parent_id != academic_year.pk:
            errors["term"] = f"'{term.name}' is not a term of {academic_year.name}."
    if errors:
        raise ValidationError(errors)
    return Scope(grade_level=grade_level, class_division=class_division)


def enforce_placement(*, session, context, grade_level_id=None, class_division_id=None) -> Scope:
    """The placement a participant's save or submit ends up with. The session's locks always win.

    ``context`` is the session's ``SelectionContext`` (``registrations.selectors.selection_context``): the
    grades and classes of its school. An id outside it is refused; no further query is made.
    """
    if session.class_division_id:
        return Scope(grade_level=session.class_division.grade_level, class_division=session.class_division)
    grade = session.grade_level if session.grade_level_id else None
    if grade is None and grade_level_id:
        grade = context.grade_level(grade_level_id) if is_uuid(grade_level_id) else None
        if grade is None:
            raise ValidationError({"grade_level_id": "Choose a grade from the list."})
    division = None
    if class_division_id:
        division = context.class_division(class_division_id) if is_uuid(class_division_id) else None
        if division is None:
            raise ValidationError({"class_division_id": "Choose a class from the list."})
        if grade is not None and division.grade_level_id != grade.pk:
            raise ValidationError({"class_division_id": f"Class {division.name} is not in {grade.name}."})
        grade = context.checked_grade(division.grade_level_id) or division.grade_level
    return Scope(grade_level=grade, class_division=division)


# --- the participant form and its answers ---------------------------------------------------------

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
    # A placement field being checked: whether an id is offered, asked without reading every choice.
    offered: Callable[[str], bool] | None = field(default=None, repr=False, compare=False)

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
    if f.offered is not None and not f.offered(value):
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

