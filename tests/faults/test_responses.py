"""Database faults answer 503 with Retry-After (JSON for API clients, the styled page for people), never a 500.

The fault is made where a real one comes from: the driver's own ``OperationalError`` / ``InterfaceError``
raised by the cursor, inside Django's error wrapper (so Django sees it exactly as it would see a dropped
connection or a locked SQLite file), for every query or only for the queries that touch one table — a
fault in the middle of a request, after some of its queries went through. Savepoint statements still run,
so the test's own transaction survives the fault. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.db.backends.utils import CursorWrapper
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from config.middleware import RETRY_AFTER_SECONDS, database_unavailable_response, wants_json
from registrations.choices import CodeStatus, SubmissionStatus
from registrations.models import AccessCode, Submission, SubmissionStatusChange
from registrations.services.participation import make_token, submission_save_draft
from tests.registrations.review_support import intake_payload, new_codes, open_session

SUBMIT = "/api/v1/public/registrations/submission/submit"
DRAFT = "/api/v1/public/registrations/submission/draft"
VALIDATE = "/api/v1/public/registrations/access-codes/validate"
CONTROL = ("SAVEPOINT", "RELEASE", "ROLLBACK")


@contextmanager
def database_fault(match: str | None = None, *, kind: str = "OperationalError",
                   message: str = "server closed the connection unexpectedly") -> Iterator[list[str]]:
    """Every query (or every query whose SQL contains ``match``) fails with the driver's ``kind`` error.

    Yields the list of the statements that were refused.
    """
    refused: list[str] = []
    real_execute, real_executemany = CursorWrapper._execute, CursorWrapper._executemany

    def refuse(self, sql) -> None:
        if sql.lstrip().upper().startswith(CONTROL) or (match is not None and match not in sql):
            return
        refused.append(sql)
        with self.db.wrap_database_errors:  # the driver's error, wrapped by Django as for a real fault
            raise getattr(self.db.Database, kind)(message)

    def execute(self, sql, params, *args):
        refuse(self, sql)
        return real_execute(self, sql, params, *args)

    def executemany(self, sql, param_list, *args):
        refuse(self, sql)
        return real_executemany(self, sql, param_list, *args)

    with mock.patch.object(CursorWrapper, "_execute", execute), \
            mock.patch.object(CursorWrapper, "_executemany", executemany):
        yield refused
    connection.errors_occurred = False  # the test's connection itself is fine


def assert_503(response, *, json: bool) -> None:
    assert response.status_code == 503, response.content[:300]
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    if json:
        assert response["Content-Type"].startswith("application/json")
        body = response.json()
        assert body["code"] == "database_unavailable"
        assert "try again" in body["detail"]
    else:
        assert response["Content-Type"].startswith("text/html")
        html = response.content.decode()
        assert "Back in a moment" in html and 'class="error-page card"' in html
        assert "/static/css/app.css" in html  # the app's own stylesheet, no CDN
        assert "Something went wrong" not in html


@pytest.fixture
def drafted(world):
    """An open intake session with one code whose participant saved a complete draft."""
    session = open_session(world, academic_year=world.year)
    code = new_codes(session, world.district_admin)[0]
    draft = submission_save_draft(access_code_id=code.pk, payload=intake_payload(world), device_name="Tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(code)}")
    return code, draft, client


def stored_state(code: AccessCode) -> tuple:
    submission = Submission.objects.get(access_code=code)
    history = list(SubmissionStatusChange.objects.filter(submission=submission).values_list("to_status", flat=True))
    return (submission.status, submission.version, submission.submitted_at, sorted(history),
            AccessCode.objects.get(pk=code.pk).status)


# --- the API: JSON -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["OperationalError", "InterfaceError"])
def test_public_submit_fault_half_way_is_503_json_and_leaves_nothing(world, drafted, kind):
    code, draft, client = drafted
    before = stored_state(code)
    # The submission row is updated and its history row written before the access code's status: the
    # fault hits that last write, so everything before it has to be rolled back.
    with database_fault('UPDATE "registrations_accesscode"', kind=kind) as refused:
        response = client.post(SUBMIT, {"version": draft.version}, format="json")
    assert refused, "the fault was never reached"
    assert_503(response, json=True)
    assert response["Cache-Control"] == "no-store"
    assert stored_state(code) == before == (SubmissionStatus.DRAFT, draft.version, None, ["draft"], CodeStatus.STARTED)

    response = client.post(SUBMIT, {"version": draft.version}, format="json")  # the database is back
    assert response.status_code == 200, response.content
    status, version, submitted_at, history, code_status = stored_state(code)
    assert (status, version, history, code_status) == (
        SubmissionStatus.SUBMITTED, draft.version + 1, ["draft", "submitted"], CodeStatus.SUBMITTED)
    assert submitted_at is not None


def test_public_draft_and_validate_faults_are_503_json(world, drafted):
    code, draft, client = drafted
    with database_fault('"registrations_submission"'):
        response = client.put(DRAFT, {"payload": intake_payload(world, given_name="Changed"),
                                      "version": draft.version}, format="json")
    assert_503(response, json=True)
    assert Submission.objects.get(access_code=code).payload["given_name"] == "Chipo"
    with database_fault():
        response = APIClient().post(VALIDATE, {"code": code.code}, format="json")
    assert_503(response, json=True)


def test_staff_api_fault_is_503_json_even_with_debug_on(world, api_client_for, settings):
    settings.DEBUG = True  # the middleware answers before Django's debug page would
    client = api_client_for(world.registrar)
    with database_fault('"registrations_registrationsession"'):
        response = client.get("/api/v1/registrations/sessions")
    assert_503(response, json=True)
    with database_fault():  # the bearer token itself can't be checked
        response = client.get("/api/v1/registrations/sessions")
    assert_503(response, json=True)


def test_the_api_exception_handler_leaves_database_faults_to_the_middleware():
    from django.db import InterfaceError, OperationalError

    from rostering.common.exceptions import api_exception_handler

    for exc in (OperationalError("gone"), InterfaceError("connection already closed")):
        assert api_exception_handler(exc, {}) is None  # DRF re-raises it; never a 500 response of its own


def test_the_data_api_answers_a_fault_in_learnositys_envelope():
    request = RequestFactory().post("/data/v1/sessions/responses")
    response = database_unavailable_response(request, OperationalError("the server is restarting"))
    assert response.status_code == 503 and response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    body = json.loads(response.content)
    assert body["data"] == [] and body["meta"]["status"] is False and body["meta"]["code"] == 10000
    assert "try again" in body["meta"]["message"] and isinstance(body["meta"]["timestamp"], int)


@pytest.mark.parametrize(("path", "accept", "expected"), [
    ("/api/v1/registrations/sessions", "", True),
    ("/data/v2023.1.LTS/sessions/responses", "text/html", True),
    ("/ims/oneroster/rostering/v1p2/users", "", True),
    ("/registrations/", "application/json", True),
    ("/registrations/", "application/problem+json", True),
    ("/registrations/", "text/html,application/xhtml+xml,*/*;q=0.8", False),
    ("/register", "*/*", False),
    ("/register", "", False),
])
def test_who_gets_json(path, accept, expected):
    request = RequestFactory().get(path, HTTP_ACCEPT=accept) if accept else RequestFactory().get(path)
    assert wants_json(request) is expected


# --- people: the styled page -------------------------------------------------------------------------------


def test_staff_page_view_fault_is_the_styled_503_page(world, client_for):
    client = client_for(world.registrar)
    with database_fault('"registrations_registrationsession"') as refused:
        response = client.get("/registrations/")
    assert refused
    assert_503(response, json=False)
    assert 'href=""' in response.content.decode()  # "Try again" asks for the same page again
    with database_fault('"registrations_registrationsession"'):
        response = client.get("/registrations/", HTTP_ACCEPT="application/json")
    assert_503(response, json=True)


def test_fault_in_a_middleware_is_a_503_too(world):
    """The time-zone middleware loads the session before any view runs: ``handler500`` answers 503."""
    client = Client(raise_request_exception=False)
    client.force_login(world.registrar)
    with database_fault('"django_session"') as refused:
        response = client.get("/registrations/")
    assert refused
    assert_503(response, json=False)
    with database_fault('"django_session"'):
        response = client.get("/api/v1/rostering/schools/")
    assert_503(response, json=True)


def test_fault_while_rendering_the_404_page_is_a_503_not_a_loop(world):
    """The 404 page runs the staff context processor (schools): a fault there ends in the 503 page."""
    client = Client(raise_request_exception=False)
    client.force_login(world.registrar)
    with database_fault('"rostering_school"') as refused:
        response = client.get("/no-such-page/")
    assert refused
    assert_503(response, json=False)


def test_register_pages_fault_is_the_styled_503_page(world, drafted):
    code, _draft, _client = drafted
    with database_fault() as refused:
        response = Client().post("/register", {"code": code.code, "school_code": ""})
    assert refused
    assert_503(response, json=False)
    html = response.content.decode()
    assert "answers you already saved are safe" in html
    assert 'href="/register"' in html  # after a POST, back to the code page (never re-sent blindly)


def test_sqlite_database_is_locked_is_a_503(world, drafted):
    """SQLite's busy timeout ran out ("database is locked"): the same 503, on either database."""
    code, draft, client = drafted
    with database_fault('"registrations_submission"', message="database is locked"):
        response = client.post(SUBMIT, {"version": draft.version}, format="json")
    assert_503(response, json=True)
    assert Submission.objects.get(access_code=code).status == SubmissionStatus.DRAFT


