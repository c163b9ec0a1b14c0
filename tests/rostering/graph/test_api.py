"""The Graph API on the wire: envelope, objects, fetch = list item, sub-lists, tenancy, errors, paging, tolerances,
query counts."""

import datetime
import json
import time
import uuid
from urllib.parse import quote

import pytest
from django.core import signing
from django.db import connection

from rostering.graph import paging
from rostering.graph.resources import RESOURCES, SUBLISTS
from rostering.models import AcademicSession, Enrollment, Person
from rostering.services import integration_token_revoke
from tests.rostering import factories as f

BASE = "/api/v2/graph"
# the token, the usage counter's upsert, the page; on PostgreSQL the counter runs in its own transaction with
# SET LOCAL synchronous_commit = off, and psycopg logs its BEGIN and COMMIT
PAGE_QUERIES = 6 if connection.vendor == "postgresql" else 3
ISO_MS = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"


def walk(client, url):
    items, pages = [], 0
    while url:
        body = client.get(url).json()
        items += body["$data"]
        pages += 1
        url = body.get("$next")
    return items, pages


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["$errors"][0]["code"] == code and body["$errors"][0]["message"]
    uuid.UUID(body["$request"])
    return body


# --- objects ------------------------------------------------------------------------------------------------------


def test_session_object_is_exactly_the_seeds(graph):
    fall = graph.sessions[1]
    body = graph.client().get(f"{BASE}/sessions/{fall.pk}").json()
    session = body["$data"]
    assert list(session) == ["id", "created_date", "updated_date", "properties", "identifiers", "name", "start_date",
                             "end_date", "state", "type", "school_id", "district_id"]
    assert session["name"] == "Fall 2024" and session["type"] == "semester" and session["state"] == "completed"
    assert session["start_date"] == "2024-08-01T00:00:00.000Z" and session["end_date"] == "2024-12-20T00:00:00.000Z"
    assert session["identifiers"] == [{"type": "sis_id", "value": "T-1"}] and session["properties"] == {"k": "v"}
    assert session["school_id"] == str(graph.world.school_a.pk)
    assert session["district_id"] == str(graph.world.district.pk)
    import re

    assert re.match(ISO_MS, session["created_date"]) and re.match(ISO_MS, session["updated_date"])
    year = graph.client().get(f"{BASE}/sessions/{graph.world.year.pk}").json()["$data"]
    assert year["school_id"] is None and year["identifiers"] == [] and year["properties"] == {}
    uuid.UUID(body["$request"])


@pytest.mark.parametrize("name", list(RESOURCES))
def test_fetch_returns_the_list_item_for_every_object(graph, name):
    client = graph.client()
    items, _pages = walk(client, f"{BASE}/{name}")
    assert items
    for item in items:
        fetched = client.get(f"{BASE}/{name}/{item['id']}?").json()["$data"]
        assert fetched == item
        assert isinstance(item["identifiers"], list) and isinstance(item["properties"], dict)
        assert list(item) == list(RESOURCES[name].fields)


def test_enums_are_edlinks(graph):
    from rostering.graph.resources import CLASS_STATES

    client = graph.client()
    for s in walk(client, f"{BASE}/sessions")[0]:
        assert s["type"] in {"semester", "term", "grading_period", "school_year"}
        assert s["state"] in {"upcoming", "active", "completed"}
    for c in walk(client, f"{BASE}/classes")[0]:
        assert c["state"] in CLASS_STATES
    roles = {"student", "district-administrator", "administrator", "teacher", "ta", "staff", "aide", "observer",
             "parent", "guardian", "designer", "member"}
    assert all(set(p["roles"]) <= roles for p in walk(client, f"{BASE}/people")[0])
    for e in walk(client, f"{BASE}/enrollments")[0]:
        assert e["role"] in roles and e["state"] in {"active", "inactive", "dropped", "upcoming", "pending", "completed"}


# --- sub-lists ----------------------------------------------------------------------------------------------------


def _parent_id(graph, parent: str):
    w = graph.world
    return {"districts": w.district.pk, "schools": w.school_a.pk, "classes": w.class_6a.pk, "courses": w.grade6.pk,
            "people": graph.people[0].pk}[parent]


