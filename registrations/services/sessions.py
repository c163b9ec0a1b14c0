"""Writes of registration sessions: create, edit under the seed's rules, and their lifecycle."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from registrations.choices import SESSION_TRANSITIONS, RegistrationMode, SessionStatus
from registrations.models import RegistrationSession, SessionStatusChange
from registrations.validators import (
    SESSION_FIELDS,
    default_roster_policy,
    session_edit_refusal,
    validate_approval_policy,
    validate_required_fields,
    validate_session_scope,
)
from rostering.common.transitions import transition
from rostering.permissions import Perm, require_perm


def _check_dates(starts_at, ends_at) -> None:
    if starts_at and ends_at and ends_at <= starts_at:
        raise ValidationError({"ends_at": "endsAt must be after startsAt."})


@transaction.atomic
def registration_session_create(*, actor, school, mode: str, title: str, **data: Any) -> RegistrationSession:
    """Create a draft session for ``school``. Scope, calendar and JSON settings are validated here."""
    require_perm(actor, Perm.REGISTRATIONS_MANAGE, district_id=school.district_id, school_id=school.pk)
    unknown = set(data) - set(SESSION_FIELDS)
    if unknown:
        raise ValidationError({k: "Unknown field." for k in sorted(unknown)})
    if mode not in RegistrationMode.values:
        raise ValidationError({"mode": f"Must be one of {', '.join(RegistrationMode.values)}."})
    district = school.district
    scope = validate_session_scope(
        district=district, school=school, class_division=data.get("class_division"),
        grade_level=data.get("grade_level"), academic_year=data.get("academic_year"), term=data.get("term"),
    )
    _check_dates(data.get("starts_at"), data.get("ends_at"))
    session = RegistrationSession(
        district=district,
        school=school,
        mode=mode,
        title=(title or "").strip(),
        description=data.get("description") or "",
        class_division=scope.class_division,
        grade_level=scope.grade_level,
        academic_year=data.get("academic_year"),
        term=data.get("term"),
        starts_at=data.get("starts_at"),
        ends_at=data.get("ends_at"),
        expected_count=data.get("expected_count"),
        roster_policy=data.get("roster_policy") or default_roster_policy(mode),
        required_fields=validate_required_fields(data.get("required_fields"), mode=mode),
        approval_policy=validate_approval_policy(data.get("approval_policy"), mode=mode),
        status=SessionStatus.DRAFT,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    session.full_clean()
    session.save()
    return session


@transaction.atomic
def registration_session_update(*, actor, session: RegistrationSession, data: dict[str, Any]) -> RegistrationSession:
    """Apply an edit under the seed's rules (``validators.session_editable_fields``): draft — anything but
    mode/school; open/paused — the 'limited' fields; closed/archived — nothing. A refused field is a 400
    naming it and why."""
    require_perm(actor, Perm.REGISTRATIONS_MANAGE, district_id=session.district_id, school_id=session.school_id)
    session = RegistrationSession.objects.select_for_update().select_related("school__district").get(pk=session.pk)
    errors: dict[str, str] = {}
    changed: dict[str, Any] = {}
    for name, value in data.items():
        if name not in SESSION_FIELDS:
            errors[name] = "Unknown field."
            continue
        if _same(getattr(session, name), value):
            continue
        refusal = session_edit_refusal(session.status, name)
        if refusal:
            errors[name] = refusal
        else:
            changed[name] = value
    if errors:
        raise ValidationError(errors)
    if not changed:
        return session
    if "required_fields" in changed:
        changed["required_fields"] = validate_required_fields(changed["required_fields"], mode=session.mode)
    if "approval_policy" in changed:
        changed["approval_policy"] = validate_approval_policy(changed["approval_policy"], mode=session.mode)
    if "title" in changed:
        changed["title"] = (changed["title"] or "").strip()
    if {"class_division", "grade_level", "academic_year", "term"} & set(changed):
        merged = {k: changed.get(k, getattr(session, k)) for k in ("class_division", "grade_level", "academic_year", "term")}
        if "class_division" in changed and "grade_level" not in data:
            merged["grade_level"] = None  # re-derived from the new class (or cleared with it)
        scope = validate_session_scope(district=session.district, school=session.school, **merged)
        changed["grade_level"] = scope.grade_level
        changed["class_division"] = scope.class_division
    _check_dates(changed.get("starts_at", session.starts_at), changed.get("ends_at", session.ends_at))
    for name, value in changed.items():
        setattr(session, name, value)
    session.full_clean()
    session.save(update_fields=[*changed, "updated_at"])
    return session


def _same(current, new) -> bool:
    if hasattr(current, "pk") or hasattr(new, "pk"):
        return getattr(current, "pk", current) == getattr(new, "pk", new)
    return current == new


def registration_session_transition(*, session: RegistrationSession, to: str, actor, reason: str = "") -> RegistrationSession:
    """The one place a session's status changes (the generic transition: lock, allowed check, history)."""
    require_perm(actor, Perm.REGISTRATIONS_MANAGE, district_id=session.district_id, school_id=session.school_id)
    return transition(
        obj=session, to=to, actor=actor, allowed=SESSION_TRANSITIONS, history=SessionStatusChange, reason=reason,
        noun="session",
    )
