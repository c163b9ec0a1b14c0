"""The staff side's rules, tested without HTTP: lifecycle, editing, placement lock, JSON settings, codes."""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from registrations import validators
from registrations.choices import (
    CODE_FORMAT_LENGTH,
    EDITABLE_WHEN_LIVE,
    SESSION_TRANSITIONS,
    SHORT_CODE_WARNING,
    CodeFormat,
    CodeStatus,
    RegistrationMode,
    RosterPolicy,
    SessionStatus,
)
from registrations.codes import ALPHABET, format_code, normalize_code
from registrations.models import AccessCode, RegistrationSession, SessionStatusChange
from registrations.services import codes as codes_services
from registrations.services.codes import access_code_revoke, access_codes_generate
from registrations.services.sessions import (
    registration_session_create,
    registration_session_transition,
    registration_session_update,
)
from registrations.validators import (
    APPROVAL_DEFAULTS,
    default_required_fields,
    validate_approval_policy,
    validate_required_fields,
)
from rostering.common.errors import Conflict, InvalidTransition
from rostering.models import School
from tests.registrations.factories import AccessCodeFactory, RegistrationSessionFactory
from tests.rostering import factories as rf

S = SessionStatus
ALL_STATUSES = list(S)
TARGETS = [S.OPEN, S.PAUSED, S.CLOSED, S.ARCHIVED, S.DRAFT]
LEGAL = {(src, dst) for src, targets in SESSION_TRANSITIONS.items() for dst in targets}
ILLEGAL = sorted(set(itertools.product(ALL_STATUSES, TARGETS)) - LEGAL)


def make_session(world, **kwargs) -> RegistrationSession:
    kwargs.setdefault("school", world.school_a)
    return RegistrationSessionFactory(**kwargs)


def errors_of(exc_info) -> dict:
    return exc_info.value.message_dict


# --- lifecycle --------------------------------------------------------------------------------------


def test_the_lifecycle_table_is_the_seeds():
    assert {
        (S.DRAFT, S.OPEN), (S.PAUSED, S.OPEN), (S.OPEN, S.PAUSED), (S.OPEN, S.CLOSED), (S.PAUSED, S.CLOSED),
        (S.CLOSED, S.ARCHIVED),
    } == LEGAL


@pytest.mark.parametrize(("source", "target"), sorted(LEGAL))
def test_legal_transition_changes_status_and_writes_history(world, source, target):
    session = make_session(world, status=source)
    result = registration_session_transition(session=session, to=target, actor=world.registrar, reason="Term starts")
    session.refresh_from_db()
    assert result.status == session.status == target
    change = SessionStatusChange.objects.get(session=session)
    assert (change.from_status, change.to_status, change.actor, change.reason) == (
        source, target, world.registrar, "Term starts",
    )


@pytest.mark.parametrize(("source", "target"), ILLEGAL)
def test_illegal_transition_is_refused_and_names_current_and_allowed(world, source, target):
    session = make_session(world, status=source)
    with pytest.raises(InvalidTransition) as exc_info:
        registration_session_transition(session=session, to=target, actor=world.registrar)
    exc = exc_info.value
    assert exc.status_code == 409
    assert f"from '{source}'" in exc.message
    allowed = sorted(SESSION_TRANSITIONS[source])
    assert exc.extra == {"currentStatus": source, "allowedTargets": allowed}
    for name in allowed:
        assert name in exc.message
    if not allowed:
        assert "final status" in exc.message
    session.refresh_from_db()
    assert session.status == source
    assert not SessionStatusChange.objects.filter(session=session).exists()


def test_transition_checks_the_status_in_the_database_not_the_stale_object(world):
    session = make_session(world, status=S.DRAFT)
    stale = RegistrationSession.objects.get(pk=session.pk)
    registration_session_transition(session=session, to=S.OPEN, actor=world.registrar)
    registration_session_transition(session=session, to=S.CLOSED, actor=world.registrar)
    with pytest.raises(InvalidTransition) as exc_info:
        registration_session_transition(session=stale, to=S.OPEN, actor=world.registrar)  # stale says draft
    assert exc_info.value.extra["currentStatus"] == S.CLOSED


def test_full_walk_keeps_every_history_row_in_order(world):
    session = make_session(world)
    for target in (S.OPEN, S.PAUSED, S.OPEN, S.CLOSED, S.ARCHIVED):
        registration_session_transition(session=session, to=target, actor=world.district_admin)
    history = list(SessionStatusChange.objects.filter(session=session).order_by("created_at", "id"))
    assert [(h.from_status, h.to_status) for h in history] == [
        (S.DRAFT, S.OPEN), (S.OPEN, S.PAUSED), (S.PAUSED, S.OPEN), (S.OPEN, S.CLOSED), (S.CLOSED, S.ARCHIVED),
    ]


@pytest.mark.parametrize("persona", ["class_teacher", "viewer", "other_registrar"])
def test_transition_needs_the_manage_role_where_the_session_lives(world, persona):
    session = make_session(world)
    with pytest.raises(PermissionDenied):
        registration_session_transition(session=session, to=S.OPEN, actor=getattr(world, persona))
    session.refresh_from_db()
    assert session.status == S.DRAFT


