"""Demo registration sessions for ``manage.py seed_demo`` (found through the ``<app>.demo.seed`` hook).

Everything goes through the same services as the pages and the API: sessions, codes, participants'
drafts and submits, reviews and imports. Idempotent: a session that already exists is left alone.
"""

from __future__ import annotations

from registrations.choices import CodeFormat, CodeStatus, RegistrationMode, SessionStatus
from registrations.models import AccessCode, RegistrationSession
from registrations.services.codes import access_codes_generate
from registrations.services.participation import submission_save_draft, submission_submit
from registrations.services.review import submission_approve, submission_reject, submission_request_correction
from registrations.services.sessions import registration_session_create, registration_session_transition

VERIFY_TITLE = "Form 1A details check 2026"
TEACHER_TITLE = "Teacher profiles 2026"
INTAKE_TITLE = "Form 1 intake 2027"
GRADE7_TITLE = "Grade 7 leavers' details 2026"
NKETA_TITLE = "Nketa Primary enrolment check 2026"


def _existing(school, title):
    return RegistrationSession.objects.filter(school=school, title=title).first()


def _snapshot_payload(code: AccessCode) -> dict:
    snap = code.roster_snapshot
    payload = {k: snap[k] for k in ("given_name", "middle_name", "family_name", "date_of_birth", "student_number")
               if snap.get(k)}
    payload["gender"] = snap.get("gender") or "female"
    return payload


def seed(demo) -> None:
    registrar = demo.users["registrar"]
    admin = demo.users.get("admin")
    hgs, mps = demo.schools["HGS"], demo.schools["MPS"]
    year = demo.years["harare", 2026]
    term1 = demo.terms["harare", 2026][0]

    # 1. A class-locked verification of Form 1A, open, with participants at every step.
    verify = _existing(hgs, VERIFY_TITLE)
    if verify is None:
        form1a = demo.classes["HGS", "Form 1A"]
        verify = registration_session_create(
            actor=registrar, school=hgs, mode=RegistrationMode.STUDENT_VERIFICATION, title=VERIFY_TITLE,
            description="Please check the details the school holds about you and correct anything that is wrong.",
            class_division=form1a, academic_year=year, term=term1,
            ends_at=_deadline(demo, days=30), approval_policy={"autoApproveUnchangedVerifications": False},
        )
        batch = access_codes_generate(
            session=verify, actor=registrar, assign_from_class_roster=True, include_roster_hints_on_printout=True
        )
        registration_session_update_expected(verify, len(batch.codes))
        verify = registration_session_transition(session=verify, to=SessionStatus.OPEN, actor=registrar)
        codes = batch.codes
        # Two drafts, five submitted, two sent back, four approved (imported), one rejected.
        for code in codes[:2]:
            submission_save_draft(access_code_id=code.pk, payload=_snapshot_payload(code))
        submitted = []
        for i, code in enumerate(codes[2:14]):
            payload = _snapshot_payload(code)
            if i % 3 == 0:
                payload["phone"] = f"+263 77 {100 + i:03d} {2000 + i:04d}"
            draft = submission_save_draft(access_code_id=code.pk, payload=payload)
            submitted.append(submission_submit(access_code_id=code.pk, version=draft.version))
        for sub in submitted[:2]:
            submission_request_correction(
                submission=sub, actor=registrar, message="Please check your date of birth against your birth certificate.",
                flagged_fields=["date_of_birth"],
            )
        for sub in submitted[2:6]:
            submission_approve(submission=sub, actor=registrar)
        submission_reject(submission=submitted[6], actor=registrar, reason="Duplicate: this student left the school in 2025.")
        demo.created["registration sessions"] += 1
    _note_code(demo, verify, "Form 1A verification (pre-filled from the roster)")

    # 2. Open teacher self-registration with open codes.
    teachers = _existing(hgs, TEACHER_TITLE)
    if teachers is None:
        teachers = registration_session_create(
            actor=registrar, school=hgs, mode=RegistrationMode.TEACHER_SELF_REGISTRATION, title=TEACHER_TITLE,
            description="Tell us the subjects and classes you teach this year.", academic_year=year,
            expected_count=12, ends_at=_deadline(demo, days=21),
        )
        access_codes_generate(session=teachers, actor=registrar, count=12, prefix="HGS")
        teachers = registration_session_transition(session=teachers, to=SessionStatus.OPEN, actor=registrar)
        demo.created["registration sessions"] += 1
    _note_code(demo, teachers, "teacher self-registration (open code)")

    # 3. A grade-locked intake still in draft, mixed roster policy.
    if _existing(hgs, INTAKE_TITLE) is None:
        intake = registration_session_create(
            actor=registrar, school=hgs, mode=RegistrationMode.STUDENT_INTAKE, title=INTAKE_TITLE,
            description="New Form 1 students: complete your details before the first day of school.",
            grade_level=demo.classes["HGS", "Form 1A"].grade_level, expected_count=80, roster_policy="mixed",
        )
        access_codes_generate(session=intake, actor=registrar, count=80, format=CodeFormat.HUMAN_READABLE_6)
        demo.created["registration sessions"] += 1

    # 4. A closed session at the primary school (district admin's view spans schools).
    if _existing(mps, GRADE7_TITLE) is None and admin is not None:
        grade7 = registration_session_create(
            actor=admin, school=mps, mode=RegistrationMode.STUDENT_INTAKE, title=GRADE7_TITLE,
            description="Grade 7 leavers: confirm your details for your secondary school.", expected_count=25,
        )
        access_codes_generate(session=grade7, actor=admin, count=25)
        registration_session_transition(session=grade7, to=SessionStatus.OPEN, actor=admin)
        registration_session_transition(session=grade7, to=SessionStatus.CLOSED, actor=admin)
        demo.created["registration sessions"] += 1

    # 5. The other district has its own session, invisible from Harare.
    nps = demo.schools.get("NPS")
    other = demo.users.get("other.registrar")
    if nps is not None and other is not None and _existing(nps, NKETA_TITLE) is None:
        nketa = registration_session_create(
            actor=other, school=nps, mode=RegistrationMode.STUDENT_INTAKE, title=NKETA_TITLE, expected_count=30,
        )
        access_codes_generate(session=nketa, actor=other, count=30)
        registration_session_transition(session=nketa, to=SessionStatus.OPEN, actor=other)
        demo.created["registration sessions"] += 1


def registration_session_update_expected(session, count: int) -> None:
    from registrations.services.sessions import registration_session_update

    registration_session_update(actor=session.created_by, session=session, data={"expected_count": count})


def _deadline(demo, *, days: int):
    import datetime

    from django.utils import timezone

    return timezone.make_aware(datetime.datetime.combine(demo.today + datetime.timedelta(days=days), datetime.time(17)))


def _note_code(demo, session, what: str) -> None:
    code = (
        AccessCode.objects.filter(session=session, status=CodeStatus.UNUSED, revoked_at__isnull=True)
        .order_by("created_at", "code")
        .first()
    )
    if code is not None:
        demo.note(f"Try /register with code {code.display_code} — {what}")
