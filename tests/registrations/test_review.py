"""Review and import services (registrations.services.review, roster_import): transitions, policies, optimistic lock, roster import.

Submissions are made the way participants make them (validate → draft → submit through
registrations.services.participation); statuses that need a set-up are made with the factory.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from registrations.choices import SUBMISSION_TRANSITIONS, CodeStatus, RegistrationMode, SubmissionStatus
from registrations.models import AccessCode, Submission, SubmissionStatusChange
from registrations.selectors import (
    can_review,
    match_person,
    possible_duplicates,
    registration_progress,
    submissions_for_user,
)
from registrations.services.participation import submission_save_draft, submission_submit
from registrations.services.review import (
    submission_approve,
    submission_reject,
    submission_request_correction,
    submissions_bulk_approve,
)
from registrations.services.roster_import import submission_import, submissions_import_approved
from registrations.services.submissions import submission_transition
from rostering.common.errors import Conflict, InvalidTransition
from rostering.models import Enrollment, Person
from tests.registrations.factories import SubmissionFactory
from tests.registrations.review_support import (
    intake_payload,
    new_codes,
    open_session,
    submit,
    submitted_intake,
    teacher_payload,
    verification_payload,
)
from tests.rostering import factories as f

pytestmark = pytest.mark.django_db
S = SubmissionStatus
ALL_STATUSES = list(S.values)


@pytest.fixture
def intake(world):
    return open_session(world, academic_year=world.year, expected_count=4)


def _factory_submission(world, session, status, **kwargs):
    code = new_codes(session, world.district_admin)[0]
    return SubmissionFactory(access_code=code, status=status, payload=intake_payload(world), **kwargs)


def _snapshot(submission):
    submission.refresh_from_db()
    return (submission.status, submission.version, submission.status_changes.count(),
            submission.access_code.status, Person.objects.count(), Enrollment.objects.count())


# --- the transition map ---------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ALL_STATUSES)
@pytest.mark.parametrize("target", ALL_STATUSES)
def test_transition_follows_the_map(world, intake, source, target):
    submission = _factory_submission(world, intake, source)
    if target in SUBMISSION_TRANSITIONS[source]:
        result = submission_transition(submission=submission, to=target, actor=world.registrar, reason="why")
        assert result.status == target and result.version == submission.version + 1
        change = SubmissionStatusChange.objects.get(submission=submission)
        assert (change.from_status, change.to_status, change.actor, change.reason) == (
            source, target, world.registrar, "why")
        from registrations.choices import CODE_STATUS_FOR_SUBMISSION

        assert AccessCode.objects.get(pk=submission.access_code_id).status == CODE_STATUS_FOR_SUBMISSION[target]
    else:
        before = _snapshot(submission)
        with pytest.raises(InvalidTransition) as exc:
            submission_transition(submission=submission, to=target, actor=world.registrar)
        assert exc.value.status_code == 409
        assert f"from '{source}'" in exc.value.message
        assert exc.value.extra["currentStatus"] == source
        assert _snapshot(submission) == before


ACTIONS = {
    "approve": lambda s, actor: submission_approve(submission=s, actor=actor),
    "reject": lambda s, actor: submission_reject(submission=s, actor=actor, reason="Duplicate entry."),
    "request_correction": lambda s, actor: submission_request_correction(
        submission=s, actor=actor, message="Check the date of birth.", flagged_fields=["date_of_birth"]),
}
RESULT_STATUS = {"approve": S.IMPORTED, "reject": S.REJECTED, "request_correction": S.NEEDS_CORRECTION}


@pytest.mark.parametrize("status", ALL_STATUSES)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_review_actions_from_every_status(world, intake, status, action):
    submission = _factory_submission(world, intake, status)
    if status in (S.SUBMITTED, S.RESUBMITTED):
        result = ACTIONS[action](submission, world.registrar)
        assert result.status == RESULT_STATUS[action]
        assert result.reviewed_by == world.registrar and result.reviewed_at is not None
    else:
        before = _snapshot(submission)
        with pytest.raises(InvalidTransition):
            ACTIONS[action](submission, world.registrar)
        assert _snapshot(submission) == before


def test_reject_records_reason_and_history(world, intake):
    submission = submitted_intake(world, intake)
    result = submission_reject(submission=submission, actor=world.registrar, reason="  Not our pupil. ")
    assert result.review_reason == "Not our pupil."
    last = result.status_changes.first()
    assert (last.from_status, last.to_status, last.reason, last.actor) == (
        S.SUBMITTED, S.REJECTED, "Not our pupil.", world.registrar)
    assert AccessCode.objects.get(pk=result.access_code_id).status == CodeStatus.REJECTED


def test_request_correction_then_resubmit_then_approve(world, intake):
    submission = submitted_intake(world, intake, date_of_birth="2014-05-20")
    sent_back = submission_request_correction(
        submission=submission, actor=world.registrar, message="Use the date on the birth certificate.",
        flagged_fields=["date_of_birth", "date_of_birth", "gender"],
    )
    assert sent_back.status == S.NEEDS_CORRECTION
    assert sent_back.flagged_fields == ["date_of_birth", "gender"]
    assert sent_back.correction_message == "Use the date on the birth certificate."
    fixed = submission_save_draft(access_code_id=sent_back.access_code_id,
                                  payload=intake_payload(world, date_of_birth="2014-05-02"),
                                  version=sent_back.version)
    resubmitted = submission_submit(access_code_id=fixed.access_code_id, version=fixed.version)
    assert resubmitted.status == S.RESUBMITTED and resubmitted.flagged_fields == []
    approved = submission_approve(submission=resubmitted, actor=world.registrar,
                                         expected_version=resubmitted.version)
    assert approved.status == S.IMPORTED
    assert approved.imported_person.date_of_birth == dt.date(2014, 5, 2)
    assert [c.to_status for c in approved.status_changes.order_by("created_at", "id")] == [
        S.DRAFT, S.SUBMITTED, S.NEEDS_CORRECTION, S.RESUBMITTED, S.APPROVED, S.IMPORTED]


# --- approval policy: reasons required ------------------------------------------------------------------


def test_reject_needs_a_reason_by_default(world, intake):
    submission = submitted_intake(world, intake)
    before = _snapshot(submission)
    with pytest.raises(ValidationError) as exc:
        submission_reject(submission=submission, actor=world.registrar, reason="   ")
    assert "reason" in exc.value.message_dict
    assert _snapshot(submission) == before


def test_reject_without_reason_when_policy_allows(world):
    session = open_session(world, academic_year=world.year, approval_policy={"requireRejectReason": False})
    submission = submitted_intake(world, session)
    assert submission_reject(submission=submission, actor=world.registrar).status == S.REJECTED


def test_correction_needs_a_message_by_default(world, intake):
    submission = submitted_intake(world, intake)
    before = _snapshot(submission)
    with pytest.raises(ValidationError) as exc:
        submission_request_correction(submission=submission, actor=world.registrar, message="")
    assert "message" in exc.value.message_dict
    assert _snapshot(submission) == before


def test_correction_without_message_when_policy_allows(world):
    session = open_session(world, academic_year=world.year, approval_policy={"requireCorrectionMessage": False})
    submission = submitted_intake(world, session)
    result = submission_request_correction(submission=submission, actor=world.registrar,
                                                  flagged_fields=["gender"])
    assert result.status == S.NEEDS_CORRECTION and result.flagged_fields == ["gender"]


@pytest.mark.parametrize("kwargs, key", [
    ({"message": "Fix it.", "flagged_fields": ["shoe_size"]}, "flagged_fields"),
    ({"message": "x" * 2001}, "message"),
])
def test_correction_bad_input_changes_nothing(world, intake, kwargs, key):
    submission = submitted_intake(world, intake)
    before = _snapshot(submission)
    with pytest.raises(ValidationError) as exc:
        submission_request_correction(submission=submission, actor=world.registrar, **kwargs)
    assert key in exc.value.message_dict
    assert _snapshot(submission) == before


# --- optimistic lock --------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["approve", "reject", "request_correction"])
def test_stale_expected_version_is_a_conflict(world, intake, action):
    submission = submitted_intake(world, intake)
    stale = submission.version - 1
    before = _snapshot(submission)
    call = {
        "approve": lambda: submission_approve(submission=submission, actor=world.registrar,
                                                     expected_version=stale),
        "reject": lambda: submission_reject(submission=submission, actor=world.registrar, reason="No.",
                                                   expected_version=stale),
        "request_correction": lambda: submission_request_correction(
            submission=submission, actor=world.registrar, message="Fix.", expected_version=stale),
    }[action]
    with pytest.raises(Conflict) as exc:
        call()
    assert exc.value.code == "stale_version" and exc.value.status_code == 409
    assert exc.value.extra == {"currentVersion": submission.version, "status": S.SUBMITTED}
    assert _snapshot(submission) == before


def test_current_expected_version_is_accepted(world, intake):
    submission = submitted_intake(world, intake)
    result = submission_approve(submission=submission, actor=world.registrar,
                                       expected_version=submission.version)
    assert result.status == S.IMPORTED and result.version > submission.version


def test_second_approval_with_the_same_version_is_refused(world, intake):
    submission = submitted_intake(world, intake)
    seen = submission.version
    submission_approve(submission=submission, actor=world.registrar, expected_version=seen)
    with pytest.raises(Conflict):
        submission_approve(submission=submission, actor=world.district_admin, expected_version=seen)
    with pytest.raises(InvalidTransition):
        submission_approve(submission=submission, actor=world.district_admin)
    assert Person.objects.filter(family_name="Dube").count() == 1


# --- who may review ---------------------------------------------------------------------------------------


def test_class_teacher_reviews_only_their_classes(world):
    session = open_session(world, academic_year=world.year)
    in_6a = submitted_intake(world, session)
    in_6b = submitted_intake(world, session, given_name="Tatenda", class_division_id=str(world.class_6b.pk))
    teacher = world.class_teacher
    assert set(submissions_for_user(teacher)) == {in_6a}
    assert can_review(teacher, in_6a) and not can_review(teacher, in_6b)
    with pytest.raises(PermissionDenied):
        submission_approve(submission=in_6b, actor=teacher)
    assert submission_approve(submission=in_6a, actor=teacher).status == S.IMPORTED


@pytest.mark.parametrize("persona", ["viewer", "other_registrar"])
def test_read_only_and_outsiders_cannot_review(world, intake, persona):
    submission = submitted_intake(world, intake)
    user = world.personas[persona]
    assert not can_review(user, submission)
    before = _snapshot(submission)
    for action in ACTIONS.values():
        with pytest.raises(PermissionDenied):
            action(submission, user)
    assert _snapshot(submission) == before


def test_registrar_of_school_a_cannot_review_school_b(world):
    session_b = open_session(world, school=world.school_b, academic_year=world.year)
    code = new_codes(session_b, world.district_admin)[0]
    submission = submit(code, intake_payload(world, class_division_id=str(world.class_7a.pk),
                                             grade_level_id=str(world.grade7.pk)))
    assert submission not in submissions_for_user(world.registrar)
    with pytest.raises(PermissionDenied):
        submission_approve(submission=submission, actor=world.registrar)


# --- auto-approval ----------------------------------------------------------------------------------------


def test_auto_approve_policy_imports_on_submit(world):
    session = open_session(world, academic_year=world.year, approval_policy={"review": "auto_approve"})
    submission = submitted_intake(world, session)
    assert submission.status == S.IMPORTED
    assert submission.reviewed_by is None and submission.imported_person is not None
    reasons = {c.to_status: c.reason for c in submission.status_changes.all()}
    assert "automatically" in reasons[S.APPROVED]


def test_auto_approve_without_import_on_approval(world):
    session = open_session(world, academic_year=world.year,
                           approval_policy={"review": "auto_approve", "importOnApproval": False})
    submission = submitted_intake(world, session)
    assert submission.status == S.APPROVED and submission.imported_person is None


@pytest.fixture
def verification(world):
    students = [
        f.EnrollmentFactory(class_division=world.class_6a, academic_session=world.year,
                            person__grade_level=world.grade6, person__gender="female",
                            person__given_name=given, person__family_name="Sibanda", person__sis_id=f"S-60{i}").person
        for i, given in enumerate(["Rudo", "Nyasha"])
    ]
    session = open_session(world, mode=RegistrationMode.STUDENT_VERIFICATION, class_division=world.class_6a,
                           academic_year=world.year)
    codes = new_codes(session, world.district_admin, count=None, assign_from_class_roster=True)
    by_person = {c.assigned_person_id: c for c in codes}
    return session, [(p, by_person[p.pk]) for p in students]


def test_unchanged_verification_is_approved_and_imported_automatically(world, verification):
    _session, [(person, code), _] = verification
    submission = submit(code, verification_payload(code))
    assert submission.validation_summary["changedFields"] == []
    assert submission.status == S.IMPORTED and submission.imported_person == person
    assert Person.objects.filter(family_name="Sibanda").count() == 2
    assert Enrollment.objects.filter(person=person, role="student").count() == 1


def test_changed_verification_waits_for_review(world, verification):
    _session, [(person, code), _] = verification
    submission = submit(code, verification_payload(code, given_name="Rudorwashe"))
    assert submission.status == S.SUBMITTED
    assert submission.validation_summary["changedFields"] == ["given_name"]
    approved = submission_approve(submission=submission, actor=world.class_teacher)
    assert approved.status == S.IMPORTED and approved.imported_person == person
    person.refresh_from_db()
    assert person.given_name == "Rudorwashe"
    assert Person.objects.filter(family_name="Sibanda").count() == 2


def test_unchanged_verification_waits_when_policy_says_so(world):
    f.EnrollmentFactory(class_division=world.class_6a, person__grade_level=world.grade6, person__gender="male")
    session = open_session(world, mode=RegistrationMode.STUDENT_VERIFICATION, class_division=world.class_6a,
                           approval_policy={"autoApproveUnchangedVerifications": False})
    code = new_codes(session, world.district_admin, count=None, assign_from_class_roster=True)[0]
    assert submit(code, verification_payload(code)).status == S.SUBMITTED


# --- import into the roster -------------------------------------------------------------------------------


def test_import_creates_person_and_enrollment_for_the_sessions_year(world, intake):
    submission = submitted_intake(world, intake, national_id="63-123456-A-63", address="12 Jacaranda Rd")
    result = submission_approve(submission=submission, actor=world.registrar)
    assert result.status == S.IMPORTED and result.import_error == "" and result.imported_at is not None
    person = result.imported_person
    assert (person.given_name, person.family_name, person.role) == ("Chipo", "Dube", "student")
    assert person.date_of_birth == dt.date(2014, 5, 2) and person.gender == "female"
    assert person.school == world.school_a and person.grade_level == world.grade6
    assert {"type": "national_id", "value": "63-123456-A-63"} in person.identifiers
    assert person.properties["guardian_name"] == "Grace Dube"
    assert person.properties["address"] == "12 Jacaranda Rd"
    assert person.properties["registration_session_id"] == str(intake.pk)
    enrollment = Enrollment.objects.get(person=person)
    assert (enrollment.class_division, enrollment.role, enrollment.academic_session) == (
        world.class_6a, "student", world.year)
    assert AccessCode.objects.get(pk=result.access_code_id).status == CodeStatus.IMPORTED
    history = result.status_changes.first()
    assert (history.to_status, history.actor) == (S.IMPORTED, world.registrar)


def test_teacher_import_enrolls_in_the_classes_taught(world):
    maths = f.SubjectFactory(district=world.district, name="Mathematics")
    session = open_session(world, mode=RegistrationMode.TEACHER_SELF_REGISTRATION, academic_year=world.year)
    code = new_codes(session, world.district_admin)[0]
    submission = submit(code, teacher_payload(world, maths))
    result = submission_approve(submission=submission, actor=world.registrar)
    person = result.imported_person
    assert (person.role, person.sis_id, person.email, person.phone) == (
        "teacher", "T-1001", "farai@example.org", "+263 71 555 0101")
    enrollments = Enrollment.objects.filter(person=person).order_by("class_division__name")
    assert [(e.class_division.name, e.role, e.subject, e.academic_session) for e in enrollments] == [
        ("6A", "teacher", maths, world.year), ("6B", "teacher", maths, world.year)]
    assert person.properties["subject_ids"] == [str(maths.pk)]


def test_import_is_idempotent(world, intake):
    submission = submitted_intake(world, intake)
    first = submission_approve(submission=submission, actor=world.registrar)
    again = submission_import(submission=first, actor=world.registrar)
    assert again.status == S.IMPORTED and again.imported_person == first.imported_person
    assert again.version == first.version
    assert Person.objects.filter(family_name="Dube").count() == 1
    assert Enrollment.objects.filter(person=first.imported_person).count() == 1


def test_the_same_child_registered_twice_is_one_person(world, intake):
    """A second code for the same child (same names and date of birth) updates, never duplicates."""
    first = submission_approve(submission=submitted_intake(world, intake), actor=world.registrar)
    second_session = open_session(world, academic_year=world.year, title="Late intake")
    second = submitted_intake(world, second_session, guardian_phone="+263 77 999 0000")
    assert [p.pk for p in possible_duplicates(second)] == [first.imported_person_id]
    assert match_person(second) == first.imported_person
    result = submission_approve(submission=second, actor=world.registrar)
    assert result.imported_person == first.imported_person
    assert Person.objects.filter(family_name="Dube").count() == 1
    assert Enrollment.objects.filter(person=result.imported_person).count() == 1
    assert result.imported_person.properties["guardian_phone"] == "+263 77 999 0000"


def test_matching_by_number_comes_before_name(world):
    session = open_session(world, academic_year=world.year,
                           required_fields={"fields": {"student_number": "optional"}})
    by_number = f.PersonFactory(district=world.district, school=world.school_a, sis_id="AVP-0042",
                                given_name="Chipo", family_name="Dube-Moyo", date_of_birth=dt.date(2014, 5, 2))
    by_name = f.PersonFactory(district=world.district, school=world.school_a, sis_id="",
                              given_name="Chipo", family_name="Dube", date_of_birth=dt.date(2014, 5, 2))
    submission = submitted_intake(world, session, student_number="avp-0042")
    assert match_person(submission) == by_number
    result = submission_approve(submission=submission, actor=world.registrar)
    assert result.imported_person == by_number
    by_number.refresh_from_db()
    assert by_number.family_name == "Dube"
    by_name.refresh_from_db()
    assert by_name.sis_id == "" and not by_name.enrollments.exists()
    assert Person.objects.filter(given_name="Chipo").count() == 2


def test_matching_by_name_and_date_of_birth(world, intake):
    existing = f.PersonFactory(district=world.district, school=world.school_a, sis_id="AVP-0007",
                               given_name="chipo", family_name="DUBE", date_of_birth=dt.date(2014, 5, 2))
    f.PersonFactory(district=world.district, given_name="Chipo", family_name="Dube",
                    date_of_birth=dt.date(2015, 1, 1))  # a different child
    f.PersonFactory(district=world.other_district, given_name="Chipo", family_name="Dube",
                    date_of_birth=dt.date(2014, 5, 2))  # another district: never matched
    result = submission_approve(submission=submitted_intake(world, intake), actor=world.registrar)
    assert result.imported_person == existing
    existing.refresh_from_db()
    assert existing.sis_id == "AVP-0007" and existing.given_name == "Chipo"
    assert Person.objects.filter(district=world.district, family_name__iexact="dube").count() == 2


def test_import_failure_leaves_it_approved_and_writes_nothing(world, verification):
    session, [(person, code), (classmate, _code)] = verification
    submission = submit(code, verification_payload(code, student_number=classmate.sis_id, given_name="Rudorwashe"))
    enrollments_before = list(Enrollment.objects.order_by("pk").values_list("pk", "person_id", "class_division_id"))
    result = submission_approve(submission=submission, actor=world.registrar)
    assert result.status == S.APPROVED
    assert classmate.sis_id in result.import_error and classmate.full_name in result.import_error
    assert result.imported_person is None and result.imported_at is None
    person.refresh_from_db()
    assert (person.given_name, person.sis_id) == ("Rudo", "S-600")
    assert list(Enrollment.objects.order_by("pk").values_list("pk", "person_id", "class_division_id")) == (
        enrollments_before)
    assert AccessCode.objects.get(pk=code.pk).status == CodeStatus.APPROVED
    assert registration_progress(session=session).approved == 1

    # Fixed in the roster: the import goes through on the next try.
    classmate.sis_id = "S-699"
    classmate.save()
    retried = submission_import(submission=result, actor=world.registrar)
    assert retried.status == S.IMPORTED and retried.import_error == ""
    person.refresh_from_db()
    assert (person.given_name, person.sis_id) == ("Rudorwashe", "S-601")


def test_import_of_a_submission_that_is_not_approved_is_refused(world, intake):
    submission = submitted_intake(world, intake)
    with pytest.raises(InvalidTransition):
        submission_import(submission=submission, actor=world.registrar)
    assert not Person.objects.filter(family_name="Dube").exists()


def test_import_approved_action(world):
    session = open_session(world, academic_year=world.year, approval_policy={"importOnApproval": False})
    approved = [
        submission_approve(submission=submitted_intake(world, session, given_name=name), actor=world.registrar)
        for name in ("Chipo", "Tariro")
    ]
    waiting = submitted_intake(world, session, given_name="Kuda")
    assert {s.status for s in approved} == {S.APPROVED}
    for user in (world.class_teacher, world.viewer):
        with pytest.raises(PermissionDenied):
            submissions_import_approved(session=session, actor=user)
    assert submissions_import_approved(session=session, actor=world.registrar) == {"imported": 2, "failed": 0}
    assert set(Submission.objects.filter(session=session).values_list("status", flat=True)) == {S.IMPORTED, S.SUBMITTED}
    waiting.refresh_from_db()
    assert waiting.status == S.SUBMITTED
    assert submissions_import_approved(session=session, actor=world.registrar) == {"imported": 0, "failed": 0}


def test_bulk_approve_approves_each_on_its_own(world, intake):
    ok = [submitted_intake(world, intake, given_name=n) for n in ("Chipo", "Tariro")]
    sent_back = submission_request_correction(
        submission=submitted_intake(world, intake, given_name="Kuda"), actor=world.registrar, message="Fix.")
    other = open_session(world, school=world.other_school, actor=world.other_registrar, mode=RegistrationMode.TEACHER_SELF_REGISTRATION)
    foreign = SubmissionFactory(access_code=new_codes(other, world.other_registrar)[0], status=S.SUBMITTED)
    result = submissions_bulk_approve(
        submission_ids=[ok[0].pk, sent_back.pk, foreign.pk, ok[1].pk], actor=world.registrar)
    assert [s.pk for s in result["approved"]] == [ok[0].pk, ok[1].pk]
    assert set(result["failed"]) == {str(sent_back.pk), str(foreign.pk)}
    assert "needs_correction" in result["failed"][str(sent_back.pk)]
    assert result["failed"][str(foreign.pk)] == "Not found."
    foreign.refresh_from_db()
    assert foreign.status == S.SUBMITTED


def test_possible_duplicates_stay_in_the_district(world, intake):
    twin = f.PersonFactory(district=world.district, given_name="Chipo", family_name="Dube")
    sibling = f.PersonFactory(district=world.district, given_name="Rufaro", family_name="Dube",
                              date_of_birth=dt.date(2014, 5, 2))
    f.PersonFactory(district=world.other_district, given_name="Chipo", family_name="Dube")
    f.PersonFactory(district=world.district, given_name="Rufaro", family_name="Dube", date_of_birth=dt.date(2010, 1, 1))
    submission = submitted_intake(world, intake)
    assert set(possible_duplicates(submission)) == {twin, sibling}


# --- progress follows every step ---------------------------------------------------------------------------


def test_progress_counters_follow_every_state_change(world):
    session = open_session(world, academic_year=world.year, expected_count=4,
                           approval_policy={"importOnApproval": False})
    codes = new_codes(session, world.district_admin, count=4)

    def progress():
        p = registration_progress(session=session)
        return (p.unused, p.started, p.submitted, p.needs_correction, p.approved, p.rejected, p.imported,
                p.completion_percent, p.approval_percent)

    assert progress() == (4, 0, 0, 0, 0, 0, 0, 0.0, 0.0)
    draft = submission_save_draft(access_code_id=codes[0].pk, payload=intake_payload(world))
    assert progress() == (3, 1, 0, 0, 0, 0, 0, 0.0, 0.0)
    first = submission_submit(access_code_id=codes[0].pk, version=draft.version)
    assert progress() == (3, 0, 1, 0, 0, 0, 0, 25.0, 0.0)
    second = submit(codes[1], intake_payload(world, given_name="Tariro"))
    third = submit(codes[2], intake_payload(world, given_name="Kuda"))
    assert progress() == (1, 0, 3, 0, 0, 0, 0, 75.0, 0.0)
    first = submission_request_correction(submission=first, actor=world.registrar, message="Fix.")
    assert progress() == (1, 0, 2, 1, 0, 0, 0, 50.0, 0.0)
    fixed = submission_save_draft(access_code_id=codes[0].pk, payload=intake_payload(world), version=first.version)
    first = submission_submit(access_code_id=codes[0].pk, version=fixed.version)
    assert progress() == (1, 0, 3, 0, 0, 0, 0, 75.0, 0.0)
    submission_reject(submission=third, actor=world.registrar, reason="Duplicate.")
    assert progress() == (1, 0, 2, 0, 0, 1, 0, 50.0, 0.0)
    second = submission_approve(submission=second, actor=world.registrar)
    assert progress() == (1, 0, 1, 0, 1, 1, 0, 50.0, 33.3)
    submission_import(submission=second, actor=world.registrar)
    assert progress() == (1, 0, 1, 0, 0, 1, 1, 50.0, 33.3)
    submission_approve(submission=first, actor=world.registrar)
    submissions_import_approved(session=session, actor=world.registrar)
    assert progress() == (1, 0, 0, 0, 0, 1, 2, 50.0, 66.7)
