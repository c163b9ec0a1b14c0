"""Every write of session set-up: the setup itself (the seed's resource), the academic-year wizard and the
exam-session wizard.

Keyword-only, ``@transaction.atomic``, ``full_clean()`` before saving; the API, the staff pages, admin, the
background task and the demo seed all call these. Status and step change in one place,
``session_setup_transition``, which locks the row, checks ``ALLOWED_TRANSITIONS`` and writes a history row.
Roster writes go through ``rostering.services``, exam sessions and activities through ``assessments.services``.
"""

from __future__ import annotations

import contextlib
import datetime
import itertools
import logging
import re
from collections import defaultdict
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Count, Q
from django.tasks import task
from django.utils import timezone

from assessments.models import Activity, ExamSession
from assessments.services import (
    activity_create,
    activity_remove,
    exam_session_create,
    exam_session_set_published,
    exam_session_update,
)
from rostering.choices import EnrollmentRole, SessionState, SessionType
from rostering.common.errors import Conflict, InvalidTransition
from rostering.models import AcademicSession, ClassDivision, District, Enrollment, GradeLevel, School, Subject
from rostering.permissions import Perm, grants_for, has_perm
from rostering.services import (
    academic_session_set_state,
    enrollments_roll_back,
    enrollments_roll_forward,
    roster_object_create,
    roster_object_delete,
    roster_object_update,
)
from session_setup.choices import (
    ACTIONS_WITH_DESTINATION,
    ALLOWED_TRANSITIONS,
    ExecutionStatus,
    PromotionAction,
    SetupSessionType,
    SetupStatus,
    last_step,
)
from session_setup.models import (
    ExamSlot,
    PromotionExecution,
    PromotionHistory,
    SessionSetup,
    SessionSetupStatusChange,
    StudentPromotion,
)

log = logging.getLogger(__name__)

ACADEMIC = SetupSessionType.ACADEMIC_SESSION
EXAM = SetupSessionType.EXAM_SESSION

# Messages (tests assert on them).
ACADEMIC_NAMES_NO_EXAM = "An academic-session setup names no exam session: leave exam_session empty."
ACADEMIC_NEEDS_YEAR = "An academic-session setup names a school year: pick a session of type school_year."
EXAM_YEAR_MISMATCH = (
    "The academic session must be the exam session's own ({year}); leave academic_session empty or send {year_id}."
)
COMPLETED_NEEDS_REOPEN = (
    "This setup is completed. Reopen it first (POST …/reopen/ or Reopen on its page); a reopen is recorded."
)
SESSION_NEEDED = "Name the {what} first: steps after the first need it."
TYPE_FIXED = "The kind of setup cannot change once it has started; create another setup instead."


def _manage_allowed(actor, *, district_id, school_id, unnamed: bool = False) -> bool:
    if has_perm(actor, Perm.SETUP_MANAGE, district_id=district_id, school_id=school_id):
        return True
    if unnamed and actor is not None and actor.is_authenticated:
        # A setup that names no session yet belongs to no school: any setup manager of the district may hold it.
        return any(g.district_id == district_id and g.role in ("district_admin", "school_admin") for g in grants_for(actor))
    return False


def require_manage(actor, setup: SessionSetup) -> None:
    unnamed = setup.academic_session_id is None and setup.exam_session_id is None
    if not _manage_allowed(actor, district_id=setup.district_id, school_id=setup.school_id, unnamed=unnamed):
        if setup.school_id is None and not unnamed:
            raise PermissionDenied("A district-wide setup is run by a district admin.")
        raise PermissionDenied("Only school admins and district admins set up sessions.")


def can_manage(actor, setup: SessionSetup) -> bool:
    try:
        require_manage(actor, setup)
    except PermissionDenied:
        return False
    return True


# --- Rules shared by the API, the pages and the wizards ----------------------------------------------------


def _scope(
    *, district_id, session_type: str, academic_session: AcademicSession | None, exam_session: ExamSession | None
):
    """Check the setup's session rules; returns the school the setup belongs to (``None``: district-wide)."""
    errors: dict[str, str] = {}
    if session_type == ACADEMIC:
        if exam_session is not None:
            errors["exam_session"] = ACADEMIC_NAMES_NO_EXAM
        if academic_session is not None:
            if academic_session.district_id != district_id:
                errors["academic_session"] = "This academic session belongs to another district."
            elif academic_session.type != SessionType.SCHOOL_YEAR:
                errors["academic_session"] = ACADEMIC_NEEDS_YEAR
        if errors:
            raise ValidationError(errors)
        return academic_session.school_id if academic_session else None
    if exam_session is not None:
        if exam_session.district_id != district_id:
            errors["exam_session"] = "This exam session belongs to another district."
        elif academic_session is not None and academic_session.pk != exam_session.academic_session_id:
            errors["academic_session"] = EXAM_YEAR_MISMATCH.format(
                year=exam_session.academic_session.name, year_id=exam_session.academic_session_id
            )
    elif academic_session is not None and academic_session.district_id != district_id:
        errors["academic_session"] = "This academic session belongs to another district."
    if errors:
        raise ValidationError(errors)
    if exam_session is not None:
        return exam_session.school_id
    return academic_session.school_id if academic_session else None


def _check_one_open(*, setup_pk, session_type, academic_session, exam_session) -> None:
    """At most one unfinished setup per academic session (academic setups) or exam session (exam setups)."""
    qs = SessionSetup.objects.exclude(status=SetupStatus.COMPLETED).exclude(pk=setup_pk)
    if session_type == ACADEMIC and academic_session is not None:
        other = qs.filter(session_type=ACADEMIC, academic_session=academic_session).first()
        what = f"academic session {academic_session.name}"
    elif session_type == EXAM and exam_session is not None:
        other = qs.filter(exam_session=exam_session).first()
        what = f"exam session {exam_session.name}"
    else:
        return
    if other is not None:
        raise Conflict(
            f"A setup of {what} is already in progress ({other.pk}, {other.get_status_display().lower()}, "
            f"step {other.current_step}): resume that one, or finish or delete it first.",
            code="setup_in_progress",
            extra={"existing": str(other.pk)},
        )


def _progress(*, session_type: str, current_status: str, current_step: int, status=None, step=None) -> tuple[str, int]:
    """The (status, current_step) a request asks for, with whichever one it left out derived from the other.
    ``not_started`` ⇔ -1; ``pending`` ⇔ a step index; ``completed`` ⇔ the last step."""
    last = last_step(session_type)
    if status is None and step is None:
        return current_status, current_step
    if step is not None and not (-1 <= step <= last):
        raise ValidationError({"current_step": f"current_step is -1 (not started) or a step from 0 to {last}."})
    if status is None:
        if current_status == SetupStatus.COMPLETED and step == last:
            return current_status, step
        status = SetupStatus.NOT_STARTED if step == -1 else SetupStatus.PENDING
    if step is None:
        if status == current_status:
            step = current_step
        else:
            step = {SetupStatus.NOT_STARTED: -1, SetupStatus.PENDING: max(current_step, 0), SetupStatus.COMPLETED: last}[status]
    if status == SetupStatus.NOT_STARTED and step != -1:
        raise ValidationError({"current_step": "A setup that has not started is at step -1."})
    if status == SetupStatus.PENDING and step < 0:
        raise ValidationError({"current_step": f"A pending setup is at a step from 0 to {last}."})
    if status == SetupStatus.COMPLETED and step != last:
        raise ValidationError({"current_step": f"A completed setup has done its last step ({last})."})
    return status, step