@pytest.mark.parametrize("sub", SUBLISTS, ids=[f"{s.parent.name}.{s.name}" for s in SUBLISTS])
def test_every_sub_list(graph, sub):
    client = graph.client()
    pk = _parent_id(graph, sub.parent.name)
    items, _ = walk(client, f"{BASE}/{sub.parent.name}/{pk}/{sub.name}?$first=1")
    everything, _ = walk(client, f"{BASE}/{sub.child.name}")
    assert all(item in everything for item in items)
    # another district's parent is not found; a bad id is INVALID_UUID
    other = {"districts": graph.world.other_district.pk, "schools": graph.world.other_school.pk,
             "classes": graph.world.other_class.pk}.get(sub.parent.name)
    if other:
        assert_error(client.get(f"{BASE}/{sub.parent.name}/{other}/{sub.name}"), 404, "NOT_FOUND")
    assert_error(client.get(f"{BASE}/{sub.parent.name}/not-a-uuid/{sub.name}"), 400, "INVALID_UUID")


def test_sub_lists_hold_what_they_say(graph):
    w, client = graph.world, graph.client()
    sofia, _tatenda, rudo, farai = graph.people

    def ids(url):
        return {o["id"] for o in walk(client, f"{BASE}/{url}")[0]}

    assert ids(f"districts/{w.district.pk}/administrators") == {str(farai.pk)}
    assert ids(f"schools/{w.school_a.pk}/students") == {str(sofia.pk), str(graph.people[1].pk)}
    assert str(rudo.pk) in ids(f"schools/{w.school_b.pk}/teachers")
    assert ids(f"classes/{w.class_6a.pk}/students") == {str(sofia.pk)}
    assert ids(f"classes/{w.class_7a.pk}/teachers") == {str(rudo.pk)}
    assert ids(f"courses/{w.grade6.pk}/classes") == {str(w.class_6a.pk), str(w.class_6b.pk)}
    assert ids(f"people/{sofia.pk}/classes") == {str(w.class_6a.pk)}
    assert ids(f"people/{rudo.pk}/schools") == {str(w.school_b.pk)}
    assert ids(f"people/{sofia.pk}/districts") == {str(w.district.pk)}
    assert ids(f"schools/{w.school_a.pk}/sessions") == {str(graph.sessions[1].pk), str(w.year.pk),
                                                         str(graph.sessions[2].pk), str(graph.sessions[3].pk)}
    filtered = f"schools/{w.school_a.pk}/sessions?%24filter=" + quote('{"name":[{"operator":"equals","value":"Fall 2024"}]}')
    assert ids(filtered) == {str(graph.sessions[1].pk)}


# --- tenancy and tokens ---------------------------------------------------------------------------------------------


def test_a_token_sees_its_own_district_only(graph):
    mine, theirs = graph.client(), graph.client(graph.other_token)
    for name in RESOURCES:
        my_items = walk(mine, f"{BASE}/{name}")[0]
        their_items = walk(theirs, f"{BASE}/{name}")[0]
        assert not {o["id"] for o in my_items} & {o["id"] for o in their_items}, name
        for item in my_items:
            assert_error(theirs.get(f"{BASE}/{name}/{item['id']}"), 404, "NOT_FOUND")
    assert {o["district_id"] for o in walk(mine, f"{BASE}/people")[0]} == {str(graph.world.district.pk)}
    body = assert_error(theirs.get(f"{BASE}/sessions/{graph.sessions[1].pk}"), 404, "NOT_FOUND")
    assert body["$errors"][0]["message"] == f"Session with id {graph.sessions[1].pk} not found for this integration."


def test_a_cursor_of_one_district_is_refused_for_another(graph):
    body = graph.client().get(f"{BASE}/people?$first=1").json()
    assert_error(graph.client(graph.other_token).get(body["$next"]), 400, "INVALID_CURSOR")


@pytest.mark.parametrize("header", [None, "Bearer sit_wrong", "Bearer", "Bearer a b", "Basic abc", "Bearer sst_x",
                                    "Bearer " + "sit_" + "x" * 500])
def test_missing_or_wrong_token_is_401_invalid_token(graph, client, header):
    kwargs = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get(f"{BASE}/sessions", **kwargs)
    assert_error(response, 401, "INVALID_TOKEN")
    assert_error(client.get(f"{BASE}/sessions/{graph.sessions[0].pk}", **kwargs), 401, "INVALID_TOKEN")


