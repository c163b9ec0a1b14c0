"""Public /register submit under 200 concurrent participants on gunicorn (DESIGN.md, performance budgets).

No errors, no lost or duplicated submission, and at least 60% of the throughput of the operation's physical
limit on the same server: a bare view that does a submit's essential work in one transaction (lock the code
row, write the submission, update the code, write one history row — ``register_baseline.py``). In a throwaway PostgreSQL database ``bench_register_load`` (dropped afterwards, even on
failure), seeded through the services with a school-wide student_intake session and open codes:

1. gunicorn (gthread, 2 × cores + 1 workers, 8 threads) serves that database with the production settings.
2. Each round, 200 participants (one thread and one keep-alive connection each) validate their code and
   save a complete draft through the public JSON API; 20 of them get a second thread holding the same
   token. A barrier then releases all 220 submits at once: 200 must succeed and the 20 doubles must get
   the 409 ``not_editable``. Throughput = submit requests / time from the release to the last answer.
3. The baseline, interleaved with the rounds: the same number of threads, each with a warm keep-alive
   connection, released by a barrier onto ``/bench/submit-baseline`` (the four statements, through the full
   middleware stack) for as many other codes with a draft. ``/livez`` (a view that touches nothing) is
   measured the same way, for context only.
4. The database afterwards: exactly one Submission per code, ``submitted``, with one ``submitted`` history
   row each; none for a code nobody used.
5. The statements of one submit, counted in-process on the same database (the test client, one more code).

Each round's ratio pairs its submits with the essential-work run right after them (the same warm server, the
same moment of a shared machine); the figure is the median of those ratios. p95 is the submits'
95th-percentile latency. Run on PostgreSQL (on SQLite it says so and skips)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/bench_register_load.py

``BENCH_REGISTER_ROUNDS`` (default 5) and ``BENCH_REGISTER_PARTICIPANTS`` (default 200) change the run.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import median, verdict
from django.conf import settings
from django.db import connection

from tests.gunicorn import cpu_count, serve

PARTICIPANTS = int(os.environ.get("BENCH_REGISTER_PARTICIPANTS", "200"))
DOUBLES = max(1, PARTICIPANTS // 10)  # participants whose submit is sent twice at once (two threads, one token)
ROUNDS = int(os.environ.get("BENCH_REGISTER_ROUNDS", "5"))
RATIO_BUDGET = 0.60
DB_NAME = "bench_register_load"
API = "/api/v1/public/registrations"
THREADS_PER_WORKER = 8
KEEP_ALIVE = 120  # seconds: connections stay open between the phases of a round
BARRIER_TIMEOUT = 300
BASELINE_PATH = "bench/submit-baseline"  # register_baseline.py (served by this bench's gunicorn only)


def main() -> int:
    label = f"register.submit_{PARTICIPANTS}"
    if connection.vendor != "postgresql":
        print(f"# {label}: skipped on {connection.vendor}: the load figure is for PostgreSQL "
              "(DATABASE_URL=postgres://…)")
        return 0
    with throwaway_database(DB_NAME) as name:
        print(f"# bench_register_load on postgresql (throwaway database {name})")
        world = seed(codes=ROUNDS * PARTICIPANTS + 10, baseline_codes=ROUNDS * (PARTICIPANTS + DOUBLES))
        statements = statements_per_submit(world)
        with gunicorn_server(name) as server:
            print(f"# gunicorn gthread: {server.workers} workers × {THREADS_PER_WORKER} threads on "
                  f"127.0.0.1:{server.port}; {cpu_count()} cores; {PARTICIPANTS} participants + {DOUBLES} double "
                  f"submits per round, {ROUNDS} rounds")
            rounds: list[SubmitRound] = []
            baselines: list[float] = []
            bare: list[float] = []
            per_round = PARTICIPANTS + DOUBLES
            for r in range(ROUNDS):
                bare.append(baseline_round(server.port, per_round))
                codes = world["codes"][r * PARTICIPANTS:(r + 1) * PARTICIPANTS]
                result = submit_round(server.port, codes, world["payload"])
                rounds.append(result)
                # Right after the submits, on the same warm server threads and database connections.
                baselines.append(essential_round(server.port, world["baseline"][r * per_round:(r + 1) * per_round]))
                print(f"#   round {r + 1}: {result.rate:.0f} submit req/s (p50 {result.p50:.0f} ms, p95 "
                      f"{result.p95:.0f} ms, {result.requests} requests in {result.seconds:.2f} s), "
                      f"{len(result.errors)} errors; essential work {baselines[-1]:.0f} req/s "
                      f"(ratio {result.rate / baselines[-1]:.0%}); bare view {bare[-1]:.0f} req/s")
                for error in result.errors[:5]:
                    print(f"#     {error}")
            log_tail = server.log_tail()
        used = [code for r in rounds for code in r.codes]
        stored_once, problems = check_database(used, world["codes"][len(used):])
        for problem in problems[:10]:
            print(f"#   database: {problem}")
        if any(r.errors for r in rounds) and log_tail:
            for line in log_tail[-10:]:
                print(f"#   gunicorn: {line}")

    rate = median([r.rate for r in rounds])
    base = median(baselines)
    print(f"#   bare view (/livez, touches nothing): {median(bare):.0f} req/s; submit at {rate / median(bare):.0%} of it")
    ratio = median([r.rate / b for r, b in zip(rounds, baselines, strict=True) if b])
    errors = sum(len(r.errors) for r in rounds)
    p50 = median([r.p50 for r in rounds])
    p95 = median([r.p95 for r in rounds])
    ok = ratio >= RATIO_BUDGET and errors == 0 and not problems and stored_once == len(used)
    print(
        f"{label}: {rate:.0f} submits/s (p50 {p50:.0f} ms, p95 {p95:.0f} ms), {errors} errors, "
        f"{stored_once}/{len(used)} stored once, {statements} statements per submit; essential work (4 statements): "
        f"{base:.0f} req/s; ratio {ratio:.0%} (budget ≥ {RATIO_BUDGET:.0%}) {verdict(ok)}"
    )
    return 0


# --- database -------------------------------------------------------------------------------------------------


@contextmanager
def throwaway_database(name: str):
    """Create and migrate ``name`` next to the configured database; drop it afterwards whatever happens."""
    settings.DEBUG = False  # no query log
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        yield connection.settings_dict["NAME"]
    finally:
        try:
            connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)
        except Exception:  # a server connection still closing: force it
            time.sleep(1)
            with connection._nodb_cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(*, codes: int, baseline_codes: int) -> dict:
    """A district, a school with a grade and a class, and an open school-wide student_intake session; the
    baseline's codes each get a draft (through the service) for the bare view to submit."""
    from django.contrib.auth import get_user_model

    from registrations.choices import RegistrationMode, SessionStatus
    from registrations.services.codes import access_codes_generate
    from registrations.services.participation import submission_save_draft
    from registrations.services.sessions import registration_session_create, registration_session_transition
    from rostering.models import ClassDivision, District, GradeLevel, School

    district = District.objects.create(name="Bench district")
    school = School.objects.create(district=district, name="Bench school", code="BENCH")
    grade = GradeLevel.objects.create(district=district, code="06", name="Grade 6", rank=6)
    ClassDivision.objects.create(district=district, school=school, grade_level=grade, name="6A")
    actor = get_user_model().objects.create_user(username="bench", password=None, is_superuser=True)
    session = registration_session_create(
        actor=actor, school=school, mode=RegistrationMode.STUDENT_INTAKE, title="Bench intake",
        expected_count=codes,
    )
    generated = access_codes_generate(session=session, actor=actor, count=codes)
    spare = access_codes_generate(session=session, actor=actor, count=baseline_codes + 1)
    registration_session_transition(session=session, to=SessionStatus.OPEN, actor=actor)
    payload = {
        "given_name": "Rudo", "family_name": "Chikwanha", "date_of_birth": "2014-05-02", "gender": "female",
        "guardian_name": "Tendai Chikwanha", "guardian_relationship": "mother", "guardian_phone": "+263 77 123 4567",
        "grade_level_id": str(grade.pk),
    }
    baseline = []
    for code in spare.codes[1:]:
        draft = submission_save_draft(access_code_id=code.pk, payload=payload)
        baseline.append((str(code.pk), str(draft.pk)))
    return {"session": session, "codes": [c.code for c in generated.codes], "payload": payload,
            "baseline": baseline, "probe": spare.codes[0].code}


