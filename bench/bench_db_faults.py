"""Database faults under load: PostgreSQL drops every connection of gunicorn while participants submit.

The fault test (``tests/faults/test_live_restart.py``) made bigger, with figures. In a throwaway PostgreSQL
database ``bench_db_faults`` (dropped afterwards, even on failure), seeded through the services like
``bench_register_load`` (a school-wide student_intake session with open codes):

1. gunicorn (gthread, 2 × cores + 1 workers, 8 threads, production settings: persistent connections with
   health checks) serves that database; every participant validates its code and saves a complete draft.
2. The submits arrive spread over ``BENCH_FAULT_SECONDS`` (one each, at a random moment), and
   ``BENCH_FAULT_TERMINATIONS`` times during that window every server connection of the bench database is
   terminated (``pg_terminate_backend``; never another database's).
3. Figures: submits attempted; acknowledged (200); stored (each acknowledged submit stored exactly once,
   each refused one left its draft untouched); refused with 503 (all with ``Retry-After``); other errors
   (anything else: a 500, a dropped connection); time to recover, from each termination until the first
   acknowledged submit sent after it (median and worst, against a fault-free submit's median latency
   measured in the same run; the budget: back within the ``Retry-After`` the 503s announce); and the
   refused submits sent again afterwards, on the same gunicorn.

Run on PostgreSQL (on SQLite it says so and skips)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/bench_db_faults.py

``BENCH_FAULT_PARTICIPANTS`` (default 300), ``BENCH_FAULT_SECONDS`` (4) and ``BENCH_FAULT_TERMINATIONS`` (4)
change the run.
"""

from __future__ import annotations

import http.client
import os
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import median, verdict
from bench_register_load import API, Client, gunicorn_server, run_threads, seed, throwaway_database
from django.db import connection

from config.middleware import RETRY_AFTER_SECONDS

PARTICIPANTS = int(os.environ.get("BENCH_FAULT_PARTICIPANTS", "300"))
WINDOW = float(os.environ.get("BENCH_FAULT_SECONDS", "4"))
TERMINATIONS = int(os.environ.get("BENCH_FAULT_TERMINATIONS", "4"))
# From a termination to the next acknowledged submit: back within the Retry-After the 503s announce.
RECOVERY_BUDGET = float(RETRY_AFTER_SECONDS)
DB_NAME = "bench_db_faults"


class FaultClient(Client):
    """``bench_register_load``'s participant client without the retry on a dropped connection: a submit is
    sent exactly once."""

    user_agent = "bench_db_faults"
    retry_dropped = False


@dataclass
class Participant:
    code: str
    client: FaultClient
    token: str | None = None
    version: int | None = None
    sent_at: float = 0.0
    done_at: float = 0.0
    status: int | None = None
    retry_after: bool = True
    retried: int | None = None
    errors: list[str] = field(default_factory=list)


