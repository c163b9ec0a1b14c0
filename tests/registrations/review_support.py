"""Builders for the review tests: real sessions, codes and submissions, made with the services.

Participants go through ``registrations.services.participation`` (validate → draft → submit) exactly as the public
pages do, so the submissions under review carry a real payload, validation summary and history.
"""

from __future__ import annotations

from typing import Any

from registrations.choices import RegistrationMode, SessionStatus
from registrations.models import AccessCode, RegistrationSession, Submission
from registrations.services.codes import access_codes_generate
from registrations.services.participation import submission_save_draft, submission_submit
from registrations.services.sessions import registration_session_create, registration_session_transition
from rostering.models import Subject


def open_session(world, *, mode: str = RegistrationMode.STUDENT_INTAKE, school=None, actor=None,
                 **data: Any) -> RegistrationSession:
    """A session created and opened by the district admin (class-locked, year-bound sessions via ``data``)."""
    actor = actor or world.district_admin
    session = registration_session_create(
        actor=actor, school=school or world.school_a, mode=mode,
        title=data.pop("title", f"{RegistrationMode(mode).label} 2026"), **data,
    )
    return registration_session_transition(session=session, to=SessionStatus.OPEN, actor=actor)


def new_codes(session: RegistrationSession, actor, count: int = 1, **options: Any) -> list[AccessCode]:
    return access_codes_generate(session=session, actor=actor, count=count, **options).codes


def intake_payload(world, **overrides: Any) -> dict[str, Any]:
    payload = {
        "given_name": "Chipo", "family_name": "Dube", "date_of_birth": "2014-05-02", "gender": "female",
        "guardian_name": "Grace Dube", "guardian_relationship": "mother", "guardian_phone": "+263 77 123 4567",
        "grade_level_id": str(world.grade6.pk), "class_division_id": str(world.class_6a.pk),
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


def teacher_payload(world, subject: Subject, **overrides: Any) -> dict[str, Any]:
    payload = {
        "given_name": "Farai", "family_name": "Ncube", "phone": "+263 71 555 0101", "email": "farai@example.org",
        "subjects_taught": [str(subject.pk)], "classes_taught": [str(world.class_6a.pk), str(world.class_6b.pk)],
        "teacher_number": "T-1001",
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


def submit(code: AccessCode, payload: dict[str, Any]) -> Submission:
    """Draft (autosave) then submit, as a participant would."""
    draft = submission_save_draft(access_code_id=code.pk, payload=payload, device_name="Tests")
    return submission_submit(access_code_id=code.pk, version=draft.version)


def submitted_intake(world, session: RegistrationSession | None = None, **overrides: Any) -> Submission:
    """One submitted student-intake submission (a fresh code in ``session`` or a new open intake session)."""
    session = session or open_session(world, academic_year=world.year)
    code = new_codes(session, world.district_admin)[0]
    return submit(code, intake_payload(world, **overrides))


def verification_payload(code: AccessCode, **changes: Any) -> dict[str, Any]:
    """What a verifying student sends: the roster snapshot as it is, plus ``changes``."""
    snap = code.roster_snapshot
    payload = {
        key: snap.get(key) for key in (
            "given_name", "middle_name", "family_name", "date_of_birth", "gender", "student_number",
            "grade_level_id", "class_division_id",
        )
    }
    payload.update(changes)
    return {k: v for k, v in payload.items() if v not in (None, "")}
