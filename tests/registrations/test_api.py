"""The seed's REST API over HTTP: personas × endpoints, the quick-reference walk-through, bad input,
query counts and the CSV export."""

from __future__ import annotations

import csv
import datetime
import io
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registrations.choices import CodeStatus, RegistrationMode, RosterPolicy, SessionStatus
from registrations.models import AccessCode, RegistrationSession, SessionStatusChange
from registrations.services.codes import access_codes_generate
from tests.registrations.factories import AccessCodeFactory, RegistrationSessionFactory
from tests.rostering import factories as rf

BASE = "/api/v1/registrations/sessions"
S = SessionStatus

SESSION_KEYS = {
    "id", "mode", "schoolId", "title", "description", "classDivisionId", "gradeLevelId", "academicYearId", "termId",
    "startsAt", "endsAt", "expectedCount", "rosterPolicy", "requiredFields", "approvalPolicy", "status", "createdAt",
    "updatedAt", "createdBy", "allowedTransitions", "progress",
}
PROGRESS_KEYS = {
    "expectedCount", "codesGenerated", "unused", "started", "submitted", "needsCorrection", "approved", "rejected",
    "imported", "revoked", "completionPercent", "approvalPercent",
}


def url(session=None, suffix="") -> str:
    if session is None:
        return BASE
    return f"{BASE}/{getattr(session, 'pk', session)}{suffix}"


def body_of(response):
    return response.json()


# --- personas × endpoints ------------------------------------------------------------------------------

READ = {"district_admin": 200, "registrar": 200, "class_teacher": 200, "viewer": 200, "other_registrar": 404,
        "superuser": 200}
WRITE = {"district_admin": 200, "registrar": 200, "class_teacher": 403, "viewer": 403, "other_registrar": 404,
         "superuser": 200}
CREATED = {**WRITE, "district_admin": 201, "registrar": 201, "superuser": 201}
# another district's registrar cannot even see school A: its id is an invalid reference
CREATE = {**CREATED, "other_registrar": 400}
# codes are credentials: a file of them only for those who manage the session
MANAGE_READ = {**READ, "class_teacher": 403, "viewer": 403}


def _create_body(world):
    return {"mode": "student_intake", "schoolId": str(world.school_a.pk), "title": "Form 1 intake"}


ENDPOINTS = {
    # name: (method, status the session starts in, path builder, body builder, expected per persona)
    "retrieve": ("get", S.DRAFT, lambda s, c: url(s), None, READ),
    "partial_update": ("patch", S.DRAFT, lambda s, c: url(s), lambda w: {"title": "Renamed"}, WRITE),
    "open": ("post", S.DRAFT, lambda s, c: url(s, "/open"), lambda w: {"reason": "Go"}, WRITE),
    "pause": ("post", S.OPEN, lambda s, c: url(s, "/pause"), None, WRITE),
    "close": ("post", S.PAUSED, lambda s, c: url(s, "/close"), None, WRITE),
    "archive": ("post", S.CLOSED, lambda s, c: url(s, "/archive"), None, WRITE),
    "progress": ("get", S.OPEN, lambda s, c: url(s, "/progress"), None, READ),
    "codes_list": ("get", S.OPEN, lambda s, c: url(s, "/codes"), None, READ),
    "codes_generate": ("post", S.OPEN, lambda s, c: url(s, "/codes"), lambda w: {"count": 3}, CREATED),
    "code_revoke": ("post", S.OPEN, lambda s, c: url(s, f"/codes/{c.pk}/revoke"), None, WRITE),
    "codes_export": ("get", S.OPEN, lambda s, c: url(s, "/codes/export"), None, MANAGE_READ),
}
PERSONAS = ["district_admin", "registrar", "class_teacher", "viewer", "other_registrar", "superuser"]


def snapshot(session):
    session = RegistrationSession.objects.get(pk=session.pk)
    return (
        session.status, session.title, session.updated_at,
        AccessCode.objects.filter(session=session).count(),
        AccessCode.objects.filter(session=session, revoked_at__isnull=False).count(),
        SessionStatusChange.objects.filter(session=session).count(),
        RegistrationSession.objects.count(),
    )


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_personas_against_every_session_endpoint(world, api_client_for, persona, endpoint):
    method, start, path, body, expected = ENDPOINTS[endpoint]
    session = RegistrationSessionFactory(school=world.school_a, mode=RegistrationMode.STUDENT_INTAKE, status=start)
    code = AccessCodeFactory(session=session)
    before = snapshot(session)
    client = api_client_for(getattr(world, persona))
    response = getattr(client, method)(path(session, code), body(world) if body else None, format="json")
    assert response.status_code == expected[persona], (endpoint, persona, response.content[:300])
    if response.status_code >= 400:
        assert snapshot(session) == before
        data = body_of(response)
        assert set(data) >= {"detail", "code"}
    elif method != "get":
        assert snapshot(session) != before


