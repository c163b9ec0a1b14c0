"""Health checks for load balancers and orchestrators.

- ``/healthz`` (readiness): the app and its database. ``SELECT 1`` on the default database; 200
  ``{"status": "ok", "database": "ok"}``, or 503 ``{"status": "unavailable", "database": "unavailable"}`` with
  ``Retry-After`` while the database can't be reached. Take a process out of rotation on it.
- ``/livez`` (liveness): the process answers, touching nothing — never restart a process because its
  database is down. It is also the bare view the benchmarks measure against.
"""

from __future__ import annotations

import logging

from django.db import Error, connection
from django.http import JsonResponse

from config.middleware import RETRY_AFTER_SECONDS

logger = logging.getLogger("config.database")
NO_STORE = {"Cache-Control": "no-store"}


def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Error as exc:  # DatabaseError and InterfaceError (a closed connection), as PEP 249 has them
        logger.warning("Health check: database unavailable (%s: %s)", type(exc).__name__, " ".join(str(exc).split())[:300])
        response = JsonResponse({"status": "unavailable", "database": "unavailable"}, status=503,
                                headers={**NO_STORE, "Retry-After": str(RETRY_AFTER_SECONDS)})
        response._has_been_logged = True  # logged above, in one line
        return response
    return JsonResponse({"status": "ok", "database": "ok"}, headers=NO_STORE)


def livez(request):
    return JsonResponse({"status": "ok"}, headers=NO_STORE)
