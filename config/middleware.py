"""Database faults answer 503 with ``Retry-After``, never a 500 page.

A database that is restarting, unreachable, out of connections or (SQLite) locked raises
``OperationalError`` or ``InterfaceError`` (``django.db``) from wherever the request touched it. Those are
not bugs of the request: the client should simply try again in a few seconds. So:

- ``DatabaseUnavailableMiddleware.process_exception`` turns such an exception raised by a view (DRF views
  included: the API exception handler leaves them to Django) into a 503;
- ``server_error`` (``handler500`` in ``config.urls``) does the same for a fault outside the view — in a
  middleware (the session loaded by the time-zone middleware, the session saved after the view) or while
  rendering an error page such as the 404 — and is Django's own 500 page for everything else.

API clients (``/api/…``, ``/ims/…``, or any request that asks for JSON) get
``{"detail": …, "code": "database_unavailable"}``; the Learnosity-compatible Data API (``/data/…``) answers in
its own envelope, ``meta.status: false`` with Learnosity's generic code 10000, which its SDK reads; people get ``templates/503.html``, a standalone page
rendered without the request (no context processor, no session, no user): rendering it never touches the
database, so a fault can't loop through the error path. Each fault is logged as one line at ERROR.
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults

from assessments.dataapi.errors import DataApiError
from assessments.dataapi.views import error_response as data_api_error

logger = logging.getLogger("config.database")

DATABASE_FAULTS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5
DATA_API_PREFIX = "/data/"
API_PREFIXES = ("/api/", DATA_API_PREFIX, "/ims/")
DETAIL = "The database is unavailable for a moment. Nothing was half-saved: please try again in a few seconds."


def is_database_fault(exc: BaseException | None) -> bool:
    return isinstance(exc, DATABASE_FAULTS)


def wants_json(request) -> bool:
    if request.path.startswith(API_PREFIXES):
        return True
    accept = request.headers.get("Accept", "")
    return "json" in accept and "text/html" not in accept


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


def database_unavailable_response(request, exc: BaseException) -> HttpResponse:
    """The 503 for ``exc`` (already known to be a database fault), logged once, in one line."""
    logger.error("Database unavailable on %s %s, answered 503 (%s)", request.method, request.path, _one_line(exc))
    if request.path.startswith(DATA_API_PREFIX):
        response = data_api_error(DataApiError(10000, DETAIL))
        response.status_code = 503
    elif wants_json(request):
        response = JsonResponse({"detail": DETAIL, "code": "database_unavailable"}, status=503)
    else:
        response = HttpResponse(_page(request), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    response._has_been_logged = True  # Django's request log would repeat it, with the whole traceback
    return response


def _page(request) -> str:
    # A GET is simply asked again (an empty href is this very URL); after a POST, start from the page above.
    retry_url = "" if request.method in ("GET", "HEAD") else (
        "/register" if request.path.startswith("/register") else "/")
    context = {"retry_url": retry_url, "retry_after": RETRY_AFTER_SECONDS,
               "participant": request.path.startswith("/register")}
    try:
        return loader.render_to_string("503.html", context)  # no request: no context processor runs
    except Exception:  # a broken template must not turn the 503 into a 500
        return "<!doctype html><title>Unavailable</title><h1>Unavailable for a moment</h1><p>Please try again.</p>"


class DatabaseUnavailableMiddleware:
    """Last in ``MIDDLEWARE``, so its ``process_exception`` is the first to see what a view raised."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_database_fault(exception):
            return database_unavailable_response(request, exception)
        return None


def server_error(request, template_name: str = defaults.ERROR_500_TEMPLATE_NAME):
    """``handler500``: a database fault outside a view is a 503 too; anything else is Django's 500 page."""
    exc = sys.exc_info()[1]
    if is_database_fault(exc):
        return database_unavailable_response(request, exc)
    return defaults.server_error(request, template_name=template_name)
