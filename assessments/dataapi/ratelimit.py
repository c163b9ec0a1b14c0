"""Per consumer and endpoint rate limits (Learnosity's table: requests per 5-second window), on Django's cache.

The counter of the current window is ``rostering.common.ratelimit.count`` (atomic on Redis, shared by every web
process when ``REDIS_URL`` is set; per process otherwise).
"""

from __future__ import annotations

import time

from assessments.dataapi.endpoints import RATE_WINDOW_SECONDS, rate_family
from assessments.dataapi.errors import DataApiError
from rostering.common.ratelimit import count


def check(*, consumer_id, action: str, endpoint: str) -> None:
    family, limit = rate_family(action, endpoint)
    window = int(time.time() // RATE_WINDOW_SECONDS)
    key = f"dataapi:rl:{consumer_id}:{family}:{window}"
    if count(key, RATE_WINDOW_SECONDS * 2) > limit:
        raise DataApiError(
            42000, f"at most {limit} {family} requests per {RATE_WINDOW_SECONDS} seconds; wait for the window to pass"
        )
