"""Writes of access codes: generation (in the request, or as a background task at scale), revocation, and
the code's status, which mirrors its participant's journey (``access_code_transition``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.models import JSONField
from django.tasks import task
from django.utils import timezone

from registrations.choices import (
    CODE_FORMAT_LENGTH,
    CODE_TRANSITIONS,
    GENERATION_TRANSITIONS,
    SHORT_CODE_WARNING,
    CodeFormat,
    CodeStatus,
    GenerationStatus,
    RosterPolicy,
    SessionStatus,
)
from registrations.codes import random_codes, validate_prefix
from registrations.models import (
    AccessCode,
    AccessCodeStatusChange,
    CodeGeneration,
    CodeGenerationStatusChange,
    RegistrationSession,
)
from registrations.selectors import people_without_code
from rostering.common.errors import Conflict
from rostering.common.transitions import acting_user, record, transition
from rostering.models import Enrollment, Person
from rostering.permissions import Perm, require_perm

MAX_CODES_PER_REQUEST = 100_000


@dataclass
class GeneratedCodes:
    print_batch_id: uuid.UUID
    codes: list[AccessCode] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


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
    print_batch: uuid.UUID | None = None,
    progress: Callable[[int], None] | None = None,
) -> GeneratedCodes:
    """Generate a batch of codes in one bulk operation.

    Open codes: ``count`` of them. Roster-assigned codes: one per person in the session's scope who has no
    live code in this session yet (``count``, if given, caps the batch). All or nothing: one transaction.
    ``progress(done)`` is called after each chunk of rows is inserted (the background task reports it).
    """
    require_perm(actor, Perm.REGISTRATIONS_MANAGE, district_id=session.district_id, school_id=session.school_id)
    session = RegistrationSession.objects.select_for_update().get(pk=session.pk)
    prefix, typed_prefix = _check_options(
        session=session, count=count, prefix=prefix, format=format, expires_at=expires_at,
        assign_from_class_roster=assign_from_class_roster,
        include_roster_hints_on_printout=include_roster_hints_on_printout,
    )

    batch = print_batch or uuid.uuid4()
    now = timezone.now()
    creator = actor if getattr(actor, "is_authenticated", False) else None
    common = dict(
        district_id=session.district_id, session=session, school_id=session.school_id, expires_at=expires_at,
        print_batch=batch, created_by=creator, created_at=now, prefix_length=len(prefix),
        include_hint_on_printout=include_roster_hints_on_printout,
    )
    rows: list[AccessCode] = []
    if assign_from_class_roster:
        people = people_without_code(session).order_by("family_name", "given_name", "pk")
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

    _assign_unique_codes(rows, prefix=prefix, length=CODE_FORMAT_LENGTH[format], progress=progress)
    warnings = []
    if format != CodeFormat.SECURE:
        warnings.append(SHORT_CODE_WARNING)
    if prefix != typed_prefix:
        warnings.append(f"The prefix '{typed_prefix}' is stored in capitals: codes start with {prefix}.")
    return GeneratedCodes(print_batch_id=batch, codes=rows, warnings=warnings)



def _check_options(*, session, count, prefix, format, expires_at, assign_from_class_roster,
                   include_roster_hints_on_printout) -> tuple[str, str]:
    """Every refusal of a generation, before anything is written: returns the stored and the typed prefix."""
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
    return prefix, typed_prefix


def _assign_unique_codes(rows: list[AccessCode], *, prefix: str, length: int, batch_size: int = 5000,
                         progress: Callable[[int], None] | None = None) -> None:
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
        if progress is not None:
            progress(start + len(chunk))


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



def access_code_transition(*, code: AccessCode, to: str, actor=None, reason: str = "", locked: bool = False,
                           updates: dict[str, Any] | None = None) -> AccessCode:
    """The one place an access code's status changes (it follows its submission: ``CODE_STATUS_FOR_SUBMISSION``).
    ``locked``: the caller holds the code's row lock already (the participant and review services take it
    first, before the submission's)."""
    return transition(
        obj=code, to=to, actor=actor, allowed=CODE_TRANSITIONS, history=AccessCodeStatusChange, reason=reason,
        locked=locked, updates=updates, noun="access code",
    )


# --- generation at scale: a background task with a live progress bar ---------------------------------------

CODE_GENERATION_TASK_THRESHOLD = 5_000  # more codes than this in one batch: the task worker makes them


