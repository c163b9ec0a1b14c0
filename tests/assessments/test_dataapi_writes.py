"""The Data API's writes driven by Learnosity's own SDK (``learnosity-sdk`` 0.3.13, unmodified) against the live
server: each answers a job reference at once, the test polls ``jobs`` until the job is done and reads the
effect back through the read endpoints. Bad input is a 4xx before any job, or a halted job with per-entry
errors that changed nothing."""

from __future__ import annotations

import base64
import json
import time
import uuid

import pytest
from learnosity_sdk.request import DataApi

from assessments import jobs as job_runner
from assessments.choices import JobStatus, SessionStatus
from assessments.models import AssessmentSession, Job, JobStatusChange, Response
from tests.assessments import factories as af

pytestmark = pytest.mark.django_db(transaction=True)
api = DataApi()


def url(live_server, endpoint: str) -> str:
    return f"{live_server.url}/data/v1/{endpoint}"


def write(live_server, client, endpoint: str, packet: dict, action: str):
    return api.request(url(live_server, endpoint), client.security(), client.secret, packet, action)


def submit(live_server, client, endpoint: str, packet: dict, action: str) -> dict:
    """Post a write, check the immediate answer, poll ``jobs`` until the job is done; the job's row."""
    res = write(live_server, client, endpoint, packet, action)
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["meta"]["status"] is True and set(body["data"]) == {"job_reference"}
    reference = body["data"]["job_reference"]
    uuid.UUID(reference)
    for _ in range(50):
        rows = api.request(url(live_server, "jobs"), client.security(), client.secret,
                           {"references": [reference], "include": ["reference", "type", "status", "dt_created",
                                                                   "dt_completed", "data"]}, "get").json()["data"]
        assert len(rows) == 1
        if rows[0]["status"] in ("completed", "halted"):
            return rows[0]
        time.sleep(0.1)
    raise AssertionError(f"job {reference} did not finish")


def refused(live_server, client, endpoint, packet, action, code) -> dict:
    before = Job.objects.count()
    res = write(live_server, client, endpoint, packet, action)
    assert res.status_code == 400, res.text
    body = res.json()
    assert body["meta"]["status"] is False and body["meta"]["code"] == code, body
    assert Job.objects.count() == before  # no job
    return body


def read(live_server, client, endpoint: str, packet: dict) -> list[dict]:
    return api.request(url(live_server, endpoint), client.security(), client.secret, packet, "get").json()["data"]


def snapshot() -> list:
    return [list(AssessmentSession.objects.order_by("pk").values_list("session_id", "status", "score", "max_score",
                                                                      "subscores", "session_metadata", "updated_at")),
            list(Response.objects.order_by("pk").values_list("response_id", "score", "max_score", "attempted",
                                                             "dt_score_updated", "value"))]


# --- sessions/responses/scores update ---------------------------------------------------------------------------


def test_manual_scores_update_rescores_the_session(live_server, world, consumer_a, activity_a):
    s = af.session(world.district, activity_a, n=1, status=SessionStatus.PENDING_SCORING)
    before = {r["response_id"]: r for r in read(live_server, consumer_a, "sessions/responses/scores",
                                                 {"session_id": [s.session_id]})[0]["responses"]}
    time.sleep(1.1)  # dates are to the second
    essay = f"{s.session_id}_q-essay"
    job = submit(live_server, consumer_a, "sessions/responses/scores", {"sessions": [{
        "session_id": s.session_id, "user_id": s.user_id,
        "responses": [{"response_id": essay, "score": 2.5, "max_score": 3, "attempted": True, "manual_score": 2.5,
                       "max_manual_score": 3},
                      {"response_id": f"{s.session_id}_q-mcq", "score": 2}],  # the same score: its date stays
    }]}, "update")
    assert job["status"] == "completed" and job["type"] == "manualresponseupdate"
    assert job["data"] == {"result": {"sessions_updated": 1, "responses_updated": 2}}
    assert len(job["dt_created"]) == 19 and job["dt_created"][10] == " "  # "YYYY-MM-DD HH:MM:SS"

    row = read(live_server, consumer_a, "sessions/responses/scores", {"session_id": [s.session_id]})[0]
    after = {r["response_id"]: r for r in row["responses"]}
    assert after[essay]["score"] == 2.5 and after[essay]["manual_score"] == 2.5 and after[essay]["max_manual_score"] == 3
    assert after[essay]["dt_score_updated"] != before[essay]["dt_score_updated"]
    mcq = f"{s.session_id}_q-mcq"
    assert after[mcq]["dt_score_updated"] == before[mcq]["dt_score_updated"]
    assert (row["score"], row["max_score"], row["status"]) == (4.5, 6, "Completed")  # the last manual score: done
    assert row["subscores"][1] == {"id": "subscore-2", "title": "Writing", "num_questions": 1, "num_attempted": 1,
                                   "score": 2.5, "max_score": 3, "attempted_max_score": 3, "items": ["item-2"]}
    history = list(JobStatusChange.objects.filter(job__reference=job["reference"]).values_list("from_status", "to_status"))
    assert history == [("", "queued"), ("queued", "running"), ("running", "completed")]


