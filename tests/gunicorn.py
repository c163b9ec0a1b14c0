"""The project on gunicorn (gthread, production settings) over a given database: for the fault test and the
load benchmarks, which must see what production sees (persistent connections, the full middleware stack).

``with serve(db_name=…, workers=…, threads=…) as server:`` starts it on a free port of 127.0.0.1, waits until
``/healthz`` answers 200 and stops the whole process group afterwards, whatever happens; ``server.log_tail()``
is the end of its log.
"""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url(name: str | None = None) -> str:
    """The configured PostgreSQL server's URL, for database ``name`` (the current database by default)."""
    d = connection.settings_dict
    auth = d["USER"] or ""
    if d.get("PASSWORD"):
        auth += f":{d['PASSWORD']}"
    return f"postgres://{auth}{'@' if auth else ''}{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}/{name or d['NAME']}"


@dataclass
class Server:
    port: int
    proc: subprocess.Popen
    workers: int
    log_path: Path

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 40) -> list[str]:
        return self.log().splitlines()[-lines:]


@contextmanager
def serve(*, db_name: str | None = None, workers: int, threads: int, app: str = "config.wsgi:application",
          args: Sequence[str] = (), secret_key: str | None = None, deadline: float = 60) -> Iterator[Server]:
    """gunicorn serving ``app`` (``args``: more of gunicorn's options) on database ``db_name``."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_SETTINGS_MODULE", "DATABASE_URL"}}
    env.update(
        DATABASE_URL=database_url(db_name), DJANGO_ENV="production",
        SECRET_KEY=secret_key or secrets.token_urlsafe(50), ALLOWED_HOSTS="127.0.0.1", SECURE_SSL_REDIRECT="false",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    with tempfile.TemporaryDirectory(prefix="gunicorn_") as tmp:
        log_path = Path(tmp) / "gunicorn.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [str(Path(sys.executable).with_name("gunicorn")), app, "--no-control-socket",
                 "-b", f"127.0.0.1:{port}", "--worker-class", "gthread", "--workers", str(workers),
                 "--threads", str(threads), *args],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        server = Server(port=port, proc=proc, workers=workers, log_path=log_path)
        try:
            _wait_until_healthy(server, deadline)
            yield server
        finally:
            _stop(proc)


def _wait_until_healthy(server: Server, deadline: float) -> None:
    until = time.monotonic() + deadline
    while time.monotonic() < until:
        if server.proc.poll() is not None:
            raise RuntimeError("gunicorn exited:\n" + "\n".join(server.log_tail()))
        try:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=2)
            try:
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            finally:
                conn.close()
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz in time:\n" + "\n".join(server.log_tail()))


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)  # the arbiter and its workers (their own process group)
        proc.wait(timeout=20)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