def statements_per_submit(world) -> int:
    """The statements one submit sends (the test client in this process, one more code; BEGIN/COMMIT aside)."""
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    token = client.post(f"{API}/access-codes/validate", {"code": world["probe"]},
                        content_type="application/json").json()["registrationToken"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    version = client.put(f"{API}/submission/draft", {"payload": world["payload"]}, content_type="application/json",
                         **auth).json()["version"]
    with CaptureQueriesContext(connection) as captured:
        response = client.post(f"{API}/submission/submit", {"version": version}, content_type="application/json",
                               **auth)
    assert response.status_code == 200, response.content
    statements = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(("BEGIN", "COMMIT"))]
    print(f"# one submit: {len(statements)} statements, {sum('FOR UPDATE' in q for q in statements)} row lock, "
          f"{sum(q.startswith('SAVEPOINT') for q in statements)} savepoints")
    return len(statements)


def check_database(used: list[str], unused: list[str]) -> tuple[int, list[str]]:
    """How many used codes have exactly one submitted Submission with one 'submitted' history row."""
    from django.db.models import Count, Q

    from registrations.models import Submission

    problems = []
    rows = (
        Submission.objects.filter(access_code__code__in=used)
        .values("access_code__code", "status")
        .annotate(n=Count("id", distinct=True),
                  submitted=Count("status_changes", filter=Q(status_changes__to_status="submitted")))
    )
    per_code: dict[str, list[dict]] = {}
    for row in rows:
        per_code.setdefault(row["access_code__code"], []).append(row)
    stored_once = 0
    for code in used:
        found = per_code.get(code, [])
        if not found:
            problems.append(f"{code}: lost (no submission)")
        elif len(found) > 1 or found[0]["n"] != 1:
            problems.append(f"{code}: {sum(r['n'] for r in found)} submissions")
        elif found[0]["status"] != "submitted":
            problems.append(f"{code}: status {found[0]['status']}")
        elif found[0]["submitted"] != 1:
            problems.append(f"{code}: {found[0]['submitted']} 'submitted' history rows")
        else:
            stored_once += 1
    stray = Submission.objects.filter(access_code__code__in=unused).count()
    if stray:
        problems.append(f"{stray} submissions for codes nobody used")
    return stored_once, problems