def test_other_errors_are_still_the_500_page(world, client_for):
    client = client_for(world.registrar)
    client.raise_request_exception = False
    with mock.patch("registrations.views.sessions.render", side_effect=RuntimeError("a bug")):
        response = client.get("/registrations/")
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
    assert "Retry-After" not in response


def test_a_fault_is_logged_in_one_line_without_a_traceback(world, drafted, caplog):
    _code, draft, client = drafted
    caplog.set_level(logging.INFO)
    with database_fault('"registrations_submission"', message="terminating connection\ndue to administrator command"):
        client.post(SUBMIT, {"version": draft.version}, format="json")
    records = [r for r in caplog.records if r.name == "config.database"]
    assert len(records) == 1
    record = records[0]
    assert record.levelno == logging.ERROR and record.exc_info is None
    message = record.getMessage()
    assert "\n" not in message and SUBMIT in message and "503" in message
    assert "OperationalError: terminating connection due to administrator command" in message
    assert not [r for r in caplog.records if r.name == "django.request"]  # no second line, no traceback


# --- /healthz and /livez -----------------------------------------------------------------------------------


def test_healthz_reports_the_database(db, client, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("kind", ["OperationalError", "InterfaceError"])
def test_healthz_is_503_while_the_database_is_down(db, client, caplog, kind):
    with database_fault(kind=kind) as refused:
        response = client.get("/healthz")
    assert refused == ["SELECT 1"]
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unavailable"}
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert not [r for r in caplog.records if r.exc_info]
    assert client.get("/healthz").status_code == 200  # back


def test_livez_touches_nothing(db, client, django_assert_num_queries):
    with database_fault() as refused, django_assert_num_queries(0):
        response = client.get("/livez")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert refused == []
