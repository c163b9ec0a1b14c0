"""The public participant JSON API: /api/v1/public/registrations/…"""

from __future__ import annotations

import datetime as dt
import time
from unittest import mock

import pytest
from django.core import signing
from django.utils import timezone
from rest_framework.test import APIClient

from registrations.choices import RegistrationMode, SessionStatus, SubmissionStatus
from registrations.models import AccessCode, CodeAttempt, Submission
from registrations.services.codes import access_code_revoke
from registrations.services.participation import GENERIC_CODE_ERROR, TOKEN_SALT, make_token
from registrations.services.review import submission_request_correction
from registrations.services.sessions import registration_session_create
from rostering.services import api_token_create
from tests.registrations.test_public import (
    grade7_class_in_school_a,
    intake_answers,
    new_code,
    open_session,
    set_status,
    verification_setup,
)

M = RegistrationMode
S = SubmissionStatus
BASE = "/api/v1/public/registrations/"
VALIDATE = BASE + "access-codes/validate"
DRAFT = BASE + "submission/draft"
SUBMIT = BASE + "submission/submit"
STATUS = BASE + "submission"


def validate(client, code, *, school_code=None, device_name=None, **extra):
    body = {"code": code}
    if school_code is not None:
        body["schoolCode"] = school_code
    if device_name is not None:
        body["deviceName"] = device_name
    return client.post(VALIDATE, body, format="json", **extra)


def participant(code: AccessCode) -> APIClient:
    client = APIClient()
    response = validate(client, code.code)
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['registrationToken']}")
    return client


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def intake(world):
    session = open_session(world)
    return session, new_code(world, session)


# --- validate -------------------------------------------------------------------------------------------------