def test_registrar_of_school_a_cannot_touch_school_b(world):
    session = make_session(world, school=world.school_b)
    with pytest.raises(PermissionDenied):
        registration_session_transition(session=session, to=S.OPEN, actor=world.registrar)
    registration_session_transition(session=session, to=S.OPEN, actor=world.district_admin)


# --- create ------------------------------------------------------------------------------------------


def test_create_makes_a_draft_with_the_modes_defaults(world):
    session = registration_session_create(
        actor=world.registrar, school=world.school_a, mode=RegistrationMode.STUDENT_VERIFICATION, title="  Check  "
    )
    assert session.status == S.DRAFT
    assert session.title == "Check"
    assert session.district == world.district
    assert session.created_by == world.registrar
    assert session.roster_policy == RosterPolicy.PRELOADED_ONLY
    assert session.required_fields == default_required_fields(RegistrationMode.STUDENT_VERIFICATION)
    assert session.approval_policy["autoApproveUnchangedVerifications"] is True


@pytest.mark.parametrize(
    ("mode", "policy", "required", "hidden"),
    [
        (RegistrationMode.TEACHER_SELF_REGISTRATION, RosterPolicy.OPEN_WITH_CODE,
         {"given_name", "family_name", "phone", "email", "subjects_taught"}, {"guardian_name", "grade_level_id"}),
        (RegistrationMode.STUDENT_INTAKE, RosterPolicy.OPEN_WITH_CODE,
         {"date_of_birth", "gender", "guardian_name", "guardian_phone", "grade_level_id"}, {"subjects_taught"}),
        (RegistrationMode.STUDENT_VERIFICATION, RosterPolicy.PRELOADED_ONLY,
         {"date_of_birth", "grade_level_id", "class_division_id"}, {"subjects_taught", "teacher_number"}),
    ],
)
def test_sensible_defaults_per_mode(world, mode, policy, required, hidden):
    session = registration_session_create(actor=world.registrar, school=world.school_a, mode=mode, title="T")
    fields = session.required_fields["fields"]
    assert session.roster_policy == policy
    assert {k for k, v in fields.items() if v["state"] == "required"} >= required
    assert {k for k, v in fields.items() if v["state"] == "hidden"} >= hidden
    assert session.required_fields["custom"] == []
    assert session.approval_policy["review"] == "manual"
    assert session.approval_policy["autoApproveUnchangedVerifications"] is (mode == RegistrationMode.STUDENT_VERIFICATION)


@pytest.mark.parametrize("persona", ["class_teacher", "viewer", "other_registrar"])
def test_create_needs_the_manage_role_in_that_school(world, persona):
    with pytest.raises(PermissionDenied):
        registration_session_create(
            actor=getattr(world, persona), school=world.school_a, mode=RegistrationMode.STUDENT_INTAKE, title="T"
        )
    assert not RegistrationSession.objects.exists()


def test_registrar_cannot_create_in_another_school(world):
    with pytest.raises(PermissionDenied):
        registration_session_create(
            actor=world.registrar, school=world.school_b, mode=RegistrationMode.STUDENT_INTAKE, title="T"
        )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"mode": "teacher"}, "mode"),
        ({"title": ""}, "title"),
        ({"roster_policy": "anyone"}, "roster_policy"),
        ({"bogus": 1}, "bogus"),
        ({"starts_at": timezone.now(), "ends_at": timezone.now() - datetime.timedelta(days=1)}, "ends_at"),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(world, kwargs, field):
    data = {"mode": RegistrationMode.STUDENT_INTAKE, "title": "Intake", **kwargs}
    with pytest.raises(ValidationError) as exc_info:
        registration_session_create(actor=world.registrar, school=world.school_a, **data)
    assert field in errors_of(exc_info)
    assert not RegistrationSession.objects.exists()


# --- placement lock ----------------------------------------------------------------------------------


def create(world, **data):
    return registration_session_create(
        actor=world.district_admin, school=data.pop("school", world.school_a),
        mode=data.pop("mode", RegistrationMode.STUDENT_INTAKE), title="Scoped", **data,
    )


def test_school_wide_session(world):
    session = create(world)
    assert session.class_division is None and session.grade_level is None
    assert session.scope_label == "Whole school"


def test_grade_locked_session(world):
    session = create(world, grade_level=world.grade6)
    assert session.grade_level == world.grade6 and session.class_division is None


def test_class_locked_session_derives_and_stores_the_grade(world):
    session = create(world, class_division=world.class_6a)
    session.refresh_from_db()
    assert session.class_division == world.class_6a
    assert session.grade_level == world.grade6


def test_class_locked_with_its_own_grade_is_fine(world):
    session = create(world, class_division=world.class_6a, grade_level=world.grade6)
    assert session.grade_level == world.grade6


def test_class_locked_with_a_mismatching_grade_is_refused(world):
    with pytest.raises(ValidationError) as exc_info:
        create(world, class_division=world.class_6a, grade_level=world.grade7)
    message = errors_of(exc_info)["grade_level"][0]
    assert "6A" in message and "Grade 6" in message
    assert not RegistrationSession.objects.exists()


def test_class_of_another_school_is_refused(world):
    with pytest.raises(ValidationError) as exc_info:
        create(world, class_division=world.class_7a)
    assert "class_division" in errors_of(exc_info)


def test_grade_of_another_school_is_refused(world):
    grade_b = rf.GradeLevelFactory(district=world.district, school=world.school_b, code="08", name="Form 2")
    with pytest.raises(ValidationError) as exc_info:
        create(world, grade_level=grade_b)
    assert "grade_level" in errors_of(exc_info)