@pytest.mark.parametrize("persona", PERSONAS)
def test_personas_against_create(world, api_client_for, persona):
    response = api_client_for(getattr(world, persona)).post(url(), _create_body(world), format="json")
    assert response.status_code == CREATE[persona], response.content[:300]
    created = RegistrationSession.objects.filter(title="Form 1 intake").count()
    assert created == (1 if response.status_code == 201 else 0)
    if persona == "other_registrar":
        assert "schoolId" in body_of(response)["errors"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_personas_against_list(world, api_client_for, persona):
    a = RegistrationSessionFactory(school=world.school_a)
    b = RegistrationSessionFactory(school=world.school_b)
    other = RegistrationSessionFactory(school=world.other_school)
    visible = {
        "district_admin": {a, b}, "registrar": {a}, "class_teacher": {a}, "viewer": {a, b},
        "other_registrar": {other}, "superuser": {a, b, other},
    }[persona]
    response = api_client_for(getattr(world, persona)).get(url())
    assert response.status_code == 200
    assert {row["id"] for row in body_of(response)["results"]} == {str(s.pk) for s in visible}


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("district_admin", 200), ("viewer", 200), ("superuser", 200), ("registrar", 403), ("class_teacher", 403),
     ("other_registrar", 403)],
)
def test_tenant_wide_list_is_for_district_level_roles(world, api_client_for, persona, expected):
    RegistrationSessionFactory(school=world.school_a)
    RegistrationSessionFactory(school=world.school_b)
    response = api_client_for(getattr(world, persona)).get(url(), {"tenantWide": "true"})
    assert response.status_code == expected
    if expected == 200 and persona != "superuser":
        assert body_of(response)["count"] == 2
    if expected == 403:
        assert "district-level role" in body_of(response)["detail"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", ""), ("post", ""), ("get", "/{id}"), ("patch", "/{id}"), ("post", "/{id}/open"),
     ("get", "/{id}/progress"), ("get", "/{id}/codes"), ("post", "/{id}/codes"), ("get", "/{id}/codes/export"),
     ("post", "/{id}/codes/{code}/revoke")],
)
def test_anonymous_is_401_everywhere(world, api_client_for, method, path):
    session = RegistrationSessionFactory(school=world.school_a)
    code = AccessCodeFactory(session=session)
    response = getattr(api_client_for(None), method)(BASE + path.format(id=session.pk, code=code.pk), {}, format="json")
    assert response.status_code == 401
    assert body_of(response)["code"] in ("not_authenticated", "authentication_failed")


def test_a_bad_token_is_401(world, api_client_for):
    client = api_client_for(None)
    client.credentials(HTTP_AUTHORIZATION="Bearer sst_not-a-real-token")
    assert client.get(url()).status_code == 401


def test_session_auth_keeps_csrf(world, client_for):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(world.registrar)
    response = csrf_client.post(url(), _create_body(world), content_type="application/json")
    assert response.status_code == 403
    assert not RegistrationSession.objects.exists()
    assert client_for(world.registrar).get(url()).status_code == 200


# --- the seed's quick reference, step by step ----------------------------------------------------------