def test_bad_scores_are_refused_before_any_job(live_server, world, consumer_a, activity_a):
    s = af.session(world.district, activity_a, n=1)
    one = {"session_id": s.session_id, "user_id": s.user_id}
    essay = f"{s.session_id}_q-essay"
    refused(live_server, consumer_a, "sessions/responses/scores",
            {"sessions": [{**one, "responses": [{"response_id": essay, "score": 4, "max_score": 3, "attempted": True}]}]},
            "update", 20004)
    refused(live_server, consumer_a, "sessions/responses/scores",
            {"sessions": [{**one, "responses": [{"response_id": essay, "score": 1, "attempted": False}]}]}, "update", 20004)
    refused(live_server, consumer_a, "sessions/responses/scores",
            {"sessions": [{**one, "responses": [{"response_id": essay, "score": "1"}]}]}, "update", 20003)
    refused(live_server, consumer_a, "sessions/responses/scores", {"sessions": [{**one, "responses": []}]}, "update", 20000)
    refused(live_server, consumer_a, "sessions/responses/scores", {}, "update", 20000)
    refused(live_server, consumer_a, "sessions/responses/scores",
            {"sessions": [{**one, "responses": [{"response_id": essay, "score": 1}]}] * 1001}, "update", 20002)


def test_a_bad_entry_halts_the_whole_job_and_changes_nothing(live_server, world, consumer_a, consumer_b, activity_a, activity_b):
    mine = af.session(world.district, activity_a, n=1)
    theirs = af.session(world.other_district, activity_b, n=2)
    good = {"session_id": mine.session_id, "user_id": mine.user_id,
            "responses": [{"response_id": f"{mine.session_id}_q-essay", "score": 3, "attempted": True}]}
    before = snapshot()
    cases = [
        ({"session_id": mine.session_id, "user_id": mine.user_id,  # above the stored max (3)
          "responses": [{"response_id": f"{mine.session_id}_q-mcq", "score": 2.5, "attempted": True},
                        {"response_id": f"{mine.session_id}_q-short", "score": 1.5, "attempted": True}]}, "above the max"),
        ({"session_id": "no-such-session", "user_id": "u", "responses": [{"response_id": "x", "score": 0}]}, "no session"),
        ({"session_id": theirs.session_id, "user_id": theirs.user_id,
          "responses": [{"response_id": f"{theirs.session_id}_q-essay", "score": 1, "attempted": True}]}, "no session"),
        ({**good, "user_id": "someone-else"}, "is not the user"),
        ({**good, "responses": [{"response_id": "nope", "score": 0}]}, "has no response"),
    ]
    for bad, message in cases:
        batch = [good, bad] if bad["session_id"] != good["session_id"] else [bad]
        job = submit(live_server, consumer_a, "sessions/responses/scores", {"sessions": batch}, "update")
        assert job["status"] == "halted", bad
        errors = job["data"]["errors"]
        assert [e["index"] for e in errors] == [len(batch) - 1] and message in errors[0]["message"], errors
        assert snapshot() == before  # the good entry was not applied either
    # The other district's consumer cannot see this district's jobs.
    assert read(live_server, consumer_b, "jobs", {}) == []


