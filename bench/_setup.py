"""Shared set-up for bench scripts: Django on the configured database, in a throwaway database.

``with throwaway_database() as alias:`` creates ``bench_<name>`` next to the configured database (an
in-memory database on SQLite), migrates it, and drops it afterwards: real data is never touched.
Run with ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/<name> .venv/bin/python bench/run.py``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402


@contextmanager
def throwaway_database() -> Iterator[str]:
    settings.DEBUG = False  # no query log: it would distort every timing
    setup_test_environment(debug=False)
    test_settings = connection.settings_dict.setdefault("TEST", {})
    if connection.vendor != "sqlite":
        test_settings["NAME"] = f"bench_{connection.settings_dict['NAME']}"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        yield connection.settings_dict["NAME"]
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)
        teardown_test_environment()


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def median(values: list[float]) -> float:
    return statistics.median(values)


def verdict(ok: bool) -> str:
    return "OK" if ok else "OVER BUDGET"


def against_raw_sql(request: Callable[[], object], queries: list[str], repeats: int) -> tuple[float, float]:
    """Median seconds of ``request()`` and of replaying its ``queries`` as raw SQL, interleaved so that the
    load of a shared machine weighs on both sides alike."""
    ours, raw = [], []
    with connection.cursor() as cur:
        for _ in range(repeats):
            start = time.perf_counter()
            request()
            ours.append(time.perf_counter() - start)
            start = time.perf_counter()
            for sql in queries:
                cur.execute(sql)
                if cur.description:
                    cur.fetchall()
            raw.append(time.perf_counter() - start)
    return median(ours), median(raw)


def explain(label: str, sql: str) -> tuple[str | None, bool]:
    """Print ``EXPLAIN (ANALYZE, BUFFERS)`` of ``sql``; return the first index it scans (or None) and whether
    any table is read by a sequential scan."""
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        plan = [row[0] for row in cur.fetchall()]
    print(f"# {label}: {sql[:400]}{'…' if len(sql) > 400 else ''}")
    print("# EXPLAIN (ANALYZE, BUFFERS) of it:")
    for line in plan:
        print(f"#   {line}")
    index = next((line.split(" using ", 1)[1].split()[0] for line in plan if " using " in line), None)
    return index, any("Seq Scan" in line for line in plan)