def test_the_seeds_quick_reference_walk_through(world, api_client_for):
    """Every row of the seed's API quick-reference table, with the seed's field names."""
    client = api_client_for(world.registrar)
    term = rf.TermFactory(district=world.district, parent=world.year, name="Term 1")

    # Create session — POST /registrations/sessions (useCreateRegistrationSession)
    created = client.post(url(), {
        "mode": "student_verification",
        "schoolId": str(world.school_a.pk),
        "title": "Grade 6A — check your details",
        "description": "Confirm what the school has on file.",
        "classDivisionId": str(world.class_6a.pk),
        "academicYearId": str(world.year.pk),
        "termId": str(term.pk),
        "startsAt": "2026-01-19T07:00:00Z",
        "endsAt": "2026-02-06T17:00:00Z",
        "expectedCount": 30,
        "rosterPolicy": "mixed",
        "requiredFields": {"fields": {"phone": {"state": "required", "pattern": "^[0-9 +]{9,15}$"}}},
        "approvalPolicy": {"review": "manual"},
    }, format="json")
    assert created.status_code == 201, created.content
    session = body_of(created)
    assert set(session) == SESSION_KEYS
    assert set(session["progress"]) == PROGRESS_KEYS
    assert session["status"] == "draft" and session["allowedTransitions"] == ["open"]
    assert session["gradeLevelId"] == str(world.grade6.pk)  # derived from the class division
    assert session["classDivisionId"] == str(world.class_6a.pk)
    assert session["academicYearId"] == str(world.year.pk) and session["termId"] == str(term.pk)
    assert session["startsAt"].startswith("2026-01-19T07:00:00") and session["endsAt"].startswith("2026-02-06")
    assert session["requiredFields"]["fields"]["phone"] == {"state": "required", "pattern": "^[0-9 +]{9,15}$"}
    assert session["requiredFields"]["fields"]["class_division_id"]["state"] == "required"  # mode default kept
    assert session["approvalPolicy"]["autoApproveUnchangedVerifications"] is True
    assert session["createdBy"]["username"] == "registrar_a"
    assert session["progress"]["expectedCount"] == 30 and session["progress"]["codesGenerated"] == 0
    sid = session["id"]

    # List sessions — GET /registrations/sessions (useRegistrationSessions), with the seed's filters
    listed = body_of(client.get(url(), {"mode": "student_verification", "status": "draft"}))
    assert [row["id"] for row in listed["results"]] == [sid] and listed["count"] == 1
    assert body_of(client.get(url(), {"mode": "student_intake"}))["count"] == 0

    # Get session — GET /registrations/sessions/{id} (useRegistrationSession)
    got = body_of(client.get(url(sid)))
    assert got["id"] == sid and got["title"] == "Grade 6A — check your details"

    # codes for the participants, then Open — POST …/{id}/open (useOpenRegistrationSession)
    generated = client.post(url(sid, "/codes"), {"count": 5, "prefix": "AVP"}, format="json")
    assert generated.status_code == 201 and body_of(generated)["count"] == 5
    opened = client.post(url(sid, "/open"))
    assert opened.status_code == 200 and body_of(opened)["status"] == "open"
    assert body_of(opened)["allowedTransitions"] == ["closed", "paused"]

    # Update session — PATCH …/{id} (useUpdateRegistrationSession): the limited fields while open
    patched = client.patch(url(sid), {"title": "Grade 6A — details", "endsAt": "2026-02-13T17:00:00Z",
                                      "expectedCount": 32}, format="json")
    assert patched.status_code == 200, patched.content
    assert body_of(patched)["title"] == "Grade 6A — details" and body_of(patched)["expectedCount"] == 32
    refused = client.patch(url(sid), {"mode": "student_intake"}, format="json")
    assert refused.status_code == 400 and "mode" in body_of(refused)["errors"]

    # Pause — POST …/{id}/pause (usePauseRegistrationSession), then open again
    assert body_of(client.post(url(sid, "/pause"), {"reason": "Exams week"}, format="json"))["status"] == "paused"
    assert body_of(client.post(url(sid, "/open")))["status"] == "open"

    # Progress — GET …/{id}/progress (useRegistrationSessionProgress)
    progress = body_of(client.get(url(sid, "/progress")))
    assert set(progress) == PROGRESS_KEYS | {"sessionId", "status", "school", "gradeLevel", "classDivision",
                                              "academicYear", "term"}
    assert progress["codesGenerated"] == 5 and progress["unused"] == 5 and progress["expectedCount"] == 32
    assert progress["school"] == {"id": str(world.school_a.pk), "name": "Avondale Primary", "code": "AVP"}
    assert progress["classDivision"]["name"] == "6A" and progress["gradeLevel"]["name"] == "Grade 6"
    assert progress["academicYear"]["name"] == "2026" and progress["term"]["name"] == "Term 1"

    # Close — POST …/{id}/close (useCloseRegistrationSession); Archive — POST …/{id}/archive
    assert body_of(client.post(url(sid, "/close")))["status"] == "closed"
    assert body_of(client.post(url(sid, "/archive")))["status"] == "archived"
    assert body_of(client.get(url(sid)))["allowedTransitions"] == []

    history = SessionStatusChange.objects.filter(session_id=sid).order_by("created_at", "id")
    assert [(h.from_status, h.to_status) for h in history] == [
        ("draft", "open"), ("open", "paused"), ("paused", "open"), ("open", "closed"), ("closed", "archived"),
    ]
    assert history[1].reason == "Exams week"


# --- transitions and edits over HTTP -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "action", "allowed"),
    [("draft", "pause", ["open"]), ("draft", "close", ["open"]), ("open", "open", ["closed", "paused"]),
     ("closed", "open", ["archived"]), ("archived", "archive", []), ("paused", "archive", ["closed", "open"])],
)
def test_illegal_transition_is_409_naming_current_and_allowed(world, api_client_for, start, action, allowed):
    session = RegistrationSessionFactory(school=world.school_a, status=start)
    response = api_client_for(world.registrar).post(url(session, f"/{action}"))
    assert response.status_code == 409
    data = body_of(response)
    assert data["code"] == "invalid_transition"
    assert data["currentStatus"] == start and data["allowedTargets"] == allowed
    assert f"from '{start}'" in data["detail"]
    session.refresh_from_db()
    assert session.status == start


def test_refused_edit_is_400_naming_the_field_and_the_reason(world, api_client_for):
    session = RegistrationSessionFactory(school=world.school_a, status=S.OPEN, title="Before")
    response = api_client_for(world.registrar).patch(
        url(session), {"classDivisionId": str(world.class_6a.pk), "title": "After"}, format="json"
    )
    assert response.status_code == 400
    errors = body_of(response)["errors"]
    assert list(errors) == ["classDivisionId"]
    assert "'classDivisionId' can only be changed while the session is a draft; it is open" in errors["classDivisionId"][0]
    session.refresh_from_db()
    assert session.title == "Before" and session.class_division is None


