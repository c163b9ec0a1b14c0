"""Learnosity-compatible Data API reads over 1,000,000 assessment sessions (DESIGN.md, performance budgets).

In a throwaway PostgreSQL database ``bench_learnosity`` (dropped afterwards, even on failure):

1. 1,000,000 sessions of one district, each with 2 responses and 2 items (5,000,000 rows), built in the server
   with ``INSERT … SELECT generate_series`` (indexes dropped during the load and rebuilt after, then ANALYZE),
   plus 1,000 sessions of a second district.
2. A 50-row ``sessions/responses`` page, first and deep (a ``next`` token in the middle of the million), through
   Django's WSGI handler as gunicorn calls it (signed form post, every middleware, signature check, consumer,
   cursor, ORM, envelope): its
   median time, against the raw SQL of the same page (the exact queries Django ran — the consumer and the page,
   whose rows PostgreSQL builds as JSON — re-run on a bare cursor, rows fetched) in the same run; budget ≤ 2×.
   The page's query count, the same for a first page and a deep one.
3. ``EXPLAIN (ANALYZE, BUFFERS)`` of the page's sessions query: an index scan, no sequential scan.
4. Sustained ``sessions/scores`` pages per second on gunicorn (production settings), one consumer per client
   thread, against Learnosity's published limit of 200 requests per second per consumer.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/bench_learnosity.py

``BENCH_LEARNOSITY_SESSIONS`` (default 1000000) and ``BENCH_LEARNOSITY_SECONDS`` (default 10) change the run.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import against_raw_sql, explain, verdict
from bench_register_load import throwaway_database
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from tests.gunicorn import cpu_count, serve

SESSIONS = int(os.environ.get("BENCH_LEARNOSITY_SESSIONS", "1000000"))
SECONDS = float(os.environ.get("BENCH_LEARNOSITY_SECONDS", "10"))
DB_NAME = "bench_learnosity"
RATIO_BUDGET = 2.0
PER_CONSUMER_LIMIT = 200  # Learnosity: 1,000 GET sessions/* per 5 s per consumer
CLIENT_THREADS = 8
THREADS_PER_WORKER = 4
REPEATS = 200
TABLES = ("assessments_assessmentsession", "assessments_response", "assessments_sessionitem")


def main() -> int:
    label = f"learnosity.sessions_responses_page_over_{SESSIONS:,}"
    if connection.vendor != "postgresql":
        print(f"# {label}: skipped on {connection.vendor}: the figures are for PostgreSQL (DATABASE_URL=postgres://…)")
        return 0
    gunicorn_key = secrets.token_urlsafe(50)
    with throwaway_database(DB_NAME) as name:
        print(f"# bench_learnosity on postgresql (throwaway database {name}); {cpu_count()} cores")
        district, _other = load(SESSIONS)
        with override_settings(SECRET_KEY=gunicorn_key):
            consumers = make_consumers(district, CLIENT_THREADS + 1)
            page_figures(label, consumers[0])
        throughput(name, gunicorn_key, consumers[1:])
    return 0


# --- data ----------------------------------------------------------------------------------------------------


def load(count: int):
    from rostering.models import District

    district = District.objects.create(name="Bench district")
    other = District.objects.create(name="Other district")
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '256MB'")
        cur.execute("SET synchronous_commit = off")
        cur.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid::regclass::text = ANY(%s) AND contype IN ('u', 'f', 'c')", [list(TABLES)],
        )
        constraints = cur.fetchall()
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND indexname NOT LIKE '%%_pkey' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)", [list(TABLES)],
        )
        indexes = cur.fetchall()
        for table, con, _definition in constraints:
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{con}"')
        for index, _definition in indexes:
            cur.execute(f'DROP INDEX "{index}"')
        for d, n in ((district, count), (other, 1000)):
            cur.execute(
                """
                INSERT INTO assessments_assessmentsession
                  (district_id, session_id, user_id, activity_id, course_id, status, dt_started, dt_completed, dt_saved,
                   updated_at, created_at, num_attempted, num_questions, score, max_score, subscores, session_duration,
                   metadata, session_metadata, adaptive)
                SELECT %s, md5(%s || g::text), 'user-' || (g %% 50000), 'activity-' || (g %% 20), 'course-1',
                       (ARRAY['Completed', 'Incomplete', 'Discarded', 'Pending Scoring'])[1 + g %% 4],
                       t - interval '20 minutes', t, t, t, t, 2, 2, g %% 3, 2,
                       '[{"id": "subscore-1", "title": "Number", "score": 1, "max_score": 1}]'::jsonb, 20,
                       '{"activity_template_id": "activity"}'::jsonb, '{}'::jsonb, NULL
                FROM generate_series(1, %s) AS g,
                     LATERAL (SELECT timestamptz '2024-01-01' + g * interval '7 seconds' AS t) AS x
                """,
                [d.pk, str(d.pk), n],
            )
        cur.execute(
            """
            INSERT INTO assessments_response
              (district_id, session_id, position, response_id, question_reference, question_type, item_reference, value,
               revision, score, max_score, attempted, automarkable, dt_score_updated)
            SELECT s.district_id, s.id, p, s.session_id || '_q' || p, 'q' || p, 'mcq', 'item-' || p,
                   '{"value": ["0"], "type": "array", "apiVersion": "v2.197.0", "revision": 1}'::jsonb,
                   1, p % 2, 1, true, true, s.updated_at
            FROM assessments_assessmentsession s, generate_series(0, 1) AS p
            """
        )
        cur.execute(
            """
            INSERT INTO assessments_sessionitem (district_id, session_id, position, reference, time, user_flagged, response_ids, scoring)
            SELECT s.district_id, s.id, p, 'item-' || p, 30 + p * 15, false,
                   jsonb_build_array(s.session_id || '_q' || p), '{"score": 1, "max_score": 1, "type": "per-question"}'::jsonb
            FROM assessments_assessmentsession s, generate_series(0, 1) AS p
            """
        )
        loaded = time.perf_counter() - started
        for _index, definition in indexes:
            cur.execute(definition)
        for table, con, definition in constraints:
            cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{con}" {definition}')
        for table in TABLES:
            cur.execute(f"ANALYZE {table}")
        cur.execute("SELECT count(*) FROM assessments_assessmentsession")
        (sessions,) = cur.fetchone()
        cur.execute("SELECT count(*) FROM assessments_response")
        (responses,) = cur.fetchone()
    print(f"# loaded {sessions:,} sessions, {responses:,} responses and as many items in {loaded:.0f} s; "
          f"indexes and constraints rebuilt in {time.perf_counter() - started - loaded:.0f} s")
    return district, other


def make_consumers(district, n: int):
    from assessments.services import consumer_create

    return [consumer_create(district=district, name=f"bench {i}") for i in range(n)]


def signed_form(issued, request: dict, *, action: str = "get") -> dict:
    from learnosity_sdk.request import Init

    return Init("data", {"consumer_key": issued.consumer.consumer_key, "domain": "localhost"}, issued.secret,
                request, action).generate()


def post_body(issued, request: dict) -> dict:
    """What the SDK posts (``requests`` form-encodes the fields), as test-client arguments."""
    return {"data": urllib.parse.urlencode(signed_form(issued, request)),
            "content_type": "application/x-www-form-urlencoded"}


# --- one page, against its raw SQL ----------------------------------------------------------------------------


def deep_token(district, limit: int = 50) -> str:
    """The ``next`` token a client holds halfway through the million (desc order, its pass started now)."""
    from django.utils import timezone

    from assessments.dataapi.paging import SALT, _digest
    from assessments.dataapi.params import session_query
    from assessments.models import AssessmentSession
    from rostering.common import cursor

    middle = AssessmentSession.objects.filter(district=district).order_by("-updated_at", "-id").values_list(
        "updated_at", "id")[SESSIONS // 2]
    query = session_query({"limit": limit})
    digest = _digest(endpoint="sessions/responses", district_id=district.pk, query=query)
    return cursor.encode(middle, query=digest, salt=SALT, state={"top": timezone.now(), "floor": None})


class Wsgi:
    """Posts straight into Django's WSGI handler, as gunicorn does (the test client adds its own bookkeeping)."""

    def __init__(self):
        self.handler = WSGIHandler()

    def post(self, url: str, *, data: str, content_type: str):
        body = data.encode()
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": url, "SCRIPT_NAME": "", "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1", "CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
            "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0),
        }
        status: list[str] = []
        chunks = self.handler(environ, lambda s, headers, exc_info=None: status.append(s))
        content = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
        return WsgiResponse(int(status[0].split()[0]), content)