def test_a_revoked_token_is_401_at_once(graph):
    from rostering.models import IntegrationToken

    client = graph.client()
    assert client.get(f"{BASE}/sessions").status_code == 200
    integration_token_revoke(token=IntegrationToken.objects.get(name="Reading app"), actor=None)
    assert_error(client.get(f"{BASE}/sessions"), 401, "INVALID_TOKEN")


def test_a_staff_session_is_not_an_integration_token(graph, client_for):
    assert_error(client_for(graph.world.district_admin).get(f"{BASE}/sessions"), 401, "INVALID_TOKEN")


# --- bad input: Edlink's 4xx, nothing changed -------------------------------------------------------------------

BAD_FILTERS = [
    ("{not json", "INVALID_FILTER"),
    ("[]", "INVALID_FILTER"),
    ('"name"', "INVALID_FILTER"),
    ('{"name": "Fall"}', "INVALID_FILTER"),
    ('{"name": [{"operator": "like", "value": "Fall"}]}', "INVALID_FILTER"),
    ('{"name": [{"operator": "gt", "value": "Fall"}]}', "INVALID_FILTER"),
    ('{"state": [{"operator": "equals", "value": "active"}]}', "INVALID_FILTER"),
    ('{"school_id": [{"operator": "equals", "value": "x"}]}', "INVALID_FILTER"),
    ('{"name": [{"operator": "equals"}]}', "INVALID_FILTER"),
    ('{"name": [{"operator": "equals", "value": 3}]}', "INVALID_FILTER"),
    ('{"name": [{"operator": "equals", "value": "a", "extra": 1}]}', "INVALID_FILTER"),
    ('{"name": ["equals"]}', "INVALID_FILTER"),
    ('{"name": [{"operator": "in", "value": " , "}]}', "INVALID_FILTER"),
    ('{"start_date": [{"operator": "gte", "value": "2024-13-01"}]}', "INVALID_FILTER"),
    ('{"start_date": [{"operator": "gte", "value": "yesterday"}]}', "INVALID_FILTER"),
    ('{"updated_date": [{"operator": "gt", "value": ""}]}', "INVALID_FILTER"),
    ('{"id": [{"operator": "equals", "value": "not-a-uuid"}]}', "INVALID_UUID"),
    ('{"id": [{"operator": "in", "value": "00000000-0000-4000-8000-000000000000,zzz"}]}', "INVALID_UUID"),
    ('{"name": [{"operator": "equals", "value": "a\\u0000b"}]}', "INVALID_FILTER"),
    ('{"name": [' + ",".join(['{"operator": "is known"}'] * 51) + "]}", "INVALID_FILTER"),
    ('{"name": [{"operator": "equals", "value": "' + "x" * 9000 + '"}]}', "INVALID_FILTER"),
    ("[" * 100 + "]" * 100, "INVALID_FILTER"),
]


@pytest.mark.parametrize(("raw", "code"), BAD_FILTERS)
def test_a_bad_filter_is_400_and_changes_nothing(graph, raw, code):
    before = (AcademicSession.objects.count(), Person.objects.count(), Enrollment.objects.count())
    response = graph.client().get(f"{BASE}/sessions?%24filter={quote(raw)}")
    assert_error(response, 400, code)
    assert (AcademicSession.objects.count(), Person.objects.count(), Enrollment.objects.count()) == before


@pytest.mark.parametrize("first", ["0", "10001", "-1", "abc", "1.5", "99999999999"])
def test_first_out_of_range_is_invalid_page_size(graph, first):
    assert_error(graph.client().get(f"{BASE}/people?$first={first}"), 400, "INVALID_PAGE_SIZE")


def test_bad_ids_and_unknown_ids(graph):
    client = graph.client()
    assert_error(client.get(f"{BASE}/sessions/nope"), 400, "INVALID_UUID")
    body = assert_error(client.get(f"{BASE}/people/1234"), 400, "INVALID_UUID")
    assert "person_id" in body["$errors"][0]["message"]
    assert_error(client.get(f"{BASE}/sessions/{uuid.uuid4()}"), 404, "NOT_FOUND")
    assert_error(client.get(f"{BASE}/sections"), 404, "NOT_FOUND")
    assert_error(client.get(f"{BASE}/sessions/{uuid.uuid4()}/nothing"), 404, "NOT_FOUND")