@pytest.mark.parametrize("status", ["closed", "archived"])
def test_closed_sessions_refuse_every_edit_over_http(world, api_client_for, status):
    session = RegistrationSessionFactory(school=world.school_a, status=status)
    response = api_client_for(world.registrar).patch(url(session), {"description": "late"}, format="json")
    assert response.status_code == 400
    assert f"A {status} session cannot be edited ('description')" in body_of(response)["errors"]["description"][0]


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"classDivisionId": "CLASS_7A"}, "classDivisionId", "does not belong to the session's school"),
        ({"classDivisionId": "CLASS_6A", "gradeLevelId": "GRADE7"}, "gradeLevelId", "the grade level is taken"),
        ({"academicYearId": "TERM"}, "academicYearId", "not a school year"),
        ({"termId": "YEAR"}, "termId", "is a school year"),
        ({"startsAt": "2026-02-01T00:00:00Z", "endsAt": "2026-01-01T00:00:00Z"}, "endsAt", "after startsAt"),
        ({"requiredFields": {"fields": {"phone": {"pattern": "(["}}}}, "requiredFields", "not a valid regular"),
        ({"requiredFields": {"fields": {"phone": {"minLength": 9, "maxLength": 3}}}}, "requiredFields",
         "minLength is greater"),
        ({"approvalPolicy": {"reviewers": 2}}, "approvalPolicy", "unknown key(s) reviewers"),
    ],
)
def test_service_errors_come_back_under_camel_case_names(world, api_client_for, payload, field, message):
    term = rf.TermFactory(district=world.district, parent=world.year, name="Term 1")
    ids = {"CLASS_7A": world.class_7a.pk, "CLASS_6A": world.class_6a.pk, "GRADE7": world.grade7.pk,
           "TERM": term.pk, "YEAR": world.year.pk}
    payload = {k: str(ids[v]) if isinstance(v, str) and v in ids else v for k, v in payload.items()}
    body = {**_create_body(world), **payload}
    response = api_client_for(world.district_admin).post(url(), body, format="json")
    assert response.status_code == 400, response.content
    errors = body_of(response)["errors"]
    assert field in errors, errors
    assert message in str(errors[field])
    assert not RegistrationSession.objects.exists()


def test_class_locked_create_and_grade_derivation(world, api_client_for):
    client = api_client_for(world.registrar)
    grade_only = body_of(client.post(url(), {**_create_body(world), "gradeLevelId": str(world.grade6.pk)},
                                     format="json"))
    assert grade_only["gradeLevelId"] == str(world.grade6.pk) and grade_only["classDivisionId"] is None
    school_wide = body_of(client.post(url(), _create_body(world), format="json"))
    assert school_wide["gradeLevelId"] is None and school_wide["classDivisionId"] is None
    same = client.post(url(), {**_create_body(world), "classDivisionId": str(world.class_6a.pk),
                               "gradeLevelId": str(world.grade6.pk)}, format="json")
    assert same.status_code == 201


# --- bad input ---------------------------------------------------------------------------------------


def test_malformed_json_is_400_and_writes_nothing(world, api_client_for):
    client = api_client_for(world.registrar)
    response = client.generic("POST", url(), '{"mode": "student_intake", "title": ', content_type="application/json")
    assert response.status_code == 400 and body_of(response)["code"] == "parse_error"
    session = RegistrationSessionFactory(school=world.school_a)
    response = client.generic("PATCH", url(session), "{nope", content_type="application/json")
    assert response.status_code == 400
    response = client.generic("POST", url(session, "/codes"), "[1, 2", content_type="application/json")
    assert response.status_code == 400
    assert RegistrationSession.objects.count() == 1 and not AccessCode.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mode": "teacher"}, "mode"),
        ({"rosterPolicy": "anyone"}, "rosterPolicy"),
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"schoolId": "not-a-uuid"}, "schoolId"),
        ({"schoolId": None}, "schoolId"),
        ({"expectedCount": -1}, "expectedCount"),
        ({"expectedCount": "many"}, "expectedCount"),
        ({"startsAt": "next monday"}, "startsAt"),
        ({"requiredFields": "phone"}, "requiredFields"),
        ({"status": "open"}, "status"),
        ({"school_id": "x"}, "school_id"),
        ({"colour": "red"}, "colour"),
        ({"id": str(uuid.uuid4())}, "id"),
    ],
)
def test_create_refuses_bad_fields_by_name(world, api_client_for, body, field):
    response = api_client_for(world.registrar).post(url(), {**_create_body(world), **body}, format="json")
    assert response.status_code == 400, response.content
    assert field in body_of(response)["errors"]
    assert not RegistrationSession.objects.exists()


def test_status_cannot_be_patched(world, api_client_for):
    session = RegistrationSessionFactory(school=world.school_a)
    response = api_client_for(world.registrar).patch(url(session), {"status": "open"}, format="json")
    assert response.status_code == 400
    assert "POST …/open" in body_of(response)["errors"]["status"][0]
    session.refresh_from_db()
    assert session.status == S.DRAFT


