"""With ``REDIS_URL`` the Data API's rate-limit counters live in Redis, shared by every web process."""

import socket
import uuid

import pytest
from django.core.cache import caches
from django.test import override_settings

from assessments.dataapi import endpoints, ratelimit
from assessments.dataapi.errors import DataApiError


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_counters_are_shared_through_redis(monkeypatch):
    redis_cache = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                               "LOCATION": "redis://127.0.0.1:6379/0", "KEY_PREFIX": f"test-assess-{uuid.uuid4().hex}"}}
    monkeypatch.setitem(endpoints.RATE_LIMITS, ("get", "sessions"), 5)
    with override_settings(CACHES=redis_cache):  # (Django rebuilds its cache handler for the override)
        assert type(caches["default"]).__name__ == "RedisCache"
        consumer = uuid.uuid4()
        for _ in range(5):
            ratelimit.check(consumer_id=consumer, action="get", endpoint="sessions/scores")
        with pytest.raises(DataApiError) as refused:
            ratelimit.check(consumer_id=consumer, action="get", endpoint="sessions/responses")
        assert refused.value.code == 42000 and refused.value.http_status == 429
        ratelimit.check(consumer_id=consumer, action="get", endpoint="jobs")  # another family
        ratelimit.check(consumer_id=uuid.uuid4(), action="get", endpoint="sessions/scores")  # another consumer
        # (No clear(): that would empty the shared Redis database. The keys carry a unique prefix and expire.)
