"""Rate limits against guessing access codes, on Django's cache (Redis in production).

Failures are counted per client address, per code prefix and per school code in fixed one-minute
windows. Going over a limit locks that key out for a time that doubles with every lock-out
(1 min, 2, 4, … up to an hour); the strike count is remembered for a day.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.cache import cache

from rostering.common.errors import RateLimited
from rostering.common.ratelimit import count as counter

WINDOW = 60
STRIKE_MEMORY = 24 * 3600
MAX_LOCK = 3600


@dataclass(frozen=True)
class Limit:
    kind: str
    max_failures: int  # per window


LIMITS = {
    "ip": Limit("ip", 5),
    "prefix": Limit("prefix", 20),
    "school": Limit("school", 30),
}


def _key(kind: str, value: str, part: str) -> str:
    digest = hashlib.sha256(value.encode()).hexdigest()[:24]
    return f"regrl:{part}:{kind}:{digest}"


def subjects(*, ip: str, code: str, school_code: str = "") -> list[tuple[str, str]]:
    result = [("ip", ip or "unknown")]
    if len(code) >= 4:
        result.append(("prefix", code[:4]))
    if school_code:
        result.append(("school", school_code.upper()))
    return result


def check(*, ip: str, code: str, school_code: str = "") -> None:
    """Refuse at once (429) while any of the request's keys is locked out."""
    for kind, value in subjects(ip=ip, code=code, school_code=school_code):
        locked_until = cache.get(_key(kind, value, "lock"))
        if locked_until:
            raise RateLimited(
                "Too many wrong codes. Please wait a while and try again, or ask your school for help.",
                retry_after=int(locked_until),
            )


def record_failure(*, ip: str, code: str, school_code: str = "") -> int | None:
    """Count a failure; returns the lock-out seconds if this failure tripped a limit."""
    tripped = None
    for kind, value in subjects(ip=ip, code=code, school_code=school_code):
        limit = LIMITS[kind]
        count_key = _key(kind, value, "count")
        if counter(count_key, WINDOW) > limit.max_failures:
            strikes = counter(_key(kind, value, "strikes"), STRIKE_MEMORY)
            seconds = min(WINDOW * 2 ** (strikes - 1), MAX_LOCK)
            cache.set(_key(kind, value, "lock"), seconds, seconds)
            cache.delete(count_key)
            tripped = max(tripped or 0, seconds)
    return tripped


def record_success(*, ip: str) -> None:
    cache.delete(_key("ip", ip or "unknown", "count"))
