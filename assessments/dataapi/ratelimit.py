"""Per consumer and endpoint rate limits (Learnosity's table: requests per 5-second window), on Django's cache.

The counter of the current window is one ``cache.add`` + ``cache.incr`` (atomic on Redis, shared by every web
process when ``REDIS_URL`` is set; per process otherwise).
"""

from __future__ import annotations

import time

from django.core.cache import cache

from assessments.dataapi.endpoints import RATE_WINDOW_SECONDS, rate_family
from assessments.dataapi.errors import DataApiError


def check(*, consumer_id, action: str, endpoint: str) -> None:
    family, limit = rate_family(action, endpoint)
    window = int(time.time() // RATE_WINDOW_SECONDS)
    key = f"dataapi:rl:{consumer_id}:{family}:{window}"
    cache.add(key, 0, timeout=RATE_WINDOW_SECONDS * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=RATE_WINDOW_SECONDS * 2)
        count = 1
    if count > limit:
        raise DataApiError(
            42000, f"at most {limit} {family} requests per {RATE_WINDOW_SECONDS} seconds; wait for the window to pass"
        )