# --- jobs/sessions/statuses, jobs/sessions/metadata ---------------------------------------------------------------


def test_statuses_update_and_completed_rescores(live_server, world, consumer_a, activity_a):
    a, b, c = (af.session(world.district, activity_a, n=n, status=SessionStatus.INCOMPLETE) for n in (1, 2, 3))
    Response.objects.filter(session=a, question_type="shorttext").update(value={"value": "harare", "type": "string"})
    job = submit(live_server, consumer_a, "jobs/sessions/statuses", {"statuses": [
        {"session_id": a.session_id, "user_id": a.user_id, "status": "Completed"},
        {"session_id": b.session_id, "user_id": b.user_id, "status": "Discarded"},
        {"session_id": c.session_id, "user_id": c.user_id, "status": "Incomplete"},
    ]}, "update")
    assert job["status"] == "completed" and job["type"] == "sessionstatuses"
    rows = {r["session_id"]: r for r in read(live_server, consumer_a, "sessions/scores", {"include_response_scores": True})}
    # Completed: scored again (the shorttext is now right); the essay is unmarked, so it waits for a marker.
    assert rows[a.session_id]["score"] == 3 and rows[a.session_id]["status"] == "Pending Scoring"
    assert rows[b.session_id]["status"] == "Discarded" and rows[c.session_id]["status"] == "Incomplete"
    statuses = {r["session_id"]: r for r in read(live_server, consumer_a, "sessions/statuses", {})}
    assert statuses[a.session_id]["dt_completed"] is not None


def test_bad_statuses(live_server, world, consumer_a, activity_a, activity_b):
    s = af.session(world.district, activity_a, n=1)
    other = af.session(world.other_district, activity_b, n=1)
    entry = {"session_id": s.session_id, "user_id": s.user_id, "status": "Discarded"}
    refused(live_server, consumer_a, "jobs/sessions/statuses", {"statuses": [entry] * 101}, "update", 20002)
    refused(live_server, consumer_a, "jobs/sessions/statuses", {"statuses": [{**entry, "status": "Pending Scoring"}]},
            "update", 20004)
    refused(live_server, consumer_a, "jobs/sessions/statuses", {"statuses": [entry, entry]}, "update", 20004)
    before = snapshot()
    for bad in ({**entry, "user_id": "wrong"}, {**entry, "session_id": "unknown"},
                {"session_id": other.session_id, "user_id": other.user_id, "status": "Discarded"}):
        job = submit(live_server, consumer_a, "jobs/sessions/statuses", {"statuses": [entry, bad]} if bad["session_id"] != s.session_id
                     else {"statuses": [bad]}, "update")
        assert job["status"] == "halted" and job["data"]["errors"][0]["session_id"] == bad["session_id"]
        assert snapshot() == before


def test_metadata_set_replaces_the_metadata(live_server, world, consumer_a, activity_a):
    s = af.session(world.district, activity_a, n=1, session_metadata={"session_tags": [{"type": "a", "name": "b"}], "room": "B2"})
    entry = {"session_id": s.session_id, "user_id": s.user_id, "metadata": {"session_tags": [{"type": "assignment_type", "name": "homework"}]}}
    job = submit(live_server, consumer_a, "jobs/sessions/metadata", {"session_metadata": [entry]}, "set")
    assert job["status"] == "completed"
    assert read(live_server, consumer_a, "sessions/metadata", {"session_id": [s.session_id]})[0]["metadata"] == entry["metadata"]
    refused(live_server, consumer_a, "jobs/sessions/metadata", {"session_metadata": [entry] * 101}, "set", 20002)
    refused(live_server, consumer_a, "jobs/sessions/metadata", {"session_metadata": [{**entry, "metadata": "x"}]}, "set", 20003)
    refused(live_server, consumer_a, "jobs/sessions/metadata",
            {"session_metadata": [{**entry, "metadata": {"x": "y" * 20000}}]}, "set", 20001)