def _check_can_complete(setup: SessionSetup) -> None:
    if setup.session_type == ACADEMIC:
        done = setup.executions.filter(status=ExecutionStatus.DONE).exists()
        if not done:
            raise Conflict(
                "The promotions have not been executed yet: execute them on the review step (step 4) first.",
                code="not_executed",
            )
    else:
        if setup.exam_session_id is None or not ExamSession.objects.get(pk=setup.exam_session_id).is_published:
            raise Conflict("The exam session is not published yet: publish it on the review step (step 3) first.",
                           code="not_published")


def _check_step_needs(setup: SessionSetup, step: int) -> None:
    if step >= 1:
        if setup.session_type == ACADEMIC and setup.academic_session_id is None:
            raise ValidationError({"academic_session": SESSION_NEEDED.format(what="school year (academic_session)")})
        if setup.session_type == EXAM and setup.exam_session_id is None:
            raise ValidationError({"exam_session": SESSION_NEEDED.format(what="exam session (exam_session)")})


@transaction.atomic
def session_setup_transition(
    *, setup: SessionSetup, to: str, step: int, actor, reason: str = "", allow_reopen: bool = False
) -> SessionSetup:
    """The one place a setup's status or step changes: row lock, allowed transitions, a history row."""
    locked = SessionSetup.objects.select_for_update().get(pk=setup.pk)
    frm, frm_step = locked.status, locked.current_step
    to, step = _progress(session_type=locked.session_type, current_status=frm, current_step=frm_step, status=to, step=step)
    if (frm, frm_step) == (to, step):
        return locked
    if frm == SetupStatus.COMPLETED and not allow_reopen:
        raise Conflict(COMPLETED_NEEDS_REOPEN, code="completed",
                       extra={"currentStatus": frm, "allowedTargets": []})
    if to != frm and to not in ALLOWED_TRANSITIONS[frm]:
        raise InvalidTransition(current=frm, target=to, allowed=ALLOWED_TRANSITIONS[frm], noun="setup")
    _check_step_needs(locked, step)
    if to == SetupStatus.COMPLETED:
        _check_can_complete(locked)
    locked.status, locked.current_step = to, step
    locked.save(update_fields=["status", "current_step", "updated_at"])
    SessionSetupStatusChange.objects.create(
        district_id=locked.district_id, setup=locked, from_status=frm, to_status=to, from_step=frm_step, to_step=step,
        actor=actor if getattr(actor, "is_authenticated", False) else None, reason=reason[:300],
    )
    setup.status, setup.current_step, setup.updated_at = locked.status, locked.current_step, locked.updated_at
    return locked


@transaction.atomic
def session_setup_reopen(*, setup: SessionSetup, actor, reason: str = "") -> SessionSetup:
    """Move a completed setup back to pending at its last step (recorded). Undoing promotions also reopens."""
    require_manage(actor, setup)
    if setup.status != SetupStatus.COMPLETED:
        raise Conflict(f"Only a completed setup is reopened; this one is {setup.get_status_display().lower()}.",
                       code="not_completed")
    _check_one_open(setup_pk=setup.pk, session_type=setup.session_type, academic_session=setup.academic_session,
                    exam_session=setup.exam_session)
    return session_setup_transition(setup=setup, to=SetupStatus.PENDING, step=setup.last_step, actor=actor,
                                    reason=reason or "Reopened.", allow_reopen=True)


def _district_for(actor, academic_session, exam_session) -> District:
    for obj in (exam_session, academic_session):
        if obj is not None:
            return obj.district
    ids = {g.district_id for g in grants_for(actor) if g.role in ("district_admin", "school_admin")}
    if len(ids) == 1:
        return District.objects.get(pk=ids.pop())
    if actor is not None and actor.is_superuser and District.objects.count() == 1:
        return District.objects.get()
    raise ValidationError({"academic_session": "Name an academic or exam session: it says which district is set up."})


def _save(setup: SessionSetup, **kwargs) -> None:
    setup.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            setup.save(**kwargs)
    except IntegrityError as exc:  # a concurrent setup of the same session got there first
        _check_one_open(setup_pk=setup.pk, session_type=setup.session_type, academic_session=setup.academic_session,
                        exam_session=setup.exam_session)
        raise Conflict("Another setup of this session was saved at the same time; reload and try again.") from exc


