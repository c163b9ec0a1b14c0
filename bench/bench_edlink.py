"""Edlink-compatible Graph API: a filtered 100-row ``people`` page over 1,000,000 people (DESIGN.md, budgets).

In a throwaway PostgreSQL database ``bench_edlink`` (dropped afterwards, even on failure):

1. 1,000,000 people of one district (20 schools, 40 family names) plus 1,000 of a second district, built in the
   server with ``INSERT … SELECT generate_series`` (indexes and constraints dropped during the load and rebuilt
   after, then ANALYZE).
2. ``GET /api/v2/graph/people?$first=100&$filter={"last_name":[{"operator":"starts with","value":"mo"}]}`` — first
   page, and a deep page (its ``$cursor`` halfway through the million) — through Django's WSGI handler (middleware,
   integration token, usage counter, filter compiler, cursor, ORM, envelope): its median time against the raw SQL
   of the same page (the exact statements Django ran, re-run on a bare cursor, rows fetched), interleaved in the
   same run; budget ≤ 2×. Its query count, the same for both pages.
3. ``EXPLAIN (ANALYZE, BUFFERS)`` of the page's query: an index scan, no sequential scan.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/bench_edlink.py

``BENCH_EDLINK_PEOPLE`` (default 1000000) changes the size.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import against_raw_sql, explain, verdict
from bench_register_load import throwaway_database
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.gunicorn import cpu_count

PEOPLE = int(os.environ.get("BENCH_EDLINK_PEOPLE", "1000000"))
DB_NAME = "bench_edlink"
RATIO_BUDGET = 2.0
QUERY_BUDGET = 4  # the token, its usage counter (SET LOCAL synchronous_commit, the upsert), the page
REPEATS = 60
PAGE = 100
FILTER = {"last_name": [{"operator": "starts with", "value": "mo"}]}
FAMILY_NAMES = ["Banda", "Chikore", "Dube", "Moyo", "Ncube", "Sibanda", "Mokoena", "Phiri", "Zulu", "Nkomo",
                "Mutasa", "Gumbo", "Chiweshe", "Mlambo", "Ndlovu", "Tembo", "Mhlanga", "Shumba", "Marufu", "Hove",
                "Khumalo", "Mpofu", "Nyathi", "Sithole", "Mapfumo", "Chinembiri", "Dlamini", "Mabika", "Zhou",
                "Mangwende", "Nyoni", "Mukono", "Tshuma", "Magaya", "Chirwa", "Mudzi", "Gondo", "Rusike", "Masuku",
                "Mahlangu"]


def main() -> int:
    label = f"edlink.people_filtered_page_over_{PEOPLE:,}"
    if connection.vendor != "postgresql":
        print(f"# {label}: skipped on {connection.vendor}: the figures are for PostgreSQL (DATABASE_URL=postgres://…)")
        return 0
    with throwaway_database(DB_NAME) as name:
        print(f"# bench_edlink on postgresql (throwaway database {name}); {cpu_count()} cores")
        district = load(PEOPLE)
        from rostering.services import integration_token_create

        _token, raw = integration_token_create(district=district, name="bench")
        page_figures(label, district, raw)
    return 0


def load(count: int):
    from rostering.models import District, School

    district = District.objects.create(name="Bench district")
    other = District.objects.create(name="Other district")
    schools = [School.objects.create(district=district, name=f"School {i}", code=f"S{i}") for i in range(20)]
    School.objects.create(district=other, name="Other school", code="O1")
    tables = ["rostering_person"]
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '256MB'")
        cur.execute("SET synchronous_commit = off")
        cur.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid::regclass::text = ANY(%s) AND contype IN ('u', 'f', 'c')", [tables],
        )
        constraints = cur.fetchall()
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND indexname NOT LIKE '%%_pkey' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)", [tables],
        )
        indexes = cur.fetchall()
        for table, con, _definition in constraints:
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{con}"')
        for index, _definition in indexes:
            cur.execute(f'DROP INDEX "{index}"')
        for d, n, school_ids in ((district, count, [s.pk for s in schools]), (other, 1000, None)):
            cur.execute(
                """
                INSERT INTO rostering_person
                  (id, created_date, updated_date, identifiers, properties, role, given_name, middle_name, family_name,
                   sis_id, email, phone, date_of_birth, gender, district_id, grade_level_id, user_id, school_id)
                SELECT md5(%s || g::text)::uuid, t, t, '[]'::jsonb, '{}'::jsonb,
                       CASE WHEN g %% 25 = 0 THEN 'teacher' ELSE 'student' END,
                       'Given' || (g %% 977), '', (%s::text[])[1 + g %% 40], 'S' || g,
                       'p' || g || '@example.org', '', date '2010-01-01' + (g %% 3000), '', %s, NULL, NULL,
                       (%s::uuid[])[1 + g %% 20]
                FROM generate_series(1, %s) AS g,
                     LATERAL (SELECT timestamptz '2024-01-01' + g * interval '7 seconds' AS t) AS x
                """,
                [str(d.pk), FAMILY_NAMES, d.pk, school_ids or [None] * 20, n],
            )
        loaded = time.perf_counter() - started
        for _index, definition in indexes:
            cur.execute(definition)
        for table, con, definition in constraints:
            cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{con}" {definition}')
        cur.execute("ANALYZE rostering_person")
        cur.execute("SELECT count(*) FROM rostering_person")
        (people,) = cur.fetchone()
    print(f"# loaded {people:,} people in {loaded:.0f} s; indexes and constraints rebuilt in "
          f"{time.perf_counter() - started - loaded:.0f} s")
    return district


class Wsgi:
    """GETs straight into Django's WSGI handler, as gunicorn does (the test client adds its own bookkeeping)."""

    def __init__(self, token: str):
        self.handler = WSGIHandler()
        self.token = token

    def get(self, path: str, query: str) -> tuple[int, bytes]:
        environ = {
            "REQUEST_METHOD": "GET", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1", "HTTP_AUTHORIZATION": f"Bearer {self.token}",
            "HTTP_ACCEPT": "application/json, text/plain, */*", "HTTP_USER_AGENT": "axios/0.27.2",
            "wsgi.input": io.BytesIO(b""), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
            "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0),
        }
        status: list[str] = []
        chunks = self.handler(environ, lambda s, headers, exc_info=None: status.append(s))
        content = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
        return int(status[0].split()[0]), content