def test_school_specific_grade_of_the_same_school_is_fine(world):
    grade_a = rf.GradeLevelFactory(district=world.district, school=world.school_a, code="08", name="Form 2")
    assert create(world, grade_level=grade_a).grade_level == grade_a


def test_another_districts_ids_are_refused(world):
    other_grade = world.other_class.grade_level
    other_year = rf.AcademicSessionFactory(district=world.other_district)
    other_term = rf.TermFactory(district=world.other_district, parent=other_year)
    with pytest.raises(ValidationError) as exc_info:
        create(world, class_division=world.other_class)
    assert "class_division" in errors_of(exc_info)
    with pytest.raises(ValidationError) as exc_info:
        create(world, grade_level=other_grade)
    assert "grade_level" in errors_of(exc_info)
    with pytest.raises(ValidationError) as exc_info:
        create(world, academic_year=other_year, term=other_term)
    assert {"academic_year", "term"} <= set(errors_of(exc_info))
    assert not RegistrationSession.objects.exists()


def test_session_of_another_districts_school_is_refused_by_permission(world):
    with pytest.raises(PermissionDenied):
        create(world, school=world.other_school)


def test_academic_year_must_be_a_school_year(world):
    term = rf.TermFactory(district=world.district, parent=world.year, name="Term 1")
    with pytest.raises(ValidationError) as exc_info:
        create(world, academic_year=term)
    assert "not a school year" in errors_of(exc_info)["academic_year"][0]


def test_term_must_not_be_a_school_year(world):
    with pytest.raises(ValidationError) as exc_info:
        create(world, term=world.year)
    assert "is a school year" in errors_of(exc_info)["term"][0]


def test_term_must_be_inside_the_year(world):
    other_year = rf.AcademicSessionFactory(
        district=world.district, name="2027", start_date=datetime.date(2027, 1, 11),
        end_date=datetime.date(2027, 12, 3),
    )
    term_2027 = rf.TermFactory(district=world.district, parent=other_year, name="Term 1 2027")
    with pytest.raises(ValidationError) as exc_info:
        create(world, academic_year=world.year, term=term_2027)
    assert "is not a term of 2026" in errors_of(exc_info)["term"][0]
    term_2026 = rf.TermFactory(district=world.district, parent=world.year, name="Term 1 2026")
    session = create(world, academic_year=world.year, term=term_2026)
    assert (session.academic_year, session.term) == (world.year, term_2026)


def test_academic_year_of_another_school_is_refused(world):
    year_b = rf.AcademicSessionFactory(district=world.district, school=world.school_b, name="BRH 2026")
    with pytest.raises(ValidationError) as exc_info:
        create(world, academic_year=year_b)
    assert "academic_year" in errors_of(exc_info)


def test_changing_the_class_in_draft_rederives_the_grade(world):
    session = create(world, class_division=world.class_6a)
    class_7x = rf.ClassDivisionFactory(school=world.school_a, grade_level=world.grade7, name="7X")
    session = registration_session_update(actor=world.registrar, session=session, data={"class_division": class_7x})
    assert session.grade_level == world.grade7
    session = registration_session_update(actor=world.registrar, session=session, data={"class_division": None})
    assert session.class_division is None and session.grade_level is None


def test_setting_a_mismatching_grade_on_a_class_locked_draft_is_refused(world):
    session = create(world, class_division=world.class_6a)
    with pytest.raises(ValidationError) as exc_info:
        registration_session_update(actor=world.registrar, session=session, data={"grade_level": world.grade7})
    assert "grade_level" in errors_of(exc_info)
    session.refresh_from_db()
    assert session.grade_level == world.grade6


# --- editing rules -----------------------------------------------------------------------------------


def field_changes(world) -> dict:
    """A new value for every session field (model names)."""
    term = rf.TermFactory(district=world.district, parent=world.year, name="Term 2")
    now = timezone.now()
    return {
        "title": "New title",
        "description": "New description",
        "class_division": world.class_6b,
        "grade_level": world.grade6,
        "academic_year": world.year,
        "term": term,
        "starts_at": now + datetime.timedelta(days=1),
        "ends_at": now + datetime.timedelta(days=30),
        "expected_count": 42,
        "roster_policy": RosterPolicy.MIXED,
        "required_fields": {"fields": {"phone": "required"}},
        "approval_policy": {"review": "auto_approve"},
    }


ALL_EDITABLE = [
    "title", "description", "class_division", "grade_level", "academic_year", "term", "starts_at", "ends_at",
    "expected_count", "roster_policy", "required_fields", "approval_policy",
]
DRAFT_ONLY = sorted(set(ALL_EDITABLE) - EDITABLE_WHEN_LIVE)


def test_the_limited_fields_are_the_briefs():
    assert {
        "title", "description", "starts_at", "ends_at", "expected_count", "required_fields", "approval_policy",
    } == EDITABLE_WHEN_LIVE
    assert DRAFT_ONLY == ["academic_year", "class_division", "grade_level", "roster_policy", "term"]


def _apply(world, session, name, value):
    data = {name: value}
    if name == "grade_level":
        data = {"class_division": None, "grade_level": value}  # a grade lock of its own
    if name == "term":
        data = {"academic_year": world.year, "term": value}
    return registration_session_update(actor=world.registrar, session=session, data=data)