def test_validate_returns_token_session_form_and_selection_context(api, world):
    ends = timezone.now() + dt.timedelta(days=7)
    session = open_session(world, grade_level=world.grade6, ends_at=ends, description="Welcome!")
    code = new_code(world, session)
    typed = f" {code.code[:5].lower()} - {code.code[5:].lower()} "
    response = validate(api, typed, school_code="avp", device_name="Chrome / Android")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"registrationToken", "expiresInSeconds", "nextStep", "session", "form", "selectionContext",
                         "prefill", "submission"}
    assert body["expiresInSeconds"] == 3600 and body["nextStep"] == "complete_form"
    assert body["session"] == {
        "id": str(session.pk), "mode": "student_intake", "title": "Intake 2026", "description": "Welcome!",
        "schoolId": str(world.school_a.pk), "schoolName": "Avondale Primary", "classDivisionId": None,
        "gradeLevelId": str(world.grade6.pk), "academicYearId": None, "termId": None,
        "endsAt": ends.isoformat(), "rosterPolicy": "open_with_code",
    }
    keys = [field["key"] for field in body["form"]["fields"]]
    assert keys[:3] == ["given_name", "middle_name", "family_name"] and "guardian_phone" in keys
    grade = next(field for field in body["form"]["fields"] if field["key"] == "grade_level_id")
    assert grade["locked"] is True and grade["required"] is True
    context = body["selectionContext"]
    assert context["locks"] == {"gradeLocked": True, "classLocked": False, "gradeLevelId": str(world.grade6.pk),
                                "classDivisionId": None}
    assert {c["name"] for c in context["classDivisions"]} == {"6A", "6B"}
    assert body["prefill"] is None and body["submission"] is None
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("case", ["unknown", "revoked", "expired", "wrong_school"])
def test_validate_refuses_with_one_generic_error(api, world, intake, case):
    _session, code = intake
    body = {"code": code.code}
    if case == "unknown":
        body["code"] = "QQQQQQQQQQ"
    elif case == "revoked":
        access_code_revoke(code=code, actor=world.district_admin)
    elif case == "expired":
        AccessCode.objects.filter(pk=code.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    else:
        body["schoolCode"] = "BRH"
    response = api.post(VALIDATE, body, format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": GENERIC_CODE_ERROR, "code": "invalid_code"}
    assert CodeAttempt.objects.filter(outcome=CodeAttempt.Outcome.INVALID).count() == 1


@pytest.mark.parametrize("status", [SessionStatus.PAUSED, SessionStatus.CLOSED, SessionStatus.ARCHIVED])
def test_validate_explains_a_session_that_is_not_open_and_keeps_the_draft(api, world, intake, status):
    session, code = intake
    client = participant(code)
    client.put(DRAFT, {"payload": {"given_name": "Rudo"}}, format="json")
    set_status(world, session, status)
    response = validate(api, code.code)
    assert response.status_code == 409
    assert response.json()["code"] == "session_not_open" and response.json()["sessionStatus"] == status
    assert Submission.objects.get().payload == {"given_name": "Rudo"}


def test_validate_a_draft_session_is_not_open_yet(api, world):
    session = registration_session_create(actor=world.district_admin, school=world.school_a, mode=M.STUDENT_INTAKE,
                                          title="Soon")
    response = validate(api, new_code(world, session).code)
    assert response.status_code == 409 and "has not opened yet" in response.json()["detail"]


def test_validate_is_throttled_per_address_with_retry_after(api, world, intake):
    _session, code = intake
    for i in range(5):
        assert validate(api, f"NOPE{i}NOPE{i}", REMOTE_ADDR="10.9.9.9").status_code == 400
    response = validate(api, "NOPE9NOPE9", REMOTE_ADDR="10.9.9.9")
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited" and response.json()["retryAfter"] == int(response["Retry-After"])
    real = validate(api, code.code, REMOTE_ADDR="10.9.9.9")
    assert real.status_code == 429 and real.json()["detail"] == response.json()["detail"]
    assert "registrationToken" not in real.json()
    assert CodeAttempt.objects.filter(outcome=CodeAttempt.Outcome.THROTTLED).exists()


def test_validate_is_throttled_per_school_code(api, world, intake):
    for i in range(31):
        validate(api, f"X{i:03d}ABCDEF", school_code="AVP", REMOTE_ADDR=f"10.8.{i}.1")
    response = validate(api, "YYYYYYYYYY", school_code="avp", REMOTE_ADDR="10.7.0.1")
    assert response.status_code == 429 and response.json()["code"] == "rate_limited"


@pytest.mark.parametrize(("body", "field"), [
    ({}, "code"),
    ({"code": ""}, "code"),
    ({"code": "ABCD", "extra": 1}, "extra"),
    ({"code": ["ABCD"]}, "code"),
    ({"code": "A" * 65}, "code"),
])
def test_validate_bad_input_is_400_and_logs_nothing(api, world, body, field):
    response = api.post(VALIDATE, body, format="json")
    assert response.status_code == 400 and field in response.json()["errors"]
    assert not CodeAttempt.objects.exists()


def test_validate_malformed_json_and_non_object(api, world):
    assert api.post(VALIDATE, "{not json", content_type="application/json").status_code == 400
    response = api.post(VALIDATE, "[1, 2]", content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert api.post(VALIDATE, "code=ABCD", content_type="application/x-www-form-urlencoded").status_code == 415


def test_validate_needs_no_csrf_and_ignores_a_staff_session(world, intake, client):
    client.force_login(world.district_admin)
    client.handler.enforce_csrf_checks = True
    response = client.post(VALIDATE, {"code": intake[1].code}, content_type="application/json")
    assert response.status_code == 200


# --- the registration token ---------------------------------------------------------------------------------


def test_token_missing_malformed_forged_or_of_another_session_is_401(api, world, intake):
    session, code = intake
    response = api.get(STATUS)
    assert response.status_code == 401 and response.json()["code"] == "token_missing"
    assert response["WWW-Authenticate"].startswith("Bearer")
    other = new_code(world, open_session(world, mode=M.TEACHER_SELF_REGISTRATION))
    forged = make_token(code)[:-4] + "AAAA"
    mismatched = signing.dumps({"c": str(other.pk), "s": str(session.pk)}, salt=TOKEN_SALT, compress=True)
    _token, staff_token = api_token_create(user=world.district_admin, name="staff")
    for header, expected in (
        ("Bearer", "token_invalid"), ("Bearer a b", "token_invalid"), (f"Bearer {forged}", "token_invalid"),
        (f"Bearer {mismatched}", "token_invalid"), (f"Bearer {staff_token}", "token_invalid"),
    ):
        response = api.get(STATUS, HTTP_AUTHORIZATION=header)
        assert response.status_code == 401, header
        assert response.json()["code"] == expected
    assert api.put(DRAFT, {"payload": {"given_name": "X"}}, format="json",
                   HTTP_AUTHORIZATION=f"Bearer {mismatched}").status_code == 401
    assert not Submission.objects.exists()


def test_expired_token_is_401(api, world, intake):
    _session, code = intake
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 3601):
        old = make_token(code)
    response = api.put(DRAFT, {"payload": {"given_name": "X"}}, format="json", HTTP_AUTHORIZATION=f"Bearer {old}")
    assert response.status_code == 401 and response.json()["code"] == "token_expired"
    assert not Submission.objects.exists()


def test_revoked_code_invalidates_its_token(world, intake):
    _session, code = intake
    client = participant(code)
    assert client.get(STATUS).status_code == 200
    access_code_revoke(code=code, actor=world.district_admin)
    response = client.get(STATUS)
    assert response.status_code == 401 and response.json()["detail"] == GENERIC_CODE_ERROR


# --- drafts -------------------------------------------------------------------------------------------------


def test_draft_saves_and_increments_the_version(world, intake):
    client = participant(intake[1])
    first = client.put(DRAFT, {"payload": {"given_name": "Rudo"}}, format="json")
    assert first.status_code == 200
    body = first.json()
    assert body["version"] == 1 and body["status"] == "draft" and body["savedAt"]
    assert "family_name" in body["validationSummary"]["missing"]
    second = client.post(DRAFT, {"payload": {"given_name": "Rudo", "family_name": "Moyo"}, "version": 1}, format="json")
    assert second.json()["version"] == 2
    status = client.get(STATUS).json()
    assert status["status"] == "draft" and status["version"] == 2 and status["nextStep"] == "complete_form"
    assert status["payload"] == {"given_name": "Rudo", "family_name": "Moyo"}
    again = validate(APIClient(), intake[1].code).json()
    assert again["submission"]["version"] == 2 and again["submission"]["payload"]["family_name"] == "Moyo"


def test_stale_draft_is_409_and_changes_nothing(world, intake):
    client = participant(intake[1])
    client.put(DRAFT, {"payload": {"given_name": "Rudo"}}, format="json")
    client.put(DRAFT, {"payload": {"given_name": "Rudo", "family_name": "Moyo"}, "version": 1}, format="json")
    response = client.put(DRAFT, {"payload": {"given_name": "Overwritten"}, "version": 1}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "stale_version" and response.json()["currentVersion"] == 2
    missing_version = client.put(DRAFT, {"payload": {"given_name": "Overwritten"}}, format="json")
    assert missing_version.status_code == 400 and "version" in missing_version.json()["errors"]
    submission = Submission.objects.get()
    assert submission.version == 2 and submission.payload == {"given_name": "Rudo", "family_name": "Moyo"}


@pytest.mark.parametrize(("body", "field"), [
    ({"payload": ["given_name"], "version": 1}, "payload"),
    ({"payload": "Rudo", "version": 1}, "payload"),
    ({"payload": {"favourite_colour": "blue"}, "version": 1}, "payload"),
    ({"payload": {}, "version": 1, "colour": 1}, "colour"),
    ({"payload": {}, "version": "one"}, "version"),
    ({"payload": {}, "version": -1}, "version"),
    ({"version": 1}, "payload"),
])
def test_draft_bad_input_is_400_and_changes_nothing(world, intake, body, field):
    client = participant(intake[1])
    client.put(DRAFT, {"payload": {"given_name": "Rudo"}}, format="json")
    response = client.put(DRAFT, body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert Submission.objects.get().version == 1


def test_draft_with_an_answer_of_the_wrong_shape_lists_it_and_stores_nothing_of_it(world, intake):
    client = participant(intake[1])
    response = client.put(DRAFT, {"payload": {"given_name": {"nested": "object"}, "family_name": "Moyo"}}, format="json")
    assert response.status_code == 200
    assert response.json()["validationSummary"]["errors"]["given_name"] == ["Enter text.", "This answer was not saved."]
    assert Submission.objects.get().payload == {"family_name": "Moyo"}


def test_draft_malformed_json_is_400(world, intake):
    client = participant(intake[1])
    response = client.put(DRAFT, '{"payload": {', content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"
    assert not Submission.objects.exists()


@pytest.mark.parametrize("status", [SessionStatus.PAUSED, SessionStatus.CLOSED])
def test_draft_for_a_session_that_is_not_open_is_409_and_changes_nothing(world, intake, status):
    session, code = intake
    client = participant(code)
    client.put(DRAFT, {"payload": {"given_name": "Rudo"}}, format="json")
    set_status(world, session, status)
    response = client.put(DRAFT, {"payload": {"given_name": "Changed"}, "version": 1}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "session_not_open"
    assert client.post(SUBMIT, {"version": 1}, format="json").status_code == 409
    submission = Submission.objects.get()
    assert submission.payload == {"given_name": "Rudo"} and submission.version == 1 and submission.status == S.DRAFT
    assert client.get(STATUS).status_code == 200  # the status stays readable


# --- placement locks, on save and on submit ------------------------------------------------------------------


def test_class_locked_session_keeps_the_locked_class_on_save_and_submit(world):
    session = open_session(world, class_division=world.class_6a)
    client = participant(new_code(world, session))
    for class_id in (world.class_6b.pk, world.class_7a.pk, world.other_class.pk, "not-a-uuid"):
        answers = intake_answers(world, grade_level_id=str(world.grade7.pk), class_division_id=str(class_id))
        version = client.get(STATUS).json()["version"] or None
        response = client.put(DRAFT, {"payload": answers, "version": version}, format="json")
        assert response.status_code == 200, response.json()
        summary = response.json()["validationSummary"]
        assert "class_division_id" not in summary["errors"] and "grade_level_id" not in summary["errors"]
        submission = Submission.objects.get()
        assert submission.class_division == world.class_6a and submission.grade_level == world.grade6
    version = client.get(STATUS).json()["version"]
    answers = intake_answers(world, class_division_id=str(world.class_6b.pk))
    response = client.post(SUBMIT, {"version": version, "payload": answers}, format="json")
    assert response.status_code == 200, response.json()
    submission = Submission.objects.get()
    assert submission.status == S.SUBMITTED
    assert submission.class_division == world.class_6a and submission.payload["class_division_id"] == str(world.class_6a.pk)


def test_grade_locked_session_refuses_a_class_of_another_grade_on_save_and_submit(world):
    class_7b = grade7_class_in_school_a(world)
    session = open_session(world, grade_level=world.grade6)
    code = new_code(world, session)
    client = participant(code)
    bad = intake_answers(world, class_division_id=str(class_7b.pk))
    response = client.put(DRAFT, {"payload": bad}, format="json")
    assert response.status_code == 400 and "class_division_id" in response.json()["errors"]
    assert not Submission.objects.exists()
    response = client.post(SUBMIT, {"payload": bad}, format="json")
    assert response.status_code == 400 and "class_division_id" in response.json()["errors"]
    assert not Submission.objects.exists()
    client.put(DRAFT, {"payload": intake_answers(world)}, format="json")
    response = client.post(SUBMIT, {"payload": bad, "version": 1}, format="json")
    assert response.status_code == 400
    submission = Submission.objects.get()
    assert submission.status == S.DRAFT and submission.version == 1 and submission.class_division is None
    ok = client.post(SUBMIT, {"version": 1, "payload": intake_answers(
        world, grade_level_id=str(world.grade7.pk), class_division_id=str(world.class_6b.pk))}, format="json")
    assert ok.status_code == 200
    submission.refresh_from_db()
    assert submission.grade_level == world.grade6 and submission.class_division == world.class_6b


def test_a_class_or_grade_of_another_school_is_400_on_save_and_submit(world, intake):
    client = participant(intake[1])
    cases = [
        intake_answers(world, grade_level_id=str(world.grade7.pk), class_division_id=str(world.class_7a.pk)),
        intake_answers(world, class_division_id=str(world.other_class.pk)),
        intake_answers(world, grade_level_id=str(world.other_class.grade_level_id)),
    ]
    for answers in cases:
        assert client.put(DRAFT, {"payload": answers}, format="json").status_code == 400
        assert client.post(SUBMIT, {"payload": answers}, format="json").status_code == 400
    assert not Submission.objects.exists()


# --- submit, status, corrections -------------------------------------------------------------------------------


def test_submit_with_missing_required_fields_is_400_per_field_and_changes_nothing(world, intake):
    client = participant(intake[1])
    client.put(DRAFT, {"payload": {"given_name": "Rudo", "guardian_phone": "nope"}}, format="json")
    response = client.post(SUBMIT, {"version": 1}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["family_name"] == ["This field is required."]
    assert "guardian_phone" in errors
    submission = Submission.objects.get()
    assert submission.status == S.DRAFT and submission.version == 1 and submission.submitted_at is None
    assert client.post(SUBMIT, {}, format="json").status_code == 400  # the version is needed once a draft exists


def test_a_required_answer_refused_at_submit_says_why_and_not_also_that_it_is_missing(world, intake):
    client = participant(intake[1])
    response = client.post(SUBMIT, {"payload": intake_answers(world, family_name="M" * 400)}, format="json")
    assert response.status_code == 400
    [(key, messages)] = response.json()["errors"].items()
    assert key == "family_name" and messages[-1] == "This answer was not saved."  # and so it is missing too
    assert "This field is required." not in messages
    assert not Submission.objects.exists()


def test_submit_without_a_draft_or_payload_is_400(world, intake):
    client = participant(intake[1])
    response = client.post(SUBMIT, {}, format="json")
    assert response.status_code == 400 and "payload" in response.json()["errors"]


def test_submit_then_read_only(world, intake):
    client = participant(intake[1])
    response = client.post(SUBMIT, {"payload": intake_answers(world)}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "submitted" and body["nextStep"] == "read_only_status" and body["submittedAt"]
    assert body["payload"]["given_name"] == "Rudo"
    again = client.put(DRAFT, {"payload": {"given_name": "X"}, "version": body["version"]}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "not_editable"
    resubmit = client.post(SUBMIT, {"version": body["version"]}, format="json")
    assert resubmit.status_code == 409
    assert validate(APIClient(), intake[1].code).json()["nextStep"] == "read_only_status"
    assert Submission.objects.get().payload["given_name"] == "Rudo"


def test_corrections_loop_through_the_api(world, intake):
    client = participant(intake[1])
    submitted = client.post(SUBMIT, {"payload": intake_answers(world)}, format="json").json()
    submission_request_correction(submission=Submission.objects.get(), actor=world.district_admin,
                                  message="Check the date of birth.", flagged_fields=["date_of_birth"])
    validated = validate(APIClient(), intake[1].code).json()
    assert validated["nextStep"] == "corrections_required"
    assert validated["submission"]["correctionMessage"] == "Check the date of birth."
    assert validated["submission"]["flaggedFields"] == ["date_of_birth"]
    status = client.get(STATUS).json()
    assert status["status"] == "needs_correction" and status["flaggedFields"] == ["date_of_birth"]
    assert status["version"] > submitted["version"]
    saved = client.put(DRAFT, {"payload": intake_answers(world, date_of_birth="2014-06-02"),
                               "version": status["version"]}, format="json")
    assert saved.status_code == 200 and saved.json()["status"] == "needs_correction"
    done = client.post(SUBMIT, {"version": saved.json()["version"]}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "resubmitted"
    assert done.json()["flaggedFields"] == []
    assert Submission.objects.get().payload["date_of_birth"] == "2014-06-02"


def test_status_before_the_first_save(world, intake):
    body = participant(intake[1]).get(STATUS).json()
    assert body["status"] == "not_started" and body["version"] == 0 and body["payload"] == {}


def test_verification_prefill_and_changed_fields(world):
    _session, code, _student = verification_setup(world)
    body = validate(APIClient(), code.code).json()
    assert body["prefill"]["given_name"] == "Chipo" and body["prefill"]["date_of_birth"] == "2014-03-01"
    assert body["prefill"]["class_division_id"] == str(world.class_6a.pk)
    assert "personId" not in body["prefill"] and "identifiers" not in body["prefill"]
    client = participant(code)
    answers = {**body["prefill"], "family_name": "Moyo-Dube"}
    saved = client.put(DRAFT, {"payload": answers}, format="json").json()
    assert saved["validationSummary"]["changedFields"] == ["family_name"]
    done = client.post(SUBMIT, {"version": saved["version"]}, format="json").json()
    assert done["status"] == "submitted"  # a changed verification waits for staff


def test_schema_documents_the_public_endpoints(world, api):
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    import yaml  # drf-spectacular depends on PyYAML

    schema = yaml.safe_load(response.content)
    paths = schema["paths"]
    validate_op = paths["/api/v1/public/registrations/access-codes/validate"]["post"]
    assert validate_op["tags"] == ["Public registration"]
    assert validate_op.get("security", []) in ([], [{}])  # no credentials needed
    assert set(validate_op["responses"]) >= {"200", "400", "409", "429"}
    draft = paths["/api/v1/public/registrations/submission/draft"]
    assert {"put", "post"} <= set(draft)
    assert draft["put"]["security"] == [{"registrationToken": []}]
    assert "409" in draft["put"]["responses"]
    assert "get" in paths["/api/v1/public/registrations/submission"]
    assert "post" in paths["/api/v1/public/registrations/submission/submit"]
    assert schema["components"]["securitySchemes"]["registrationToken"]["scheme"] == "bearer"


@pytest.mark.parametrize(("answers", "field"), [
    ({"given_name": True}, "given_name"), ({"given_name": "x" * 1000}, "given_name"),
    ({"given_name": ["a", "b"]}, "given_name"), ({"date_of_birth": "2099-01-01"}, "date_of_birth"),
    ({"date_of_birth": "02/05/2014"}, "date_of_birth"), ({"date_of_birth": 2014.5}, "date_of_birth"),
    ({"gender": None}, "gender"), ({"gender": "robot"}, "gender"), ({"grade_level_id": ["a"]}, "grade_level_id"),
    ({"grade_level_id": 123}, "grade_level_id"), ({"class_division_id": {"x": 1}}, "class_division_id"),
    ({"grade_level_id": "00000000-0000-0000-0000-000000000000"}, "grade_level_id"),
    ({"guardian_phone": "\u0000"}, "guardian_phone"),
])
def test_odd_answers_are_listed_or_refused_never_a_server_error(world, intake, answers, field):
    client = participant(intake[1])
    response = client.put(DRAFT, {"payload": answers}, format="json")
    assert response.status_code in (200, 400), response.content
    if response.status_code == 200:
        assert field in response.json()["validationSummary"]["errors"] or field in response.json()["validationSummary"]["missing"]
        stored = Submission.objects.get().payload
        assert all(isinstance(v, (str, list)) for v in stored.values())
    before = client.get(STATUS).json()
    submit = client.post(SUBMIT, {"payload": intake_answers(world, **answers), "version": before["version"] or None},
                         format="json")
    assert submit.status_code == 400 and field in submit.json()["errors"]
    after = client.get(STATUS).json()
    assert after["version"] == before["version"] and after["status"] in ("draft", "not_started")