@dataclass
class WsgiResponse:
    status_code: int
    content: bytes

    def json(self):
        return json.loads(self.content)


def page_figures(label: str, issued) -> None:
    client = Wsgi()
    url = "/data/v1/sessions/responses"
    deep = deep_token(issued.consumer.district)
    for name, request in (("first", {"limit": 50}), ("deep", {"limit": 50, "next": deep})):
        client.post(url, **post_body(issued, request))  # warm: consumer cache, last_used_at, plans
        with CaptureQueriesContext(connection) as captured:
            response = client.post(url, **post_body(issued, request))
        body = response.json()
        assert response.status_code == 200 and len(body["data"]) == 50, body["meta"]
        queries = [q["sql"] for q in captured.captured_queries]
        forms = iter([post_body(issued, request) for _ in range(REPEATS)])  # signed outside the timing
        ours, raw = against_raw_sql(lambda f=forms: client.post(url, **next(f)), queries, REPEATS)
        ratio = ours / raw if raw else 0.0
        print(f"{label}.{name}: {ours * 1000:.1f} ms per 50-row page through Django's WSGI handler (signed post, middleware, ORM, envelope), raw SQL "
              f"of the same page {raw * 1000:.1f} ms; ratio {ratio:.2f}× (budget ≤ {RATIO_BUDGET:.0f}×) "
              f"{verdict(ratio <= RATIO_BUDGET)}")
        print(f"{label}.{name}.queries: {len(queries)} queries (the consumer; the page: sessions with their responses "
              f"and items, as JSON) {verdict(len(queries) == 2)}")
        sessions_sql = next(q for q in queries if 'FROM "assessments_assessmentsession"' in q)
        index, seq = explain(f"the {name} page's sessions query", sessions_sql)
        uses_index = bool(index) and index.startswith("asess_")
        print(f"{label}.{name}.plan: {'index scan on ' + index if uses_index else 'no index'}"
              f"{', sequential scan!' if seq else ', no sequential scan'} {verdict(uses_index and not seq)}")


