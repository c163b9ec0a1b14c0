"""Edlink's own client (``@edlink/typescript`` 1.0.16 from npm, unmodified) against the live server.

It lists and pages sessions and people over several pages, filters sessions with every operator on every
allowed field (each result checked against the unfiltered list), fetches a session and compares it with its
list item, reads sub-lists, and gets its own ``EdlinkError`` for a bad filter, an unknown id and a bad token.
"""

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from rostering.graph import filters as f
from rostering.graph.resources import SESSION_FILTERS
from tests.rostering import factories as fac
from tests.rostering.graph.test_filters import holds, sample_values

SCRIPT = Path(__file__).with_name("edlink_client.js")
CLIENT = Path(settings.BASE_DIR) / "node_modules" / "@edlink" / "typescript" / "package.json"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def node():
    path = shutil.which("node")
    if path is None or not CLIENT.exists():
        pytest.fail("node and node_modules/@edlink/typescript are needed: run `make install` (npm ci).")
    assert json.loads(CLIENT.read_text())["version"] == "1.0.16"
    return path


def run_client(node, plan: dict) -> dict:
    proc = subprocess.run([node, str(SCRIPT)], input=json.dumps(plan), capture_output=True, text=True, timeout=120,
                          cwd=settings.BASE_DIR)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_edlinks_client_reads_us_unchanged(graph, live_server, node):
    w = graph.world
    for i in range(7):
        fac.PersonFactory(district=w.district, school=w.school_b, given_name=f"Extra{i}", family_name="Client")
    # The values to try come from the same data the server holds (through our own list, one page).
    unfiltered = graph.client().get("/api/v2/graph/sessions?$first=100").json()["$data"]
    filters = []
    for field, spec in SESSION_FILTERS.items():
        for operator in f.OPERATORS:
            if operator not in spec.operators:
                continue
            for value in sample_values(unfiltered, field, operator, spec.kind):
                clause = {"operator": operator} if value is None else {"operator": operator, "value": value}
                filters.append({"field": field, "clause": clause, "value": value})
    plan = {
        "base": live_server.url, "token": graph.token, "bad_token": "sit_not-a-token",
        "filters": [{"field": x["field"], "clause": x["clause"]} for x in filters],
        "unknown_id": str(uuid.uuid4()), "school_id": str(w.school_a.pk), "class_id": str(w.class_6a.pk),
        "bad_filter": {"state": [{"operator": "equals", "value": "active"}]},
    }
    out = run_client(node, plan)

    # lists, over several pages ($next followed verbatim, absolute, on our host)
    assert sorted(s["id"] for s in out["sessions"]) == sorted(s["id"] for s in unfiltered)
    assert len(out["sessions"]) == 4
    people = graph.client().get("/api/v2/graph/people?$first=100").json()["$data"]
    assert [p["id"] for p in out["people"]] == [p["id"] for p in people] and len(people) == 12
    cursor_pages = [u for u in out["requested"] if "$cursor=" in u]
    assert sum("/graph/people?$cursor=" in u for u in cursor_pages) >= 3
    assert sum("/graph/sessions?$cursor=" in u for u in cursor_pages) >= 1
    assert all(u.startswith(live_server.url) for u in out["requested"])
    assert len(out["limited"]) == 2  # limit: the client's own cap, tolerated by the server

    # every operator on every allowed field of Sessions, against the unfiltered list
    by_id = {s["id"]: s for s in out["sessions"]}
    checked_selective = 0
    for spec, got in zip(filters, out["filtered"], strict=True):
        expected = [s["id"] for s in out["sessions"] if holds(by_id[s["id"]], spec["field"], spec["clause"]["operator"],
                                                               spec["value"])]
        assert sorted(got) == sorted(expected), spec
        checked_selective += 0 < len(expected) < len(out["sessions"])
    assert {(x["field"], x["clause"]["operator"]) for x in filters} == {
        (field, op) for field, s in SESSION_FILTERS.items() for op in s.operators}
    assert checked_selective >= 20

    # fetch = list item; sub-lists
    assert out["fetched"] == by_id[out["fetched"]["id"]]
    assert {s["id"] for s in out["school_sessions"]} == {str(s.pk) for s in graph.sessions}
    assert [p["id"] for p in out["class_students"]] == [str(graph.people[0].pk)]

    # the client's own errors
    errors = out["errors"]
    assert errors["bad_filter"]["name"] == "EdlinkError" and errors["bad_filter"]["status"] == 400
    assert errors["bad_filter"]["code"] == "INVALID_FILTER" and "state" in errors["bad_filter"]["message"]
    assert errors["unknown_id"] == {
        "name": "EdlinkError", "status": 404, "code": "NOT_FOUND",
        "message": f"Session with id {plan['unknown_id']} not found for this integration."}
    assert errors["bad_token"]["status"] == 401 and errors["bad_token"]["code"] == "INVALID_TOKEN"