def access_codes_generation_size(*, session: RegistrationSession, count: int | None,
                                 assign_from_class_roster: bool) -> int:
    """How many codes a generation with these options would make (one count query for roster codes)."""
    if not assign_from_class_roster:
        return count or 0
    people = people_without_code(session).count()
    return min(people, count) if count else people


def _options_json(options: dict[str, Any]) -> dict[str, Any]:
    expires_at = options.get("expires_at")
    return {**options, "expires_at": expires_at.isoformat() if expires_at else None}


def _options_from_json(options: dict[str, Any]) -> dict[str, Any]:
    expires_at = options.get("expires_at")
    return {**options, "expires_at": datetime.fromisoformat(expires_at) if expires_at else None}


@transaction.atomic
def access_codes_generate_later(*, session: RegistrationSession, actor, **options: Any) -> CodeGeneration:
    """Queue a large generation for the task worker and return at once. Every option is checked now, so a
    refusal is immediate; the codes appear all together when the task has made them (or none, if it fails)."""
    require_perm(actor, Perm.REGISTRATIONS_MANAGE, district_id=session.district_id, school_id=session.school_id)
    session = RegistrationSession.objects.select_for_update().get(pk=session.pk)
    check = {k: options.get(k) for k in ("count", "prefix", "format", "expires_at", "assign_from_class_roster",
                                         "include_roster_hints_on_printout")}
    check["format"] = check["format"] or CodeFormat.SECURE
    check["prefix"] = check["prefix"] or ""
    check["assign_from_class_roster"] = bool(check["assign_from_class_roster"])
    check["include_roster_hints_on_printout"] = bool(check["include_roster_hints_on_printout"])
    _check_options(session=session, **check)
    generation = CodeGeneration(
        district_id=session.district_id, session=session, options=_options_json(check), created_by=acting_user(actor),
        total=access_codes_generation_size(session=session, count=check["count"],
                                           assign_from_class_roster=check["assign_from_class_roster"]),
    )
    generation.full_clean()
    generation.save()
    record(CodeGenerationStatusChange, obj=generation, from_status="", to_status=GenerationStatus.QUEUED, actor=actor)
    transaction.on_commit(lambda: generate_access_codes.enqueue(generation_id=str(generation.pk)))
    return generation


def _generation_transition(generation: CodeGeneration, to: str, **updates: Any) -> CodeGeneration:
    with transaction.atomic():
        return transition(obj=generation, to=to, actor=generation.created_by, allowed=GENERATION_TRANSITIONS,
                          history=CodeGenerationStatusChange, updates=updates, noun="code generation",
                          reason=updates.get("error", ""))


class _ProgressWriter:
    """Writes ``done`` on its own connection, so the page sees it while the codes' transaction is still open.
    SQLite allows one writer at a time: there the bar jumps from 0 to 100 %."""

    def __init__(self, generation_id):
        self.generation_id = generation_id
        self.side = connections.create_connection(DEFAULT_DB_ALIAS) if connection.vendor == "postgresql" else None

    def __call__(self, done: int) -> None:
        if self.side is None:
            return
        table = connection.ops.quote_name(CodeGeneration._meta.db_table)
        with self.side.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET done = %s WHERE id = %s", [done, self.generation_id])

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


def code_generation_run(*, generation_id) -> CodeGeneration:
    """The task's body: make the codes of a queued generation in one transaction, reporting progress."""
    generation = CodeGeneration.objects.select_related("session", "created_by").get(pk=generation_id)
    if generation.status != GenerationStatus.QUEUED:
        return generation  # run already (a task delivered twice)
    generation = _generation_transition(generation, GenerationStatus.RUNNING)
    writer = _ProgressWriter(generation.pk)
    try:
        result = access_codes_generate(
            session=generation.session, actor=generation.created_by, print_batch=generation.print_batch,
            progress=writer, **_options_from_json(generation.options),
        )
    except Exception as exc:  # whatever went wrong, the generation says so, and no code of it is left
        message = getattr(exc, "message", None) or "; ".join(getattr(exc, "messages", [])) or str(exc)
        return _generation_transition(generation, GenerationStatus.FAILED, error=message[:2000] or type(exc).__name__)
    finally:
        writer.close()
    return _generation_transition(generation, GenerationStatus.COMPLETED, done=len(result.codes),
                                  total=len(result.codes), warnings=result.warnings)


@task
def generate_access_codes(*, generation_id: str) -> None:
    """The background task (declared beside the service it runs, so neither imports the other in a circle)."""
    code_generation_run(generation_id=generation_id)
