"""The REST service driven by a real OneRoster 1.2 client from PyPI (``timeback-oneroster``) over HTTP,
against the live test server: OAuth 2 client credentials, lists, paging, filters, fields, nested paths, errors."""

from __future__ import annotations

import asyncio
import concurrent.futures

import pytest
from timeback_oneroster import NotFoundError, OneRosterClient

from rostering.oneroster.importer import Importer
from rostering.oneroster.services import api_client_create
from tests.rostering import factories as f

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def credentials(live_server, samples):
    district = f.DistrictFactory(name="Maple Valley")
    Importer(district=district, path=samples / "oneroster-1.2-bulk").run()
    client, secret = api_client_create(actor=None, district=district, name="Timeback client", demographics=True)
    return {"base_url": live_server.url, "auth_url": f"{live_server.url}/ims/oneroster/token",
            "client_id": client.application.client_id, "client_secret": secret}


def run(credentials, work):
    async def main():
        client = OneRosterClient(**credentials)
        try:
            return await work(client)
        finally:
            await client.close()

    # A loop of its own in a thread of its own: the browser tests' sync Playwright leaves an event loop
    # running in the main thread, where asyncio.run() refuses to start.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def test_the_client_reads_every_collection(credentials):
    async def work(c):
        return {
            "users": await c.users.list_all(),
            "students": await c.students.list_all(),
            "teachers": await c.teachers.list_all(),
            "schools": await c.schools.list_all(),
            "orgs": await c.orgs.list_all(),
            "classes": await c.classes.list_all(),
            "courses": await c.courses.list_all(),
            "enrollments": await c.enrollments.list_all(),
            "sessions": await c.academic_sessions.list_all(),
            # the client's own terms/gradingPeriods resources expect a "terms"/"gradingPeriods" envelope, where the
            # 1.2 OpenAPI file (and this service) answers "academicSessions": read them through academicSessions
            "terms": await c.academic_sessions.list_all(where={"type": "term"}),
            "gradingPeriods": await c.academic_sessions.list_all(where={"type": "gradingPeriod"}),
        }

    got = run(credentials, work)
    assert sorted(u.sourced_id for u in got["users"]) == ["usr-g-001", "usr-s-001", "usr-s-002", "usr-t-100", "usr-t-200"]
    assert sorted(u.sourced_id for u in got["students"]) == ["usr-s-001", "usr-s-002"]
    assert sorted(u.sourced_id for u in got["teachers"]) == ["usr-t-100", "usr-t-200"]
    assert sorted(s.sourced_id for s in got["schools"]) == ["org-school-es", "org-school-hs"]
    assert len(got["orgs"]) == 3 and len(got["classes"]) == 2 and len(got["courses"]) == 2
    assert len(got["enrollments"]) == 4 and len(got["sessions"]) == 6
    assert [t.sourced_id for t in got["terms"]] == ["as-t1-2026"]
    assert sorted(g.sourced_id for g in got["gradingPeriods"]) == ["as-q1-2026", "as-q2-2026"]
    avery = next(u for u in got["users"] if u.sourced_id == "usr-s-001")
    assert (avery.given_name, avery.family_name) == ("Avery", "Smith")


def test_the_client_pages_filters_selects_and_nests(credentials):
    async def work(c):
        paged = [u async for u in c.users.stream(limit=2)]
        filtered = await c.users.list_all(where={"givenName": "Avery"})
        teachers = await c.users.list_all(where={"role": "teacher"})
        sparse = await c.users.list(fields=["sourcedId", "givenName", "familyName"])
        single = await c.classes.get("cls-alg1-p1")
        roster = await c.classes("cls-alg1-p1").students()
        classes = await c.users("usr-s-001").classes()
        school_students = await c.schools("org-school-es").students()
        try:
            await c.users.get("usr-nobody")
            missing = None
        except NotFoundError as exc:
            missing = exc
        return paged, filtered, teachers, sparse, single, roster, classes, school_students, missing

    paged, filtered, teachers, sparse, single, roster, classes, school_students, missing = run(credentials, work)
    assert len(paged) == 5 and len({u.sourced_id for u in paged}) == 5
    assert [u.sourced_id for u in filtered] == ["usr-s-001"]
    assert sorted(u.sourced_id for u in teachers) == ["usr-t-100", "usr-t-200"]
    data = getattr(sparse, "data", sparse)
    assert data and all(getattr(u, "given_name", None) for u in data)
    assert single.title == "Algebra I - Period 1"
    assert [u.sourced_id for u in roster] == ["usr-s-001"]
    assert [k.sourced_id for k in classes] == ["cls-alg1-p1"]
    assert [u.sourced_id for u in school_students] == ["usr-s-002"]
    assert missing is not None


def test_a_wrong_secret_gets_no_data(credentials):
    async def work(c):
        return await c.users.list_all()

    with pytest.raises(Exception, match=r"401|access token|invalid_client"):
        run({**credentials, "client_secret": "wrong"}, work)