@pytest.mark.parametrize("name", ALL_EDITABLE)
def test_in_draft_everything_but_mode_and_school_can_change(world, name):
    session = make_session(world, mode=RegistrationMode.STUDENT_INTAKE, class_division=world.class_6a)
    value = field_changes(world)[name]
    result = _apply(world, session, name, value)
    result.refresh_from_db()
    stored = getattr(result, name)
    if name == "required_fields":
        assert stored["fields"]["phone"]["state"] == "required"
    elif name == "approval_policy":
        assert stored["review"] == "auto_approve"
    else:
        assert stored == value


@pytest.mark.parametrize("status", [S.OPEN, S.PAUSED])
@pytest.mark.parametrize("name", sorted(EDITABLE_WHEN_LIVE))
def test_open_and_paused_sessions_take_the_limited_fields(world, status, name):
    session = make_session(world, status=status)
    value = field_changes(world)[name]
    result = registration_session_update(actor=world.registrar, session=session, data={name: value})
    assert result.status == status
    if name not in ("required_fields", "approval_policy"):
        result.refresh_from_db()
        assert getattr(result, name) == value


@pytest.mark.parametrize("status", [S.OPEN, S.PAUSED])
@pytest.mark.parametrize("name", DRAFT_ONLY)
def test_open_and_paused_sessions_refuse_the_other_fields(world, status, name):
    session = make_session(world, status=status)
    value = field_changes(world)[name]
    with pytest.raises(ValidationError) as exc_info:
        registration_session_update(
            actor=world.registrar, session=session, data={name: value, "title": "Should not be saved"}
        )
    message = errors_of(exc_info)[name][0]
    assert validators.CAMEL[name] in message
    assert f"it is {status}" in message and "Editable now" in message
    session.refresh_from_db()
    assert session.title != "Should not be saved"
    assert getattr(session, name) in (None, RosterPolicy.OPEN_WITH_CODE)


@pytest.mark.parametrize("status", [S.CLOSED, S.ARCHIVED])
@pytest.mark.parametrize("name", ALL_EDITABLE)
def test_closed_and_archived_sessions_refuse_every_edit(world, status, name):
    session = make_session(world, status=status)
    with pytest.raises(ValidationError) as exc_info:
        registration_session_update(actor=world.registrar, session=session, data={name: field_changes(world)[name]})
    assert f"A {status} session cannot be edited" in errors_of(exc_info)[name][0]


@pytest.mark.parametrize("status", ALL_STATUSES)
def test_mode_and_school_are_immutable_in_every_status(world, status):
    session = make_session(world, status=status)
    for name, value in (("mode", RegistrationMode.STUDENT_INTAKE), ("school", world.school_b)):
        with pytest.raises(ValidationError) as exc_info:
            registration_session_update(actor=world.district_admin, session=session, data={name: value})
        assert "cannot be changed after the session is created" in errors_of(exc_info)[name][0]
    # the current values are not a change
    same = registration_session_update(
        actor=world.district_admin, session=session, data={"mode": session.mode, "school": session.school}
    )
    assert same.mode == session.mode and same.school_id == session.school_id


def test_an_unchanged_value_is_accepted_even_when_the_status_forbids_edits(world):
    session = make_session(world, status=S.CLOSED, title="Done")
    assert registration_session_update(actor=world.registrar, session=session, data={"title": "Done"}).title == "Done"


def test_edit_refuses_unknown_fields_and_dates_in_the_wrong_order(world):
    session = make_session(world)
    with pytest.raises(ValidationError) as exc_info:
        registration_session_update(actor=world.registrar, session=session, data={"status": S.OPEN})
    assert "status" in errors_of(exc_info)
    now = timezone.now()
    with pytest.raises(ValidationError) as exc_info:
        registration_session_update(
            actor=world.registrar, session=session, data={"starts_at": now, "ends_at": now - datetime.timedelta(hours=1)}
        )
    assert "ends_at" in errors_of(exc_info)


@pytest.mark.parametrize("persona", ["class_teacher", "viewer", "other_registrar"])
def test_edit_needs_the_manage_role(world, persona):
    session = make_session(world, title="Before")
    with pytest.raises(PermissionDenied):
        registration_session_update(actor=getattr(world, persona), session=session, data={"title": "After"})
    session.refresh_from_db()
    assert session.title == "Before"


# --- requiredFields and approvalPolicy ---------------------------------------------------------------

INTAKE = RegistrationMode.STUDENT_INTAKE


def rf_errors(value, mode=INTAKE) -> list[str]:
    with pytest.raises(ValidationError) as exc_info:
        validate_required_fields(value, mode=mode)
    return exc_info.value.message_dict["required_fields"]


