"""Every write to registration data: sessions, their lifecycle, access codes.

Keyword-only, atomic, permission-checked. Used by the native API, the staff pages, admin and commands.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import JSONField, Q
from django.utils import timezone

from registrations.choices import (
    CODE_FORMAT_LENGTH,
    EDITABLE_WHEN_LIVE,
    IMMUTABLE_FIELDS,
    SESSION_TRANSITIONS,
    CodeFormat,
    CodeStatus,
    RegistrationMode,
    RosterPolicy,
    SessionStatus,
)
from registrations.codes import random_codes, validate_prefix
from registrations.models import AccessCode, RegistrationSession, SessionStatusChange
from registrations.validators import (
    default_approval_policy,
    default_required_fields,
    validate_approval_policy,
    validate_required_fields,
    validate_session_scope,
)
from rostering.common.errors import Conflict, InvalidTransition
from rostering.models import Enrollment, Person
from rostering.permissions import Perm, require_perm

MAX_CODES_PER_REQUEST = 100_000
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


def default_roster_policy(mode: str) -> str:
    return RosterPolicy.PRELOADED_ONLY if mode == RegistrationMode.STUDENT_VERIFICATION else RosterPolicy.OPEN_WITH_CODE


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
    """Apply an edit under the seed's rules: draft — anything but mode/school; open/paused — the
    'limited' fields; closed/archived — nothing. A refused field is a 400 naming it and why."""
    require_perm(actor, Perm.REGISTRATIONS_MANAGE, district_id=session.district_id, school_id=session.school_id)
    session = RegistrationSession.objects.select_for_update().select_related("school__district").get(pk=session.pk)
    errors: dict[str, str] = {}
    changed: dict[str, Any] = {}
    for name, value in data.items():
        if name not in SESSION_FIELDS:
            errors[name] = "Unknown field."
            continue
        current = getattr(session, name)
        if _same(current, value):
            continue
        label = CAMEL.get(name, name)
        if name in IMMUTABLE_FIELDS:
            errors[name] = f"'{label}' cannot be changed after the session is created."
        elif session.status in (SessionStatus.CLOSED, SessionStatus.ARCHIVED):
            errors[name] = f"A {session.status} session cannot be edited ('{label}')."
        elif session.status != SessionStatus.DRAFT and name not in EDITABLE_WHEN_LIVE:
            errors[name] = (
                f"'{label}' can only be changed while the session is a draft; it is {session.status}. "
                f"Editable now: {', '.join(CAMEL[f] for f in sorted(EDITABLE_WHEN_LIVE))}."
            )
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


@transaction.atomic
def registration_session_transition(*, session: RegistrationSession, to: str, actor, reason: str = "") -> RegistrationSession:
    """The one place a session's status changes: row lock, allowed-transition check, history row."""
    require_perm(actor, Perm.REGISTRATIONS_MANAGE, district_id=session.district_id, school_id=session.school_id)
    locked = RegistrationSession.objects.select_for_update().get(pk=session.pk)
    allowed = SESSION_TRANSITIONS.get(locked.status, frozenset())
    if to not in allowed:
        raise InvalidTransition(current=locked.status, target=to, allowed=allowed)
    previous = locked.status
    locked.status = to
    locked.save(update_fields=["status", "updated_at"])
    SessionStatusChange.objects.create(
        session=locked, from_status=previous, to_status=to,
        actor=actor if getattr(actor, "is_authenticated", False) else None, reason=reason or "",
    )
    return locked


# --- access codes ---------------------------------------------------------------------------------


@dataclass
class GeneratedCodes:
    print_batch_id: uuid.UUID
    codes: list[AccessCode] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def roster_people_in_scope(session: RegistrationSession):
    """The roster people a session's codes can be assigned to: its class, its grade or its school."""
    if session.mode == RegistrationMode.TEACHER_SELF_REGISTRATION:
        qs = Person.objects.filter(district_id=session.district_id, role="teacher")
        if session.class_division_id:
            qs = qs.filter(enrollments__class_division_id=session.class_division_id, enrollments__role="teacher")
        else:
            qs = qs.filter(Q(school_id=session.school_id) | Q(enrollments__class_division__school_id=session.school_id))
        return qs.distinct()
    qs = Person.objects.filter(district_id=session.district_id, role="student")
    if session.class_division_id:
        qs = qs.filter(enrollments__class_division_id=session.class_division_id, enrollments__role="student")
    elif session.grade_level_id:
        in_grade_classes = Enrollment.objects.filter(
            class_division__school_id=session.school_id, class_division__grade_level_id=session.grade_level_id,
            role="student",
        ).values("person_id")
        qs = qs.filter(Q(school_id=session.school_id, grade_level_id=session.grade_level_id) | Q(pk__in=in_grade_classes))
    else:
        qs = qs.filter(Q(school_id=session.school_id) | Q(enrollments__class_division__school_id=session.school_id))
    return qs.distinct()


