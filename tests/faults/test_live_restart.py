"""PostgreSQL drops the app's connections while participants submit through gunicorn.

A real gunicorn (production settings: persistent connections with health checks) serves the test database
on a free loopback port. Participants validate their code, autosave drafts and submit over HTTP while the
test terminates that database's server connections with ``pg_terminate_backend`` — only the backends of
this test database, never another one (other test runs share the server):

1. **Traffic under fire**: every participant validates, saves three drafts and submits, while the
   server's connections are terminated every ~0.25 s. A 503 on validate or draft is retried at once (with
   the same version: a refused draft must have stored nothing, or the retry would be a stale 409); each
   submit is sent once.
2. **Half-way through a submit**: a few participants submit while the test holds a lock on the history
   table, so each of their transactions has already written the submission (``submitted``, version + 1)
   and waits to write its history row; then their connections are terminated.
3. Every submit answered 200 is stored exactly once; every submit answered 503 left the draft exactly as
   it was; no request got anything but 200 or 503, and gunicorn logged no traceback.
4. **Back**: every connection is terminated once more while idle (as after a database restart), then the
   refused participants submit again: each succeeds at the first try, with the same gunicorn workers.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass, field

import pytest
from django.db import connection

from registrations.choices import CodeStatus, SubmissionStatus
from registrations.models import AccessCode, Submission, SubmissionStatusChange
from tests.gunicorn import serve
from tests.registrations.review_support import intake_payload, new_codes, open_session

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="terminates PostgreSQL server connections"),
]

API = "/api/v1/public/registrations"
PARTICIPANTS = 24  # phase 1
HELD = 4  # phase 2: submits caught half-way (≤ threads per worker, so they all run at once)
WORKERS, THREADS = 2, 6
DRAFTS = 3
KILL_EVERY = 0.25  # seconds
DEADLINE = 60  # seconds: no phase may take longer


# --- the server -------------------------------------------------------------------------------------------


@pytest.fixture
def server():
    """gunicorn (gthread) on the test database, with the production settings."""
    with serve(workers=WORKERS, threads=THREADS, args=["--timeout", "60"], deadline=DEADLINE) as srv:
        yield srv


def call(port: int, method: str, path: str, body: dict | None = None, token: str | None = None):
    """One request on a fresh connection to 127.0.0.1: (status, JSON body or None)."""
    headers = {"Accept": "application/json", "User-Agent": "fault-test"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        retry_after = response.getheader("Retry-After")
    finally:
        conn.close()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = {"raw": raw[:200].decode(errors="replace")}
    if response.status == 503:
        assert retry_after and int(retry_after) > 0, "a 503 without Retry-After"
        assert isinstance(parsed, dict) and parsed.get("code") == "database_unavailable", parsed
    return response.status, parsed


# --- the database side ------------------------------------------------------------------------------------


def admin_connection():
    """A connection of our own to the test database (autocommit), for pg_stat_activity and the kills."""
    import psycopg

    d = connection.settings_dict
    return psycopg.connect(dbname=d["NAME"], user=d["USER"] or None, password=d["PASSWORD"] or None,
                           host=d["HOST"] or "127.0.0.1", port=d["PORT"] or 5432, autocommit=True)


def terminate(admin, *, spare: tuple[int, ...] = (), wait_ms: int = 0) -> int:
    """Terminate every server connection to THIS test database (never another database), but ours."""
    row = admin.execute(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, %s)) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid() AND NOT (pid = ANY(%s))",
        [wait_ms, connection.settings_dict["NAME"], list(spare)],
    ).fetchone()
    return row[0]


# --- the participants -------------------------------------------------------------------------------------


@dataclass
class Participant:
    code: str
    token: str | None = None
    version: int | None = None  # the last version the server acknowledged
    submit: int | None = None  # status of the submit (sent once per phase)
    statuses: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def request(self, port, method, path, body=None, *, retry: bool, deadline: float):
        while True:
            try:
                status, data = call(port, method, path, body, self.token)
            except (OSError, http.client.HTTPException) as exc:
                self.errors.append(f"{method} {path}: {type(exc).__name__}: {exc}")
                return None, None
            self.statuses.append(status)
            if status == 503 and retry and time.monotonic() < deadline:
                time.sleep(0.02)
                continue
            return status, data

    def prepare(self, port, payload, *, deadline: float) -> bool:
        """Validate the code and save the drafts; True when all of it was acknowledged."""
        status, data = self.request(port, "POST", f"{API}/access-codes/validate", {"code": self.code},
                                    retry=True, deadline=deadline)
        if status != 200:
            self.errors.append(f"validate: {status} {data}")
            return False
        self.token = data["registrationToken"]
        for n in range(DRAFTS):
            body = {"payload": {**payload, "given_name": f"{payload['given_name']} {n}"}, "version": self.version}
            status, data = self.request(port, "PUT", f"{API}/submission/draft", body, retry=True, deadline=deadline)
            if status != 200:
                self.errors.append(f"draft {n}: {status} {data}")
                return False
            self.version = data["version"]
        return True

    def send_submit(self, port) -> None:
        status, data = self.request(port, "POST", f"{API}/submission/submit", {"version": self.version},
                                    retry=False, deadline=0)
        self.submit = status
        if status == 200 and not (isinstance(data, dict) and data.get("status") == SubmissionStatus.SUBMITTED):
            self.errors.append(f"submit: 200 {data}")


def run_all(participants, target) -> None:
    threads = [threading.Thread(target=target, args=(p,), daemon=True) for p in participants]
    for t in threads:
        t.start()
    for t in threads:
        t.join(DEADLINE)
        assert not t.is_alive(), "a participant is stuck"


# --- checks -------------------------------------------------------------------------------------------------


def stored(code: str) -> dict:
    submissions = list(Submission.objects.filter(access_code__code=code))
    assert len(submissions) == 1, f"{code}: {len(submissions)} submissions"
    s = submissions[0]
    history = list(SubmissionStatusChange.objects.filter(submission=s).values_list("to_status", flat=True))
    return {"status": s.status, "version": s.version, "submitted_at": s.submitted_at,
            "draft": history.count(SubmissionStatus.DRAFT), "submitted": history.count(SubmissionStatus.SUBMITTED),
            "history": len(history), "code": AccessCode.objects.get(code=code).status}


def assert_outcome(p: Participant) -> None:
    """A 200 is stored exactly once; a 503 left the last acknowledged draft exactly as it was."""
    state = stored(p.code)
    if p.submit == 200:
        assert state["status"] == SubmissionStatus.SUBMITTED and state["submitted_at"] is not None, state
        assert (state["submitted"], state["draft"], state["history"]) == (1, 1, 2), state
        assert state["version"] == p.version + 1 and state["code"] == CodeStatus.SUBMITTED, state
    else:
        assert p.submit == 503, p
        assert state == {"status": SubmissionStatus.DRAFT, "version": p.version, "submitted_at": None, "draft": 1,
                         "submitted": 0, "history": 1, "code": CodeStatus.STARTED}, (p.code, state)


# --- the test -------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_submits_ride_out_terminated_database_connections(world, server):
    session = open_session(world, academic_year=world.year)
    codes = [c.code for c in new_codes(session, world.district_admin, count=PARTICIPANTS + HELD)]
    payload = intake_payload(world)
    port = server.port
    crowd = [Participant(code) for code in codes[:PARTICIPANTS]]
    held = [Participant(code) for code in codes[PARTICIPANTS:]]
    admin = admin_connection()
    try:
        # 1. Traffic under fire.
        stop = threading.Event()
        kills: list[int] = []

        def killer() -> None:
            while not stop.wait(KILL_EVERY):
                kills.append(terminate(admin))

        def participant(p: Participant) -> None:
            if p.prepare(port, payload, deadline=time.monotonic() + DEADLINE / 2):
                p.send_submit(port)

        killing = threading.Thread(target=killer, daemon=True)
        killing.start()
        try:
            run_all(crowd, participant)
        finally:
            stop.set()
            killing.join(10)
        assert sum(kills) > 0, "no connection was ever terminated"

        # 2. Half-way through a submit: the submission is written, its history row waits on our lock.
        run_all(held, lambda p: p.prepare(port, payload, deadline=time.monotonic() + DEADLINE / 2) or None)
        assert all(p.version for p in held), [p.errors for p in held]
        locker = admin_connection()
        try:
            locker.autocommit = False
            locker.execute("LOCK TABLE registrations_submissionstatuschange IN SHARE MODE")
            submitting = [threading.Thread(target=p.send_submit, args=(port,), daemon=True) for p in held]
            for t in submitting:
                t.start()
            deadline = time.monotonic() + DEADLINE / 2
            while True:
                waiting = admin.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock' "
                    "AND query LIKE 'INSERT INTO \"registrations_submissionstatuschange\"%%'",
                    [connection.settings_dict["NAME"]],
                ).fetchone()[0]
                if waiting == HELD:
                    break
                assert time.monotonic() < deadline, f"only {waiting} of {HELD} submits reached the history insert"
                time.sleep(0.02)
            assert terminate(admin, spare=(locker.info.backend_pid,), wait_ms=5000) >= HELD
        finally:
            locker.rollback()
            locker.close()
        for t in submitting:
            t.join(DEADLINE)
        assert [p.submit for p in held] == [503] * HELD

        # 3. What was answered is what is stored.
        connection.close()  # the test's own connection was terminated too
        everyone = crowd + held
        for p in everyone:
            assert not p.errors, (p.code, p.errors)
            assert set(p.statuses) <= {200, 503}, (p.code, p.statuses)
            assert_outcome(p)
        refused = [p for p in everyone if p.submit == 503]
        acknowledged = [p for p in everyone if p.submit == 200]
        assert len(refused) >= HELD and acknowledged, ([p.submit for p in everyone])

        # 4. Back: idle connections dropped once more (a restart), then the refused submit again.
        terminate(admin, wait_ms=5000)
        for p in refused:
            p.statuses.clear()
        run_all(refused, lambda p: p.send_submit(port))
        assert [p.submit for p in refused] == [200] * len(refused), [(p.code, p.statuses, p.errors) for p in refused]
        assert call(port, "GET", "/healthz") == (200, {"status": "ok", "database": "ok"})
    finally:
        admin.close()
        connection.close()  # terminated with the others: reconnect for the checks (and the flush after the test)

    for p in everyone:
        assert_outcome(p)
    assert Submission.objects.filter(session=session).count() == len(everyone)
    assert Submission.objects.filter(session=session, status=SubmissionStatus.SUBMITTED).count() == len(everyone)
    log = server.log()
    assert server.proc.poll() is None, "gunicorn stopped"
    assert log.count("Booting worker") == WORKERS, "a gunicorn worker was restarted:\n" + log[-3000:]
    assert "Traceback" not in log and "Internal Server Error" not in log, log[-3000:]
    assert "Database unavailable on POST /api/v1/public/registrations/submission/submit, answered 503" in log