def test_required_fields_defaults_and_partial_overrides():
    assert validate_required_fields(None, mode=INTAKE) == default_required_fields(INTAKE)
    result = validate_required_fields(
        {"fields": {"phone": "required", "email": {"state": "hidden"}, "national_id": {"label": "Birth cert."}}},
        mode=INTAKE,
    )
    assert result["fields"]["phone"] == {"state": "required"}
    assert result["fields"]["email"] == {"state": "hidden"}
    assert result["fields"]["national_id"] == {"state": "optional", "label": "Birth cert."}
    assert result["fields"]["guardian_name"] == {"state": "required"}  # untouched default


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"fields": {}, "extra": 1}, "requiredFields: unknown key(s) extra"),
        ({"fields": {"shoe_size": "required"}}, "requiredFields.fields.shoe_size: unknown field"),
        ({"fields": {"phone": {"state": "required", "colour": "red"}}}, "unknown key(s) colour"),
        ({"fields": {"phone": {"state": "mandatory"}}}, "requiredFields.fields.phone.state: must be one of"),
        ({"fields": {"phone": {"pattern": "([0-9]"}}}, "requiredFields.fields.phone.pattern: not a valid regular"),
        ({"fields": {"phone": {"minLength": 10, "maxLength": 5}}}, "minLength is greater than maxLength"),
        ({"fields": {"phone": {"minLength": -1}}}, "minLength: must be a whole number"),
        ({"fields": {"phone": {"maxLength": True}}}, "maxLength: must be a whole number"),
        ({"fields": {"date_of_birth": {"pattern": ".*"}}}, "only apply to text fields"),
        ({"fields": {"given_name": "hidden"}}, "names cannot be hidden"),
        ({"fields": {"gender": {"choices": ["a", "a"]}}}, "choices: has duplicates"),
        ({"fields": {"gender": {"choices": []}}}, "choices: must be a list"),
        ({"fields": ["phone"]}, "requiredFields.fields: must be an object"),
        ({"custom": {"house": "x"}}, "requiredFields.custom: must be a list"),
        ({"custom": [{"key": "House!", "label": "House"}]}, "custom[0].key"),
        ({"custom": [{"key": "phone", "label": "Phone"}]}, "'phone' is already used"),
        ({"custom": [{"key": "house", "label": "H"}, {"key": "house", "label": "H"}]}, "'house' is already used"),
        ({"custom": [{"key": "house"}]}, "a custom question needs a label"),
        ({"custom": [{"key": "house", "label": "H", "type": "colour"}]}, "custom[0].type: must be one of"),
        ({"custom": [{"key": "house", "label": "H", "type": "choice"}]}, "a choice question needs its choices"),
        ({"custom": [{"key": "house", "label": "H", "state": "hidden"}]}, "custom[0].state"),
        ({"custom": [{"key": "house", "label": "H", "pattern": "(("}]}, "custom[0].pattern: not a valid"),
        ({"custom": [{"key": "house", "label": "H", "weight": 3}]}, "unknown key(s) weight"),
        ("phone", "must be a JSON object"),
    ],
)
def test_required_fields_refuses_unknown_keys_and_invalid_rules(value, expected):
    errors = rf_errors(value)
    assert any(expected in e for e in errors), errors


def test_required_fields_reports_every_problem_at_once():
    errors = rf_errors({"fields": {"phone": {"pattern": "(["}, "shoe": "required"}, "x": 1})
    assert len(errors) == 3


def test_custom_questions_are_kept_in_order_with_their_rules():
    result = validate_required_fields(
        {
            "custom": [
                {"key": "house", "label": "Sports house", "type": "choice", "choices": ["Red", "Blue"],
                 "state": "required"},
                {"key": "bus_route", "label": "Bus route", "pattern": "^[A-Z][0-9]$", "maxLength": 2},
                {"key": "siblings", "label": "Siblings at school", "type": "number"},
            ]
        },
        mode=INTAKE,
    )
    assert result["custom"] == [
        {"key": "house", "type": "choice", "state": "required", "label": "Sports house", "choices": ["Red", "Blue"]},
        {"key": "bus_route", "type": "text", "state": "optional", "label": "Bus route", "pattern": "^[A-Z][0-9]$",
         "maxLength": 2},
        {"key": "siblings", "type": "number", "state": "optional", "label": "Siblings at school"},
    ]


def test_approval_policy_defaults_overrides_and_errors():
    assert validate_approval_policy(None, mode=INTAKE) == APPROVAL_DEFAULTS
    verification = validate_approval_policy({}, mode=RegistrationMode.STUDENT_VERIFICATION)
    assert verification["autoApproveUnchangedVerifications"] is True
    assert validate_approval_policy({"review": "auto_approve"}, mode=INTAKE)["review"] == "auto_approve"
    for value, expected in (
        ({"reviewers": 2}, "unknown key(s) reviewers"),
        ({"review": "sometimes"}, "approvalPolicy.review: must be one of manual, auto_approve"),
        ({"importOnApproval": "yes"}, "approvalPolicy.importOnApproval: must be true or false"),
        ([], "must be a JSON object"),
    ):
        with pytest.raises(ValidationError) as exc_info:
            validate_approval_policy(value, mode=INTAKE)
        assert any(expected in e for e in exc_info.value.message_dict["approval_policy"]), value


def test_invalid_settings_refuse_the_create_and_the_edit(world):
    with pytest.raises(ValidationError) as exc_info:
        create(world, required_fields={"fields": {"phone": {"pattern": "(["}}})
    assert "required_fields" in errors_of(exc_info)
    session = make_session(world, status=S.OPEN)
    before = session.approval_policy
    with pytest.raises(ValidationError) as exc_info:
        registration_session_update(actor=world.registrar, session=session, data={"approval_policy": {"x": 1}})
    assert "approval_policy" in errors_of(exc_info)
    session.refresh_from_db()
    assert session.approval_policy == before