def test_writes_are_refused_with_the_envelope(graph):
    client = graph.client()
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)(f"{BASE}/sessions", data="{}", content_type="application/json")
        assert_error(response, 405, "UNSUPPORTED_OPERATION")
    assert AcademicSession.objects.filter(district=graph.world.district).count() == 4


# --- paging ---------------------------------------------------------------------------------------------------------


def test_first_pages_and_next_is_absolute_and_absent_on_the_last_page(graph):
    client = graph.client()
    body = client.get(f"{BASE}/sessions?$first=3").json()
    assert len(body["$data"]) == 3 and body["$next"].startswith("http://testserver/api/v2/graph/sessions?$cursor=")
    last = client.get(body["$next"]).json()
    assert len(last["$data"]) == 1 and "$next" not in last
    exact = client.get(f"{BASE}/sessions?$first=4").json()
    assert len(exact["$data"]) == 4 and "$next" not in exact
    ids = [o["id"] for o in walk(client, f"{BASE}/sessions?$first=1")[0]]
    assert ids == sorted(ids) and len(ids) == 4


def test_default_page_size(graph):
    for i in range(paging.DEFAULT_FIRST + 5):
        f.PersonFactory(district=graph.world.district, given_name=f"P{i}", family_name="Bulk")
    body = graph.client().get(f"{BASE}/people").json()
    assert len(body["$data"]) == paging.DEFAULT_FIRST and "$next" in body


def test_the_cursor_carries_filter_fields_and_page_size(graph):
    client = graph.client()
    doc = {"name": [{"operator": "contains", "value": "2"}]}
    body = client.get(f"{BASE}/sessions?$first=1&$fields=id,name&$filter={quote(json.dumps(doc))}").json()
    seen = [*body["$data"]]
    url = body.get("$next")
    while url:
        assert "filter" not in url.split("?", 1)[1].lower()
        page = client.get(url).json()
        assert len(page["$data"]) <= 1
        seen += page["$data"]
        url = page.get("$next")
    assert all(set(o) == {"id", "name"} for o in seen)
    assert sorted(o["name"] for o in seen) == sorted(
        s.name for s in graph.sessions if "2" in s.name)


def test_a_cursor_with_the_query_sent_again_ignores_it_with_a_warning(graph):
    client = graph.client()
    body = client.get(f"{BASE}/sessions?$first=2").json()
    again = client.get(body["$next"] + "&%24filter=%7B%7D&limit=3&%24first=50").json()
    assert len(again["$data"]) == 2 and again["$warnings"][0]["code"] == "PAGING_IGNORED"


def test_tampered_expired_and_foreign_cursors_are_invalid_cursor(graph, monkeypatch):
    client = graph.client()
    next_url = client.get(f"{BASE}/sessions?$first=1").json()["$next"]
    token = next_url.split("$cursor=", 1)[1]
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert_error(client.get(f"{BASE}/sessions?$cursor={tampered}"), 400, "INVALID_CURSOR")
    assert_error(client.get(f"{BASE}/sessions?$cursor=garbage"), 400, "INVALID_CURSOR")
    assert_error(client.get(f"{BASE}/sessions?$cursor="), 400, "INVALID_CURSOR")
    assert_error(client.get(f"{BASE}/sessions?$cursor={'x' * 20000}"), 400, "INVALID_CURSOR")
    # another query's: the people list, or a sub-list, will not take a sessions cursor
    assert_error(client.get(f"{BASE}/people?$cursor={token}"), 400, "INVALID_CURSOR")
    school = graph.world.school_a.pk
    assert_error(client.get(f"{BASE}/schools/{school}/sessions?$cursor={token}"), 400, "INVALID_CURSOR")
    # the same payload signed by someone without our key
    forged = signing.dumps({"q": "x", "p": None}, key="not-our-secret", salt="cursor:edlink-graph", compress=True)
    assert_error(client.get(f"{BASE}/sessions?$cursor={forged}"), 400, "INVALID_CURSOR")
    # expired
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + paging.CURSOR_MAX_AGE + 60)
    body = assert_error(client.get(next_url), 400, "INVALID_CURSOR")
    assert "expired" in body["$errors"][0]["message"]


