"""``SET sessions`` with ``data_format: "from_template"``: scoring and storing 10,000 sessions through jobs, against
a plain bulk insert of the same rows, on PostgreSQL, in a throwaway database ``bench_learnosity_scoring``.

1. An item bank of the seed's question types (mcq, association, choicematrix, clozetext, orderlist, gridded,
   formulaV2, shorttext and an essay: 9 questions over 2 items, 2 subscores) and its template, read through
   ``sessions/templates``.
2. **Jobs**: 10,000 sessions in batches of 50 posted as the SDK posts them (signed form, through Django's WSGI
   handler, every middleware), each batch checked and queued as a job on the ``django-tasks-db`` backend; then
   the real ``db_worker`` runs the 200 jobs (score every response, session totals and subscores, three bulk
   inserts per job, the job's status history). The time is from the first post to the last job completed.
3. **Plain bulk insert**: the same 10,000 sessions, 90,000 responses and 20,000 items, already scored (the rows
   the jobs stored, copied with new ids), inserted with ``bulk_create`` in batches of 50 sessions — no checks,
   no scoring, no jobs.
4. The ratio of the two, in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/bench_learnosity_scoring.py

``BENCH_SCORING_SESSIONS`` (default 10000) changes the size. The ``set sessions`` rate limit (50 per 5 s per
consumer) is lifted for the run: it would measure the limiter's waiting, not the work.
"""

from __future__ import annotations

import os
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT  # noqa: F401  (Django is set up there)
from bench_learnosity import Wsgi, signed_form
from bench_register_load import throwaway_database
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import override_settings

from tests.gunicorn import cpu_count

SESSIONS = int(os.environ.get("BENCH_SCORING_SESSIONS", "10000"))
BATCH = 50
DB_NAME = "bench_learnosity_scoring"


def packet(n: int) -> dict:
    """One learner's paper: right, half-right or wrong answers by ``n``, an essay to mark."""
    k = n % 3
    return {"user_id": f"learner-{n}", "activity_id": "paper-maths", "session_id": str(uuid.uuid4()), "responses": [
        {"question_id": "r-mcq", "type": "array", "value": [["1", "3"], ["1", "0"], ["2"]][k]},
        {"question_id": "r-assoc", "type": "array", "value": [["3", "5", "6"], ["3", "5", "8"], ["8", "8", "8"]][k]},
        {"question_id": "r-matrix", "type": "array", "value": [[[0], [1]], [[0], [0]], [[1], [0]]][k]},
        {"question_id": "r-cloze", "type": "array", "value": [["4", "7"], ["4", "seven"], ["x", "y"]][k]},
        {"question_id": "r-order", "type": "array", "value": [[3, 1, 2], [3, 2, 1], [1, 2, 3]][k]},
        {"question_id": "r-grid", "type": "string", "value": ["1234.56", "1234.560", "12"][k]},
        {"question_id": "r-formula", "type": "string", "value": ["3%2F4", "0.75", "1%2F2"][k]},
        {"question_id": "r-short", "type": "string", "value": ["Harare", "harare+", "Gweru"][k]},
        {"question_id": "r-essay", "type": "string", "value": "Our+school+has+a+big+garden+and+a+library", "wordCount": 9},
    ]}


def main() -> int:
    label = f"learnosity.from_template_{SESSIONS:,}_sessions"
    if connection.vendor != "postgresql":
        print(f"# {label}: skipped on {connection.vendor}: the figures are for PostgreSQL (DATABASE_URL=postgres://…)")
        return 0
    from assessments.dataapi import endpoints
    from assessments.models import AssessmentSession, Job, Response, SessionItem
    from assessments.services import consumer_create
    from rostering.models import District
    from tests.assessments.factories import rich_bank

    endpoints.RATE_LIMITS[("set", "sessions")] = 10**9
    with throwaway_database(DB_NAME) as name, override_settings(
        TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}, ALLOWED_HOSTS=["*"]
    ):
        print(f"# bench_learnosity_scoring on postgresql (throwaway database {name}); {cpu_count()} cores")
        district = District.objects.create(name="Bench district")
        rich_bank(district)
        issued = consumer_create(district=district, name="bench")
        wsgi = Wsgi()

        def post(request: dict, action: str):
            body = urllib.parse.urlencode(signed_form(issued, request, action=action))
            return wsgi.post("/data/v1/sessions" if action == "set" else "/data/v1/sessions/templates",
                             data=body, content_type="application/x-www-form-urlencoded")

        template = post({"activity_template_id": "paper-maths"}, "get").json()["data"]
        batches = [[packet(n) for n in range(start, min(start + BATCH, SESSIONS))] for start in range(0, SESSIONS, BATCH)]

        started = time.perf_counter()
        for batch in batches:
            res = post({"data_format": "from_template", "template": template, "data": batch}, "set")
            assert res.status_code == 200, res.content[:300]
        queued = time.perf_counter() - started
        call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
        jobs_seconds = time.perf_counter() - started
        connection.close()
        done = {s: Job.objects.filter(status=s).count() for s in ("queued", "running", "completed", "halted")}
        stored = AssessmentSession.objects.filter(district=district).count()
        assert stored == SESSIONS and done["completed"] == len(batches), (stored, done)
        pending = AssessmentSession.objects.filter(district=district, status="Pending Scoring").count()
        print(f"# jobs: {len(batches)} posts answered in {queued:.1f} s, all {len(batches)} jobs completed; "
              f"{stored:,} sessions stored ({pending:,} waiting for their essay to be marked)")

        # The same rows again (new ids), already scored: a plain bulk insert.
        sessions = list(AssessmentSession.objects.filter(district=district).order_by("id"))
        responses: dict[int, list] = {}
        for r in Response.objects.filter(district=district).order_by("session_id", "position"):
            responses.setdefault(r.session_id, []).append(r)
        items: dict[int, list] = {}
        for i in SessionItem.objects.filter(district=district).order_by("session_id", "position"):
            items.setdefault(i.session_id, []).append(i)
        copies = []
        for s in sessions:
            old = s.pk
            s.pk = None
            s.session_id = f"copy-{s.session_id}"
            rows = responses[old]
            for r in rows:
                r.pk = None
                r.response_id = f"copy-{r.response_id}"
            for i in items[old]:
                i.pk = None
            copies.append((s, rows, items[old]))

        started = time.perf_counter()
        for start in range(0, len(copies), BATCH):
            chunk = copies[start:start + BATCH]
            with transaction.atomic():
                made = AssessmentSession.objects.bulk_create([c[0] for c in chunk])
                rows, item_rows = [], []
                for s, rs, its in zip(made, (c[1] for c in chunk), (c[2] for c in chunk), strict=True):
                    for r in rs:
                        r.session = s
                    for i in its:
                        i.session = s
                    rows += rs
                    item_rows += its
                Response.objects.bulk_create(rows)
                SessionItem.objects.bulk_create(item_rows)
        bulk_seconds = time.perf_counter() - started
        assert AssessmentSession.objects.filter(district=district).count() == 2 * SESSIONS

        responses_count = sum(len(c[1]) for c in copies)
        print(f"{label}: jobs {jobs_seconds:.1f} s ({SESSIONS / jobs_seconds:,.0f} sessions/s, "
              f"{responses_count / jobs_seconds:,.0f} responses scored/s) vs plain bulk insert {bulk_seconds:.1f} s "
              f"({SESSIONS / bulk_seconds:,.0f} sessions/s): ratio {jobs_seconds / bulk_seconds:.1f}×")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
