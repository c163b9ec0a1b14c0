"""The seed's API over HTTP: the schema read against the seed, the seed's own curl example, personas on every
endpoint, the rules (400/409 that change nothing), filters and constant query counts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.test import Client

from assessments.models import ExamSession
from session_setup.choices import SetupStatus
from session_setup.models import SessionSetup, SessionSetupStatusChange
from session_setup.services import session_setup_create
from tests.assessments import factories as af

pytestmark = pytest.mark.django_db

URL = "/api/v1/school/session-setup/"
SEED = Path(__file__).with_name("seed_001_7879b8d4a9e3f417.txt")


# --- the seed, read as a document --------------------------------------------------------------------------


def _seed_sections():
    text = SEED.read_text()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    start = lines.index("Path Parameters")
    body, response = lines.index("Body"), lines.index("Response")
    request_json, response_json = (json.loads(block) for block in re.findall(r"^\{\n.*?^\}", text, re.S | re.M))
    return lines, start, body, response, request_json, response_json


def _fields(lines, names):
    """``{name: {"type", "required", "enum": [(value, label)], "range": (lo, hi)}}`` of one section."""
    out, current = {}, None
    for n, line in enumerate(lines):
        if line in names and n + 1 < len(lines) and re.match(r"^(enum<string>|string|integer)", lines[n + 1]):
            current = out[line] = {"type": lines[n + 1], "required": False, "enum": [], "range": None}
            continue
        if current is None:
            continue
        if line == "required":
            current["required"] = True
        elif m := re.match(r"^•?\s*(\w+) - (.+)$", line):
            current["enum"].append((m.group(1), m.group(2)))
        elif m := re.match(r"^Required range: (-?\d+) <= x <= (-?\d+)$", line):
            current["range"] = (int(m.group(1)), int(m.group(2)))
    return out


def _resolve(schema, components):
    if "$ref" in schema:
        return _resolve(components[schema["$ref"].rsplit("/", 1)[1]], components)
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return {**_resolve(schema["allOf"][0], components), **{k: v for k, v in schema.items() if k != "allOf"}}
    return schema


def _assert_matches_seed(ours: dict, seed: dict, components: dict, *, response: bool):
    props = ours["properties"]
    assert list(props) == list(seed), "fields and their order are the seed's"
    for name, want in seed.items():
        got = _resolve(props[name], components)
        kind = want["type"]
        if kind.startswith("enum"):
            assert got["type"] == "string"
            assert got["enum"] == [v for v, _ in want["enum"]], name
            assert got["description"] == "\n".join(f"* `{v}` - {label}" for v, label in want["enum"]), name
        elif kind.startswith("string<uuid>"):
            assert (got["type"], got["format"]) == ("string", "uuid"), name
            assert bool(got.get("nullable")) == kind.endswith("| null"), name
        elif kind == "string<date-time>":
            assert (got["type"], got["format"]) == ("string", "date-time"), name
        elif kind == "integer":
            assert got["type"] == "integer"
            assert (got["minimum"], got["maximum"]) == want["range"], name
        else:  # pragma: no cover - a seed type this test does not know
            raise AssertionError(kind)
    required = set(ours.get("required", []))
    if response:  # the reference does not mark read-only response fields as required; drf-spectacular does
        required -= {n for n, p in props.items() if _resolve(p, components).get("readOnly") or p.get("readOnly")}
    assert required == {n for n, w in seed.items() if w["required"]}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_our_schema_reads_the_same_as_the_seed_operation_by_operation(schema):
    lines, start, body, response, request_json, response_json = _seed_sections()
    components = schema["components"]["schemas"]
    put = schema["paths"][f"{URL}{{id}}/"]["put"]
    # The seed's one operation: PUT /api/v1/school/session-setup/{id}/ "Update session setup".
    assert put["summary"] == "Update session setup"
    assert put["description"] == "Manage session setup (create, read, update, delete)"
    assert {"bearerAuth": []} in put["security"]
    (param,) = put["parameters"]
    assert param == {"in": "path", "name": "id", "required": True, "schema": {"type": "string", "format": "uuid"},
                     "description": lines[start + 4]}
    assert lines[start + 4] == "A UUID string identifying this session setup."
    request = _resolve(put["requestBody"]["content"]["application/json"]["schema"], components)
    assert request["description"] == lines[body + 1] == "Auto-populate created_by from request.user when available."
    _assert_matches_seed(request, _fields(lines[body:response], set(request_json)), components, response=False)
    assert put["requestBody"]["required"] is True
    assert lines[response + 1] == "200 - application/json"
    reply = _resolve(put["responses"]["200"]["content"]["application/json"]["schema"], components)
    assert reply["description"] == lines[response + 2]
    _assert_matches_seed(reply, _fields(lines[response:], set(response_json)), components, response=True)
    # The same shapes serve every other operation of the resource.
    paths = schema["paths"]
    assert set(paths[URL]) >= {"get", "post"} and set(paths[f"{URL}{{id}}/"]) >= {"get", "put", "patch", "delete"}
    assert paths[URL]["get"]["summary"] == "List session setups"
    assert paths[f"{URL}{{id}}/"]["get"]["summary"] == "Get by id session setup"
    for op in (paths[URL]["post"], paths[f"{URL}{{id}}/"]["patch"]):
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        assert ref in ("SessionSetupRequest", "PatchedSessionSetupRequest")
    assert {p["name"] for p in paths[URL]["get"]["parameters"]} >= {
        "academic_session", "exam_session", "ordering", "page", "search", "session_type", "status"}
    status_param = next(p for p in paths[URL]["get"]["parameters"] if p["name"] == "status")
    assert status_param["schema"]["enum"] == ["completed", "not_started", "pending"]
    assert status_param["description"].endswith("* `completed` - Completed")


def test_the_seeds_curl_example_succeeds_and_answers_the_seeds_shape(sw, api_client_for):
    *_rest, request_json, response_json = _seed_sections()
    exam = af.exam(sw.school_a, sw.year, name="Term 2 examinations")
    setup = session_setup_create(actor=sw.district_admin, session_type="exam_session", exam_session=exam)
    body = {**request_json, "academic_session": str(sw.year.pk), "exam_session": str(exam.pk)}
    response = api_client_for(sw.district_admin).put(f"{URL}{setup.pk}/", body, format="json")
    assert response.status_code == 200, response.json()
    data = response.json()
    assert list(data) == list(response_json)
    assert data == {**data, "session_type": "exam_session", "id": str(setup.pk), "academic_session": str(sw.year.pk),
                    "exam_session": str(exam.pk), "status": "not_started", "current_step": -1}
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$", data["created_at"])


# --- personas × endpoints ---------------------------------------------------------------------------------

READ_OK = {"district_admin", "school_admin", "registrar", "class_teacher", "viewer"}
WRITE_OK = {"district_admin", "school_admin"}


def _school_year(sw):
    from tests.session_setup.factories import next_year

    return next_year(sw.district, name="2027 Avondale", school=sw.school_a)


@pytest.mark.parametrize("persona", ["district_admin", "school_admin", "registrar", "class_teacher", "viewer",
                                     "other_registrar"])
def test_every_endpoint_for_every_persona(sw, api_client_for, persona):
    year = _school_year(sw)
    setup = session_setup_create(actor=sw.district_admin, session_type="academic_session", academic_session=year)
    client = api_client_for(sw.personas[persona])
    detail = f"{URL}{setup.pk}/"
    listed = client.get(URL)
    assert listed.status_code == 200
    assert listed.json()["count"] == (1 if persona in READ_OK else 0)
    assert client.get(detail).status_code == (200 if persona in READ_OK else 404)
    before = SessionSetup.objects.get(pk=setup.pk)
    expected = 200 if persona in WRITE_OK else 403 if persona in READ_OK else 404
    assert client.patch(detail, {"current_step": 0}, format="json").status_code == expected
    assert client.put(detail, {"session_type": "academic_session", "academic_session": str(year.pk),
                               "current_step": 0}, format="json").status_code == expected
    if expected != 200:
        after = SessionSetup.objects.get(pk=setup.pk)
        assert (after.status, after.current_step, after.updated_at) == (before.status, before.current_step,
                                                                         before.updated_at)
    other_year = _school_year(sw).__class__.objects.create(
        district=sw.district, school=sw.school_a, name="2028", type="school_year", start_date="2028-01-10",
        end_date="2028-12-01")
    created = client.post(URL, {"session_type": "academic_session", "academic_session": str(other_year.pk)},
                          format="json")
    assert created.status_code == (201 if persona in WRITE_OK else 403 if persona in READ_OK else 400)
    if created.status_code == 201:
        assert SessionSetup.objects.get(pk=created.json()["id"]).created_by == sw.personas[persona]
    assert client.delete(detail).status_code == (204 if persona in WRITE_OK else expected)
    assert SessionSetup.objects.filter(pk=setup.pk).exists() == (persona not in WRITE_OK)


def test_anonymous_is_401(client):
    assert client.get(URL).status_code in (401, 403)
    assert Client().get(URL, HTTP_AUTHORIZATION="Bearer sst_nope").status_code == 401


def test_a_school_admin_cannot_run_a_district_wide_year(sw, api_client_for):
    response = api_client_for(sw.school_admin).post(
        URL, {"session_type": "academic_session", "academic_session": str(sw.next_year.pk)}, format="json")
    assert response.status_code == 403
    assert "district admin" in response.json()["detail"]
    assert not SessionSetup.objects.exists()


# --- rules -------------------------------------------------------------------------------------------------


def _post(client, body):
    return client.post(URL, body, format="json")


def test_academic_setup_names_a_school_year_and_no_exam_session(sw, api_client_for):
    client = api_client_for(sw.district_admin)
    exam = af.exam(sw.school_a, sw.year)
    r = _post(client, {"session_type": "academic_session", "academic_session": str(sw.next_year.pk),
                       "exam_session": str(exam.pk)})
    assert r.status_code == 400 and "leave exam_session empty" in r.json()["errors"]["exam_session"][0]
    term = sw.next_year.__class__.objects.create(district=sw.district, name="T1", type="term", parent=sw.next_year,
                                                 start_date="2027-01-11", end_date="2027-04-01")
    r = _post(client, {"session_type": "academic_session", "academic_session": str(term.pk)})
    assert r.status_code == 400 and "school_year" in r.json()["detail"]
    other = sw.next_year.__class__.objects.create(district=sw.other_district, name="2027", type="school_year",
                                                  start_date="2027-01-11", end_date="2027-12-01")
    r = _post(client, {"session_type": "academic_session", "academic_session": str(other.pk)})
    assert r.status_code == 400 and "that you can see" in r.json()["detail"]
    assert not SessionSetup.objects.exists()


def test_exam_setup_may_name_only_its_own_academic_session(sw, api_client_for):
    client = api_client_for(sw.district_admin)
    exam = af.exam(sw.school_a, sw.year)
    r = _post(client, {"session_type": "exam_session", "exam_session": str(exam.pk),
                       "academic_session": str(sw.next_year.pk)})
    assert r.status_code == 400 and "exam session's own" in r.json()["detail"]
    r = _post(client, {"session_type": "exam_session", "exam_session": str(exam.pk)})
    assert r.status_code == 201 and r.json()["academic_session"] == str(sw.year.pk)


def test_a_second_unfinished_setup_of_a_session_is_a_409_naming_the_first(sw, api_client_for):
    client = api_client_for(sw.district_admin)
    body = {"session_type": "academic_session", "academic_session": str(sw.next_year.pk)}
    first = _post(client, body).json()
    second = _post(client, body)
    assert second.status_code == 409
    assert second.json()["existing"] == first["id"] and first["id"] in second.json()["detail"]
    assert SessionSetup.objects.count() == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"current_step": 5}, "current_step"),
    ({"current_step": -2}, "current_step"),
    ({"current_step": 2**31}, "current_step"),
    ({"status": "not_started", "current_step": 2}, "current_step"),
    ({"status": "pending", "current_step": -1}, "current_step"),
    ({"status": "finished"}, "status"),
    ({"session_type": "exam"}, "session_type"),
    ({"current_step": "two"}, "current_step"),
    ({"academic_session": "not-a-uuid"}, "academic_session"),
])
def test_bad_progress_is_a_400_that_changes_nothing(sw, api_client_for, body, field):
    setup = session_setup_create(actor=sw.district_admin, session_type="academic_session",
                                 academic_session=sw.next_year)
    before = SessionSetup.objects.values().get(pk=setup.pk)
    r = api_client_for(sw.district_admin).patch(f"{URL}{setup.pk}/", body, format="json")
    assert r.status_code == 400, r.json()
    assert field in r.json()["errors"]
    assert SessionSetup.objects.values().get(pk=setup.pk) == before
    assert SessionSetupStatusChange.objects.filter(setup=setup).count() == 1  # only "Created."


def test_status_and_step_stay_consistent_and_every_change_is_recorded(sw, api_client_for):
    client = api_client_for(sw.district_admin)
    setup = session_setup_create(actor=sw.district_admin, session_type="academic_session",
                                 academic_session=sw.next_year)
    detail = f"{URL}{setup.pk}/"
    assert client.patch(detail, {"current_step": 2}, format="json").json()["status"] == "pending"
    assert client.patch(detail, {"status": "not_started"}, format="json").json()["current_step"] == -1
    assert client.patch(detail, {"status": "pending"}, format="json").json()["current_step"] == 0
    r = client.patch(detail, {"status": "completed"}, format="json")
    assert r.status_code == 409 and "execute them" in r.json()["detail"]
    history = list(SessionSetupStatusChange.objects.filter(setup=setup).order_by("at", "id").values_list(
        "from_status", "from_step", "to_status", "to_step"))
    assert history[1:] == [("not_started", -1, "pending", 2), ("pending", 2, "not_started", -1),
                           ("not_started", -1, "pending", 0)]


def test_a_completed_setup_moves_back_only_by_an_explicit_reopen(sw, api_client_for):
    client = api_client_for(sw.district_admin)
    exam = af.exam(sw.school_a, sw.year)
    setup = session_setup_create(actor=sw.district_admin, session_type="exam_session", exam_session=exam)
    ExamSession.objects.filter(pk=exam.pk).update(is_published=True)
    detail = f"{URL}{setup.pk}/"
    assert client.patch(detail, {"status": "completed"}, format="json").status_code == 409  # not from not_started
    assert client.patch(detail, {"current_step": 3}, format="json").json()["status"] == "pending"
    assert client.patch(detail, {"status": "completed"}, format="json").json()["current_step"] == 3
    r = client.patch(detail, {"status": "pending", "current_step": 1}, format="json")
    assert r.status_code == 409 and "Reopen it first" in r.json()["detail"]
    assert client.delete(detail).status_code == 409
    assert SessionSetup.objects.get(pk=setup.pk).status == SetupStatus.COMPLETED
    viewer = api_client_for(sw.viewer).post(f"{detail}reopen/", {"reason": "x"}, format="json")
    assert viewer.status_code == 403
    r = client.post(f"{detail}reopen/", {"reason": "Add Form 4 Chemistry"}, format="json")
    assert r.status_code == 200 and (r.json()["status"], r.json()["current_step"]) == ("pending", 3)
    last = SessionSetupStatusChange.objects.filter(setup=setup).order_by("-at", "-id").first()
    assert (last.from_status, last.to_status, last.reason, last.actor) == (
        "completed", "pending", "Add Form 4 Chemistry", sw.district_admin)
    assert client.post(f"{detail}reopen/", {}, format="json").status_code == 409


def test_steps_after_the_first_need_the_session(sw, api_client_for):
    client = api_client_for(sw.district_admin)
    r = _post(client, {"session_type": "academic_session", "current_step": 2})
    assert r.status_code == 400 and "academic_session" in r.json()["errors"]
    assert _post(client, {"session_type": "academic_session", "current_step": 0}).status_code == 201


def test_list_filters_search_ordering_and_paging(sw, api_client_for):
    client = api_client_for(sw.district_admin)
    exam = af.exam(sw.school_a, sw.year, name="Mock exams")
    a = session_setup_create(actor=sw.district_admin, session_type="academic_session", academic_session=sw.next_year)
    e = session_setup_create(actor=sw.district_admin, session_type="exam_session", exam_session=exam,
                             current_step=1)
    ids = lambda r: [row["id"] for row in r.json()["results"]]  # noqa: E731
    assert ids(client.get(URL, {"session_type": "exam_session"})) == [str(e.pk)]
    assert ids(client.get(URL, {"status": "not_started"})) == [str(a.pk)]
    assert ids(client.get(URL, {"academic_session": str(sw.next_year.pk)})) == [str(a.pk)]
    assert ids(client.get(URL, {"exam_session": str(exam.pk)})) == [str(e.pk)]
    assert ids(client.get(URL, {"search": "mock"})) == [str(e.pk)]
    assert ids(client.get(URL, {"ordering": "current_step"})) == [str(a.pk), str(e.pk)]
    assert ids(client.get(URL, {"ordering": "-current_step"})) == [str(e.pk), str(a.pk)]
    page = client.get(URL, {"page_size": 1}).json()
    assert page["count"] == 2 and len(page["results"]) == 1 and page["next"]
    assert client.get(URL, {"status": "bogus"}).status_code == 400
    assert client.get(URL, {"academic_session": "nope"}).status_code == 400


def test_the_list_takes_a_fixed_number_of_queries(sw, api_client_for, django_assert_max_num_queries):
    from tests.session_setup.factories import next_year

    client = api_client_for(sw.district_admin)
    client.get(URL)  # warm up the token
    for n in range(12):
        year = next_year(sw.district, name=f"20{30 + n}")
        session_setup_create(actor=sw.district_admin, session_type="academic_session", academic_session=year)
    with django_assert_max_num_queries(6):
        assert len(client.get(URL, {"page_size": 50}).json()["results"]) == 12