def main() -> int:
    label = "db_faults"
    if connection.vendor != "postgresql":
        print(f"# {label}: skipped on {connection.vendor}: the fault figures are for PostgreSQL "
              "(DATABASE_URL=postgres://…)")
        return 0
    with throwaway_database(DB_NAME) as name:
        print(f"# bench_db_faults on postgresql (throwaway database {name})")
        world = seed(codes=PARTICIPANTS)
        with gunicorn_server(name) as server:
            print(f"# gunicorn gthread: {server.workers} workers on 127.0.0.1:{server.port}; {PARTICIPANTS} "
                  f"participants submitting over {WINDOW:.1f} s; {TERMINATIONS} terminations of every connection")
            people = [Participant(code, FaultClient(server.port)) for code in world["codes"]]
            run_threads(len(people), lambda i: prepare(people[i], world["payload"], i))
            unprepared = [p for p in people if p.version is None]
            if unprepared:
                raise RuntimeError(f"{len(unprepared)} participants could not save a draft: {unprepared[0].errors}")
            started, kills = fault_window(people)
            connection.close()  # terminated with the others
            refused = [p for p in people if p.status == 503]
            untouched, problems = check_refused(refused)
            run_threads(len(refused), lambda i: resubmit(refused[i]))
            log = server.log_path.read_text(errors="replace")
            log_tail = server.log_tail()
        restarted = log.count("Booting worker") - server.workers
        tracebacks = log.count("Traceback")
        connection.close()
        acknowledged = [p for p in people if p.status == 200]
        stored_once, store_problems = check_stored(acknowledged + [p for p in refused if p.retried == 200])
        problems += store_problems

    others = [p for p in people if p.status not in (200, 503) or p.errors]
    for p in others[:5]:
        print(f"#   {p.code}: {p.status} {p.errors[:2]}")
    for problem in problems[:10]:
        print(f"#   database: {problem}")
    if others and log_tail:
        for line in log_tail[-10:]:
            print(f"#   gunicorn: {line}")
    normal = [p.done_at - p.sent_at for p in people if p.status == 200 and p.done_at < kills[0][0]] if kills else []
    recoveries = recovery_times(people, kills)
    retried_ok = sum(1 for p in refused if p.retried == 200)
    # Refused though no termination happened while it was in flight: the app had not recovered yet.
    late = sum(1 for p in refused if not any(p.sent_at <= at <= p.done_at for at, _n in kills))
    normal_ms = median(normal) * 1000 if normal else 0.0
    rec_median = median(recoveries) if recoveries else float("inf")
    rec_max = max(recoveries) if recoveries else float("inf")

    for k, (at, n) in enumerate(kills):
        until = kills[k + 1][0] if k + 1 < len(kills) else float("inf")
        hit = sum(1 for p in refused if at <= p.done_at < until)  # answered after this termination, before the next
        first = min((p.done_at for p in acknowledged if at <= p.sent_at < until), default=None)
        print(f"#   termination {k + 1} at {at - started:.2f} s: {n} connections dropped, {hit} submits refused "
              "after it, the first acknowledged submit sent after it done in "
              + (f"{(first - at) * 1000:.0f} ms" if first else "—"))
    print(f"{label}.submits_attempted: {len(people)} in {WINDOW:.1f} s, {len(kills)} terminations "
          f"({sum(n for _, n in kills)} server connections dropped) {verdict(all(p.status for p in people))}")
    print(f"{label}.acknowledged: {len(acknowledged)} submits answered 200 "
          f"{verdict(bool(acknowledged))}")
    print(f"{label}.stored: {stored_once}/{len(acknowledged) + retried_ok} acknowledged submits ({len(acknowledged)} "
          f"at once, {retried_ok} sent again) stored exactly once; {untouched}/{len(refused)} refused ones left their draft untouched "
          f"{verdict(stored_once == len(acknowledged) + retried_ok and untouched == len(refused) and not problems)}")
    print(f"{label}.refused_503: {len(refused)} submits answered 503, "
          f"{sum(1 for p in refused if p.retry_after)} with Retry-After {verdict(all(p.retry_after for p in refused))}")
    print(f"{label}.other_errors: {len(others)} (500s, dropped connections, anything but 200/503); "
          f"{tracebacks} tracebacks in gunicorn's log {verdict(not others and not tracebacks)}")
    print(f"{label}.recovery: median {rec_median * 1000:.0f} ms, worst {rec_max * 1000:.0f} ms from a termination to "
          f"the first acknowledged submit sent after it ({len(recoveries)}/{len(kills)} measured; a fault-free "
          f"submit takes {normal_ms:.0f} ms: {rec_median * 1000 / normal_ms if normal_ms else 0:.1f}×; refused "
          f"submits sent after a termination: {late}; budget: back within the Retry-After, "
          f"{RECOVERY_BUDGET:.0f} s) "
          f"{verdict(len(recoveries) == len(kills) and rec_max <= RECOVERY_BUDGET)}")
    print(f"{label}.after_recovery: {retried_ok}/{len(refused)} refused submits acknowledged when sent again, "
          f"same gunicorn ({restarted} workers restarted) {verdict(retried_ok == len(refused) and not restarted)}")
    return 0


# --- traffic ------------------------------------------------------------------------------------------------


def prepare(p: Participant, payload: dict, i: int) -> None:
    status, body = p.client.call("POST", f"{API}/access-codes/validate", {"code": p.code, "deviceName": "Bench"})
    if status != 200:
        p.errors.append(f"validate: {status} {body}")
        return
    p.token = body["registrationToken"]
    status, body = p.client.call("PUT", f"{API}/submission/draft",
                                 {"payload": {**payload, "given_name": f"Rudo {i}"}, "version": None}, token=p.token)
    if status != 200:
        p.errors.append(f"draft: {status} {body}")
        return
    p.version = body["version"]


