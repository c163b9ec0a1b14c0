"""The Data API driven by Learnosity's own Python SDK (``learnosity-sdk`` 0.3.13, unmodified: its
``DataApi.request``, ``request_iter``, ``results_iter`` and its own signing) and by ``lrn-cli``, against the
live server, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from django.db import OperationalError, connection
from django.utils import timezone
from learnosity_sdk.exceptions import DataApiException
from learnosity_sdk.request import DataApi

from assessments.choices import JobStatus, SessionStatus
from assessments.dataapi.security import sign_legacy
from assessments.models import AssessmentSession, Job
from assessments.services import assessment_session_update
from tests.assessments import factories as af

pytestmark = pytest.mark.django_db(transaction=True)

ENDPOINTS = [
    "sessions/responses", "sessions/scores", "sessions/responses/scores", "sessions/statuses",
    "sessions/reports/adaptive", "sessions/metadata",
]


def url(live_server, endpoint: str, version: str = "v1") -> str:
    return f"{live_server.url}/data/{version}/{endpoint}"


def ids(rows) -> list[str]:
    return [r["session_id"] for r in rows]


def _many(world, activity, count: int, **kwargs):
    base = timezone.now() - datetime.timedelta(days=1)
    return [
        af.session(world.district, activity, n=n, updated_at=base + datetime.timedelta(seconds=n), **kwargs)
        for n in range(count)
    ]


def test_every_read_endpoint_answers_the_sdk_in_the_seeds_shape(live_server, world, consumer_a, activity_a):
    sessions = _many(world, activity_a, 3, adaptive={"ability_estimate": {"ability_estimate": -2.7, "standard_error": 0.26},
                                                     "items": None, "exposed_items": {"operational": ["a"], "seeding": []}},
                     session_metadata={"session_tags": [{"type": "assignment_type", "name": "homework"}], "room": "B2"})
    api = DataApi()
    sec, secret = consumer_a.security(), consumer_a.secret

    res = api.request(url(live_server, "sessions/responses"), sec, secret,
                      {"include": {"sessions.session_metadata": ["session_tags", "missing"]}}, "get")
    assert res.status_code == 200
    body = res.json()
    assert body["meta"]["status"] is True and isinstance(body["meta"]["timestamp"], int)
    assert body["meta"]["records"] == 3 and isinstance(body["meta"]["next"], str)
    assert ids(body["data"]) == [s.session_id for s in reversed(sessions)]  # desc by default
    row = body["data"][0]
    assert set(row) >= {"user_id", "activity_id", "num_attempted", "num_questions", "session_id", "score", "subscores",
                        "session_duration", "status", "dt_started", "dt_completed", "course_id", "responses", "items",
                        "metadata", "max_score"}
    assert row["session_duration"] == 4  # 3 min 40 s rounds up
    assert row["num_questions"] == 3 and row["num_attempted"] == 3 and row["score"] == 2 and row["max_score"] == 6
    assert row["dt_started"].endswith("Z") and row["course_id"] == "maths-f1"
    assert row["session_metadata"] == {"session_tags": [{"type": "assignment_type", "name": "homework"}]}
    mcq = row["responses"][0]
    assert mcq["question_type"] == "mcq" and mcq["response"]["value"] == ["0", "2"] and mcq["response"]["revision"] == 2
    assert mcq["dt_score_updated"].endswith("Z") and mcq["automarkable"] is True and mcq["score"] == 2
    essay = row["responses"][2]
    assert essay["question_type"] == "longtextV2" and essay["automarkable"] is False and essay["score"] is None
    assert row["items"][0] == {"reference": "item-1", "time": 60, "user_flagged": False,
                               "response_ids": [f"{row['session_id']}_q-mcq", f"{row['session_id']}_q-short"],
                               "scoring": {"score": 2, "max_score": 3, "type": "per-question"}}
    assert row["subscores"][0] == {"id": "subscore-1", "title": "Facts", "num_questions": 2, "num_attempted": 2,
                                   "score": 2, "max_score": 3, "attempted_max_score": 3, "items": ["item-1"]}

    scores = api.request(url(live_server, "sessions/scores"), sec, secret, {}, "get").json()
    assert set(scores["data"][0]) == {"user_id", "activity_id", "session_id", "score", "max_score", "course_id",
                                      "subscores", "status"}
    with_responses = api.request(url(live_server, "sessions/scores"), sec, secret, {"include_response_scores": True}, "get").json()
    assert [r["score"] for r in with_responses["data"][0]["responses"]] == [2, 0, None]

    rs = api.request(url(live_server, "sessions/responses/scores"), sec, secret, {"session_id": [sessions[0].session_id]}, "get").json()
    assert ids(rs["data"]) == [sessions[0].session_id]
    assert rs["data"][0]["responses"][0]["item_reference"] == "item-1" and "response" not in rs["data"][0]["responses"][0]
    assert "items" not in rs["data"][0]

    st = api.request(url(live_server, "sessions/statuses"), sec, secret, {"include": {"sessions": ["activity_template_id"]}}, "get").json()
    assert set(st["data"][0]) == {"user_id", "activity_id", "num_attempted", "num_questions", "session_id",
                                  "session_duration", "status", "dt_started", "dt_completed", "activity_template_id"}
    assert st["data"][0]["activity_template_id"] == "numeracy"

    ad = api.request(url(live_server, "sessions/reports/adaptive"), sec, secret, {}, "get").json()
    assert ad["data"][0]["meta"] == {"status": True} and ad["data"][0]["num_questions"] == "3"
    assert ad["data"][0]["adaptive"]["ability_estimate"]["standard_error"] == 0.26

    md = api.request(url(live_server, "sessions/metadata"), sec, secret, {"session_id": [sessions[1].session_id]}, "get").json()
    assert md["data"] == [{"user_id": sessions[1].user_id, "session_id": sessions[1].session_id,
                           "metadata": {"session_tags": [{"type": "assignment_type", "name": "homework"}], "room": "B2"}}]


def test_request_iter_pages_without_duplicates_or_gaps_in_both_orders(live_server, world, consumer_a, activity_a):
    sessions = _many(world, activity_a, 123)
    expected = [s.session_id for s in sessions]
    api = DataApi()
    for endpoint in [*ENDPOINTS[:4], "sessions/metadata"]:
        pages = list(api.request_iter(url(live_server, endpoint), consumer_a.security(), consumer_a.secret, {"sort": "asc"}, "get"))
        assert [len(p["data"]) for p in pages] == [50, 50, 23, 0], endpoint  # the empty page ends the loop
        assert all(p["meta"]["status"] is True and "next" in p["meta"] for p in pages)
        assert [r["session_id"] for p in pages for r in p["data"]] == expected
    rows = list(api.results_iter(url(live_server, "sessions/scores"), consumer_a.security(), consumer_a.secret, {"limit": 20}, "get"))
    assert ids(rows) == list(reversed(expected))


def test_paging_while_sessions_are_updated(live_server, world, consumer_a, activity_a):
    """Rows updated while a client pages: none is skipped, none comes twice in the same state; a session changed
    after it was sent comes once more, later in the same loop, with its new state (that is how a sync learns)."""
    sessions = _many(world, activity_a, 130)
    api = DataApi()
    for sort in ("asc", "desc"):
        seen: list[tuple[str, str]] = []
        state: dict[str, str] = {}
        changed_after_read: set[str] = set()
        for page_no, page in enumerate(api.request_iter(url(live_server, "sessions/statuses"), consumer_a.security(),
                                                        consumer_a.secret, {"sort": sort}, "get")):
            for row in page["data"]:
                seen.append((row["session_id"], row["status"] + str(row["dt_completed"])))
                state[row["session_id"]] = row["status"]
            if page_no == 0:
                # One session already read and one not yet read change status, between two pages.
                read, unread = page["data"][3]["session_id"], page["data"][-1]["session_id"]
                unread = [s for s in sessions if s.session_id not in state][len(sessions) // 3].session_id
                for sid in (read, unread):
                    assessment_session_update(session=AssessmentSession.objects.get(session_id=sid), status=SessionStatus.DISCARDED)
                changed_after_read = {read}
        seen_ids = [sid for sid, _ in seen]
        assert set(seen_ids) == {s.session_id for s in sessions}, sort  # no gap
        assert len(seen) == len(set(seen)), sort  # never the same row twice in the same state
        duplicates = {sid for sid in seen_ids if seen_ids.count(sid) > 1}
        assert duplicates == changed_after_read, sort
        assert state[unread] == state[read] == "Discarded", sort  # the last word is the current state
        for s in sessions:  # reset for the other order
            if s.session_id in (read, unread):
                assessment_session_update(session=AssessmentSession.objects.get(session_id=s.session_id), status=SessionStatus.COMPLETED)


def test_coming_back_with_the_last_token_returns_only_what_changed(live_server, world, consumer_a, activity_a):
    sessions = _many(world, activity_a, 60)
    api = DataApi()
    for sort in ("asc", "desc"):
        pages = list(api.request_iter(url(live_server, "sessions/scores"), consumer_a.security(), consumer_a.secret, {"sort": sort}, "get"))
        assert sum(len(p["data"]) for p in pages) == 60 and pages[-1]["data"] == []
        token = pages[-1]["meta"]["next"]
        again = api.request(url(live_server, "sessions/scores"), consumer_a.security(), consumer_a.secret, {"sort": sort, "next": token}, "get").json()
        assert again["data"] == [] and again["meta"]["next"]  # always a token
        assessment_session_update(session=AssessmentSession.objects.get(pk=sessions[7].pk), score=5)
        later = api.request(url(live_server, "sessions/scores"), consumer_a.security(), consumer_a.secret, {"sort": sort, "next": token}, "get").json()
        assert ids(later["data"]) == [sessions[7].session_id] and later["data"][0]["score"] == 5


def test_every_filter(live_server, world, consumer_a, activity_a):
    other_activity = af.bank(world.district, prefix="w-", reference="writing")
    base = timezone.now() - datetime.timedelta(days=20)
    made = []
    for n in range(12):
        status = [SessionStatus.COMPLETED, SessionStatus.INCOMPLETE, SessionStatus.DISCARDED, SessionStatus.PENDING_SCORING][n % 4]
        act = activity_a if n < 8 else other_activity
        made.append(af.session(world.district, act, n=n, user_id=f"u{n % 3}", status=status,
                               updated_at=base + datetime.timedelta(days=n)))
    api = DataApi()

    def fetch(packet, endpoint="sessions/statuses"):
        return list(api.results_iter(url(live_server, endpoint), consumer_a.security(), consumer_a.secret, packet, "get"))

    assert {r["activity_id"] for r in fetch({"activity_id": ["w-writing"]})} == {"w-writing"}
    assert len(fetch({"activity_id": ["w-writing", "numeracy"]})) == 12
    assert ids(fetch({"session_id": [made[2].session_id, made[5].session_id, "nope"], "sort": "asc"})) == [made[2].session_id, made[5].session_id]
    assert {r["user_id"] for r in fetch({"user_id": ["u1"]})} == {"u1"} and len(fetch({"user_id": ["u1"]})) == 4
    assert {r["status"] for r in fetch({"status": ["Pending Scoring", "Discarded"]})} == {"Pending Scoring", "Discarded"}
    unix = int((base + datetime.timedelta(days=3)).timestamp())
    assert len(fetch({"mintime": unix})) == 9
    iso_max = (base + datetime.timedelta(days=5, hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert len(fetch({"maxtime": iso_max})) == 6
    assert len(fetch({"mintime": str(unix), "maxtime": iso_max})) == 3
    assert len(fetch({"mintime": (base + datetime.timedelta(days=12)).date().isoformat()})) == 0
    combined = fetch({"activity_id": ["numeracy"], "user_id": ["u0"], "status": ["Completed"]}, "sessions/responses")
    assert ids(combined) == [m.session_id for m in reversed(made[:8]) if m.user_id == "u0" and m.status == "Completed"]
    asc = fetch({"sort": "asc"})
    assert ids(asc) == [m.session_id for m in made] and ids(fetch({"sort": "desc"})) == list(reversed(ids(asc)))


def test_every_version_form_and_both_signature_forms(live_server, world, consumer_a, activity_a):
    s = af.session(world.district, activity_a, n=1)
    api = DataApi()
    for version in ("v1", "v2025.2.LTS", "latest", "latest-lts", "developer", "v2023.3.lts"):
        res = api.request(url(live_server, "sessions/scores", version), consumer_a.security(), consumer_a.secret, {}, "get")
        assert res.status_code == 200 and ids(res.json()["data"]) == [s.session_id], version
    # The legacy (01) form: sha256 with the secret inside the pre-hash, no prefix; and the action left out.
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    security = {"consumer_key": consumer_a.key, "domain": "localhost", "timestamp": stamp}
    request_string = json.dumps({"session_id": [s.session_id]})
    for action in ("get", None):
        form = {"security": json.dumps({**security, "signature": sign_legacy(security, consumer_a.secret, request_string, action)}),
                "request": request_string}
        if action:
            form["action"] = action
        res = requests.post(url(live_server, "sessions/scores"), data=form, timeout=10)
        assert res.status_code == 200 and ids(res.json()["data"]) == [s.session_id]


def test_errors_through_the_sdk(live_server, world, consumer_a, activity_a):
    af.session(world.district, activity_a, n=1)
    api = DataApi()
    with pytest.raises(DataApiException, match="403"):
        list(api.request_iter(url(live_server, "sessions/scores"), consumer_a.security(), "0" * 40, {}, "get"))
    res = api.request(url(live_server, "sessions/scores"), consumer_a.security(), consumer_a.secret, {"limit": 51}, "get")
    assert res.status_code == 400 and res.json()["meta"] == {**res.json()["meta"], "status": False, "code": 20004}
    res = api.request(url(live_server, "sessions/scores"), consumer_a.security(), consumer_a.secret, {"user_id": [str(i) for i in range(1001)]}, "get")
    assert res.status_code == 400 and res.json()["meta"]["code"] == 20002
    res = api.request(url(live_server, "sessions/nothing"), consumer_a.security(), consumer_a.secret, {}, "get")
    assert res.status_code == 404 and res.json()["meta"]["code"] == 20012 and res.json()["data"] == []
    res = api.request(url(live_server, "sessions/scores"), consumer_a.security(expires="20200101-0000"), consumer_a.secret, {}, "get")
    assert res.status_code == 400 and res.json()["meta"]["code"] == 41007
    res = api.request(url(live_server, "sessions/scores"), consumer_a.security(timestamp="20200101-0000"), consumer_a.secret, {}, "get")
    assert res.status_code == 403 and res.json()["meta"]["code"] == 41004


def test_templates_and_jobs(live_server, world, consumer_a, consumer_b, activity_a, activity_b):
    api = DataApi()
    t = api.request(url(live_server, "sessions/templates"), consumer_a.security(), consumer_a.secret,
                    {"activity_template_id": "numeracy"}, "get").json()
    assert t["meta"]["status"] is True and t["meta"]["records"] == 2 and "next" not in t["meta"]
    assert [i["reference"] for i in t["data"]["items"]] == ["item-1", "item-2"]
    assert t["data"]["items"][0]["question_ids"] == ["q-mcq", "q-short"]
    assert t["data"]["items"][0]["metadata"]["scoring_type"] == "per-question"
    assert t["data"]["metadata"]["activity_template_id"] == "numeracy"
    mcq = t["data"]["questions"][0]
    assert mcq["id"] == "q-mcq" and mcq["type"] == "mcq" and mcq["multiple_responses"] is True
    assert mcq["validation"]["valid_response"] == {"score": 2, "value": ["0", "2"]}
    one = api.request(url(live_server, "sessions/templates"), consumer_a.security(), consumer_a.secret,
                      {"items": [{"reference": "item-2"}], "scoring_type": "dichotomous"}, "get").json()
    assert [q["id"] for q in one["data"]["questions"]] == ["q-essay"] and one["data"]["items"][0]["metadata"]["scoring_type"] == "dichotomous"
    # Another district's item bank is not found.
    other = api.request(url(live_server, "sessions/templates"), consumer_a.security(), consumer_a.secret, {"items": ["b-item-1"]}, "get")
    assert other.status_code == 400 and other.json()["meta"]["code"] == 20004

    now = timezone.now()
    mine = [Job.objects.create(district=world.district, type="sessionstatuses", status=st, dt_created=now - datetime.timedelta(hours=h),
                               dt_completed=now if st == JobStatus.COMPLETED else None, data={"n": h})
            for h, st in enumerate([JobStatus.QUEUED, JobStatus.COMPLETED, JobStatus.RUNNING])]
    theirs = Job.objects.create(district=world.other_district, type="sessionstatuses", status=JobStatus.COMPLETED, dt_created=now)
    jobs = api.request(url(live_server, "jobs"), consumer_a.security(), consumer_a.secret, {}, "get").json()
    assert [j["reference"] for j in jobs["data"]] == [str(j.reference) for j in mine]
    assert set(jobs["data"][0]) == {"reference", "type", "status", "dt_created", "dt_completed"}
    assert len(jobs["data"][0]["dt_created"]) == 19  # YYYY-MM-DD HH:MM:SS
    by_ref = api.request(url(live_server, "jobs"), consumer_a.security(), consumer_a.secret,
                         {"references": [str(mine[1].reference), str(theirs.reference)], "include": ["reference", "status", "data"]}, "get").json()
    assert by_ref["data"] == [{"reference": str(mine[1].reference), "status": "completed", "data": {"n": 1}}]
    running = api.request(url(live_server, "jobs"), consumer_a.security(), consumer_a.secret, {"status": ["running", "queued"]}, "get").json()
    assert {j["status"] for j in running["data"]} == {"running", "queued"}
    recent = api.request(url(live_server, "jobs"), consumer_a.security(), consumer_a.secret,
                         {"mintime": int((now - datetime.timedelta(minutes=90)).timestamp())}, "get").json()
    assert len(recent["data"]) == 2
    assert api.request(url(live_server, "jobs"), consumer_b.security(), consumer_b.secret, {}, "get").json()["data"][0]["reference"] == str(theirs.reference)


def test_a_consumer_never_sees_another_districts_rows(live_server, world, consumer_a, consumer_b, activity_a, activity_b):
    a_rows = [af.session(world.district, activity_a, n=n, adaptive={"items": None}, session_metadata={"k": 1}) for n in range(3)]
    b_rows = [af.session(world.other_district, activity_b, n=n, adaptive={"items": None}) for n in range(2)]
    api = DataApi()
    for endpoint in ENDPOINTS:
        got_a = ids(api.results_iter(url(live_server, endpoint), consumer_a.security(), consumer_a.secret, {}, "get"))
        got_b = ids(api.results_iter(url(live_server, endpoint), consumer_b.security(), consumer_b.secret, {}, "get"))
        assert sorted(got_a) == sorted(s.session_id for s in a_rows), endpoint
        assert sorted(got_b) == sorted(s.session_id for s in b_rows), endpoint
        # Another district's session ids are simply not found.
        probe = api.request(url(live_server, endpoint), consumer_b.security(), consumer_b.secret,
                            {"session_id": [s.session_id for s in a_rows]}, "get").json()
        assert probe["data"] == [] and probe["meta"]["status"] is True, endpoint
        # And a token of one consumer is refused for the other.
        token = api.request(url(live_server, endpoint), consumer_a.security(), consumer_a.secret, {}, "get").json()["meta"]["next"]
        refused = api.request(url(live_server, endpoint), consumer_b.security(), consumer_b.secret, {"next": token}, "get")
        assert refused.status_code == 400 and refused.json()["meta"]["code"] == 20004


def test_pages_stay_consistent_under_concurrent_writers(live_server, world, consumer_a, activity_a):
    """A writer thread keeps updating sessions while the SDK pages in ascending order: every session is seen."""
    sessions = _many(world, activity_a, 110)
    stop = threading.Event()
    writes = []

    def writer():
        i = 0
        try:
            while not stop.is_set() and i < 400:
                s = sessions[(i * 37) % len(sessions)]
                i += 1
                try:
                    AssessmentSession.objects.filter(pk=s.pk).update(updated_at=timezone.now())
                except OperationalError:  # SQLite's in-memory test database locks whole tables
                    continue
                writes.append(s.session_id)
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        rows = list(DataApi().results_iter(url(live_server, "sessions/scores"), consumer_a.security(), consumer_a.secret,
                                           {"sort": "asc", "limit": 10}, "get"))
    finally:
        stop.set()
        thread.join()
    assert writes, "the writer never got to write"
    assert {r["session_id"] for r in rows} == {s.session_id for s in sessions}


def test_lrn_cli_reads_through_the_live_server(live_server, world, consumer_a, activity_a):
    sessions = _many(world, activity_a, 55)
    cli = Path(sys.executable).with_name("lrn-cli")
    proc = subprocess.run(
        [str(cli), "-k", consumer_a.key, "-S", consumer_a.secret, "-g", "-R", json.dumps({"activity_id": ["numeracy"]}),
         "data", "--recurse", url(live_server, "sessions/scores")],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    found = {s.session_id for s in sessions if s.session_id in proc.stdout}
    assert found == {s.session_id for s in sessions}, proc.stdout[-2000:] + proc.stderr[-2000:]