def roster_snapshot(person: Person, *, enrollment=None) -> dict[str, Any]:
    """A point-in-time copy of what the roster knows about a person (used to pre-fill verification)."""
    return {
        "personId": str(person.pk),
        "given_name": person.given_name,
        "middle_name": person.middle_name,
        "family_name": person.family_name,
        "date_of_birth": person.date_of_birth.isoformat() if person.date_of_birth else "",
        "gender": person.gender,
        "phone": person.phone,
        "email": person.email,
        "student_number" if person.role == "student" else "teacher_number": person.sis_id,
        "grade_level_id": str(person.grade_level_id) if person.grade_level_id else "",
        "class_division_id": str(enrollment.class_division_id) if enrollment else "",
        "identifiers": person.identifiers,
        "takenAt": timezone.now().isoformat(),
    }


@transaction.atomic
def access_codes_generate(
    *,
    session: RegistrationSession,
    actor,
    count: int | None = None,
    prefix: str = "",
    format: str = CodeFormat.SECURE,
    expires_at: datetime | None = None,
    assign_from_class_roster: bool = False,
    include_roster_hints_on_printout: bool = False,
) -> GeneratedCodes:
    """Generate a batch of codes in one bulk operation.

    Open codes: ``count`` of them. Roster-assigned codes: one per person in the session's scope who has no
    live code in this session yet (``count``, if given, caps the batch).
    """
    require_perm(actor, Perm.REGISTRATIONS_MANAGE, district_id=session.district_id, school_id=session.school_id)
    session = RegistrationSession.objects.select_for_update().get(pk=session.pk)
    if session.status in (SessionStatus.CLOSED, SessionStatus.ARCHIVED):
        raise Conflict(f"The session is {session.status}: no more codes can be generated.", code="session_closed")
    if format not in CODE_FORMAT_LENGTH:
        raise ValidationError({"format": f"Must be one of {', '.join(CODE_FORMAT_LENGTH)}."})
    typed_prefix = prefix or ""
    try:
        prefix = validate_prefix(typed_prefix)
    except ValueError as exc:
        raise ValidationError({"prefix": str(exc)}) from None
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "expiresAt must be in the future."})
    policy = session.roster_policy
    if assign_from_class_roster and policy == RosterPolicy.OPEN_WITH_CODE:
        raise ValidationError({"assign_from_class_roster": "This session's roster policy is open_with_code: it only allows open codes."})
    if not assign_from_class_roster and policy == RosterPolicy.PRELOADED_ONLY:
        raise ValidationError({"assign_from_class_roster": "This session's roster policy is preloaded_only: codes must be assigned from the roster."})
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_CODES_PER_REQUEST):
        raise ValidationError({"count": f"Must be a whole number from 1 to {MAX_CODES_PER_REQUEST:,}."})
    if not assign_from_class_roster and count is None:
        raise ValidationError({"count": "How many codes? Give a count from 1 to 100,000."})
    if include_roster_hints_on_printout and not assign_from_class_roster:
        raise ValidationError({"include_roster_hints_on_printout": "Hints come from the roster: only for roster-assigned codes."})

    batch = uuid.uuid4()
    now = timezone.now()
    creator = actor if getattr(actor, "is_authenticated", False) else None
    common = dict(
        district_id=session.district_id, session=session, school_id=session.school_id, expires_at=expires_at,
        print_batch=batch, created_by=creator, created_at=now, prefix_length=len(prefix),
        include_hint_on_printout=include_roster_hints_on_printout,
    )
    rows: list[AccessCode] = []
    if assign_from_class_roster:
        live = AccessCode.objects.filter(session=session, assigned_person__isnull=False, revoked_at__isnull=True)
        people = (
            roster_people_in_scope(session)
            .exclude(pk__in=live.values("assigned_person_id"))
            .order_by("family_name", "given_name", "pk")
        )
        if count is not None:
            people = people[:count]
        people = list(people)
        if not people:
            raise ValidationError({"assign_from_class_roster": "Everyone in this session's scope already has a live code (or the roster is empty)."})
        enrollment_by_person = {}
        if session.class_division_id:
            enrollment_by_person = {
                e.person_id: e for e in Enrollment.objects.filter(
                    class_division_id=session.class_division_id, person__in=people
                )
            }
        for person in people:
            rows.append(AccessCode(
                assigned_person=person,
                roster_snapshot=roster_snapshot(person, enrollment=enrollment_by_person.get(person.pk)),
                display_name_hint=person.full_name,
                number_hint=person.sis_id,
                **common,
            ))
    else:
        rows = [AccessCode(**common) for _ in range(count)]

    _assign_unique_codes(rows, prefix=prefix, length=CODE_FORMAT_LENGTH[format])
    warnings = []
    if format != CodeFormat.SECURE:
        from registrations.choices import SHORT_CODE_WARNING

        warnings.append(SHORT_CODE_WARNING)
    if prefix != typed_prefix:
        warnings.append(f"The prefix '{typed_prefix}' is stored in capitals: codes start with {prefix}.")
    return GeneratedCodes(print_batch_id=batch, codes=rows, warnings=warnings)