@transaction.atomic
def session_setup_create(
    *, actor, session_type: str, academic_session: AcademicSession | None = None,
    exam_session: ExamSession | None = None, status: str | None = None, current_step: int | None = None,
    district: District | None = None, source_session: AcademicSession | None = None,
) -> SessionSetup:
    if session_type not in SetupSessionType.values:
        raise ValidationError({"session_type": f'"{session_type}" is not a valid choice.'})
    district = district or _district_for(actor, academic_session, exam_session)
    school_id = _scope(district_id=district.pk, session_type=session_type, academic_session=academic_session,
                       exam_session=exam_session)
    if exam_session is not None and academic_session is None:
        academic_session = exam_session.academic_session
    setup = SessionSetup(
        district=district, session_type=session_type, academic_session=academic_session, exam_session=exam_session,
        school_id=school_id, source_session=source_session,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    require_manage(actor, setup)
    _check_one_open(setup_pk=None, session_type=session_type, academic_session=academic_session, exam_session=exam_session)
    want_status, want_step = _progress(session_type=session_type, current_status=SetupStatus.NOT_STARTED,
                                       current_step=-1, status=status, step=current_step)
    _save(setup)
    SessionSetupStatusChange.objects.create(
        district=district, setup=setup, from_status=SetupStatus.NOT_STARTED, to_status=SetupStatus.NOT_STARTED,
        from_step=-1, to_step=-1, actor=setup.created_by, reason="Created.",
    )
    if (want_status, want_step) != (SetupStatus.NOT_STARTED, -1):
        session_setup_transition(setup=setup, to=want_status, step=want_step, actor=actor, reason="Set on creation.")
    return setup


_UNSET = object()


@transaction.atomic
def session_setup_update(*, actor, setup: SessionSetup, data: dict) -> SessionSetup:
    """Change what the seed lets a client change: ``session_type``, ``academic_session``, ``exam_session``,
    ``status``, ``current_step`` (absent keys stay as they are)."""
    require_manage(actor, setup)
    locked = SessionSetup.objects.select_for_update(of=("self",)).select_related("academic_session", "exam_session").get(
        pk=setup.pk)
    session_type = data.get("session_type", locked.session_type)
    academic = data.get("academic_session", locked.academic_session)
    exam = data.get("exam_session", locked.exam_session)
    status, step = data.get("status"), data.get("current_step")
    touches_sessions = (
        session_type != locked.session_type or getattr(academic, "pk", None) != locked.academic_session_id
        or getattr(exam, "pk", None) != locked.exam_session_id
    )
    if locked.status == SetupStatus.COMPLETED and (
        touches_sessions or ((status, step) != (None, None)
        and _progress(session_type=locked.session_type, current_status=locked.status,
                      current_step=locked.current_step, status=status, step=step) != (locked.status, locked.current_step))
    ):
        raise Conflict(COMPLETED_NEEDS_REOPEN, code="completed", extra={"currentStatus": locked.status, "allowedTargets": []})
    if session_type != locked.session_type and (locked.status != SetupStatus.NOT_STARTED or locked.promotions.exists()):
        raise ValidationError({"session_type": TYPE_FIXED})
    if touches_sessions:
        if session_type == EXAM and exam is not None and "academic_session" not in data:
            academic = exam.academic_session if academic is None or academic.pk != exam.academic_session_id else academic
        if session_type == ACADEMIC and "exam_session" not in data and locked.session_type != ACADEMIC:
            exam = None
        school_id = _scope(district_id=locked.district_id, session_type=session_type, academic_session=academic,
                           exam_session=exam)
        if exam is not None and academic is None:
            academic = exam.academic_session
        if locked.status != SetupStatus.NOT_STARTED and (
            (locked.session_type == ACADEMIC and getattr(academic, "pk", None) != locked.academic_session_id
             and locked.current_step >= 1)
            or (locked.session_type == EXAM and getattr(exam, "pk", None) != locked.exam_session_id
                and locked.current_step >= 1)
        ):
            raise ValidationError({"academic_session" if session_type == ACADEMIC else "exam_session":
                                   "The wizard has already worked on this session; it cannot be swapped now."})
        locked.session_type, locked.academic_session, locked.exam_session = session_type, academic, exam
        locked.school_id = school_id
        require_manage(actor, locked)
        _check_one_open(setup_pk=locked.pk, session_type=session_type, academic_session=academic, exam_session=exam)
        _save(locked, update_fields=["session_type", "academic_session", "exam_session", "school", "updated_at"])
    if (status, step) != (None, None):
        session_setup_transition(setup=locked, to=status, step=step, actor=actor, reason="Changed through the API.")
    locked.refresh_from_db()
    return locked


@transaction.atomic
def session_setup_delete(*, actor, setup: SessionSetup) -> None:
    require_manage(actor, setup)
    if setup.status == SetupStatus.COMPLETED:
        raise Conflict("A completed setup is a record of what was done; reopen it before deleting it.", code="completed")
    if PromotionHistory.objects.filter(setup=setup).exists():
        raise Conflict("This setup has promotion history (an execution that was undone); it is kept as a record.",
                       code="has_history")
    setup.delete()


# --- Academic-year wizard -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TermSpec:
    name: str
    start_date: datetime.date
    end_date: datetime.date


def school_years_in_scope(*, district_id, school_id):
    qs = AcademicSession.objects.filter(district_id=district_id, type=SessionType.SCHOOL_YEAR)
    return qs.filter(Q(school__isnull=True) | Q(school_id=school_id)) if school_id else qs.filter(school__isnull=True)


def previous_year(*, district_id, school_id, before: AcademicSession):
    return (
        school_years_in_scope(district_id=district_id, school_id=school_id)
        .filter(start_date__lt=before.start_date).exclude(pk=before.pk).order_by("-start_date").first()
    )


def default_terms(start: datetime.date, end: datetime.date, count: int = 3) -> list[TermSpec]:
    """``count`` terms splitting the year evenly, with a short break between them."""
    days = (end - start).days + 1
    gap = 14 if days > 120 else 0
    length = (days - gap * (count - 1)) // count
    terms, cursor = [], start
    for n in range(count):
        finish = end if n == count - 1 else cursor + datetime.timedelta(days=length - 1)
        terms.append(TermSpec(f"Term {n + 1}", cursor, finish))
        cursor = finish + datetime.timedelta(days=gap + 1)
    return terms


@transaction.atomic
def academic_year_save(
    *, actor, setup: SessionSetup | None = None, district: District | None = None, school: School | None = None,
    year: AcademicSession | None = None, name: str = "", start_date=None, end_date=None,
    source_session: AcademicSession | None = None,
) -> SessionSetup:
    """Step 0: name the year (an existing school year, or a new one created with its name and dates) and the
    year it rolls over from. Creates the setup when there is none yet; moves it to step 1."""
    if setup is not None:
        district, school = setup.district, setup.school
        require_manage(actor, setup)
    if year is None and setup is not None and setup.academic_session_id:
        year = setup.academic_session
    if year is None:
        data = {"name": (name or "").strip(), "type": SessionType.SCHOOL_YEAR, "school": school,
                "start_date": start_date, "end_date": end_date, "state": SessionState.UPCOMING}
        if not has_perm(actor, Perm.SETUP_MANAGE, district_id=district.pk, school_id=getattr(school, "pk", None)):
            raise PermissionDenied("Only school admins and district admins set up sessions.")
        duplicate = school_years_in_scope(district_id=district.pk, school_id=getattr(school, "pk", None)).filter(
            name__iexact=data["name"]).first()
        if duplicate is not None:
            raise ValidationError({"name": f"A school year named {duplicate.name} already exists: pick it instead."})
        year = roster_object_create(actor=actor, model=AcademicSession, district=district, data=data)
    else:
        changes = {k: v for k, v in (("name", (name or "").strip()), ("start_date", start_date),
                                      ("end_date", end_date)) if v}
        if changes:
            year = roster_object_update(actor=actor, obj=year, data=changes)
            outside = year.children.filter(Q(start_date__lt=year.start_date) | Q(end_date__gt=year.end_date))
            if outside.exists():
                raise ValidationError({"start_date": "Its terms would lie outside the year: change the terms first."})
    if source_session is None:
        source_session = previous_year(district_id=year.district_id, school_id=year.school_id, before=year)
    if source_session is not None:
        if source_session.pk == year.pk or source_session.start_date >= year.start_date:
            raise ValidationError({"source_session": "Roll over from a year that starts before the new one."})
        if source_session.district_id != year.district_id or source_session.type != SessionType.SCHOOL_YEAR:
            raise ValidationError({"source_session": "Roll over from a school year of the same district."})
    if setup is None:
        setup = session_setup_create(actor=actor, session_type=ACADEMIC, academic_session=year, district=year.district,
                                     source_session=source_session)
    else:
        if setup.academic_session_id != year.pk:
            setup = session_setup_update(actor=actor, setup=setup, data={"academic_session": year})
        if setup.source_session_id != getattr(source_session, "pk", None):
            if setup.promotions.exists():
                setup.promotions.all().delete()  # decisions were about the other year's classes
            setup.source_session = source_session
            setup.save(update_fields=["source_session", "updated_at"])
    _advance(setup, actor, 1)
    return setup


def _advance(setup: SessionSetup, actor, step: int) -> None:
    """Move to ``step`` unless the setup is already further (going back and forth keeps the furthest step)."""
    if setup.status == SetupStatus.COMPLETED:
        return
    if setup.current_step < step:
        session_setup_transition(setup=setup, to=SetupStatus.PENDING, step=step, actor=actor)


@transaction.atomic
def session_setup_go_to(*, actor, setup: SessionSetup, step: int) -> SessionSetup:
    """Resume at ``step`` (the wizard's Back button and step indicator): recorded as the current step."""
    require_manage(actor, setup)
    if setup.status == SetupStatus.COMPLETED:
        return setup
    if not (0 <= step <= setup.current_step):
        raise ValidationError({"current_step": f"Go to a step you have reached (0 to {setup.current_step})."})
    return session_setup_transition(setup=setup, to=SetupStatus.PENDING, step=step, actor=actor)


def _require_step_open(setup: SessionSetup, actor) -> None:
    require_manage(actor, setup)
    if setup.status == SetupStatus.COMPLETED:
        raise Conflict(COMPLETED_NEEDS_REOPEN, code="completed")


@transaction.atomic
def academic_terms_save(*, actor, setup: SessionSetup, terms: list[TermSpec]) -> list[AcademicSession]:
    """Step 1: the year's terms (named and dated, inside the year, no overlaps). Existing terms are updated in
    order, missing ones created, extra ones removed."""
    _require_step_open(setup, actor)
    year = setup.academic_session
    errors = []
    if not terms:
        raise ValidationError({"terms": "A year has at least one term."})
    names = [t.name.strip().lower() for t in terms]
    for n, t in enumerate(terms, 1):
        if not t.name.strip():
            errors.append(f"Term {n}: give it a name.")
        if t.end_date <= t.start_date:
            errors.append(f"{t.name or f'Term {n}'}: it must end after it starts.")
        if t.start_date < year.start_date or t.end_date > year.end_date:
            errors.append(f"{t.name or f'Term {n}'}: it must lie inside {year.name} "
                          f"({year.start_date:%d %b %Y} – {year.end_date:%d %b %Y}).")
        if names.count(t.name.strip().lower()) > 1 and names.index(t.name.strip().lower()) != n - 1:
            errors.append(f"{t.name}: two terms have this name.")
    ordered = sorted(terms, key=lambda t: t.start_date)
    for a, b in itertools.pairwise(ordered):
        if b.start_date <= a.end_date:
            errors.append(f"{a.name} and {b.name} overlap: a term starts after the previous one ends.")
    if errors:
        raise ValidationError({"terms": errors})
    existing = list(year.children.filter(type=SessionType.TERM).order_by("start_date"))
    saved = []
    # Free the names first, so that renaming "Term 1" ↔ "Term 2" never clashes on the way.
    for spec, term in zip(ordered, existing, strict=False):
        saved.append(roster_object_update(actor=actor, obj=term, data={
            "name": spec.name.strip(), "start_date": spec.start_date, "end_date": spec.end_date}))
    for spec in ordered[len(existing):]:
        saved.append(roster_object_create(actor=actor, model=AcademicSession, district=year.district, data={
            "name": spec.name.strip(), "type": SessionType.TERM, "parent": year, "school": year.school,
            "start_date": spec.start_date, "end_date": spec.end_date, "state": SessionState.UPCOMING}))
    for term in existing[len(ordered):]:
        roster_object_delete(actor=actor, obj=term)
    _advance(setup, actor, 2)
    return saved


def scope_schools(setup: SessionSetup):
    qs = School.objects.filter(district_id=setup.district_id)
    return qs.filter(pk=setup.school_id) if setup.school_id else qs


def source_classes(setup: SessionSetup):
    if setup.source_session_id is None:
        return ClassDivision.objects.none()
    return (ClassDivision.objects.filter(district_id=setup.district_id, academic_session_id=setup.source_session_id,
                                         school__in=scope_schools(setup))
            .select_related("grade_level", "school").order_by("school__name", "grade_level__rank", "name"))


def new_classes(setup: SessionSetup):
    return (ClassDivision.objects.filter(district_id=setup.district_id, academic_session_id=setup.academic_session_id,
                                         school__in=scope_schools(setup))
            .select_related("grade_level", "school").order_by("school__name", "grade_level__rank", "name"))


@transaction.atomic
def academic_classes_carry_over(*, actor, setup: SessionSetup) -> int:
    """Step 2 starts from last year's classes: each gets a class of the same name and grade in the new year
    (unless there is one), with its teachers. Safe to run again. Returns how many were created."""
    _require_step_open(setup, actor)
    have = {(c.school_id, c.name) for c in new_classes(setup)}
    created = 0
    sources = [cls for cls in source_classes(setup) if (cls.school_id, cls.name) not in have]
    teachers = defaultdict(list)
    for enrollment in Enrollment.objects.filter(class_division__in=sources, role=EnrollmentRole.TEACHER,
                                                end_date__isnull=True).select_related("person", "subject"):
        teachers[enrollment.class_division_id].append(enrollment)
    year = setup.academic_session
    for cls in sources:
        new = roster_object_create(actor=actor, model=ClassDivision, district=setup.district, data={
            "school": cls.school, "grade_level": cls.grade_level, "academic_session": year,
            "name": cls.name, "capacity": cls.capacity})
        for enrollment in teachers[cls.pk]:  # the class keeps its class teacher and subject teachers
            roster_object_create(actor=actor, model=Enrollment, district=setup.district, data={
                "person": enrollment.person, "class_division": new, "role": EnrollmentRole.TEACHER,
                "subject": enrollment.subject, "primary": enrollment.primary, "academic_session": year,
                "start_date": year.start_date})
        created += 1
    data = dict(setup.data)
    data["classes_carried_over"] = True
    setup.data = data
    setup.save(update_fields=["data", "updated_at"])
    return created


@dataclass
class ClassRow:
    pk: object
    name: str
    grade_level: GradeLevel | None
    capacity: int | None
    delete: bool = False
    school: School | None = None


@transaction.atomic
def academic_classes_save(*, actor, setup: SessionSetup, rows: list[ClassRow]) -> None:
    """Step 2: rename, regrade, resize, remove or add the new year's classes; then go to the promotions."""
    _require_step_open(setup, actor)
    current = {c.pk: c for c in new_classes(setup)}
    errors = []
    for row in rows:
        try:
            if row.pk:
                cls = current.get(row.pk)
                if cls is None:
                    raise ValidationError("This class is not one of the new year's classes.")
                if row.delete:
                    if Enrollment.objects.filter(class_division=cls, role=EnrollmentRole.STUDENT).exists():
                        raise ValidationError(f"{cls.name} already has students; move them before removing it.")
                    StudentPromotion.objects.filter(setup=setup, destination_class=cls).update(destination_class=None)
                    roster_object_delete(actor=actor, obj=cls)
                    continue
                roster_object_update(actor=actor, obj=cls, data={
                    "name": row.name.strip(), "grade_level": row.grade_level, "capacity": row.capacity})
            elif row.name.strip() and not row.delete:
                school = row.school or setup.school
                if school is None:
                    raise ValidationError("Choose the school of the new class.")
                roster_object_create(actor=actor, model=ClassDivision, district=setup.district, data={
                    "school": school, "grade_level": row.grade_level, "academic_session": setup.academic_session,
                    "name": row.name.strip(), "capacity": row.capacity})
        except ValidationError as exc:
            label = row.name or "New class"
            errors.extend(f"{label}: {m}" for m in exc.messages)
    if errors:
        raise ValidationError({"classes": errors})
    if not new_classes(setup).exists():
        raise ValidationError({"classes": ["The new year needs at least one class."]})
    _advance(setup, actor, 3)


@transaction.atomic
def academic_grades_rename(*, actor, setup: SessionSetup, names: dict) -> int:
    """Step 2: the display names of the grade levels the new year's classes use ("Form 1", "Grade 6").
    ``names`` maps a grade level to its new name; returns how many changed."""
    _require_step_open(setup, actor)
    used = {c.grade_level_id for c in new_classes(setup)}
    changed, errors = 0, []
    for grade, name in names.items():
        name = (name or "").strip()
        if grade.pk not in used or grade.district_id != setup.district_id:
            errors.append(f"{grade.name}: not a grade level of the new year's classes.")
            continue
        if not name:
            errors.append(f"{grade.name}: give it a name.")
            continue
        if name == grade.name:
            continue
        try:
            roster_object_update(actor=actor, obj=grade, data={"name": name})
        except PermissionDenied:
            errors.append(f"{grade.name}: a district-wide grade level is renamed by a district admin.")
            continue
        changed += 1
    if errors:
        raise ValidationError({"grade_levels": errors})
    return changed


# Promotions -----------------------------------------------------------------------------------------------------

_STREAM = re.compile(r"\s+")


def _stream(cls: ClassDivision) -> str:
    """ "Form 1A" in "Form 1" → "A"; "6 Blue" in "Grade 6" → "Blue"; else the whole name."""
    grade = cls.grade_level.name
    if cls.name.lower().startswith(grade.lower()):
        return _STREAM.sub(" ", cls.name[len(grade):]).strip()
    m = re.match(r"^\s*\d+\s*(.*)$", cls.name)
    return (m.group(1) if m else cls.name).strip()


class Destinations:
    """Where each of last year's classes goes by default: the next grade's matching class (promote), the same
    grade's matching class (repeat); the final grade of a school graduates."""

    def __init__(self, setup: SessionSetup):
        self.by_school_grade: dict[tuple, list[ClassDivision]] = defaultdict(list)
        self.new_classes = list(new_classes(setup))
        for cls in self.new_classes:
            self.by_school_grade[cls.school_id, cls.grade_level_id].append(cls)
        self.ranks: dict = defaultdict(list)  # school → [(rank, grade_id)]
        for (school_id, grade_id), classes in self.by_school_grade.items():
            self.ranks[school_id].append((classes[0].grade_level.rank, grade_id))
        for school_id in self.ranks:
            self.ranks[school_id].sort(key=lambda rg: (rg[0], str(rg[1])))
        self.by_id = {c.pk: c for c in self.new_classes}

    def _match(self, source: ClassDivision, classes: list[ClassDivision]) -> ClassDivision | None:
        if not classes:
            return None
        stream = _stream(source).lower()
        for cls in classes:
            if _stream(cls).lower() == stream:
                return cls
        return classes[0]

    def next_grade(self, source: ClassDivision):
        for rank, grade_id in self.ranks.get(source.school_id, []):
            if rank > source.grade_level.rank:
                return grade_id
        return None

    def promote(self, source: ClassDivision) -> ClassDivision | None:
        grade = self.next_grade(source)
        return self._match(source, self.by_school_grade.get((source.school_id, grade), [])) if grade else None

    def repeat(self, source: ClassDivision) -> ClassDivision | None:
        return self._match(source, self.by_school_grade.get((source.school_id, source.grade_level_id), []))

    def default(self, source: ClassDivision) -> tuple[str, ClassDivision | None]:
        target = self.promote(source)
        if target is not None:
            return PromotionAction.PROMOTE, target
        if self.next_grade(source) is None:
            return PromotionAction.GRADUATE, None
        return PromotionAction.PENDING, None

    def for_action(self, source: ClassDivision, action: str) -> ClassDivision | None:
        if action == PromotionAction.PROMOTE:
            return self.promote(source)
        if action == PromotionAction.REPEAT:
            return self.repeat(source)
        return None

    def choices(self, source: ClassDivision) -> list[ClassDivision]:
        return [c for c in self.new_classes if c.school_id == source.school_id]


def _student_enrollments(classes):
    return Enrollment.objects.filter(class_division__in=classes, role=EnrollmentRole.STUDENT, end_date__isnull=True)


@transaction.atomic
def promotions_prepare(*, actor, setup: SessionSetup) -> int:
    """Step 3 starts with a decision per student of last year's classes: the defaults (promote into the next
    grade's matching class; graduate from the final grade). Students already decided keep their decision.
    One query per class to read, one bulk insert. Returns how many decisions were added."""
    _require_step_open(setup, actor)
    dest = Destinations(setup)
    classes = list(source_classes(setup))
    have = set(StudentPromotion.objects.filter(setup=setup).values_list("student_id", flat=True))
    rows = []
    by_id = {c.pk: c for c in classes}
    for enrollment_id, person_id, class_id in _student_enrollments(classes).values_list("pk", "person_id",
                                                                                        "class_division_id"):
        if person_id in have:
            continue
        have.add(person_id)
        action, target = dest.default(by_id[class_id])
        rows.append(StudentPromotion(
            district_id=setup.district_id, setup=setup, student_id=person_id, source_enrollment_id=enrollment_id,
            source_class_id=class_id, action=action, destination_class=target, is_default=True))
    StudentPromotion.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def _check_destination(setup: SessionSetup, dest: Destinations, source: ClassDivision, action: str,
                       target: ClassDivision | None) -> ClassDivision | None:
    if action not in PromotionAction.values or action == PromotionAction.PENDING:
        raise ValidationError({"action": f"Choose one of: {', '.join(a.label.lower() for a in PromotionAction if a != 'pending')}."})
    if action not in ACTIONS_WITH_DESTINATION:
        return None
    target = target or dest.for_action(source, action)
    if target is None:
        raise ValidationError({"destination_class": f"No class of the new year fits: add one on step 2 or choose a class "
                                                    f"for {action}."})
    if target.pk not in dest.by_id or target.school_id != source.school_id:
        raise ValidationError({"destination_class": "Choose a class of the new year at the same school."})
    if action == PromotionAction.REPEAT and target.grade_level_id != source.grade_level_id:
        raise ValidationError({"destination_class": "A repeating student stays in the same grade."})
    if action == PromotionAction.PROMOTE and target.grade_level.rank <= source.grade_level.rank:
        raise ValidationError({"destination_class": "A promoted student moves to a higher grade."})
    return target


@transaction.atomic
def promotion_decide(*, actor, setup: SessionSetup, promotion: StudentPromotion, action: str,
                     destination_class: ClassDivision | None = None) -> StudentPromotion:
    """Change one student's decision (and destination class)."""
    _require_step_open(setup, actor)
    if promotion.setup_id != setup.pk:
        raise ValidationError("This decision belongs to another setup.")
    dest = Destinations(setup)
    source = ClassDivision.objects.select_related("grade_level").get(pk=promotion.source_class_id)
    target = _check_destination(setup, dest, source, action, destination_class)
    promotion.action, promotion.destination_class = action, target
    promotion.decided_by, promotion.decided_at, promotion.is_default = actor, timezone.now(), False
    promotion.full_clean(validate_constraints=False)
    promotion.save(update_fields=["action", "destination_class", "decided_by", "decided_at", "is_default"])
    return promotion


@transaction.atomic
def promotions_set_all(*, actor, setup: SessionSetup, source_class: ClassDivision, action: str,
                       destination_class: ClassDivision | None = None) -> int:
    """Bulk "set all": every student of one of last year's classes gets ``action`` (and its default class)."""
    _require_step_open(setup, actor)
    dest = Destinations(setup)
    if source_class.academic_session_id != setup.source_session_id or source_class.pk not in {
            c.pk for c in source_classes(setup)}:
        raise ValidationError({"source_class": "This class is not one of last year's classes in this setup."})
    target = _check_destination(setup, dest, source_class, action, destination_class)
    return StudentPromotion.objects.filter(setup=setup, source_class=source_class).update(
        action=action, destination_class=target, decided_by=actor, decided_at=timezone.now(), is_default=False)


def promotion_summary(setup: SessionSetup) -> dict[str, int]:
    counts = dict(StudentPromotion.objects.filter(setup=setup).values_list("action").annotate(n=Count("id")).order_by())
    return {a.value: counts.get(a.value, 0) for a in PromotionAction}


@transaction.atomic
def promotions_confirm(*, actor, setup: SessionSetup) -> None:
    """Leave step 3 for the review: every student needs a decision."""
    _require_step_open(setup, actor)
    pending = StudentPromotion.objects.filter(setup=setup, action=PromotionAction.PENDING).count()
    missing = StudentPromotion.objects.filter(setup=setup, action__in=list(ACTIONS_WITH_DESTINATION),
                                              destination_class__isnull=True).count()
    if pending or missing:
        raise ValidationError({"promotions": [
            m for m in (f"{pending} student{'s' if pending != 1 else ''} still without a decision." if pending else "",
                        f"{missing} promoted or repeating student{'s' if missing != 1 else ''} without a class."
                        if missing else "") if m]})
    _advance(setup, actor, 4)


def attached_records(year: AcademicSession) -> list[str]:
    """What outside the roster already points at ``year`` (registration sessions, exam sessions …): once there
    is any, promotions into it are no longer undone."""
    found = []
    for rel in AcademicSession._meta.related_objects:
        model = rel.related_model
        if model._meta.app_label in ("rostering", "session_setup"):
            continue
        if model._default_manager.filter(**{rel.field.name: year}).exists():
            found.append(str(model._meta.verbose_name_plural))
    return sorted(set(found))


@transaction.atomic
def promotion_execution_start(*, actor, setup: SessionSetup) -> PromotionExecution:
    """Queue the execution of every decision (a background task). Safe to call twice: a queued or running
    execution is returned as it is; a done one means the setup is completed."""
    setup = SessionSetup.objects.select_for_update().get(pk=setup.pk)
    _require_step_open(setup, actor)
    running = setup.executions.filter(status__in=[ExecutionStatus.QUEUED, ExecutionStatus.RUNNING]).first()
    if running is not None:
        return running
    if setup.current_step < 4:
        raise Conflict("Confirm the promotions (step 3) before executing them.", code="not_confirmed")
    promotions_confirm(actor=actor, setup=setup)
    total = StudentPromotion.objects.filter(setup=setup).count()
    execution = PromotionExecution.objects.create(
        district_id=setup.district_id, setup=setup, actor=actor, total=total,
        classes_total=StudentPromotion.objects.filter(setup=setup).values("source_class").distinct().count())

    def enqueue():
        result = execute_promotions.enqueue(execution_id=str(execution.pk))
        PromotionExecution.objects.filter(pk=execution.pk, task_id="").update(task_id=str(result.id)[:64])

    transaction.on_commit(enqueue)
    return execution


class _Progress:
    """Progress of an execution, visible while its one transaction is still open: the cache (shared when
    ``REDIS_URL`` is set) and, on PostgreSQL, the execution row written through a second connection."""

    def __init__(self, execution: PromotionExecution):
        self.execution = execution
        self.key = f"setup-execution-progress:{execution.pk}"
        self.side = None
        # Only outside a transaction of the caller: a caller's open transaction may hold the row's lock.
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            try:
                self.side = connections.create_connection("default")
            except Exception:  # pragma: no cover - progress is a nicety, never a failure
                self.side = None

    def report(self, processed: int, classes_done: int) -> None:
        cache.set(self.key, (processed, classes_done), 3600)
        if self.side is not None:
            try:
                with self.side.cursor() as cur:
                    cur.execute(
                        f"UPDATE {PromotionExecution._meta.db_table} SET processed = %s, classes_done = %s, "
                        "status = %s WHERE id = %s", [processed, classes_done, ExecutionStatus.RUNNING,
                                                      self.execution.pk])
            except Exception:  # pragma: no cover
                log.warning("Could not report the progress of execution %s.", self.execution.pk, exc_info=True)
                with contextlib.suppress(Exception):  # a broken connection may refuse to close cleanly
                    self.side.close()
                self.side = None

    def close(self) -> None:
        cache.delete(self.key)
        if self.side is not None:
            self.side.close()


def execution_progress(execution: PromotionExecution) -> tuple[int, int]:
    cached = cache.get(f"setup-execution-progress:{execution.pk}")
    if cached and execution.status in (ExecutionStatus.QUEUED, ExecutionStatus.RUNNING):
        return max(cached[0], execution.processed), max(cached[1], execution.classes_done)
    return execution.processed, execution.classes_done


def promotions_execute(*, execution_id) -> PromotionExecution:
    """Run an execution: per class of last year a fixed number of queries (its decisions, the roster's bulk
    roll-forward, one bulk insert of history rows), then activate the new year and complete last year. All in
    one transaction: a failure changes nothing and the execution can simply be started again."""
    execution = PromotionExecution.objects.select_related("setup", "actor").get(pk=execution_id)
    if execution.status not in (ExecutionStatus.QUEUED, ExecutionStatus.RUNNING):
        return execution  # already done (or undone): running it again changes nothing
    PromotionExecution.objects.filter(pk=execution.pk).update(status=ExecutionStatus.RUNNING, started_at=timezone.now())
    progress = _Progress(execution)
    try:
        with transaction.atomic():
            _execute(execution, progress)
    except Exception as exc:
        PromotionExecution.objects.filter(pk=execution.pk).update(
            status=ExecutionStatus.FAILED, error=str(exc)[:2000], finished_at=timezone.now())
        log.exception("Promotion execution %s failed.", execution.pk)
        raise
    finally:
        progress.close()
    execution.refresh_from_db()
    return execution


@task
def execute_promotions(execution_id: str) -> dict:
    """The worker's side of ``promotion_execution_start``: run one execution and report what it did."""
    execution = promotions_execute(execution_id=execution_id)
    return {"execution": str(execution.pk), "status": execution.status, "processed": execution.processed}


def _execute(execution: PromotionExecution, progress: _Progress) -> None:
    setup = SessionSetup.objects.select_for_update().get(pk=execution.setup_id)
    actor = execution.actor
    if setup.status == SetupStatus.COMPLETED:
        raise Conflict("This setup is already completed.", code="completed")
    year, source = setup.academic_session, setup.source_session
    now = timezone.now()
    start_date = year.start_date
    end_date = source.end_date if source else year.start_date - datetime.timedelta(days=1)
    classes = {c.pk: c for c in source_classes(setup)}
    targets = {c.pk: c for c in new_classes(setup)}
    class_ids = list(
        StudentPromotion.objects.filter(setup=setup).values_list("source_class_id", flat=True).distinct().order_by())
    processed = done = 0
    for class_id in sorted(class_ids, key=lambda pk: (classes[pk].school.name, classes[pk].grade_level.rank,
                                                        classes[pk].name) if pk in classes else ("", 0, str(pk))):
        source_class = classes.get(class_id) or ClassDivision.objects.select_related("grade_level", "school").get(
            pk=class_id)
        decisions = list(StudentPromotion.objects.filter(setup=setup, source_class_id=class_id).values_list(
            "student_id", "source_enrollment_id", "action", "destination_class_id", "decided_by_id", "decided_at",
            "student__grade_level_id"))
        moves = []
        for _student, _enr, action, dest_id, *_rest in decisions:
            if action in ACTIONS_WITH_DESTINATION:
                if dest_id not in targets:
                    raise ValidationError(f"A student of {source_class.name} has no class in {year.name}.")
                moves.append((_student, targets[dest_id]))
            elif action == PromotionAction.PENDING:
                raise ValidationError(f"A student of {source_class.name} still has no decision.")
        created, ended = enrollments_roll_forward(
            actor=actor, source_class=source_class, end_enrollment_ids=[d[1] for d in decisions if d[1]],
            moves=moves, end_date=end_date, start_date=start_date, new_session=year)
        ended_set = set(ended)
        PromotionHistory.objects.bulk_create([
            PromotionHistory(
                district_id=setup.district_id, execution=execution, setup=setup, student_id=student, action=action,
                source_class_id=class_id, destination_class_id=dest_id if action in ACTIONS_WITH_DESTINATION else None,
                decided_by_id=decided_by or getattr(actor, "pk", None), decided_at=decided_at or execution.created_at,
                executed_at=now, ended_enrollment_id=enr if enr in ended_set else None,
                created_enrollment_id=created.get(student), previous_grade_level_id=grade,
            )
            for student, enr, action, dest_id, decided_by, decided_at, grade in decisions
        ], batch_size=2000)
        processed += len(decisions)
        done += 1
        progress.report(processed, done)
    academic_session_set_state(actor=actor, session=year, state=SessionState.ACTIVE)
    if source is not None:
        academic_session_set_state(actor=actor, session=source, state=SessionState.COMPLETED, with_children=True)
    PromotionExecution.objects.filter(pk=execution.pk).update(
        status=ExecutionStatus.DONE, processed=processed, classes_done=done, finished_at=timezone.now())
    session_setup_transition(setup=setup, to=SetupStatus.COMPLETED, step=setup.last_step, actor=actor,
                             reason=f"Promotions executed: {processed} students.")


@transaction.atomic
def promotion_execution_undo(*, actor, setup: SessionSetup) -> PromotionExecution:
    """Undo the last execution while nothing else uses the new year yet: its new enrollments go, last year's
    come back, grades and year states are restored, the history rows are marked undone (kept), and the setup
    is reopened at the review step."""
    require_manage(actor, setup)
    setup = SessionSetup.objects.select_for_update().get(pk=setup.pk)
    execution = setup.executions.select_for_update().filter(status=ExecutionStatus.DONE).first()
    if execution is None:
        raise Conflict("There is no executed promotion to undo.", code="nothing_to_undo")
    attached = attached_records(setup.academic_session)
    if attached:
        raise Conflict(f"{setup.academic_session.name} already has {', '.join(attached)}: the promotions can no longer "
                       "be undone. Change individual enrollments in Rostering instead.", code="year_in_use")
    rows = PromotionHistory.objects.filter(execution=execution, undone_at__isnull=True)
    created = [pk for pk in rows.values_list("created_enrollment_id", flat=True) if pk]
    ended = [pk for pk in rows.values_list("ended_enrollment_id", flat=True) if pk]
    grades: dict = defaultdict(list)
    for student, grade in rows.filter(action__in=list(ACTIONS_WITH_DESTINATION)).values_list(
            "student_id", "previous_grade_level_id"):
        grades[grade].append(student)
    enrollments_roll_back(actor=actor, district=setup.district, created_ids=created, ended_ids=ended, grades=dict(grades))
    academic_session_set_state(actor=actor, session=setup.academic_session, state=SessionState.UPCOMING)
    if setup.source_session_id:
        academic_session_set_state(actor=actor, session=setup.source_session, state=SessionState.ACTIVE)
    now = timezone.now()
    rows.update(undone_at=now)
    PromotionExecution.objects.filter(pk=execution.pk).update(status=ExecutionStatus.UNDONE, undone_at=now,
                                                              undone_by=actor)
    if setup.status == SetupStatus.COMPLETED:
        session_setup_transition(setup=setup, to=SetupStatus.PENDING, step=setup.last_step, actor=actor,
                                 reason="Promotions undone.", allow_reopen=True)
    execution.refresh_from_db()
    return execution


# --- Exam-session wizard ------------------------------------------------------------------------------------------


@transaction.atomic
def exam_details_save(
    *, actor, setup: SessionSetup | None = None, school: School | None = None, name: str,
    academic_session: AcademicSession, term: AcademicSession | None, starts_on, ends_on,
) -> SessionSetup:
    """Step 0: name, year, term and dates of the exam session (created on the first save)."""
    errors = {}
    if academic_session.type != SessionType.SCHOOL_YEAR:
        errors["academic_session"] = "Pick a school year."
    if term is not None and term.parent_id != academic_session.pk:
        errors["term"] = f"Pick a term of {academic_session.name}."
    window = term or academic_session
    if starts_on and ends_on and window.start_date and not errors and (
            starts_on < window.start_date or ends_on > window.end_date):
        errors["starts_on"] = (f"The exams must lie inside {window.name} "
                               f"({window.start_date:%d %b %Y} – {window.end_date:%d %b %Y}).")
    if errors:
        raise ValidationError(errors)
    if setup is None:
        if not has_perm(actor, Perm.SETUP_MANAGE, district_id=school.district_id, school_id=school.pk):
            raise PermissionDenied("Only school admins and district admins set up sessions.")
        exam = exam_session_create(school=school, academic_session=academic_session, term=term, name=name,
                                   starts_on=starts_on, ends_on=ends_on)
        setup = session_setup_create(actor=actor, session_type=EXAM, exam_session=exam, district=school.district)
    else:
        _require_step_open(setup, actor)
        exam = setup.exam_session
        if exam is None:
            if school is None:
                raise ValidationError({"school": "Choose the school whose exams these are."})
            exam = exam_session_create(school=school, academic_session=academic_session, term=term, name=name,
                                       starts_on=starts_on, ends_on=ends_on)
            setup = session_setup_update(actor=actor, setup=setup, data={"exam_session": exam,
                                                                        "academic_session": academic_session})
        else:
            if exam.is_published:
                raise Conflict("The exam session is published; reopen the setup and unpublish it first.")
            outside = setup.slots.filter(Q(starts_at__date__lt=starts_on) | Q(starts_at__date__gt=ends_on)).count()
            if outside:
                raise ValidationError({"starts_on": f"{outside} scheduled exam{'s' if outside != 1 else ''} would fall "
                                                    "outside these dates: reschedule them first."})
            exam_session_update(exam=exam, name=name, academic_session=academic_session, term=term,
                                starts_on=starts_on, ends_on=ends_on)
            if setup.academic_session_id != academic_session.pk:
                SessionSetup.objects.filter(pk=setup.pk).update(academic_session=academic_session)
                setup.academic_session = academic_session
    _advance(setup, actor, 1)
    return setup


def exam_grades(setup: SessionSetup) -> list[GradeLevel]:
    """The grade levels with classes at the exam session's school in its year."""
    exam = setup.exam_session
    return list(GradeLevel.objects.filter(
        class_divisions__school_id=exam.school_id, class_divisions__academic_session_id=exam.academic_session_id,
    ).distinct().order_by("rank", "name"))


def exam_subjects(setup: SessionSetup) -> list[Subject]:
    return list(Subject.objects.filter(district_id=setup.district_id).order_by("name"))


def exam_activities(setup: SessionSetup):
    return (Activity.objects.filter(district_id=setup.district_id, exam_session_id=setup.exam_session_id)
            .select_related("grade_level", "subject").order_by("grade_level__rank", "subject__name", "title"))


def _reference(exam: ExamSession, grade: GradeLevel, subject: Subject) -> str:
    return f"exam-{str(exam.pk)[:8]}-{grade.code}-{subject.code}".lower()[:150]


@transaction.atomic
def exam_papers_save(*, actor, setup: SessionSetup, pairs: list[tuple[GradeLevel, Subject]],
                     max_minutes: int | None = None) -> list[Activity]:
    """Step 1: one exam (an assessment activity) per chosen grade level and subject; exams no longer chosen
    are removed (unless learners have sat them)."""
    _require_step_open(setup, actor)
    exam = setup.exam_session
    if exam.is_published:
        raise Conflict("The exam session is published; reopen the setup and unpublish it first.")
    if not pairs:
        raise ValidationError({"exams": "Choose at least one grade level and subject."})
    grades = {g.pk for g in exam_grades(setup)}
    for grade, subject in pairs:
        if grade.pk not in grades or grade.district_id != setup.district_id or subject.district_id != setup.district_id:
            raise ValidationError({"exams": f"{grade.name} {subject.name} is not taught at {exam.school.name} this year."})
    wanted = {(g.pk, s.pk): (g, s) for g, s in pairs}
    existing = {(a.grade_level_id, a.subject_id): a for a in exam_activities(setup)}
    for key, activity in existing.items():
        if key not in wanted:
            activity_remove(activity=activity)
    for key, (grade, subject) in wanted.items():
        if key in existing:
            continue
        activity_create(district=setup.district, reference=_reference(exam, grade, subject),
                        title=f"{grade.name} {subject.name}", items=[], exam_session=exam, grade_level=grade,
                        subject=subject, course_id=subject.code, max_time=max_minutes * 60 if max_minutes else None)
    _advance(setup, actor, 2)
    return list(exam_activities(setup))


@dataclass(frozen=True)
class SlotSpec:
    activity: Activity
    starts_at: datetime.datetime
    minutes: int


@transaction.atomic
def exam_schedule_save(*, actor, setup: SessionSetup, slots: list[SlotSpec]) -> list[ExamSlot]:
    """Step 2: a date and time per exam, inside the exam session's dates; no two exams of one grade (so of one
    class) at the same time."""
    _require_step_open(setup, actor)
    exam = setup.exam_session
    if exam.is_published:
        raise Conflict("The exam session is published; reopen the setup and unpublish it first.")
    activities = {a.pk: a for a in exam_activities(setup)}
    errors = []
    timed = []
    for spec in slots:
        activity = activities.get(spec.activity.pk)
        if activity is None:
            raise ValidationError({"schedule": "An exam of another session was sent."})
        if spec.minutes <= 0 or spec.minutes > 600:
            errors.append(f"{activity.title}: the duration is between 1 and 600 minutes.")
            continue
        ends = spec.starts_at + datetime.timedelta(minutes=spec.minutes)
        local_start, local_end = timezone.localtime(spec.starts_at).date(), timezone.localtime(ends).date()
        if local_start < exam.starts_on or local_end > exam.ends_on:
            errors.append(f"{activity.title}: it must sit between {exam.starts_on:%d %b %Y} and {exam.ends_on:%d %b %Y}.")
        timed.append((activity, spec.starts_at, ends))
    missing = set(activities) - {a.pk for a, *_ in timed}
    if missing and not errors:
        errors.extend(f"{activities[pk].title}: give it a date and time." for pk in missing)
    by_grade = defaultdict(list)
    for activity, start, end in timed:
        by_grade[activity.grade_level_id].append((start, end, activity))
    for items in by_grade.values():
        items.sort(key=lambda t: t[0])
        for (s1, e1, a1), (s2, _e2, a2) in itertools.pairwise(items):
            if s2 < e1:
                errors.append(f"{a1.title} and {a2.title} overlap: the same classes sit both "
                              f"({timezone.localtime(s1):%d %b %H:%M}–{timezone.localtime(e1):%H:%M}).")
    if errors:
        raise ValidationError({"schedule": errors})
    ExamSlot.objects.filter(setup=setup).exclude(activity_id__in=[a.pk for a, *_ in timed]).delete()
    saved = []
    for activity, start, end in timed:
        slot, _created = ExamSlot.objects.update_or_create(
            activity=activity, defaults={"district_id": setup.district_id, "setup": setup,
                                         "grade_level_id": activity.grade_level_id, "starts_at": start, "ends_at": end})
        saved.append(slot)
    _advance(setup, actor, 3)
    return saved


@transaction.atomic
def exam_session_publish(*, actor, setup: SessionSetup) -> SessionSetup:
    """Step 3: publish the exam session; the setup is completed."""
    _require_step_open(setup, actor)
    if setup.current_step < 3:
        raise Conflict("Schedule every exam (step 2) before publishing.", code="not_scheduled")
    activities = exam_activities(setup)
    if not activities.exists():
        raise ValidationError({"exams": "An exam session without exams cannot be published."})
    unscheduled = activities.filter(exam_slot__isnull=True).count()
    if unscheduled:
        raise ValidationError({"schedule": f"{unscheduled} exam{'s' if unscheduled != 1 else ''} still without a time."})
    exam_session_set_published(exam=setup.exam_session, published=True)
    setup.exam_session.is_published = True
    return session_setup_transition(setup=setup, to=SetupStatus.COMPLETED, step=setup.last_step, actor=actor,
                                    reason="Exam session published.")


@transaction.atomic
def exam_session_unpublish(*, actor, setup: SessionSetup) -> SessionSetup:
    """Reopen a completed exam setup and take its exam session off publication."""
    setup = session_setup_reopen(setup=setup, actor=actor, reason="Unpublished to change the exams.")
    exam_session_set_published(exam=setup.exam_session, published=False)
    return setup