def test_null_settings_reset_to_the_modes_defaults(world):
    session = create(world, required_fields={"fields": {"phone": "required"}})
    session = registration_session_update(actor=world.registrar, session=session, data={"required_fields": None})
    assert session.required_fields == default_required_fields(INTAKE)


# --- access codes: generation ------------------------------------------------------------------------


def generate(session, actor, **kwargs):
    return access_codes_generate(session=session, actor=actor, **kwargs)


def test_open_codes_default_format(world):
    session = make_session(world)
    result = generate(session, world.registrar, count=50)
    codes = list(AccessCode.objects.filter(session=session))
    assert len(codes) == 50 == len(result.codes)
    assert result.warnings == []
    assert len({c.code for c in codes}) == 50
    for c in codes:
        assert len(c.code) == CODE_FORMAT_LENGTH[CodeFormat.SECURE] == 10
        assert set(c.code) <= set(ALPHABET)
        assert c.status == CodeStatus.UNUSED and c.assigned_person is None and c.print_batch == result.print_batch_id
        assert c.district_id == world.district.pk and c.school_id == world.school_a.pk
        assert c.created_by == world.registrar
    assert not set("01OI") & set(ALPHABET)
    assert len(ALPHABET) == 32


def test_prefix_and_display_format(world):
    session = make_session(world)
    result = generate(session, world.registrar, count=3, prefix="sch1")
    assert result.warnings == ["The prefix 'sch1' is stored in capitals: codes start with SCH1."]
    row = result.codes[0]
    assert row.code.startswith("SCH1") and row.prefix_length == 4 and len(row.code) == 14
    display = row.display_code
    assert display.startswith("SCH1-") and len(display.split("-")) == 3
    assert normalize_code(display.lower()) == row.code
    assert format_code("ABCD", 0) == "ABCD"


@pytest.mark.parametrize("fmt", [CodeFormat.HUMAN_READABLE_4, CodeFormat.HUMAN_READABLE_6])
def test_short_formats_warn(world, fmt):
    session = make_session(world)
    result = generate(session, world.registrar, count=20, format=fmt)
    assert result.warnings == [SHORT_CODE_WARNING]
    assert {len(c.code) for c in result.codes} == {CODE_FORMAT_LENGTH[fmt]}


def test_short_formats_never_reuse_a_taken_code(world, monkeypatch):
    session = make_session(world)
    AccessCodeFactory(session=session, code="AAAA")
    pool = iter(["AAAA", "BBBB", "CCCC", "DDDD", "EEEE", "FFFF"])
    monkeypatch.setattr(codes_services, "random_codes", lambda count, length: [next(pool) for _ in range(count)])
    result = generate(session, world.registrar, count=2, format=CodeFormat.HUMAN_READABLE_4)
    assert "AAAA" not in {c.code for c in result.codes}
    assert AccessCode.objects.filter(session=session).count() == 3


def test_a_code_space_that_cannot_fit_the_batch_is_a_conflict(world, monkeypatch):
    session = make_session(world)
    AccessCodeFactory(session=session, code="AAAA")
    monkeypatch.setattr(codes_services, "random_codes", lambda count, length: ["AAAA"] * count)
    with pytest.raises(Conflict):
        generate(session, world.registrar, count=1, format=CodeFormat.HUMAN_READABLE_4)
    assert AccessCode.objects.filter(session=session).count() == 1


def test_a_collision_on_insert_is_retried(world, monkeypatch):
    session = make_session(world)
    AccessCodeFactory(session=session, code="AAAAAAAAAA")
    batches = iter([["AAAAAAAAAA", "BBBBBBBBBB"], ["CCCCCCCCCC", "DDDDDDDDDD"]])
    monkeypatch.setattr(codes_services, "random_codes", lambda count, length: next(batches))
    result = generate(session, world.registrar, count=2)
    assert {c.code for c in result.codes} == {"CCCCCCCCCC", "DDDDDDDDDD"}


def test_codes_are_unique_across_sessions_in_the_database(world):
    a = AccessCodeFactory(session=make_session(world))
    with pytest.raises(IntegrityError), transaction.atomic():
        AccessCodeFactory(session=make_session(world), code=a.code)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"count": 0}, "count"),
        ({"count": 100_001}, "count"),
        ({"count": True}, "count"),
        ({}, "count"),
        ({"count": 5, "format": "emoji"}, "format"),
        ({"count": 5, "prefix": "TOOLONGPREFIX"}, "prefix"),
        ({"count": 5, "expires_at": timezone.now() - datetime.timedelta(minutes=1)}, "expires_at"),
        ({"count": 5, "include_roster_hints_on_printout": True}, "include_roster_hints_on_printout"),
    ],
)
def test_generation_refuses_bad_options(world, kwargs, field):
    session = make_session(world)
    with pytest.raises(ValidationError) as exc_info:
        generate(session, world.registrar, **kwargs)
    assert field in errors_of(exc_info)
    assert not AccessCode.objects.exists()


@pytest.mark.parametrize("status", [S.DRAFT, S.OPEN, S.PAUSED])
def test_generation_works_before_closing(world, status):
    assert len(generate(make_session(world, status=status), world.registrar, count=2).codes) == 2


