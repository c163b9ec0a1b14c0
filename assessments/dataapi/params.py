"""The ``request`` packet: decoded with the one bounded decoder, then every parameter checked the seed's way.

Unknown keys are ignored (Learnosity does the same; the SDKs add ``meta`` for telemetry). Errors:
20000 missing, 20001 too long, 20002 more than 1,000 ids, 20003 wrong type, 20004 wrong value, 20009 not JSON.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime

from assessments.choices import JobStatus, SessionStatus
from assessments.dataapi.errors import DataApiError
from rostering.common.jsonio import JSONInputError, decode

REQUEST_MAX_BYTES = 512 * 1024
MAX_IDS = 1000
MAX_ID_LENGTH = 255
MAX_LIMIT = 50
DEFAULT_LIMIT = 50
STATUSES = [s.value for s in SessionStatus]
JOB_STATUSES = [s.value for s in JobStatus]
JOB_INCLUDE_DEFAULT = ["reference", "type", "status", "dt_created", "dt_completed"]
JOB_INCLUDE_ALLOWED = [*JOB_INCLUDE_DEFAULT, "data"]


def parse_request(raw: str | None) -> dict:
    if raw is None or raw == "":
        return {}
    try:
        value = decode(raw, max_bytes=REQUEST_MAX_BYTES, field="request")
    except JSONInputError as exc:
        raise DataApiError(20009, exc.message) from None
    if not isinstance(value, dict):
        raise DataApiError(20009, "request must be a JSON object")
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def id_list(request: dict, name: str, *, maximum: int = MAX_IDS) -> list[str] | None:
    if name not in request or request[name] is None:
        return None
    value = request[name]
    if not isinstance(value, list):
        raise DataApiError(20003, f"{name} must be an array of strings")
    if len(value) > maximum:
        raise DataApiError(20002, f"{name} takes at most {maximum:,} ids ({len(value):,} were sent); batch the values into separate requests")
    out: list[str] = []
    for v in value:
        if _is_int(v):
            v = str(v)
        if not isinstance(v, str):
            raise DataApiError(20003, f"{name} must be an array of strings")
        if len(v) > MAX_ID_LENGTH:
            raise DataApiError(20001, f"{name}: an id is longer than {MAX_ID_LENGTH} characters")
        out.append(v)
    return sorted(set(out))


def statuses(request: dict, name: str = "status", *, allowed: list[str] = STATUSES) -> list[str] | None:
    values = id_list(request, name, maximum=len(allowed) * 4)
    if values is None:
        return None
    wrong = [v for v in values if v not in allowed]
    if wrong:
        raise DataApiError(20004, f"{name}: {', '.join(wrong)} is not one of {', '.join(allowed)}")
    return values


def timestamp(request: dict, name: str) -> datetime.datetime | None:
    """A unix timestamp (seconds) or an ISO 8601 date or datetime string (UTC unless it says otherwise)."""
    if name not in request or request[name] is None or request[name] == "":
        return None
    value = request[name]
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise DataApiError(20003, f"{name} must be a unix timestamp or an ISO 8601 date string")
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, int | float):
        try:
            return datetime.datetime.fromtimestamp(value, tz=datetime.UTC)
        except (OverflowError, OSError, ValueError):
            raise DataApiError(20004, f"{name} is out of range") from None
    text = value.strip()
    try:
        parsed = parse_datetime(text.replace(" ", "T", 1) if len(text) > 10 else text)
    except ValueError:
        parsed = None
    if parsed is None:
        try:
            day = parse_date(text)
        except ValueError:
            day = None
        if day is None:
            raise DataApiError(20004, f"{name} must be a unix timestamp or an ISO 8601 date string")
        parsed = datetime.datetime.combine(day, datetime.time.min)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed


def boolean(request: dict, name: str, default: bool = False) -> bool:
    if name not in request or request[name] is None:
        return default
    value = request[name]
    if not isinstance(value, bool):
        raise DataApiError(20003, f"{name} must be a boolean")
    return value


def string(request: dict, name: str, *, max_length: int = 255) -> str | None:
    if name not in request or request[name] is None:
        return None
    value = request[name]
    if not isinstance(value, str):
        raise DataApiError(20003, f"{name} must be a string")
    if len(value) > max_length:
        raise DataApiError(20001, f"{name} is longer than {max_length} characters")
    return value


def limit(request: dict) -> int:
    if "limit" not in request or request["limit"] is None:
        return DEFAULT_LIMIT
    value = request["limit"]
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not _is_int(value):
        raise DataApiError(20003, "limit must be an integer")
    if not 1 <= value <= MAX_LIMIT:
        raise DataApiError(20004, f"limit must be from 1 to {MAX_LIMIT} ({value} was sent)")
    return value


def sort(request: dict) -> str:
    if "sort" not in request or request["sort"] is None:
        return "desc"
    value = request["sort"]
    if not isinstance(value, str):
        raise DataApiError(20003, "sort must be a string")
    value = value.lower()
    if value not in ("asc", "desc"):
        raise DataApiError(20004, "sort must be asc or desc")
    return value


def include_list(request: dict, path: tuple[str, ...]) -> list[str]:
    """``include`` in either spelling: ``{"sessions": {"session_metadata": [...]}}`` or
    ``{"sessions.session_metadata": [...]}`` (and ``{"sessions": [...]}`` for one level)."""
    include = request.get("include")
    if include is None:
        return []
    if not isinstance(include, dict):
        raise DataApiError(20003, "include must be an object")
    dotted = ".".join(path)
    if dotted in include:
        node: Any = include[dotted]
    else:
        node = include
        for part in path:
            if not isinstance(node, dict) or part not in node:
                return []
            node = node[part]
    if node is None:
        return []
    if not isinstance(node, list) or not all(isinstance(v, str) for v in node):
        raise DataApiError(20003, f"include.{dotted} must be an array of strings")
    if len(node) > 100:
        raise DataApiError(20002, f"include.{dotted} takes at most 100 names")
    return list(dict.fromkeys(node))


@dataclass(frozen=True)
class SessionQuery:
    """The shared filters of every sessions read."""

    activity_id: list[str] | None
    session_id: list[str] | None
    user_id: list[str] | None
    status: list[str] | None
    mintime: datetime.datetime | None
    maxtime: datetime.datetime | None
    sort: str
    limit: int
    next: str | None
    extra: dict = field(default_factory=dict)

    def digest_fields(self) -> dict:
        return {
            "activity_id": self.activity_id, "session_id": self.session_id, "user_id": self.user_id,
            "status": self.status, "mintime": self.mintime, "maxtime": self.maxtime, "sort": self.sort,
        }


def session_query(request: dict) -> SessionQuery:
    query = SessionQuery(
        activity_id=id_list(request, "activity_id"),
        session_id=id_list(request, "session_id"),
        user_id=id_list(request, "user_id"),
        status=statuses(request),
        mintime=timestamp(request, "mintime"),
        maxtime=timestamp(request, "maxtime"),
        sort=sort(request),
        limit=limit(request),
        next=string(request, "next", max_length=64 * 1024),
    )
    if query.mintime and query.maxtime and query.mintime > query.maxtime:
        raise DataApiError(20004, "mintime is after maxtime")
    return query