# --- sessions set: from_template --------------------------------------------------------------------------------


def _packets(template_questions: dict) -> list[dict]:
    first = {"user_id": "learner-1", "activity_id": "paper-maths", "session_id": str(uuid.uuid4()), "responses": [
        {"question_id": "r-mcq", "type": "array", "value": ["1", "0"]},
        {"question_id": "r-assoc", "type": "array", "value": ["3", "5", "8"]},
        {"question_id": "r-matrix", "type": "array", "value": [[0], [1]]},
        {"question_id": "r-cloze", "type": "array", "value": ["4", "seven"]},
        {"question_id": "r-order", "type": "array", "value": [3, 2, 1]},
        {"question_id": "r-grid", "type": "string", "value": "1234.560"},
        {"question_id": "r-formula", "type": "string", "value": "0.75"},
        {"question_id": "r-short", "type": "string", "value": "harare+", "characterCount": 7},
        {"question_id": "r-essay", "type": "string", "value": "Our+school+has+a+big+garden", "wordCount": 6},
    ]}
    second = {"user_id": "learner-2", "activity_id": "paper-maths", "session_id": str(uuid.uuid4()),
              "responses": [{"question_id": "r-mcq", "type": "array", "value": ["1", "3"]}]}
    assert {r["question_id"] for r in first["responses"]} == set(template_questions)
    return [first, second]


def test_from_template_creates_and_scores_sessions(live_server, world, consumer_a):
    af.rich_bank(world.district)
    res = api.request(url(live_server, "sessions/templates"), consumer_a.security(), consumer_a.secret,
                      {"activity_template_id": "paper-maths"}, "get")
    template = res.json()["data"]
    first, second = _packets({q["id"]: q for q in template["questions"]})
    job = submit(live_server, consumer_a, "sessions", {"data_format": "from_template", "template": template,
                                                       "data": [first, second]}, "set")
    assert job["status"] == "completed" and job["data"]["result"] == {"sessions_created": 2}

    rows = {r["session_id"]: r for r in read(live_server, consumer_a, "sessions/responses", {"activity_id": ["paper-maths"]})}
    one = rows[first["session_id"]]
    scores = {r["question_reference"]: (r["score"], r["max_score"]) for r in one["responses"]}
    assert scores == {"r-mcq": (1, 2), "r-assoc": (2, 3), "r-matrix": (2, 2), "r-cloze": (1, 2), "r-order": (2, 3),
                      "r-grid": (1, 1), "r-formula": (1, 1), "r-short": (1, 1), "r-essay": (None, 5)}
    values = {r["question_reference"]: r["response"] for r in one["responses"]}
    assert values["r-essay"]["value"] == "Our school has a big garden" and values["r-essay"]["wordCount"] == 6
    assert values["r-short"]["value"] == "harare " and values["r-short"]["characterCount"] == 7
    assert values["r-order"]["value"] == [2, 1, 0]
    assert (one["score"], one["max_score"], one["num_attempted"], one["num_questions"]) == (11, 20, 9, 9)
    assert one["status"] == "Pending Scoring"  # the essay waits for a marker
    assert [(s["id"], s["score"], s["max_score"]) for s in one["subscores"]] == [("number", 8, 12), ("words", 3, 8)]
    assert [i["reference"] for i in one["items"]] == ["paper-1", "paper-2"]
    two = rows[second["session_id"]]
    assert (two["score"], two["max_score"], two["num_attempted"], two["status"]) == (2, 20, 1, "Completed")

    # The same sessions again: they exist, so the job halts and creates nothing.
    count = AssessmentSession.objects.count()
    again = submit(live_server, consumer_a, "sessions", {"data_format": "from_template", "template": template,
                                                         "data": [first]}, "set")
    assert again["status"] == "halted" and "already exists" in again["data"]["errors"][0]["message"]
    assert AssessmentSession.objects.count() == count