@pytest.mark.parametrize("status", [S.CLOSED, S.ARCHIVED])
def test_generation_is_refused_when_closed(world, status):
    with pytest.raises(Conflict) as exc_info:
        generate(make_session(world, status=status), world.registrar, count=2)
    assert exc_info.value.status_code == 409 and status in exc_info.value.message
    assert not AccessCode.objects.exists()


@pytest.mark.parametrize("persona", ["class_teacher", "viewer", "other_registrar"])
def test_generation_needs_the_manage_role(world, persona):
    with pytest.raises(PermissionDenied):
        generate(make_session(world), getattr(world, persona), count=2)
    assert not AccessCode.objects.exists()


# --- roster policies ---------------------------------------------------------------------------------


def test_preloaded_only_refuses_open_codes(world, roster):
    session = make_session(world, mode=RegistrationMode.STUDENT_VERIFICATION, class_division=world.class_6a,
                           roster_policy=RosterPolicy.PRELOADED_ONLY)
    with pytest.raises(ValidationError) as exc_info:
        generate(session, world.registrar, count=5)
    assert "preloaded_only" in errors_of(exc_info)["assign_from_class_roster"][0]
    assert len(generate(session, world.registrar, assign_from_class_roster=True).codes) == 3


def test_open_with_code_refuses_roster_codes(world, roster):
    session = make_session(world, mode=RegistrationMode.STUDENT_INTAKE, roster_policy=RosterPolicy.OPEN_WITH_CODE)
    with pytest.raises(ValidationError) as exc_info:
        generate(session, world.registrar, assign_from_class_roster=True)
    assert "open_with_code" in errors_of(exc_info)["assign_from_class_roster"][0]
    assert len(generate(session, world.registrar, count=4).codes) == 4


def test_mixed_allows_both(world, roster):
    session = make_session(world, mode=RegistrationMode.STUDENT_INTAKE, class_division=world.class_6a,
                           roster_policy=RosterPolicy.MIXED)
    assigned = generate(session, world.registrar, assign_from_class_roster=True)
    open_codes = generate(session, world.registrar, count=2)
    assert len(assigned.codes) == 3 and len(open_codes.codes) == 2
    assert AccessCode.objects.filter(session=session, assigned_person__isnull=True).count() == 2


def roster_session(world, **kwargs):
    kwargs.setdefault("mode", RegistrationMode.STUDENT_VERIFICATION)
    kwargs.setdefault("roster_policy", RosterPolicy.PRELOADED_ONLY)
    return make_session(world, **kwargs)


def assigned_people(session) -> set:
    return set(AccessCode.objects.filter(session=session, revoked_at__isnull=True).values_list("assigned_person", flat=True))


def test_class_locked_roster_codes_cover_the_class(world, roster):
    session = roster_session(world, class_division=world.class_6a)
    result = generate(session, world.registrar, assign_from_class_roster=True, include_roster_hints_on_printout=True)
    assert assigned_people(session) == {p.pk for p in roster.students_6a}
    person = roster.students_6a[0]
    code = AccessCode.objects.get(session=session, assigned_person=person)
    assert code.display_name_hint == person.full_name
    assert code.number_hint == person.sis_id
    assert code.include_hint_on_printout is True
    snap = code.roster_snapshot
    assert snap["personId"] == str(person.pk)
    assert (snap["given_name"], snap["family_name"], snap["student_number"]) == (
        person.given_name, person.family_name, person.sis_id,
    )
    assert snap["class_division_id"] == str(world.class_6a.pk)
    assert snap["grade_level_id"] == str(world.grade6.pk)
    assert snap["date_of_birth"] == person.date_of_birth.isoformat()
    assert "takenAt" in snap
    assert result.warnings == []


def test_the_snapshot_is_a_point_in_time_copy(world, roster):
    session = roster_session(world, class_division=world.class_6a)
    generate(session, world.registrar, assign_from_class_roster=True)
    person = roster.students_6a[0]
    old_name = person.family_name
    person.family_name = "Renamed"
    person.save()
    code = AccessCode.objects.get(session=session, assigned_person=person)
    assert code.roster_snapshot["family_name"] == old_name


def test_grade_locked_roster_codes_cover_the_grade_in_that_school(world, roster):
    session = roster_session(world, grade_level=world.grade6)
    generate(session, world.registrar, assign_from_class_roster=True)
    expected = {p.pk for p in [*roster.students_6a, *roster.students_6b, roster.grade6_unplaced]}
    assert assigned_people(session) == expected


def test_school_wide_roster_codes_cover_the_schools_students(world, roster):
    session = roster_session(world)
    generate(session, world.registrar, assign_from_class_roster=True)
    expected = {p.pk for p in [*roster.students_6a, *roster.students_6b, roster.grade6_unplaced]}
    assert assigned_people(session) == expected
    assert not assigned_people(session) & {p.pk for p in [*roster.students_7a, roster.other_student]}


def test_teacher_sessions_assign_codes_to_teachers(world, roster):
    session = roster_session(world, mode=RegistrationMode.TEACHER_SELF_REGISTRATION, roster_policy=RosterPolicy.MIXED)
    generate(session, world.registrar, assign_from_class_roster=True)
    assert assigned_people(session) == {roster.teacher_6a.pk, roster.teacher_a.pk}
    code = AccessCode.objects.get(session=session, assigned_person=roster.teacher_a)
    assert code.number_hint == "T-100" and code.roster_snapshot["teacher_number"] == "T-100"
    class_session = roster_session(world, mode=RegistrationMode.TEACHER_SELF_REGISTRATION,
                                   roster_policy=RosterPolicy.MIXED, class_division=world.class_6a)
    generate(class_session, world.registrar, assign_from_class_roster=True)
    assert assigned_people(class_session) == {roster.teacher_6a.pk}


