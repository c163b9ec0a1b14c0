"""Staff sign-in security: the client address and the timing of django-axes lockouts.

Failed sign-ins (the staff login page and ``/admin/``) are counted by django-axes in the database, per
account and per client address separately (``AXES_LOCKOUT_PARAMETERS``): either one reaching
``AXES_FAILURE_LIMIT`` within ``AXES_COOLOFF_TIME`` locks. Axes keeps one ``AccessAttempt`` row per
(username, address, user agent) with its failure count and the time of its latest failure; a row stops
counting once that time is older than the cool-off. This module answers "from which address?" and "locked
until when?"; the reads for the unlock page are in ``rostering.selectors``, the unlock itself in
``rostering.services``.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone


def forwarded_client_address(request) -> str:
    """The address of the client: ``REMOTE_ADDR``, or the trusted entry of ``X-Forwarded-For``.

    ``X-Forwarded-For`` is ignored by default because any client can send it, which would let a guesser
    pick a fresh address for every attempt. Behind a reverse proxy (nginx, a load balancer), every request
    arrives from the proxy's address, so set ``SCHOOL_SESSIONS["TRUSTED_PROXY_COUNT"]`` to the number of
    proxies in front of the app that *append* to ``X-Forwarded-For``: the client address is then taken that
    many entries from the right, the part of the header the proxies wrote. Never set it higher than the
    real number of proxies. ``""`` when the request carries no address at all.
    """
    remote = (request.META.get("REMOTE_ADDR") or "").strip()
    proxies = int(getattr(settings, "SCHOOL_SESSIONS", {}).get("TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return remote


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def signin_client_ip(request) -> str | None:
    """``AXES_CLIENT_IP_CALLABLE``: the address failed sign-ins are counted against.

    Axes stores it in an IP address column (``inet`` on PostgreSQL), so it must be a valid address:
    a malformed forwarded entry falls back to ``REMOTE_ADDR``.
    """
    return _valid_ip(forwarded_client_address(request)) or _valid_ip((request.META.get("REMOTE_ADDR") or "").strip())


def failure_limit() -> int:
    return int(settings.AXES_FAILURE_LIMIT)


def cool_off() -> datetime.timedelta:
    return settings.AXES_COOLOFF_TIME


def cool_off_minutes() -> int:
    return max(1, round(cool_off().total_seconds() / 60))


def counting_since(now: datetime.datetime | None = None) -> datetime.datetime:
    """Failures older than this no longer count (axes' cool-off threshold)."""
    return (now or timezone.now()) - cool_off()


@dataclass(frozen=True)
class AttemptCount:
    attempt_time: datetime.datetime
    failures: int


def locked_until(attempts: Iterable[AttemptCount], *, limit: int | None = None) -> datetime.datetime | None:
    """When the lockout made of these attempt rows ends, or ``None`` when they don't lock.

    Rows stop counting one by one as their latest failure passes the cool-off, newest last: the lockout
    ends when the row that brings the newest rows' sum up to the limit expires.
    """
    limit = failure_limit() if limit is None else limit
    total = 0
    for row in sorted(attempts, key=lambda a: a.attempt_time, reverse=True):
        total += row.failures
        if total >= limit:
            return row.attempt_time + cool_off()
    return None


def minutes_until(moment: datetime.datetime | None, *, now: datetime.datetime | None = None) -> int:
    """Whole minutes (at least 1) from now until ``moment``; the full cool-off when it is unknown."""
    if moment is None:
        return cool_off_minutes()
    seconds = (moment - (now or timezone.now())).total_seconds()
    return max(1, -(-int(seconds) // 60))


def signin_unlock_reach(user):
    """Whose lockouts ``user`` may see and lift: ``None`` for everyone (a superuser), otherwise a queryset of
    the usernames of the members of the districts where ``user`` may unlock (a district admin's own)."""
    from django.contrib.auth import get_user_model

    from rostering.permissions import Perm, tenant_wide_districts

    if user.is_superuser:
        return None
    districts = tenant_wide_districts(user, Perm.SIGNIN_UNLOCK)
    return get_user_model().objects.filter(memberships__district_id__in=districts).values("username")