def test_bad_from_template_batches_are_refused(live_server, world, consumer_a, consumer_b):
    af.rich_bank(world.district)
    template = read(live_server, consumer_a, "sessions/templates", {"activity_template_id": "paper-maths"})
    first, _second = _packets({q["id"]: q for q in template["questions"]})

    def post(packet, code, who=consumer_a):
        refused(live_server, who, "sessions", {"data_format": "from_template", "template": template, **packet}, "set", code)

    post({"data": [{**first, "session_id": str(uuid.uuid4())} for _ in range(51)]}, 20002)
    post({"data": [{**first, "responses": [{"question_id": "r-mcq", "type": "array", "value": ["7"]}]}]}, 20004)
    post({"data": [{**first, "responses": [{"question_id": "r-assoc", "type": "array", "value": ["Octagon"]}]}]}, 20004)
    post({"data": [{**first, "responses": [{"question_id": "r-order", "type": "array", "value": [1, 1, 2]}]}]}, 20004)
    post({"data": [{**first, "responses": [{"question_id": "r-matrix", "type": "array", "value": [[5]]}]}]}, 20004)
    post({"data": [{**first, "responses": [{"question_id": "r-short", "type": "array", "value": ["x"]}]}]}, 20004)
    post({"data": [{**first, "responses": [{"question_id": "nope", "type": "string", "value": "x"}]}]}, 20004)
    post({"data": [{**first, "session_id": None}]}, 20000)
    post({"data": [first, first]}, 20004)
    refused(live_server, consumer_a, "sessions", {"data_format": "from_template", "template": {"questions": "x", "items": []}, "data": [first]},
            "set", 20003)
    broken = {**template, "items": [{**template["items"][0], "question_ids": ["not-in-template"]}]}
    refused(live_server, consumer_a, "sessions", {"data_format": "from_template", "template": broken, "data": [first]}, "set", 20009)
    # Another district's consumer: the template's questions are not in its item bank.
    post({"data": [first]}, 20004, who=consumer_b)
    refused(live_server, consumer_a, "sessions", {"data_format": "paper", "data": [first]}, "set", 20004)


# --- sessions set: failed_submission ----------------------------------------------------------------------------


def b64(packet: dict) -> str:
    return base64.b64encode(json.dumps(packet).encode()).decode()


def test_failed_submission_creates_sessions_and_honours_revisions(live_server, world, consumer_a, activity_a):
    stored = af.session(world.district, activity_a, n=1, status=SessionStatus.INCOMPLETE)  # shorttext "Bulawayo", revision 1
    new_id = str(uuid.uuid4())
    fresh = {"session_id": new_id, "user_id": "learner-9", "activity_id": "numeracy", "status": "Completed",
             "responses": {"q-mcq": {"value": ["0", "2"], "type": "array", "revision": 3},
                           "q-short": {"value": "Harare", "type": "string", "revision": 2}}}
    older = {"session_id": stored.session_id, "user_id": stored.user_id, "activity_id": "numeracy", "status": "Incomplete",
             "responses": {"q-mcq": {"value": ["1"], "type": "array", "revision": 1},  # older than the stored revision 2
                           "q-short": {"value": "Harare", "type": "string", "revision": 4}}}
    job = submit(live_server, consumer_a, "sessions", {"data_format": "failed_submission", "data": [b64(fresh), b64(older)]}, "set")
    assert job["status"] == "completed", job
    assert job["data"]["result"] == {"sessions_created": 1, "sessions_updated": 1, "responses_kept_newer": 1}
    rows = {r["session_id"]: r for r in read(live_server, consumer_a, "sessions/responses", {})}
    created = rows[new_id]
    assert (created["score"], created["status"]) == (3, "Completed")
    kept = {r["question_reference"]: r for r in rows[stored.session_id]["responses"]}
    assert kept["q-mcq"]["response"]["value"] == ["0", "2"] and kept["q-mcq"]["score"] == 2  # the newer one stays
    assert kept["q-short"]["response"]["value"] == "Harare" and kept["q-short"]["score"] == 1
    assert rows[stored.session_id]["score"] == 3

    ignoring = submit(live_server, consumer_a, "sessions", {"data_format": "failed_submission", "ignore_response_revisions": True,
                                                            "data": [b64(older)]}, "set")
    assert ignoring["status"] == "completed"
    row = read(live_server, consumer_a, "sessions/responses", {"session_id": [stored.session_id]})[0]
    assert {r["question_reference"]: r["response"]["value"] for r in row["responses"]}["q-mcq"] == ["1"]
    assert row["score"] == 1