def deep_query(district) -> str:
    """The ``$cursor`` a client holds halfway through the million, for the same filter and page size."""
    from rostering.graph import paging
    from rostering.graph.filters import compile_filter
    from rostering.graph.resources import PEOPLE as RESOURCE
    from rostering.models import Person

    middle = Person.objects.filter(district=district).order_by("pk").values_list("pk", flat=True)[PEOPLE // 2]
    query = paging.ListQuery(filter=compile_filter(FILTER, RESOURCE.filters), first=PAGE, fields=None, position=None)
    scope = paging.scope_of(path="/api/v2/graph/people", district_id=district.pk)
    return "$cursor=" + urllib.parse.quote(paging.next_token(query, (middle,), scope), safe=":-_.")


def page_figures(label: str, district, token: str) -> None:
    client = Wsgi(token)
    path = "/api/v2/graph/people"
    first = f"%24first={PAGE}&%24filter=" + urllib.parse.quote(json.dumps(FILTER, separators=(",", ":")))
    counts = []
    for name, query in (("first", first), ("deep", deep_query(district))):
        client.get(path, query)  # warm: last_used_at, plans
        with CaptureQueriesContext(connection) as captured:
            status, content = client.get(path, query)
        body = json.loads(content)
        assert status == 200 and len(body["$data"]) == PAGE and "$next" in body, content[:300]
        assert all(p["last_name"].lower().startswith("mo") for p in body["$data"])
        queries = [q["sql"] for q in captured.captured_queries]
        # BEGIN/COMMIT of the counter's own transaction are replayed too, but are not queries
        statements = [q for q in queries if q.split(None, 1)[0].upper() not in {"BEGIN", "COMMIT"}]
        counts.append(len(statements))
        # BEGIN and COMMIT are replayed too: the counter's SET LOCAL applies as it did
        ours, raw = against_raw_sql(lambda q=query: client.get(path, q), queries, REPEATS)
        ratio = ours / raw if raw else 0.0
        print(f"{label}.{name}: {ours * 1000:.2f} ms per filtered {PAGE}-row page through Django's WSGI handler "
              f"(token, usage counter, $filter, cursor, ORM, envelope), raw SQL of the same page {raw * 1000:.2f} ms; "
              f"ratio {ratio:.2f}× (budget ≤ {RATIO_BUDGET:.0f}×) {verdict(ratio <= RATIO_BUDGET)}")
        print(f"{label}.{name}.queries: {len(statements)} queries (the token; its usage counter: SET LOCAL, upsert, in "
              f"their own transaction; the page) {verdict(len(statements) == QUERY_BUDGET)}")
        page_sql = next(q for q in queries if 'FROM "rostering_person"' in q)
        index, seq = explain(f"the {name} page's query", page_sql)
        print(f"{label}.{name}.plan: {'index scan on ' + index if index else 'no index'}"
              f"{', sequential scan!' if seq else ', no sequential scan'} {verdict(bool(index) and not seq)}")
    print(f"{label}.queries_first_vs_deep: {counts[0]} and {counts[1]} {verdict(counts[0] == counts[1])}")


if __name__ == "__main__":
    sys.exit(main())