def test_non_object_body_is_400(world, api_client_for):
    response = api_client_for(world.registrar).post(url(), ["mode"], format="json")
    assert response.status_code == 400
    assert not RegistrationSession.objects.exists()


@pytest.mark.parametrize("field", ["schoolId", "classDivisionId", "gradeLevelId", "academicYearId", "termId"])
def test_another_districts_ids_are_400(world, api_client_for, field):
    other_year = rf.AcademicSessionFactory(district=world.other_district)
    other_ids = {
        "schoolId": world.other_school.pk, "classDivisionId": world.other_class.pk,
        "gradeLevelId": world.other_class.grade_level_id, "academicYearId": other_year.pk,
        "termId": rf.TermFactory(district=world.other_district, parent=other_year).pk,
    }
    response = api_client_for(world.district_admin).post(
        url(), {**_create_body(world), field: str(other_ids[field])}, format="json"
    )
    assert response.status_code == 400
    assert "that you can see" in body_of(response)["errors"][field][0]
    assert not RegistrationSession.objects.exists()


def test_unknown_ids_are_400(world, api_client_for):
    response = api_client_for(world.registrar).post(
        url(), {**_create_body(world), "classDivisionId": str(uuid.uuid4())}, format="json"
    )
    assert response.status_code == 400 and "classDivisionId" in body_of(response)["errors"]


def test_other_districts_session_is_404_for_every_verb(world, api_client_for):
    session = RegistrationSessionFactory(school=world.other_school)
    code = AccessCodeFactory(session=session)
    client = api_client_for(world.district_admin)
    assert client.get(url(session)).status_code == 404
    assert client.patch(url(session), {"title": "x"}, format="json").status_code == 404
    assert client.post(url(session, "/open")).status_code == 404
    assert client.get(url(session, "/progress")).status_code == 404
    assert client.get(url(session, "/codes")).status_code == 404
    assert client.post(url(session, "/codes"), {"count": 1}, format="json").status_code == 404
    assert client.post(url(session, f"/codes/{code.pk}/revoke")).status_code == 404
    assert client.get(url(session, "/codes/export")).status_code == 404
    session.refresh_from_db()
    assert session.status == S.DRAFT and session.title != "x"
    assert AccessCode.objects.filter(session=session).count() == 1


@pytest.mark.parametrize("path", ["/not-a-uuid", "/not-a-uuid/open", "/not-a-uuid/progress", "/not-a-uuid/codes",
                                  "/12345678-1234-1234-1234-123456789012"])
def test_malformed_or_unknown_ids_are_json_404(world, api_client_for, path):
    response = api_client_for(world.registrar).generic("GET" if "open" not in path else "POST", BASE + path)
    assert response.status_code == 404
    assert body_of(response) == {"detail": "Not found.", "code": "not_found"}


def test_put_and_delete_are_not_offered(world, api_client_for):
    session = RegistrationSessionFactory(school=world.school_a)
    client = api_client_for(world.registrar)
    assert client.put(url(session), _create_body(world), format="json").status_code == 405
    assert client.delete(url(session)).status_code == 405
    assert client.get(url(session, "/open")).status_code == 405
    assert client.delete(url(session, "/codes")).status_code == 405
    assert RegistrationSession.objects.filter(pk=session.pk).exists()


@pytest.mark.parametrize(
    "params",
    [{"mode": "teacher"}, {"status": "running"}, {"schoolId": "avp"}, {"tenantWide": "perhaps"},
     {"page_size": 500}, {"page_size": 0}, {"page": "x"}],
)
def test_bad_list_filters_are_400(world, api_client_for, params):
    response = api_client_for(world.registrar).get(url(), params)
    assert response.status_code in (400, 404)
    if response.status_code == 400:
        assert body_of(response)["code"] == "invalid"


def test_list_filters_by_school(world, api_client_for):
    a = RegistrationSessionFactory(school=world.school_a)
    RegistrationSessionFactory(school=world.school_b)
    response = api_client_for(world.district_admin).get(url(), {"schoolId": str(world.school_a.pk)})
    assert [row["id"] for row in body_of(response)["results"]] == [str(a.pk)]


def test_list_is_newest_first_and_paginated(world, api_client_for):
    sessions = [RegistrationSessionFactory(school=world.school_a) for _ in range(7)]
    client = api_client_for(world.registrar)
    first = body_of(client.get(url(), {"page_size": 5}))
    assert first["count"] == 7 and len(first["results"]) == 5 and first["next"]
    second = body_of(client.get(url(), {"page_size": 5, "page": 2}))
    ids = [r["id"] for r in first["results"] + second["results"]]
    assert ids == [str(s.pk) for s in sorted(sessions, key=lambda s: (s.created_at, s.pk), reverse=True)]


# --- codes over HTTP -----------------------------------------------------------------------------------


def mixed_session(world, **kwargs):
    kwargs.setdefault("mode", RegistrationMode.STUDENT_VERIFICATION)
    kwargs.setdefault("roster_policy", RosterPolicy.MIXED)
    kwargs.setdefault("status", S.OPEN)
    return RegistrationSessionFactory(school=world.school_a, **kwargs)


