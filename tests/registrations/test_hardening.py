"""Hostile and careless input against the registrations APIs: a clear 4xx, and nothing changed.

One regression test per finding of the hardening issue (deep nesting, NUL inside JSON, drafts storing
what validation refused, staff patterns that backtrack, code prefixes silently rewritten), then
property-based tests that throw deep nesting, control characters, huge strings, wrong types and odd
Unicode at every JSON field of the public and staff endpoints. They run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from registrations.models import AccessCode, CodeAttempt, RegistrationSession, SessionStatusChange, Submission
from registrations.services.sessions import registration_session_create
from registrations.validators import NOT_SAVED
from rostering.models import Person
from tests.hostile import HOSTILE
from tests.registrations.test_public import intake_answers, new_code, open_session
from tests.registrations.test_public_api import DRAFT, STATUS, SUBMIT, VALIDATE, participant

SESSIONS = "/api/v1/registrations/sessions"


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def counts() -> tuple:
    return (
        RegistrationSession.objects.count(), SessionStatusChange.objects.count(), AccessCode.objects.count(),
        Submission.objects.count(), Person.objects.count(), CodeAttempt.objects.count(),
    )


def post_raw(client: APIClient, path: str, body: str, method: str = "POST"):
    return client.generic(method, path, body.encode("utf-8", "surrogatepass"), content_type="application/json")


@pytest.fixture
def intake(world):
    session = open_session(world)
    return session, new_code(world, session)


# --- 1. deeply nested JSON --------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [100, 8_000, 10_000, 100_000])
def test_deep_nesting_to_the_public_validate_endpoint_is_a_4xx(world, intake, depth):
    before = counts()
    response = post_raw(APIClient(), VALIDATE, '{"code": ' + nested(depth) + "}")
    assert response.status_code in (400, 413), response.content
    body = response.json()
    assert body["code"] in ("invalid", "too_large")
    if depth == 100:  # small enough for the endpoint's 4 KB: refused for its nesting, naming the field
        assert body["errors"] == {"code": ["code: nested more than 64 levels deep."]}
    assert counts() == before


@pytest.mark.parametrize("depth", [100, 10_000])
def test_deep_nesting_to_the_staff_sessions_api_names_the_field(world, api_client_for, depth):
    before = counts()
    body = json.dumps({"mode": "student_intake", "schoolId": str(world.school_a.pk), "title": "Deep"})
    body = body[:-1] + ', "requiredFields": ' + nested(depth) + "}"
    response = post_raw(api_client_for(world.registrar), SESSIONS, body)
    assert response.status_code == 400, response.content
    assert response.json()["errors"]["requiredFields"] == ["requiredFields: nested more than 64 levels deep."]
    assert counts() == before


def test_deep_nesting_in_a_participant_draft_is_400(world, intake):
    client = participant(intake[1])
    before = counts()
    response = post_raw(client, DRAFT, '{"payload": {"given_name": ' + nested(10_000) + "}}", method="PUT")
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == {"given_name": ["payload.given_name: nested more than 64 levels deep."]}
    assert counts() == before


# --- 2. NUL inside a JSON field ------------------------------------------------------------------------------


def test_nul_inside_required_fields_is_400_naming_the_field_on_every_database(world, api_client_for):
    before = counts()
    body = {
        "mode": "student_intake", "schoolId": str(world.school_a.pk), "title": "Intake",
        "requiredFields": {"fields": {"given_name": {"state": "required", "label": "First\u0000name"}}},
    }
    response = api_client_for(world.registrar).post(SESSIONS, body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == {
        "requiredFields": ["requiredFields.fields.given_name.label: a NUL character (\\u0000) is not allowed."]
    }
    assert counts() == before


def test_nul_in_a_key_or_in_the_approval_policy_is_400(world, api_client_for):
    client = api_client_for(world.registrar)
    before = counts()
    for extra in ({"approvalPolicy": {"review\u0000": "manual"}}, {"description": "a\u0000b"}):
        body = {"mode": "student_intake", "schoolId": str(world.school_a.pk), "title": "Intake", **extra}
        response = client.post(SESSIONS, body, format="json")
        assert response.status_code == 400, response.content
    assert counts() == before


def test_a_service_caller_cannot_store_nul_inside_json_either(world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc_info:
        registration_session_create(
            actor=world.registrar, school=world.school_a, mode="student_intake", title="Intake",
            required_fields={"fields": {"given_name": {"label": "x\x00"}}},
        )
    assert "required_fields" in exc_info.value.message_dict
    assert not RegistrationSession.objects.exists()


# --- 3. drafts store only what validation accepts -------------------------------------------------------------


def test_a_megabyte_answer_is_refused_whole_and_nothing_is_stored(world, intake):
    client = participant(intake[1])
    before = counts()
    response = client.put(DRAFT, {"payload": {"given_name": "a" * 1_048_576}}, format="json")
    assert response.status_code == 413, response.status_code
    assert response.json()["code"] == "too_large"
    assert counts() == before


def test_an_over_long_answer_is_not_kept_and_the_answer_says_so(world, intake):
    client = participant(intake[1])
    response = client.put(DRAFT, {"payload": {"given_name": "a" * 5_000, "family_name": "Moyo"}}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["validationSummary"]["errors"]["given_name"] == ["At most 300 characters.", NOT_SAVED]
    submission = Submission.objects.get()
    assert submission.payload == {"family_name": "Moyo"}
    served = client.get(STATUS)
    assert served.status_code == 200 and "aaaa" not in served.content.decode()
    assert len(json.dumps(submission.validation_summary)) < 2_000


def test_a_too_long_answer_for_a_staff_limit_is_not_kept(world):
    session = open_session(world, required_fields={"fields": {"national_id": {"state": "optional", "maxLength": 12}}})
    client = participant(new_code(world, session))
    response = client.put(DRAFT, {"payload": {"national_id": "63-1234567-X-42-extra"}}, format="json")
    assert response.status_code == 200
    assert response.json()["validationSummary"]["errors"]["national_id"] == ["At most 12 characters.", NOT_SAVED]
    assert "national_id" not in Submission.objects.get().payload


def test_an_answer_with_a_fixable_error_is_kept_as_typed(world, intake):
    client = participant(intake[1])
    response = client.put(DRAFT, {"payload": {"date_of_birth": "02/05/2014"}}, format="json")
    assert response.status_code == 200
    assert response.json()["validationSummary"]["errors"]["date_of_birth"] == ["Enter a date as YYYY-MM-DD."]
    assert Submission.objects.get().payload == {"date_of_birth": "02/05/2014"}  # kept so it can be corrected


def test_the_whole_payload_has_a_cap_even_under_the_body_limit(world, intake):
    from registrations.selectors import form_fields
    from registrations.validators import check_payload

    session = intake[0]
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc_info:
        check_payload(form_fields(session), {"given_name": "x" * 70_000})
    assert "at most 65,536" in exc_info.value.message_dict["payload"][0]


# --- 4. staff-defined patterns run on RE2 --------------------------------------------------------------------


def test_a_backtracking_pattern_cannot_hang_autosave(world):
    session = open_session(world, required_fields={"custom": [
        {"key": "house", "label": "Sports house", "type": "text", "state": "optional", "pattern": "^(a+)+$"},
        {"key": "motto", "label": "Motto", "type": "text", "state": "optional", "pattern": r"^([A-Za-z]+\s?)+$"},
    ]})
    client = participant(new_code(world, session))
    response = client.put(
        DRAFT, {"payload": {"house": "a" * 30 + "!", "motto": "Ad astra per aspera " * 10 + "!"}}, format="json"
    )
    assert response.status_code == 200
    errors = response.json()["validationSummary"]["errors"]
    assert errors["house"][0] == errors["motto"][0] == "This does not have the expected format."
    response = client.put(DRAFT, {"payload": {"house": "aaaa"}, "version": 1}, format="json")
    assert response.status_code == 200 and "house" not in response.json()["validationSummary"]["errors"]


@pytest.mark.parametrize("pattern", [r"^(?=.*\d).+$", r"^(a)\1$", r"(?<!x)y"])
def test_a_pattern_re2_cannot_run_is_refused_when_staff_save_it(world, api_client_for, pattern):
    before = counts()
    body = {
        "mode": "student_intake", "schoolId": str(world.school_a.pk), "title": "Intake",
        "requiredFields": {"fields": {"national_id": {"state": "optional", "pattern": pattern}}},
    }
    response = api_client_for(world.registrar).post(SESSIONS, body, format="json")
    assert response.status_code == 400
    [message] = response.json()["errors"]["requiredFields"]
    assert message.startswith("requiredFields.fields.national_id.pattern: not a valid regular expression")
    assert "RE2" in message
    assert counts() == before


# --- 5. code prefixes are never silently rewritten --------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["<b>'", "ÄÖ", "AV-P", "A P", "ß", "１２"])
def test_a_prefix_outside_the_code_alphabet_is_400_naming_the_allowed_characters(world, api_client_for, prefix):
    session = open_session(world)
    before = counts()
    response = api_client_for(world.registrar).post(f"{SESSIONS}/{session.pk}/codes", {"count": 3, "prefix": prefix},
                                                    format="json")
    assert response.status_code == 400, response.content
    [message] = response.json()["errors"]["prefix"]
    assert "letters A–Z and digits 0–9" in message
    assert counts() == before


# --- property-based: anything at any JSON field -----------------------------------------------------------------

PROPERTY_SETTINGS = settings(
    max_examples=25, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def dumps(value) -> str:
    # json (not orjson) so that lone surrogates go out as \\udXXX escapes, as a hostile client would send them
    return json.dumps(value)


def _assert_clean(response, before):
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        assert response.status_code in (400, 401, 409, 413, 429), response.status_code
        assert counts() == before


@PROPERTY_SETTINGS
@given(field=st.sampled_from(["code", "schoolCode", "deviceName", "unknown"]), value=HOSTILE)
def test_validate_takes_anything_in_any_field(world, intake, field, value):
    before = counts()
    body = {"code": intake[1].code, field: value}
    response = post_raw(APIClient(REMOTE_ADDR="10.9.9.9"), VALIDATE, dumps(body))
    assert response.status_code < 500, response.content[:500]
    if response.status_code != 200:
        assert response.status_code in (400, 413, 429)
        # a refused code is logged for staff (a CodeAttempt); nothing else may change
        assert counts()[:5] == before[:5]


@PROPERTY_SETTINGS
@given(field=st.sampled_from(["given_name", "family_name", "date_of_birth", "gender", "grade_level_id",
                              "guardian_phone", "email", "subjects_taught", "nope"]), value=HOSTILE)
def test_draft_and_submit_take_anything_in_any_answer(world, intake, field, value):
    client = participant(intake[1])
    stored = Submission.objects.filter(access_code=intake[1]).values_list("payload", "version").first()
    before = counts()
    version = stored[1] if stored else None
    response = post_raw(client, DRAFT, dumps({"payload": {field: value}, "version": version}), method="PUT")
    _assert_clean(response, before)
    if response.status_code >= 400:
        assert Submission.objects.filter(access_code=intake[1]).values_list("payload", "version").first() == stored
    else:
        payload = Submission.objects.get(access_code=intake[1]).payload
        assert all(isinstance(v, str | list | bool | int | float) for v in payload.values())
        assert all(len(v) <= 300 for v in payload.values() if isinstance(v, str))
        assert "\x00" not in json.dumps(payload)
    before = counts()
    answers = {**intake_answers(world), field: value}
    response = post_raw(client, SUBMIT, dumps({"payload": answers, "version": Submission.objects.filter(
        access_code=intake[1]).values_list("version", flat=True).first()}))
    _assert_clean(response, before)


SESSION_FIELDS = ["title", "description", "requiredFields", "approvalPolicy", "expectedCount", "startsAt",
                  "rosterPolicy", "mode", "classDivisionId"]


@PROPERTY_SETTINGS
@given(field=st.sampled_from(SESSION_FIELDS), value=HOSTILE)
def test_staff_session_create_and_edit_take_anything(world, api_client_for, field, value):
    client = api_client_for(world.registrar)
    body = {"mode": "student_intake", "schoolId": str(world.school_a.pk), "title": "Fuzz", field: value}
    before = counts()
    _assert_clean(post_raw(client, SESSIONS, dumps(body)), before)
    session = RegistrationSession.objects.filter(school=world.school_a).first() or registration_session_create(
        actor=world.registrar, school=world.school_a, mode="student_intake", title="Target")
    before = counts()
    _assert_clean(post_raw(client, f"{SESSIONS}/{session.pk}", dumps({field: value}), method="PATCH"), before)
    before = counts()
    codes = {"count": 2, "prefix": value} if field in ("title", "description") else {"count": value}
    _assert_clean(post_raw(client, f"{SESSIONS}/{session.pk}/codes", dumps(codes)), before)
