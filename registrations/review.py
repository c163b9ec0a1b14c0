"""Staff review of submissions and the import of approved ones into the roster."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from registrations.choices import (
    CODE_STATUS_FOR_SUBMISSION,
    SUBMISSION_TRANSITIONS,
    PersonType,
    RegistrationMode,
    SubmissionStatus,
)
from registrations.models import AccessCode, Submission, SubmissionStatusChange
from registrations.validators import default_approval_policy
from rostering.common.errors import Conflict, InvalidTransition
from rostering.models import ClassDivision, Enrollment, Person, Subject
from rostering.permissions import Perm, grants_for, has_perm

logger = logging.getLogger(__name__)
S = SubmissionStatus
REVIEWABLE = (S.SUBMITTED, S.RESUBMITTED)


def class_teacher_division_ids(user) -> set:
    """Class divisions where the user's roster person teaches."""
    return set(
        Enrollment.objects.filter(person__user=user, role="teacher").values_list("class_division_id", flat=True)
    )


def can_review(user, submission: Submission, *, division_ids: set | None = None) -> bool:
    """``division_ids``: the user's ``class_teacher_division_ids``, when a caller checks many rows."""
    session = submission.session
    if not has_perm(user, Perm.REGISTRATIONS_REVIEW, district_id=session.district_id, school_id=session.school_id):
        return False
    if user.is_superuser or has_perm(user, Perm.REGISTRATIONS_MANAGE, district_id=session.district_id,
                                     school_id=session.school_id):
        return True
    # Class teachers review their own classes only.
    if division_ids is None:
        division_ids = class_teacher_division_ids(user)
    return submission.class_division_id in division_ids


def submissions_for_user(user):
    """Submissions the user may see: scoped by tenant, and class teachers only see their classes."""
    qs = Submission.objects.for_user(user, perm=Perm.REGISTRATIONS_VIEW)
    if user.is_superuser:
        return qs
    from rostering.choices import MembershipRole

    roles = {g.role for g in grants_for(user)}
    if roles and roles <= {MembershipRole.CLASS_TEACHER}:
        qs = qs.filter(class_division_id__in=class_teacher_division_ids(user))
    return qs


def _require_review(actor, submission: Submission) -> None:
    if not can_review(actor, submission):
        raise PermissionDenied("Your role does not allow reviewing this submission.")


def _check_expected_version(submission: Submission, expected_version) -> None:
    if expected_version is None:
        return
    if int(expected_version) != submission.version:
        raise Conflict(
            "This submission changed since you opened it (another reviewer or the participant acted). Reload it.",
            code="stale_version", extra={"currentVersion": submission.version, "status": submission.status},
        )


def _lock_submission(pk, *related: str) -> Submission:
    """Lock a submission for a change: its access code first, then the row itself.

    The participant's services lock in the same order (code, then submission), so a reviewer and a
    participant acting at once queue up instead of deadlocking. ``of=("self",)``: PostgreSQL refuses
    FOR UPDATE on the nullable side of an outer join (``class_division``), and related rows need no lock.
    """
    list(AccessCode.objects.select_for_update(of=("self",)).filter(submission__pk=pk).values_list("pk", flat=True))
    qs = Submission.objects.select_for_update(of=("self",))
    return (qs.select_related(*related) if related else qs).get(pk=pk)


@transaction.atomic
def submission_transition(*, submission: Submission, to: str, actor, reason: str = "",
                          updates: dict[str, Any] | None = None) -> Submission:
    """The one place a submission's status changes (row lock, allowed check, history, code mirror)."""
    locked = _lock_submission(submission.pk)
    allowed = SUBMISSION_TRANSITIONS.get(locked.status, frozenset())
    if to not in allowed:
        raise InvalidTransition(current=locked.status, target=to, allowed=allowed, noun="submission")
    previous = locked.status
    for name, value in (updates or {}).items():
        setattr(locked, name, value)
    locked.status = to
    locked.version += 1
    locked.save()
    SubmissionStatusChange.objects.create(
        submission=locked, from_status=previous, to_status=to,
        actor=actor if getattr(actor, "is_authenticated", False) else None, reason=reason or "",
    )
    AccessCode.objects.filter(pk=locked.access_code_id).update(status=CODE_STATUS_FOR_SUBMISSION[to])
    return locked