# --- the server ---------------------------------------------------------------------------------------------


@contextmanager
def gunicorn_server(db_name: str):
    """The project plus the essential-work view (``register_baseline``), 2 × cores + 1 workers."""
    with serve(db_name=db_name, workers=2 * cpu_count() + 1, threads=THREADS_PER_WORKER,
               app="register_baseline:application",
               args=["--pythonpath", "bench", "--keep-alive", str(KEEP_ALIVE)]) as server:
        yield server


# --- the clients ---------------------------------------------------------------------------------------------


class Client:
    """One participant's browser: one keep-alive connection, JSON in and out.

    A connection the server closed while idle is opened again once (``retry_dropped``); the ``Retry-After``
    of the last answer is kept."""

    user_agent = "bench_register_load"
    retry_dropped = True
    last_retry_after: str | None = None

    def __init__(self, port: int):
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, body: dict | None = None, token: str | None = None,
             headers: dict | None = None):
        headers = {"Accept": "application/json", "User-Agent": self.user_agent, **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                raw = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed an idle keep-alive connection before reading the request.
                self.close()
                if attempt or not self.retry_dropped:
                    raise
                continue
            except (OSError, http.client.HTTPException):
                self.close()
                raise
            self.last_retry_after = response.getheader("Retry-After")
            if (response.getheader("Connection") or "").lower() == "close":
                self.close()
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = raw[:200]
            return response.status, parsed

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def run_threads(n: int, target) -> None:
    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


@dataclass
class SubmitRound:
    codes: list[str]
    requests: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else 0.0

    @property
    def p95(self) -> float:
        return percentile(self.latencies_ms, 0.95)


def submit_round(port: int, codes: list[str], payload: dict) -> SubmitRound:
    """Validate + draft for every participant, then all the submits at once (doubles included)."""
    n = len(codes)
    threads = n + DOUBLES
    result = SubmitRound(codes=codes)
    tokens: list[str | None] = [None] * n
    versions: list[int | None] = [None] * n
    outcomes: list[tuple[int, object, float, float] | None] = [None] * threads
    lock = threading.Lock()
    start = [0.0]
    ready = threading.Barrier(threads, timeout=BARRIER_TIMEOUT)
    go = threading.Barrier(threads, action=lambda: start.__setitem__(0, time.perf_counter()),
                           timeout=BARRIER_TIMEOUT)

    def error(message: str) -> None:
        with lock:
            result.errors.append(message)

    def participant(i: int) -> None:
        client = Client(port)
        own = i if i < n else i - n  # threads n.. are the second submit of participants 0..DOUBLES-1
        try:
            if i < n:
                status, body = client.call("POST", f"{API}/access-codes/validate",
                                           {"code": codes[i], "deviceName": "Bench phone"})
                if status != 200:
                    error(f"validate {codes[i]}: {status} {body}")
                else:
                    tokens[i] = body["registrationToken"]
                    status, body = client.call("PUT", f"{API}/submission/draft",
                                               {"payload": {**payload, "given_name": f"Rudo {i}"}, "version": None},
                                               token=tokens[i])
                    if status != 200:
                        error(f"draft {codes[i]}: {status} {body}")
                    else:
                        versions[i] = body["version"]
            else:
                client.call("GET", "/livez")  # open the connection before the release, like the others
        finally:
            ready.wait()
        token, version = tokens[own], versions[own]
        go.wait()
        if token is None or version is None:
            return
        t0 = time.perf_counter()
        status, body = client.call("POST", f"{API}/submission/submit", {"version": version}, token=token)
        t1 = time.perf_counter()
        outcomes[i] = (status, body, t0, t1)
        client.close()

    run_threads(threads, participant)
    ends = []
    for outcome in outcomes:
        if outcome is None:
            continue
        _status, _body, t0, t1 = outcome
        result.requests += 1
        result.latencies_ms.append((t1 - t0) * 1000)
        ends.append(t1)
    result.seconds = (max(ends) - start[0]) if ends else 0.0
    for own in range(n):
        pair = [outcomes[own]] + ([outcomes[n + own]] if own < DOUBLES else [])
        pair = [o for o in pair if o is not None]
        if not pair:
            continue
        ok = [o for o in pair if o[0] == 200 and isinstance(o[1], dict) and o[1].get("status") == "submitted"]
        dup = [o for o in pair if o[0] == 409 and isinstance(o[1], dict) and o[1].get("code") == "not_editable"]
        if len(ok) != 1 or len(ok) + len(dup) != len(pair):
            error(f"submit {codes[own]}: " + "; ".join(f"{o[0]} {str(o[1])[:160]}" for o in pair))
    return result


def essential_round(port: int, pairs: list[tuple[str, str]]) -> float:
    """One request per (code, submission) to the essential-work view, released at once: requests/s."""
    threads = len(pairs)
    outcomes: list[tuple[int, float] | None] = [None] * threads
    start = [0.0]
    ready = threading.Barrier(threads, timeout=BARRIER_TIMEOUT)
    go = threading.Barrier(threads, action=lambda: start.__setitem__(0, time.perf_counter()),
                           timeout=BARRIER_TIMEOUT)

    errors: list[str] = []

    def client_thread(i: int) -> None:
        client = Client(port)
        code_id, submission_id = pairs[i]
        try:
            client.call("GET", "/healthz")  # a warm keep-alive connection whose server thread has met the database
        finally:
            ready.wait()
        go.wait()
        try:
            status, body = client.call("POST", f"/{BASELINE_PATH}", {}, headers={
                "X-Code": code_id, "X-Submission": submission_id})
        except Exception as exc:  # reported below with the others
            status, body = 0, repr(exc)
        outcomes[i] = (status, time.perf_counter())
        if status != 200:
            errors.append(f"{status} {str(body)[:200]}")
        client.close()

    run_threads(threads, client_thread)
    done = [o for o in outcomes if o is not None]
    failures = [o[0] for o in done if o[0] != 200]
    if failures or len(done) != threads:
        raise RuntimeError(f"essential-work view failed: {len(done)}/{threads} answered, statuses "
                           f"{sorted(set(failures))}: {errors[:3]}")
    return threads / (max(o[1] for o in done) - start[0])


def baseline_round(port: int, threads: int) -> float:
    """The same number of threads, one request each to the bare view, released at once: requests/s."""
    outcomes: list[tuple[int, float] | None] = [None] * threads
    start = [0.0]
    ready = threading.Barrier(threads, timeout=BARRIER_TIMEOUT)
    go = threading.Barrier(threads, action=lambda: start.__setitem__(0, time.perf_counter()),
                           timeout=BARRIER_TIMEOUT)
    failures: list[int] = []

    def client_thread(i: int) -> None:
        client = Client(port)
        try:
            client.call("GET", "/livez")  # warm keep-alive connection, like the participants'
        finally:
            ready.wait()
        go.wait()
        status, _body = client.call("GET", "/livez")
        outcomes[i] = (status, time.perf_counter())
        client.close()

    run_threads(threads, client_thread)
    done = [o for o in outcomes if o is not None]
    failures = [o[0] for o in done if o[0] != 200]
    if failures or len(done) != threads:
        raise RuntimeError(f"bare view failed: {len(done)}/{threads} answered, statuses {sorted(set(failures))}")
    return threads / (max(o[1] for o in done) - start[0])


if __name__ == "__main__":
    sys.exit(main())