def test_generate_open_codes_result_shape(world, api_client_for):
    session = mixed_session(world)
    expires = (timezone.now() + datetime.timedelta(days=10)).replace(microsecond=0)
    response = api_client_for(world.registrar).post(
        url(session, "/codes"), {"count": 4, "prefix": "avp", "expiresAt": expires.isoformat(), "delivery": "print"},
        format="json",
    )
    assert response.status_code == 201, response.content
    data = body_of(response)
    assert set(data) == {"printBatchId", "count", "warnings", "codes"}
    # lower case is taken as capitals, and the answer says so (nothing is changed silently)
    assert data["count"] == 4 and data["warnings"] == ["The prefix 'avp' is stored in capitals: codes start with AVP."]
    first = data["codes"][0]
    assert set(first) == {"id", "code", "assignedPersonId", "displayNameHint", "studentNumberHint",
                          "teacherNumberHint", "expiresAt"}
    assert first["code"].startswith("AVP-") and len(first["code"]) == len("AVP-ABCDE-FGHJK")
    assert first["assignedPersonId"] is None and first["studentNumberHint"] is None
    assert AccessCode.objects.filter(print_batch=data["printBatchId"]).count() == 4


def test_generate_roster_codes_with_hints(world, api_client_for, roster):
    session = mixed_session(world, class_division=world.class_6a)
    response = api_client_for(world.registrar).post(
        url(session, "/codes"), {"assignFromClassRoster": True, "includeRosterHintsOnPrintout": True}, format="json"
    )
    assert response.status_code == 201, response.content
    codes = body_of(response)["codes"]
    by_person = {c["assignedPersonId"]: c for c in codes}
    assert set(by_person) == {str(p.pk) for p in roster.students_6a}
    person = roster.students_6a[0]
    assert by_person[str(person.pk)]["displayNameHint"] == person.full_name
    assert by_person[str(person.pk)]["studentNumberHint"] == person.sis_id
    assert by_person[str(person.pk)]["teacherNumberHint"] is None


def test_teacher_codes_carry_teacher_number_hints(world, api_client_for, roster):
    session = mixed_session(world, mode=RegistrationMode.TEACHER_SELF_REGISTRATION)
    client = api_client_for(world.registrar)
    data = body_of(client.post(url(session, "/codes"), {"assignFromClassRoster": True}, format="json"))
    hint = next(c for c in data["codes"] if c["assignedPersonId"] == str(roster.teacher_a.pk))
    assert hint["teacherNumberHint"] == "T-100" and hint["studentNumberHint"] is None
    listed = body_of(client.get(url(session, "/codes"), {"search": "T-100"}))["results"]
    assert [c["teacherNumberHint"] for c in listed] == ["T-100"]


@pytest.mark.parametrize(
    ("policy", "body", "field", "message"),
    [
        (RosterPolicy.PRELOADED_ONLY, {"count": 3}, "assignFromClassRoster", "preloaded_only"),
        (RosterPolicy.OPEN_WITH_CODE, {"assignFromClassRoster": True}, "assignFromClassRoster", "open_with_code"),
        (RosterPolicy.MIXED, {"count": 3, "includeRosterHintsOnPrintout": True}, "includeRosterHintsOnPrintout",
         "only for roster-assigned"),
        (RosterPolicy.MIXED, {"count": 3, "expiresAt": "2020-01-01T00:00:00Z"}, "expiresAt", "future"),
        (RosterPolicy.MIXED, {"count": 3, "prefix": "WAYTOOLONG"}, "prefix", "at most 8"),
        (RosterPolicy.MIXED, {}, "count", "How many codes"),
        (RosterPolicy.MIXED, {"count": 0}, "count", ""),
        (RosterPolicy.MIXED, {"count": 100_001}, "count", ""),
        (RosterPolicy.MIXED, {"count": 3, "format": "emoji"}, "format", ""),
        (RosterPolicy.MIXED, {"count": 3, "delivery": "email"}, "delivery", ""),
        (RosterPolicy.MIXED, {"count": 3, "recipients": []}, "recipients", "Unknown field"),
    ],
)
def test_generation_errors_use_the_option_names(world, api_client_for, roster, policy, body, field, message):
    session = mixed_session(world, roster_policy=policy, class_division=world.class_6a)
    response = api_client_for(world.registrar).post(url(session, "/codes"), body, format="json")
    assert response.status_code == 400, response.content
    errors = body_of(response)["errors"]
    assert field in errors and message in str(errors[field])
    assert not AccessCode.objects.exists()


def test_short_format_warns_over_http(world, api_client_for):
    session = mixed_session(world)
    data = body_of(api_client_for(world.registrar).post(
        url(session, "/codes"), {"count": 2, "format": "human_readable_4_digit"}, format="json"))
    assert len(data["warnings"]) == 1 and "guessed" in data["warnings"][0]
    assert all(len(c["code"]) == 4 for c in data["codes"])