def submit(p: Participant) -> tuple[int, object]:
    try:
        status, body = p.client.call("POST", f"{API}/submission/submit", {"version": p.version}, token=p.token)
    except (OSError, http.client.HTTPException) as exc:
        p.errors.append(f"submit: {type(exc).__name__}: {exc}")
        return 0, None
    if status == 503:
        p.retry_after = bool(p.client.last_retry_after) and isinstance(body, dict) and \
            body.get("code") == "database_unavailable"
    elif status == 200 and not (isinstance(body, dict) and body.get("status") == "submitted"):
        p.errors.append(f"submit: 200 {str(body)[:160]}")
    elif status != 200:
        p.errors.append(f"submit: {status} {str(body)[:160]}")
    return status, body


def fault_window(people: list[Participant]) -> tuple[float, list[tuple[float, int]]]:
    """Every participant submits once at a random moment of the window; the connections drop meanwhile."""
    import psycopg

    rng = random.Random(7)
    offsets = [rng.uniform(0, WINDOW) for _ in people]
    kills: list[tuple[float, int]] = []
    d = connection.settings_dict
    admin = psycopg.connect(dbname=d["NAME"], user=d["USER"] or None, password=d["PASSWORD"] or None,
                            host=d["HOST"] or "127.0.0.1", port=d["PORT"] or 5432, autocommit=True)
    start = time.perf_counter()

    def killer() -> None:
        for k in range(TERMINATIONS):
            delay = start + WINDOW * (k + 1) / (TERMINATIONS + 1) - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            at = time.perf_counter()
            n = admin.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()", [d["NAME"]],
            ).fetchone()[0]
            kills.append((at, n))

    def participant(i: int) -> None:
        p = people[i]
        delay = start + offsets[i] - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        p.sent_at = time.perf_counter()
        p.status, _ = submit(p)
        p.done_at = time.perf_counter()

    killing = threading.Thread(target=killer, daemon=True)
    killing.start()
    try:
        run_threads(len(people), participant)
    finally:
        killing.join(60)
        admin.close()
    return start, kills


def resubmit(p: Participant) -> None:
    p.retried, _ = submit(p)


def recovery_times(people: list[Participant], kills: list[tuple[float, int]]) -> list[float]:
    """Per termination: until the first acknowledged submit sent at or after it (before the next one)."""
    times = []
    for k, (at, _n) in enumerate(kills):
        until = kills[k + 1][0] if k + 1 < len(kills) else float("inf")
        done = [p.done_at for p in people if p.status == 200 and at <= p.sent_at < until]
        if done:
            times.append(min(done) - at)
    return times


# --- the database afterwards ----------------------------------------------------------------------------------


def check_refused(refused: list[Participant]) -> tuple[int, list[str]]:
    """Before they are sent again: each refused submit left the draft exactly as acknowledged."""
    from registrations.models import Submission

    rows = {
        r["access_code__code"]: r for r in Submission.objects.filter(access_code__code__in=[p.code for p in refused])
        .values("access_code__code", "status", "version", "submitted_at", "access_code__status")
    }
    problems, untouched = [], 0
    for p in refused:
        row = rows.get(p.code)
        if row is None:
            problems.append(f"{p.code}: the draft is gone")
        elif (row["status"], row["version"], row["submitted_at"], row["access_code__status"]) != (
                "draft", p.version, None, "started"):
            problems.append(f"{p.code}: refused with 503 but stored {row}")
        else:
            untouched += 1
    return untouched, problems


def check_stored(acknowledged: list[Participant]) -> tuple[int, list[str]]:
    """Each acknowledged submit: one submission, submitted, one 'submitted' history row, the code submitted."""
    from django.db.models import Count, Q

    from registrations.models import Submission

    rows = (
        Submission.objects.filter(access_code__code__in=[p.code for p in acknowledged])
        .values("access_code__code", "status", "access_code__status")
        .annotate(n=Count("id", distinct=True),
                  submitted=Count("status_changes", filter=Q(status_changes__to_status="submitted")))
    )
    per_code = {r["access_code__code"]: r for r in rows}
    problems, stored_once = [], 0
    for p in acknowledged:
        row = per_code.get(p.code)
        if row is None:
            problems.append(f"{p.code}: acknowledged but not stored")
        elif (row["n"], row["status"], row["submitted"], row["access_code__status"]) != (1, "submitted", 1, "submitted"):
            problems.append(f"{p.code}: {row}")
        else:
            stored_once += 1
    return stored_once, problems


if __name__ == "__main__":
    sys.exit(main())