def _policy(submission: Submission) -> dict[str, Any]:
    return {**default_approval_policy(submission.session.mode), **(submission.session.approval_policy or {})}


@transaction.atomic
def apply_approval_policy(*, submission: Submission) -> Submission:
    """After a submit: auto-approve when the session's policy says so."""
    policy = _policy(submission)
    reason = ""
    if policy["review"] == "auto_approve":
        reason = "Approved automatically (session policy)."
    elif (
        policy["autoApproveUnchangedVerifications"]
        and submission.session.mode == RegistrationMode.STUDENT_VERIFICATION
        and submission.access_code.roster_snapshot
        and not (submission.validation_summary or {}).get("changedFields")
    ):
        reason = "Approved automatically: the participant confirmed the roster details unchanged."
    if not reason:
        return submission
    return _approve(submission=submission, actor=None, reason=reason, policy=policy)


def _approve(*, submission: Submission, actor, reason: str, policy: dict[str, Any]) -> Submission:
    submission = submission_transition(
        submission=submission, to=S.APPROVED, actor=actor, reason=reason,
        updates={"reviewed_by": actor if getattr(actor, "is_authenticated", False) else None,
                 "reviewed_at": timezone.now(), "review_reason": reason},
    )
    if policy["importOnApproval"]:
        submission = submission_import(submission=submission, actor=actor)
    return submission


@transaction.atomic
def submission_approve(*, submission: Submission, actor, expected_version=None, note: str = "") -> Submission:
    _require_review(actor, submission)
    locked = _lock_submission(submission.pk, "session", "access_code")
    _check_expected_version(locked, expected_version)
    if locked.status not in REVIEWABLE:
        raise InvalidTransition(current=locked.status, target=S.APPROVED,
                                allowed=SUBMISSION_TRANSITIONS[locked.status], noun="submission")
    return _approve(submission=locked, actor=actor, reason=note, policy=_policy(locked))


@transaction.atomic
def submission_reject(*, submission: Submission, actor, reason: str = "", expected_version=None) -> Submission:
    _require_review(actor, submission)
    locked = _lock_submission(submission.pk, "session")
    _check_expected_version(locked, expected_version)
    reason = (reason or "").strip()
    if _policy(locked)["requireRejectReason"] and not reason:
        raise ValidationError({"reason": "Give a reason for the rejection."})
    return submission_transition(
        submission=locked, to=S.REJECTED, actor=actor, reason=reason,
        updates={"reviewed_by": actor, "reviewed_at": timezone.now(), "review_reason": reason},
    )


@transaction.atomic
def submission_request_correction(*, submission: Submission, actor, message: str = "",
                                  flagged_fields: list[str] | None = None, expected_version=None) -> Submission:
    """Send the form back to the participant with a message and the fields to fix."""
    from registrations.forms_spec import form_fields

    _require_review(actor, submission)
    locked = _lock_submission(submission.pk, "session")
    _check_expected_version(locked, expected_version)
    message = (message or "").strip()
    if _policy(locked)["requireCorrectionMessage"] and not message:
        raise ValidationError({"message": "Tell the participant what to correct."})
    if len(message) > 2000:
        raise ValidationError({"message": "At most 2,000 characters."})
    flagged = list(dict.fromkeys(flagged_fields or []))
    known = {f.key for f in form_fields(locked.session)}
    unknown = [f for f in flagged if f not in known]
    if unknown:
        raise ValidationError({"flagged_fields": f"Not fields of this form: {', '.join(map(str, unknown[:5]))}."})
    return submission_transition(
        submission=locked, to=S.NEEDS_CORRECTION, actor=actor, reason=message,
        updates={"correction_message": message, "flagged_fields": flagged, "reviewed_by": actor,
                 "reviewed_at": timezone.now()},
    )