def light_form(issued, request: dict) -> dict:
    """The SDK's exact form (same JSON, same ``$02$`` signature) without its per-call telemetry probing, so the
    load generator, which shares the machine's cores with the server, spends as little CPU as it can."""
    from django.utils import timezone

    from assessments.dataapi.security import sign

    security = {"consumer_key": issued.consumer.consumer_key, "domain": "localhost",
                "timestamp": timezone.now().strftime("%Y%m%d-%H%M")}
    request_string = json.dumps(request, separators=(",", ":"), ensure_ascii=False)
    security["signature"] = sign(security, issued.secret, request_string, "get")
    return {"security": json.dumps(security), "request": request_string, "action": "get"}


# --- throughput on gunicorn ------------------------------------------------------------------------------------


@contextmanager
def gunicorn_server(db_name: str, secret_key: str):
    with serve(db_name=db_name, workers=2 * cpu_count() + 1, threads=THREADS_PER_WORKER, secret_key=secret_key,
               args=["--keep-alive", "60"]) as server:
        yield server


def throughput(db_name: str, secret_key: str, consumers) -> None:
    label = "learnosity.sessions_scores_pages_per_second"
    with gunicorn_server(db_name, secret_key) as server:
        print(f"# gunicorn gthread: {server.workers} workers × {THREADS_PER_WORKER} threads; {len(consumers)} client "
              f"threads, one consumer and one keep-alive connection each, {SECONDS:.0f} s")
        counts: list[dict] = []
        stop_at = time.monotonic() + SECONDS
        barrier = threading.Barrier(len(consumers))

        def worker(issued, out: dict):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            token = None
            barrier.wait()
            while time.monotonic() < stop_at:
                request = {"limit": 50, "sort": "asc"}
                if token:
                    request["next"] = token
                body = urllib.parse.urlencode(light_form(issued, request))
                conn.request("POST", "/data/v1/sessions/scores", body=body,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
                res = conn.getresponse()
                data = res.read()
                out[res.status] = out.get(res.status, 0) + 1
                if res.status == 200:
                    token = json.loads(data)["meta"]["next"]
            conn.close()

        threads = []
        for issued in consumers:
            out: dict = {}
            counts.append(out)
            threads.append(threading.Thread(target=worker, args=(issued, out)))
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
    ok = sum(c.get(200, 0) for c in counts)
    other = {s: sum(c.get(s, 0) for c in counts) for c in counts for s in c if s != 200}
    rate = ok / elapsed
    print(f"{label}: {rate:.0f} pages/s of 50 sessions on gunicorn ({ok:,} pages in {elapsed:.1f} s, "
          f"{len(consumers)} consumers paging in parallel{', other answers: ' + str(other) if other else ', no errors'}); "
          f"Learnosity's published limit is {PER_CONSUMER_LIMIT}/s per consumer: {rate / PER_CONSUMER_LIMIT:.1f}× "
          f"{verdict(rate >= PER_CONSUMER_LIMIT and not other)}")


if __name__ == "__main__":
    sys.exit(main())
