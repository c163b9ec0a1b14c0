"""``POST /data/{version}/{endpoint}``: the Learnosity-compatible Data API.

Form fields ``security`` (JSON), ``request`` (JSON) and ``action``. In order: the version and endpoint are
known (else 20012, 404), the method is POST (40001, 405), the request is signed by an active consumer
(41000–41009; ``security.py``), within its rate limit (42000, 429), the ``request`` packet is valid JSON
(20009) with valid parameters (20000–20004), and then the endpoint answers. Every answer is the envelope
``{"meta": {"status", "timestamp", …}, "data": …}``; an error is ``meta.status: false`` with Learnosity's
numeric ``meta.code`` and ``meta.message``, ``data: []``, and never touches the database beyond reading.
"""

from __future__ import annotations

import logging
import re
import time

import orjson
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from assessments.dataapi import ratelimit
from assessments.dataapi.endpoints import Context
from assessments.dataapi.errors import DataApiError
from assessments.dataapi.params import parse_request
from assessments.dataapi.routes import ENDPOINTS
from assessments.dataapi.security import verify
from assessments.models import Consumer

logger = logging.getLogger("assessments.dataapi")

VERSION_RE = re.compile(r"^(?:v[\d.]+(?:\.(?:lts|preview\d+))?|latest|latest-lts|developer)$")
MAX_BODY_BYTES = 1024 * 1024
LAST_USED_EVERY = 60  # seconds between two writes of Consumer.last_used_at


def envelope(data, **meta) -> HttpResponse:
    body = {"meta": {"status": True, "timestamp": int(time.time()), **meta}, "data": data}
    return HttpResponse(orjson.dumps(body), content_type="application/json; charset=utf-8")


def error_response(exc: DataApiError) -> HttpResponse:
    body = {"meta": {"status": False, "timestamp": int(time.time()), "code": exc.code, "message": exc.message}, "data": []}
    return HttpResponse(orjson.dumps(body), status=exc.http_status, content_type="application/json; charset=utf-8")


def valid_version(version: str) -> bool:
    return bool(VERSION_RE.match(version.lower()))


@csrf_exempt
def data_api(request: HttpRequest, path: str) -> HttpResponse:
    version, _, endpoint = path.partition("/")
    try:
        return _handle(request, version, endpoint.strip("/"))
    except DataApiError as exc:
        return error_response(exc)


def _handle(request: HttpRequest, version: str, endpoint: str) -> HttpResponse:
    if not valid_version(version):
        raise DataApiError(20012, f"unknown API version {version[:40]!r}")
    actions = ENDPOINTS.get(endpoint)
    if actions is None:
        raise DataApiError(20012, f"unknown endpoint {endpoint[:80]!r}")
    if request.method != "POST":
        raise DataApiError(40001, "every Data API call is a POST of the security, request and action form fields")
    if int(request.headers.get("Content-Length") or 0) > MAX_BODY_BYTES:
        raise DataApiError(20001, f"the body is larger than {MAX_BODY_BYTES // 1024} KB")
    try:
        form = request.POST
    except Exception:  # an unreadable or oversized form body
        raise DataApiError(20009, "the body must be form-encoded security, request and action fields") from None
    security_raw = form.get("security")
    request_raw = form.get("request")
    action_raw = form.get("action")
    verified = verify(security_raw=security_raw, request_string=request_raw, action=action_raw)
    consumer = verified.consumer
    action = (action_raw or "get").lower()
    handler = actions.get(action)
    if handler is None:
        raise DataApiError(40001, f"{endpoint} supports action {', '.join(sorted(actions))}, not {action_raw[:20]!r}")
    ratelimit.check(consumer_id=consumer.pk, action=action, endpoint=endpoint)
    packet = parse_request(request_raw)
    data, meta = handler(Context(district_id=consumer.district_id, endpoint=endpoint, request=packet, consumer=consumer))
    _touch(consumer)
    records = meta.pop("records", len(data) if isinstance(data, list) else None)  # None: a job reference
    extra = {"records": records} if records is not None else {}
    return envelope(data, **extra, **meta)


def _touch(consumer: Consumer) -> None:
    if cache.add(f"dataapi:used:{consumer.pk}", 1, timeout=LAST_USED_EVERY):
        Consumer.objects.filter(pk=consumer.pk).update(last_used_at=timezone.now())