def submissions_bulk_approve(*, submission_ids: list, actor) -> dict[str, Any]:
    """Approve many; each on its own (one refusal doesn't undo the others)."""
    approved, failed = [], {}
    visible = {s.pk: s for s in submissions_for_user(actor).filter(pk__in=submission_ids).select_related("session")}
    for sid in submission_ids:
        submission = visible.get(sid)
        if submission is None:
            failed[str(sid)] = "Not found."
            continue
        try:
            approved.append(submission_approve(submission=submission, actor=actor))
        except (Conflict, ValidationError, PermissionDenied) as exc:
            failed[str(sid)] = getattr(exc, "message", None) or "; ".join(getattr(exc, "messages", [str(exc)]))
    return {"approved": approved, "failed": failed}


# --- import into the roster ---------------------------------------------------------------------------


class ImportProblem(Exception):
    pass


def match_person(submission: Submission) -> Person | None:
    """Who this submission is about, if they are already on the roster.

    In order: the person the access code was issued to; the student/teacher number; a national id;
    then the same given name, surname and date of birth. Only people of the same kind (student/teacher).
    """
    data = submission.payload or {}
    role = "teacher" if submission.person_type == PersonType.TEACHER else "student"
    people = Person.objects.filter(district_id=submission.district_id, role=role)
    code = submission.access_code
    if code.assigned_person_id:
        person = people.filter(pk=code.assigned_person_id).first()
        if person:
            return person
    number = data.get("student_number") or data.get("teacher_number")
    if number:
        person = people.filter(sis_id__iexact=number).first()
        if person:
            return person
    national_id = data.get("national_id")
    if national_id:
        for person in people.filter(identifiers__icontains=national_id):
            if any(i.get("type") == "national_id" and i.get("value") == national_id for i in person.identifiers):
                return person
    if data.get("given_name") and data.get("family_name") and data.get("date_of_birth"):
        return people.filter(
            given_name__iexact=data["given_name"], family_name__iexact=data["family_name"],
            date_of_birth=data["date_of_birth"],
        ).first()
    return None


def possible_duplicates(submission: Submission, limit: int = 5) -> list[Person]:
    """People who look like this participant (same names, or same date of birth and surname)."""
    data = submission.payload or {}
    given, family, dob = data.get("given_name"), data.get("family_name"), data.get("date_of_birth")
    if not family:
        return []
    q = Q(family_name__iexact=family) & (Q(given_name__iexact=given) if given else Q())
    if dob:
        q |= Q(family_name__iexact=family, date_of_birth=dob)
    return list(
        Person.objects.filter(q, district_id=submission.district_id).select_related("school", "grade_level")[:limit]
    )


PERSON_FIELDS = ("given_name", "middle_name", "family_name", "email", "phone", "gender")
PROPERTY_FIELDS = ("address", "guardian_name", "guardian_relationship", "guardian_phone", "guardian_email",
                   "previous_school", "qualifications")


