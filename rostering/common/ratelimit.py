"""Fixed-window counters on Django's cache (Redis in production, shared by every web process).

``count`` adds one to a counter; ``hit`` counts one event for a key and says how long to wait once the key
is over its limit (a window starts at a key's first event). Keys are
hashed, so an address or an e-mail address is never a cache key in clear.
"""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache


def _key(scope: str, value: str) -> str:
    return f"rl:{scope}:{hashlib.sha256(value.encode('utf-8', 'surrogatepass')).hexdigest()[:32]}"


def count(key: str, timeout: int) -> int:
    """Add one to the counter ``key`` (created with ``timeout`` seconds to live) and return it: one
    ``add`` + ``incr``, atomic on Redis."""
    cache.add(key, 0, timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout)
        return 1


def hit(scope: str, value: str, *, limit: int, window: int) -> int | None:
    """Count one event of ``value`` in ``scope``; ``None`` while within ``limit`` per ``window`` seconds
    (counted from the first event of the window), else the seconds until the window ends."""
    now = int(time.time())
    key = _key(scope, value)
    cache.add(f"{key}:start", now, window)
    if count(key, window) > limit:
        start = cache.get(f"{key}:start") or now
        return max(1, start + window - now)
    return None