@pytest.mark.parametrize("status", ["closed", "archived"])
def test_generation_for_a_closed_session_is_409(world, api_client_for, status):
    session = mixed_session(world, status=status)
    response = api_client_for(world.registrar).post(url(session, "/codes"), {"count": 2}, format="json")
    assert response.status_code == 409 and body_of(response)["code"] == "session_closed"
    assert not AccessCode.objects.exists()


def test_revoke_over_http(world, api_client_for):
    session = mixed_session(world)
    unused = AccessCodeFactory(session=session)
    submitted = AccessCodeFactory(session=session, status=CodeStatus.SUBMITTED)
    elsewhere = AccessCodeFactory(session=mixed_session(world))
    client = api_client_for(world.registrar)
    response = client.post(url(session, f"/codes/{unused.pk}/revoke"), {"reason": "Lost"}, format="json")
    assert response.status_code == 200
    assert body_of(response)["revoked"] is True and body_of(response)["revokedAt"]
    assert client.post(url(session, f"/codes/{unused.pk}/revoke")).status_code == 200  # idempotent
    response = client.post(url(session, f"/codes/{submitted.pk}/revoke"))
    assert response.status_code == 409 and body_of(response)["code"] == "code_in_use"
    assert client.post(url(session, f"/codes/{elsewhere.pk}/revoke")).status_code == 404  # not this session's
    assert client.post(url(session, "/codes/nope/revoke")).status_code == 404
    assert client.post(url(session, f"/codes/{unused.pk}/revoke"), {"why": "x"}, format="json").status_code == 400
    elsewhere.refresh_from_db()
    submitted.refresh_from_db()
    assert elsewhere.revoked_at is None and submitted.revoked_at is None


def code_set(world, session):
    now = timezone.now()
    return {
        "unused": AccessCodeFactory(session=session, code="AAAAAAAAAA"),
        "started": AccessCodeFactory(session=session, status=CodeStatus.STARTED),
        "submitted": AccessCodeFactory(session=session, status=CodeStatus.SUBMITTED),
        "approved": AccessCodeFactory(session=session, status=CodeStatus.APPROVED),
        "revoked": AccessCodeFactory(session=session, revoked_at=now),
        "expired": AccessCodeFactory(session=session, expires_at=now - datetime.timedelta(days=1)),
    }


@pytest.mark.parametrize(
    ("status", "expected"),
    [("unused", {"unused", "expired"}), ("started", {"started"}), ("submitted", {"submitted"}),
     ("approved", {"approved"}), ("revoked", {"revoked"}), ("expired", {"expired"}), ("rejected", set()),
     ("needs_correction", set()), ("imported", set())],
)
def test_codes_list_filters_by_status(world, api_client_for, status, expected):
    session = mixed_session(world)
    codes = code_set(world, session)
    response = api_client_for(world.viewer).get(url(session, "/codes"), {"status": status})
    assert response.status_code == 200
    assert {r["id"] for r in body_of(response)["results"]} == {str(codes[k].pk) for k in expected}


def test_codes_list_search_and_batch_filters(world, api_client_for, roster):
    session = mixed_session(world, class_division=world.class_6a)
    codes = code_set(world, session)
    client = api_client_for(world.registrar)
    assert [r["id"] for r in body_of(client.get(url(session, "/codes"), {"search": "aaaaa-aaaaa"}))["results"]] == [
        str(codes["unused"].pk)
    ]
    batch = access_codes_generate(session=session, actor=world.registrar, assign_from_class_roster=True)
    person = roster.students_6a[2]
    found = body_of(client.get(url(session, "/codes"), {"search": person.family_name.lower()}))["results"]
    assert str(person.pk) in {r["assignedPersonId"] for r in found}
    in_batch = body_of(client.get(url(session, "/codes"), {"printBatchId": str(batch.print_batch_id)}))
    assert in_batch["count"] == 3
    row = in_batch["results"][0]
    assert row["rosterSnapshot"]["personId"] == row["assignedPersonId"]
    assert row["sessionId"] == str(session.pk) and row["printBatchId"] == str(batch.print_batch_id)
    for bad in ({"status": "lost"}, {"printBatchId": "batch-1"}):
        assert client.get(url(session, "/codes"), bad).status_code == 400


def test_codes_list_shape(world, api_client_for):
    session = mixed_session(world)
    AccessCodeFactory(session=session, code="SCH1ABCDEFGHJK", prefix_length=4)
    row = body_of(api_client_for(world.registrar).get(url(session, "/codes")))["results"][0]
    assert row["code"] == "SCH1-ABCDE-FGHJK"
    masked = body_of(api_client_for(world.class_teacher).get(url(session, "/codes")))["results"][0]
    assert masked["code"] == "SCH•••••"  # members who cannot manage the session never see whole codes
    assert set(row) == {
        "id", "sessionId", "code", "status", "revoked", "expired", "assignedPersonId", "displayNameHint",
        "studentNumberHint", "teacherNumberHint", "includeHintOnPrintout", "rosterSnapshot", "printBatchId",
        "expiresAt", "revokedAt", "firstUsedAt", "createdAt",
    }