def test_count_caps_a_roster_generation(world, roster):
    session = roster_session(world, class_division=world.class_6a)
    assert len(generate(session, world.registrar, assign_from_class_roster=True, count=2).codes) == 2
    assert len(generate(session, world.registrar, assign_from_class_roster=True).codes) == 1


def test_second_roster_generation_only_covers_people_without_a_live_code(world, roster):
    session = roster_session(world, class_division=world.class_6a)
    first = generate(session, world.registrar, assign_from_class_roster=True)
    newcomer = rf.EnrollmentFactory(
        class_division=world.class_6a,
        person=rf.PersonFactory(district=world.district, school=world.school_a, grade_level=world.grade6),
    ).person
    second = generate(session, world.registrar, assign_from_class_roster=True)
    assert [c.assigned_person_id for c in second.codes] == [newcomer.pk]
    assert first.print_batch_id != second.print_batch_id
    with pytest.raises(ValidationError) as exc_info:
        generate(session, world.registrar, assign_from_class_roster=True)
    assert "already has a live code" in errors_of(exc_info)["assign_from_class_roster"][0]


def test_revoke_then_regenerate_gives_the_person_a_new_code(world, roster):
    session = roster_session(world, class_division=world.class_6a)
    generate(session, world.registrar, assign_from_class_roster=True)
    person = roster.students_6a[1]
    old = AccessCode.objects.get(session=session, assigned_person=person)
    access_code_revoke(code=old, actor=world.registrar)
    again = generate(session, world.registrar, assign_from_class_roster=True)
    assert [c.assigned_person_id for c in again.codes] == [person.pk]
    assert AccessCode.objects.filter(session=session, assigned_person=person).count() == 2
    assert AccessCode.objects.filter(session=session, assigned_person=person, revoked_at__isnull=True).get().pk != old.pk


def test_the_database_refuses_two_live_codes_for_one_person(world, roster):
    session = roster_session(world)
    person = roster.students_6a[0]
    AccessCodeFactory(session=session, assigned_person=person)
    with pytest.raises(IntegrityError), transaction.atomic():
        AccessCodeFactory(session=session, assigned_person=person)
    # another session may have its own live code for the same person
    AccessCodeFactory(session=roster_session(world), assigned_person=person)


def test_an_empty_roster_is_a_clear_error(world):
    session = roster_session(world, class_division=world.class_6b)
    with pytest.raises(ValidationError) as exc_info:
        generate(session, world.registrar, assign_from_class_roster=True)
    assert "roster is empty" in errors_of(exc_info)["assign_from_class_roster"][0]


def test_expiry_is_stored_on_every_code(world):
    expires = timezone.now() + datetime.timedelta(days=14)
    result = generate(make_session(world), world.registrar, count=3, expires_at=expires)
    assert {c.expires_at for c in AccessCode.objects.filter(print_batch=result.print_batch_id)} == {expires}


# --- access codes: revoke -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [CodeStatus.UNUSED, CodeStatus.STARTED])
def test_unused_and_started_codes_can_be_revoked(world, status):
    code = AccessCodeFactory(session=make_session(world), status=status)
    revoked = access_code_revoke(code=code, actor=world.registrar, reason="Lost slip")
    code.refresh_from_db()
    assert code.revoked_at is not None and code.revoked_by == world.registrar
    assert revoked.is_revoked and not revoked.is_live
    assert code.status == status


@pytest.mark.parametrize(
    "status",
    [CodeStatus.SUBMITTED, CodeStatus.NEEDS_CORRECTION, CodeStatus.APPROVED, CodeStatus.REJECTED, CodeStatus.IMPORTED],
)
def test_codes_in_use_cannot_be_revoked(world, status):
    code = AccessCodeFactory(session=make_session(world), status=status)
    with pytest.raises(Conflict) as exc_info:
        access_code_revoke(code=code, actor=world.registrar)
    assert exc_info.value.code == "code_in_use" and code.display_code in exc_info.value.message
    code.refresh_from_db()
    assert code.revoked_at is None


def test_revoking_twice_changes_nothing(world):
    code = AccessCodeFactory(session=make_session(world))
    first = access_code_revoke(code=code, actor=world.registrar).revoked_at
    second = access_code_revoke(code=code, actor=world.district_admin)
    assert second.revoked_at == first and second.revoked_by == world.registrar


@pytest.mark.parametrize("persona", ["class_teacher", "viewer", "other_registrar"])
def test_revoke_needs_the_manage_role(world, persona):
    code = AccessCodeFactory(session=make_session(world))
    with pytest.raises(PermissionDenied):
        access_code_revoke(code=code, actor=getattr(world, persona))
    code.refresh_from_db()
    assert code.revoked_at is None


def test_expired_code_is_not_live(world):
    code = AccessCodeFactory(session=make_session(world), expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert code.is_expired and not code.is_live


def test_school_is_protected_while_it_has_sessions(world):
    make_session(world)
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        School.objects.filter(pk=world.school_a.pk).delete()
