"""Import of approved submissions into the roster, through the roster's own services (``rostering.services``).

The person is matched (``selectors.match_person``: the code's person, then the number, the national id,
then name and date of birth) and created or updated by ``person_import``; a student is placed in the
session's class by ``student_enrollment_place``, a teacher in the classes they teach by
``teacher_enrollments_add``. Importing twice changes nothing; a failure writes nothing to the roster and
leaves the submission ``approved`` with the reason.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from registrations.choices import SUBMISSION_TRANSITIONS, PersonType, SubmissionStatus
from registrations.models import Submission
from registrations.selectors import match_person, submissions_awaiting_import
from registrations.services.submissions import lock_submission, submission_transition
from rostering.common.errors import InvalidTransition
from rostering.models import ClassDivision, Person, Subject
from rostering.permissions import Perm, require_perm
from rostering.services import person_import, student_enrollment_place, teacher_enrollments_add

logger = logging.getLogger(__name__)
S = SubmissionStatus
PERSON_FIELDS = ("given_name", "middle_name", "family_name", "email", "phone", "gender")
PROPERTY_FIELDS = ("address", "guardian_name", "guardian_relationship", "guardian_phone", "guardian_email",
                   "previous_school", "qualifications")


def _person_data(submission: Submission) -> dict[str, Any]:
    """What the roster services receive: the answers mapped onto the person's fields and properties."""
    data = submission.payload or {}
    session = submission.session
    fields: dict[str, Any] = {name: data[name] for name in PERSON_FIELDS if data.get(name) not in (None, "")}
    if data.get("date_of_birth"):
        fields["date_of_birth"] = dt.date.fromisoformat(data["date_of_birth"])
    properties: dict[str, Any] = {name: data[name] for name in PROPERTY_FIELDS if data.get(name)}
    custom = {q["key"]: data[q["key"]] for q in (session.required_fields or {}).get("custom", []) if q["key"] in data}
    if data.get("subjects_taught"):
        properties["subject_ids"] = data["subjects_taught"]
    properties["registration_session_id"] = str(session.pk)
    return {
        "fields": fields,
        "sis_id": data.get("student_number") or data.get("teacher_number") or "",
        "school_id": session.school_id,
        "grade_level_id": submission.grade_level_id if submission.person_type == PersonType.STUDENT else None,
        "national_id": data.get("national_id") or "",
        "properties": properties,
        "custom": custom,
    }


def _write_roster(submission: Submission) -> Person:
    matched = match_person(submission)
    values = _person_data(submission)
    custom = values.pop("custom")
    if custom:
        previous = ((matched.properties or {}) if matched else {}).get("registration_answers", {})
        values["properties"]["registration_answers"] = {**previous, **custom}
    person = person_import(district_id=submission.district_id, person=matched, role=submission.person_type, **values)
    session = submission.session
    year_id = session.academic_year_id
    if submission.person_type == PersonType.STUDENT:
        division = submission.class_division
        if division is not None:
            student_enrollment_place(person=person, class_division=division,
                                     academic_session_id=year_id or division.academic_session_id)
        return person
    payload = submission.payload or {}
    subject_ids = payload.get("subjects_taught") or []
    subject = (
        Subject.objects.filter(pk=subject_ids[0], district_id=person.district_id).first() if len(subject_ids) == 1 else None
    )
    divisions = ClassDivision.objects.filter(pk__in=payload.get("classes_taught") or [], school_id=session.school_id)
    teacher_enrollments_add(person=person, class_divisions=divisions, subject=subject, academic_session_id=year_id)
    return person


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages) or "The roster refused the record."
    return str(exc) or exc.__class__.__name__


@transaction.atomic
def submission_import(*, submission: Submission, actor, locked: bool = False) -> Submission:
    """Write an approved submission into the roster. Idempotent; a failure leaves it approved with the reason.

    ``locked``: the caller holds the submission's lock (with its code), as approval does."""
    if not locked:
        submission = lock_submission(submission.pk, "session", "class_division")
    if submission.status == S.IMPORTED:
        return submission
    if submission.status != S.APPROVED:
        raise InvalidTransition(current=submission.status, target=S.IMPORTED,
                                allowed=SUBMISSION_TRANSITIONS[submission.status], noun="submission")
    try:
        with transaction.atomic():
            person = _write_roster(submission)
    except (IntegrityError, ValidationError) as exc:
        submission.import_error = _reason(exc)
        submission.save(update_fields=["import_error", "updated_at"])
        logger.warning("Import of submission %s failed: %s", submission.pk, submission.import_error)
        return submission
    return submission_transition(
        submission=submission, to=S.IMPORTED, actor=actor, reason="Imported into the roster.",
        code=submission.access_code,
        updates={"imported_person": person, "imported_at": timezone.now(), "import_error": ""},
    )


def submissions_import_approved(*, session, actor) -> dict[str, int]:
    """The "import approved" action: import every approved submission of a session."""
    require_perm(actor, Perm.REGISTRATIONS_MANAGE, district_id=session.district_id, school_id=session.school_id)
    done = failed = 0
    for submission in submissions_awaiting_import(session):
        result = submission_import(submission=submission, actor=actor)
        if result.status == S.IMPORTED:
            done += 1
        else:
            failed += 1
    return {"imported": done, "failed": failed}