def _assign_unique_codes(rows: list[AccessCode], *, prefix: str, length: int, batch_size: int = 5000) -> None:
    """Give every row a code no other row has, then insert them in bulk.

    With the default 50-bit codes a collision is astronomically unlikely, so we insert directly and
    retry a batch only if the unique index objects. Short formats check the candidates first.
    """
    short = length < 10
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        for _attempt in range(8):
            candidates = {prefix + c for c in random_codes(len(chunk) * (2 if short else 1), length)}
            if short:
                taken = set(AccessCode.objects.filter(code__in=candidates).values_list("code", flat=True))
                candidates -= taken
            if len(candidates) < len(chunk):
                continue
            for row, code in zip(chunk, candidates, strict=False):
                row.code = code
            try:
                with transaction.atomic():
                    _insert_codes(chunk)
                break
            except IntegrityError:
                continue
        else:
            raise Conflict(
                "Could not find enough unused codes in this format: use a longer format or a prefix.",
                code="code_space_exhausted",
            )


def _insert_codes(rows: list[AccessCode]) -> None:
    """One multi-row insert; on PostgreSQL a COPY, which skips building huge INSERT statements."""
    if connection.vendor != "postgresql":
        AccessCode.objects.bulk_create(rows, batch_size=len(rows))
        return
    from psycopg.types.json import Jsonb

    fields = AccessCode._meta.concrete_fields
    json_fields = {f.attname for f in fields if isinstance(f, JSONField)}
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(AccessCode._meta.db_table)
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row([
                Jsonb(getattr(row, f.attname)) if f.attname in json_fields else getattr(row, f.attname)
                for f in fields
            ])
    for row in rows:  # as bulk_create would leave them: saved rows
        row._state.adding = False
        row._state.db = connection.alias


@transaction.atomic
def access_code_revoke(*, code: AccessCode, actor, reason: str = "") -> AccessCode:
    """Revoke a code that has not been submitted yet. A started draft stays, but can no longer be used."""
    require_perm(actor, Perm.REGISTRATIONS_MANAGE, district_id=code.district_id, school_id=code.school_id)
    locked = AccessCode.objects.select_for_update().get(pk=code.pk)
    if locked.revoked_at is not None:
        return locked
    if locked.status not in (CodeStatus.UNUSED, CodeStatus.STARTED):
        raise Conflict(
            f"Code {locked.display_code} is already {locked.get_status_display().lower()}: only unused or "
            "started codes can be revoked.",
            code="code_in_use",
        )
    locked.revoked_at = timezone.now()
    locked.revoked_by = actor if getattr(actor, "is_authenticated", False) else None
    locked.save(update_fields=["revoked_at", "revoked_by"])
    return locked


def session_defaults(mode: str) -> dict[str, Any]:
    """What a new session of ``mode`` starts with (for forms and the API schema)."""
    return {
        "roster_policy": default_roster_policy(mode),
        "required_fields": default_required_fields(mode),
        "approval_policy": default_approval_policy(mode),
    }


def ensure_can_view(actor, session: RegistrationSession) -> None:
    from rostering.permissions import has_perm

    if not has_perm(actor, Perm.REGISTRATIONS_VIEW, district_id=session.district_id, school_id=session.school_id):
        raise PermissionDenied("Your role does not allow this.")