def test_paging_is_correct_under_concurrent_writes(graph):
    """Rows that exist for the whole walk come exactly once, whatever is inserted, changed or deleted meanwhile."""
    district = graph.world.district
    for i in range(30):
        f.PersonFactory(district=district, given_name=f"Kid{i}", family_name="Walk")
    client = graph.client()
    start = set(Person.objects.filter(district=district).values_list("pk", flat=True))
    url, seen, n = f"{BASE}/people?$first=4", [], 0
    deleted = set()
    while url:
        body = client.get(url).json()
        seen += [o["id"] for o in body["$data"]]
        url = body.get("$next")
        n += 1
        f.PersonFactory(district=district, given_name=f"New{n}", family_name="Walk")  # inserted while paging
        victim = Person.objects.filter(district=district, family_name="Walk").exclude(pk__in=deleted).order_by("?").first()
        deleted.add(victim.pk)
        victim.delete()
        Person.objects.filter(district=district, given_name="Sofia").update(
            updated_date=datetime.datetime.now(datetime.UTC))
    assert len(seen) == len(set(seen))
    survivors = {str(pk) for pk in start - deleted}
    assert survivors <= set(seen)


# --- tolerances ------------------------------------------------------------------------------------------------------


def test_tolerances_of_edlinks_client(graph):
    client = graph.client()
    plain = client.get(f"{BASE}/sessions").json()["$data"]
    assert client.get(f"{BASE}/sessions?").json()["$data"] == plain  # a bare trailing "?"
    assert client.get(f"{BASE}/sessions?limit=1").json()["$data"] == plain  # limit is the client's own cap
    assert client.get(f"{BASE}/sessions?%24filter=%7B%7D").json()["$data"] == plain  # $filter={}
    assert client.get(f"{BASE}/sessions?$filter=").json()["$data"] == plain
    spaced = '{"name":[{"operator":"starts with","value":"Fall"}]}'
    pct20 = client.get(f"{BASE}/sessions?%24filter={quote(spaced)}").json()["$data"]
    plus = client.get(f"{BASE}/sessions?%24filter={quote(spaced).replace('%20', '+')}").json()["$data"]
    assert [o["name"] for o in pct20] == [o["name"] for o in plus] == ["Fall 2024"]
    assert len(client.get(f"{BASE}/sessions?%24first=1").json()["$data"]) == 1  # %24-encoded keys


def test_fields_trims_objects_and_warns_about_unknown_names(graph):
    client = graph.client()
    body = client.get(f"{BASE}/people?$fields=id,first_name,nonsense").json()
    assert all(set(p) == {"id", "first_name"} for p in body["$data"])
    assert body["$warnings"][0]["code"] == "INVALID_FIELD_REQUESTED"
    one = client.get(f"{BASE}/people/{graph.people[0].pk}?%24fields=email").json()["$data"]
    assert one == {"email": "sofia.banda@example.com"}


def test_api_up_needs_no_token(client):
    body = client.get("/api/up").json()
    assert body["$data"] == {"status": "up"}


# --- query counts ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(RESOURCES))
def test_a_page_costs_the_same_queries_whatever_its_size(graph, name, django_assert_num_queries):
    w = graph.world
    for i in range(12):
        person = f.PersonFactory(district=w.district, school=w.school_a, given_name=f"Q{i}", family_name="Count",
                                 grade_level=w.grade6)
        f.EnrollmentFactory(class_division=w.class_6b, person=person)
        f.ClassDivisionFactory(school=w.school_b, grade_level=w.grade7, name=f"7Q{i}", academic_session=w.year)
        school = f.SchoolFactory(district=w.district, name=f"School Q{i}")
        f.GradeLevelFactory(district=w.district, code="Other", name=f"Level {i}", rank=20 + i, school=school)
        f.AcademicSessionFactory(district=w.district, name=f"Term Q{i}")
    client = graph.client()
    client.get(f"{BASE}/{name}")  # marks the token used (a write at most once a minute)
    counts = []
    for first in (1, 10, 200):
        with django_assert_num_queries(PAGE_QUERIES) as captured:  # the token, its usage counter, the page
            response = client.get(f"{BASE}/{name}?$first={first}")
        assert response.status_code == 200
        counts.append(len(captured.captured_queries))
    assert len(set(counts)) == 1


def test_a_sub_list_page_is_four_queries(graph, django_assert_num_queries):
    client = graph.client()
    client.get(f"{BASE}/sessions")
    for first in (1, 100):
        with django_assert_num_queries(PAGE_QUERIES + 1):  # + the parent's existence in the district
            assert client.get(f"{BASE}/schools/{graph.world.school_a.pk}/people?$first={first}").status_code == 200