# --- CSV export ----------------------------------------------------------------------------------------


def read_csv(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_csv_export_content(world, api_client_for, roster):
    session = mixed_session(world, class_division=world.class_6a, title="Grade 6A check")
    codes = code_set(world, session)
    access_codes_generate(session=session, actor=world.registrar, assign_from_class_roster=True)
    assert api_client_for(world.viewer).get(url(session, "/codes/export")).status_code == 403
    response = api_client_for(world.registrar).get(url(session, "/codes/export"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'attachment; filename="access-codes-grade-6a-check-' in response["Content-Disposition"]
    rows = read_csv(response)
    assert len(rows) == 6 + 3
    assert list(rows[0]) == ["code", "status", "assigned_person_id", "assigned_person_name", "display_name_hint",
                             "number_hint", "expires_at", "revoked_at", "print_batch_id", "created_at",
                             "register_url"]
    by_code = {r["code"]: r for r in rows}
    assert by_code["AAAAA-AAAAA"]["status"] == "unused"
    assert by_code[codes["revoked"].display_code]["status"] == "revoked"
    assert by_code[codes["revoked"].display_code]["revoked_at"]
    assert by_code[codes["expired"].display_code]["status"] == "expired"
    assert by_code[codes["approved"].display_code]["status"] == "approved"
    person = roster.students_6a[0]
    mine = next(r for r in rows if r["assigned_person_id"] == str(person.pk))
    assert (mine["assigned_person_name"], mine["display_name_hint"], mine["number_hint"]) == (
        person.full_name, person.full_name, person.sis_id,
    )
    assert mine["print_batch_id"] and mine["created_at"]
    only_revoked = read_csv(api_client_for(world.registrar).get(url(session, "/codes/export"), {"status": "revoked"}))
    assert [r["code"] for r in only_revoked] == [codes["revoked"].display_code]


def test_csv_export_neutralises_formulas(world, api_client_for):
    session = mixed_session(world)
    AccessCodeFactory(session=session, display_name_hint="=HYPERLINK(\"http://x\")", number_hint="+123")
    rows = read_csv(api_client_for(world.registrar).get(url(session, "/codes/export")))
    assert rows[0]["display_name_hint"].startswith("'=") and rows[0]["number_hint"] == "'+123"


def test_csv_export_honours_accept_text_csv(world, api_client_for):
    session = mixed_session(world)
    AccessCodeFactory(session=session)
    client = api_client_for(world.registrar)
    assert client.get(url(session, "/codes/export"), HTTP_ACCEPT="text/csv").status_code == 200
    missing = client.get(url(uuid.uuid4(), "/codes/export"), HTTP_ACCEPT="text/csv")
    assert missing.status_code == 404 and b"not_found" in missing.content


# --- query counts --------------------------------------------------------------------------------------


def count_queries(client, path, params) -> int:
    client.get(path, params)  # warm up: the token's last-used stamp is written at most once a minute
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_session_list_query_count_does_not_grow_with_page_size(world, api_client_for, django_assert_max_num_queries):
    term = rf.TermFactory(district=world.district, parent=world.year, name="Term 1")
    for i in range(60):
        session = RegistrationSessionFactory(
            school=world.school_a, class_division=world.class_6a if i % 2 else None, academic_year=world.year,
            term=term, created_by=world.registrar,
        )
        AccessCodeFactory(session=session, status=CodeStatus.SUBMITTED)
        AccessCodeFactory(session=session)
    client = api_client_for(world.registrar)
    small = count_queries(client, url(), {"page_size": 5})
    large = count_queries(client, url(), {"page_size": 50})
    assert small == large
    with django_assert_max_num_queries(small):
        data = body_of(client.get(url(), {"page_size": 50, "tenantWide": "false"}))
    assert len(data["results"]) == 50
    assert data["results"][0]["progress"]["codesGenerated"] == 2


def test_codes_list_query_count_does_not_grow_with_page_size(world, api_client_for, roster):
    session = mixed_session(world, class_division=world.class_6a)
    access_codes_generate(session=session, actor=world.registrar, count=70)
    access_codes_generate(session=session, actor=world.registrar, assign_from_class_roster=True)
    client = api_client_for(world.registrar)
    small = count_queries(client, url(session, "/codes"), {"page_size": 5})
    large = count_queries(client, url(session, "/codes"), {"page_size": 50})
    assert small == large


def test_detail_and_progress_use_one_aggregate(world, api_client_for):
    session = mixed_session(world)
    for _ in range(5):
        AccessCodeFactory(session=session)
    client = api_client_for(world.registrar)
    client.get(url(session))  # warm the token's last-used stamp
    baseline = count_queries(client, url(session), {})
    for _ in range(20):
        AccessCodeFactory(session=session, status=CodeStatus.APPROVED)
    assert count_queries(client, url(session), {}) == baseline
    assert count_queries(client, url(session, "/progress"), {}) <= baseline + 1