def test_bad_failed_submissions(live_server, world, consumer_a, activity_a, activity_b):
    other = af.session(world.other_district, activity_b, n=1)
    good = {"session_id": "s-1", "user_id": "u-1", "activity_id": "numeracy", "responses": {"q-mcq": {"value": ["0"]}}}

    def post(data, code):
        refused(live_server, consumer_a, "sessions", {"data_format": "failed_submission", "data": data}, "set", code)

    post(["not base64!"], 20004)
    post([base64.b64encode(b"\xff\xfe").decode()], 20004)
    post([base64.b64encode(b"{not json").decode()], 20009)
    post([b64({**good, "session_id": None})], 20000)
    post([b64({**good, "responses": {"q-mcq": {"value": ["0"], "revision": -1}}})], 20003)
    post([b64(good)] * 51, 20002)
    post([12], 20003)
    before = snapshot()
    # Another district's session id is simply unknown here: a new session would need its questions, which are not ours.
    job = submit(live_server, consumer_a, "sessions", {"data_format": "failed_submission", "data": [
        b64(good), b64({"session_id": other.session_id, "user_id": other.user_id, "activity_id": "b-numeracy",
                        "responses": {"b-q-mcq": {"value": ["0"]}}})]}, "set")
    assert job["status"] == "halted" and job["data"]["errors"][0]["index"] == 1
    assert snapshot() == before


# --- jobs: filters, idempotency, the real worker -----------------------------------------------------------------


def test_jobs_filters_and_two_districts(live_server, world, consumer_a, consumer_b, activity_a):
    s = af.session(world.district, activity_a, n=1)
    done = submit(live_server, consumer_a, "jobs/sessions/statuses",
                  {"statuses": [{"session_id": s.session_id, "user_id": s.user_id, "status": "Completed"}]}, "update")
    halted = submit(live_server, consumer_a, "jobs/sessions/statuses",
                    {"statuses": [{"session_id": "nope", "user_id": "x", "status": "Completed"}]}, "update")
    assert [r["reference"] for r in read(live_server, consumer_a, "jobs", {"status": ["halted"]})] == [halted["reference"]]
    assert {r["reference"] for r in read(live_server, consumer_a, "jobs", {})} == {done["reference"], halted["reference"]}
    assert read(live_server, consumer_b, "jobs", {"references": [done["reference"]]}) == []
    assert set(read(live_server, consumer_a, "jobs", {})[0]) == {"reference", "type", "status", "dt_created", "dt_completed"}


def test_running_a_job_again_is_harmless(world, activity_a):
    from assessments.jobs import job_create

    s = af.session(world.district, activity_a, n=1)
    request = {"sessions": [{"session_id": s.session_id, "user_id": s.user_id,
                             "responses": [{"response_id": f"{s.session_id}_q-essay", "score": 3, "attempted": True}]}]}
    job = job_create(district_id=world.district.pk, type=job_runner.TYPE_SCORES, request=request)
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED and job.attempts == 1  # the immediate backend ran it
    assert job_runner.run(job.pk) == JobStatus.COMPLETED  # again: nothing happens
    job.refresh_from_db()
    assert job.attempts == 1
    # A worker that died half-way left it running with nothing committed: it simply runs again.
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
    assert job_runner.run(job.pk) == JobStatus.COMPLETED
    job.refresh_from_db()
    assert job.attempts == 2 and AssessmentSession.objects.get(pk=s.pk).score == 5
    assert list(job.history.values_list("to_status", flat=True)) == ["queued", "running", "completed", "running", "completed"]