def _write_person(submission: Submission) -> Person:
    data = submission.payload or {}
    session = submission.session
    person = match_person(submission)
    if person is None:
        person = Person(district_id=submission.district_id, role=submission.person_type)
    for name in PERSON_FIELDS:
        if data.get(name) not in (None, ""):
            setattr(person, name, data[name])
    if data.get("date_of_birth"):
        from datetime import date

        person.date_of_birth = date.fromisoformat(data["date_of_birth"])
    number = data.get("student_number") or data.get("teacher_number")
    if number and number != person.sis_id:
        clash = Person.objects.filter(district_id=person.district_id, sis_id=number).exclude(pk=person.pk).first()
        if clash:
            raise ImportProblem(f"Number {number} already belongs to {clash.full_name}.")
        person.sis_id = number
    person.school_id = session.school_id
    if submission.person_type == PersonType.STUDENT and submission.grade_level_id:
        person.grade_level_id = submission.grade_level_id
    if data.get("national_id"):
        ids = [i for i in person.identifiers if i.get("type") != "national_id"]
        person.identifiers = [*ids, {"type": "national_id", "value": data["national_id"]}]
    props = dict(person.properties or {})
    for name in PROPERTY_FIELDS:
        if data.get(name):
            props[name] = data[name]
    custom = {q["key"]: data[q["key"]] for q in (session.required_fields or {}).get("custom", []) if q["key"] in data}
    if custom:
        props["registration_answers"] = {**props.get("registration_answers", {}), **custom}
    if data.get("subjects_taught"):
        props["subject_ids"] = data["subjects_taught"]
    props["registration_session_id"] = str(session.pk)
    person.properties = props
    try:
        person.full_clean()
    except ValidationError as exc:
        raise ImportProblem("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
    person.save()
    _write_enrollments(submission, person)
    return person


def _write_enrollments(submission: Submission, person: Person) -> None:
    session = submission.session
    year_id = session.academic_year_id
    if submission.person_type == PersonType.STUDENT:
        division = submission.class_division
        if division is None:
            return
        year_id = year_id or division.academic_session_id
        # A student is in one class per year: leave the other classes of the same school and year.
        others = Enrollment.objects.filter(person=person, role="student", class_division__school_id=division.school_id)
        if year_id:
            others = others.filter(Q(academic_session_id=year_id) | Q(class_division__academic_session_id=year_id))
        others.exclude(class_division=division).delete()
        Enrollment.objects.get_or_create(
            person=person, class_division=division, role="student", subject=None,
            defaults={"district_id": person.district_id, "academic_session_id": year_id},
        )
        return
    class_ids = (submission.payload or {}).get("classes_taught") or []
    subject_ids = (submission.payload or {}).get("subjects_taught") or []
    subject = Subject.objects.filter(pk=subject_ids[0], district_id=person.district_id).first() if len(subject_ids) == 1 else None
    for division in ClassDivision.objects.filter(pk__in=class_ids, school_id=session.school_id):
        Enrollment.objects.get_or_create(
            person=person, class_division=division, role="teacher", subject=subject,
            defaults={"district_id": person.district_id, "academic_session_id": year_id or division.academic_session_id},
        )


@transaction.atomic
def submission_import(*, submission: Submission, actor) -> Submission:
    """Write an approved submission into the roster. Idempotent; a failure leaves it approved with the reason."""
    locked = _lock_submission(submission.pk, "session", "access_code", "class_division")
    if locked.status == S.IMPORTED:
        return locked
    if locked.status != S.APPROVED:
        raise InvalidTransition(current=locked.status, target=S.IMPORTED,
                                allowed=SUBMISSION_TRANSITIONS[locked.status], noun="submission")
    try:
        with transaction.atomic():
            person = _write_person(locked)
    except (ImportProblem, IntegrityError, ValidationError) as exc:
        locked.import_error = str(exc) or exc.__class__.__name__
        locked.save(update_fields=["import_error", "updated_at"])
        logger.warning("Import of submission %s failed: %s", locked.pk, locked.import_error)
        return locked
    return submission_transition(
        submission=locked, to=S.IMPORTED, actor=actor, reason="Imported into the roster.",
        updates={"imported_person": person, "imported_at": timezone.now(), "import_error": ""},
    )


def submissions_import_approved(*, session, actor) -> dict[str, int]:
    """The "import approved" action: import every approved submission of a session."""
    from registrations.services import require_perm

    require_perm(actor, Perm.REGISTRATIONS_MANAGE, district_id=session.district_id, school_id=session.school_id)
    done = failed = 0
    for submission in Submission.objects.filter(session=session, status=S.APPROVED):
        result = submission_import(submission=submission, actor=actor)
        if result.status == S.IMPORTED:
            done += 1
        else:
            failed += 1
    return {"imported": done, "failed": failed}
