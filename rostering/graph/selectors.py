"""Reads of the Integrations page: a manager's integration tokens with their usage of the last 24 hours."""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db.models import QuerySet, Sum
from django.utils import timezone

from rostering.choices import MembershipRole
from rostering.models import District, IntegrationToken, IntegrationTokenUsage
from rostering.permissions import grants_for

USAGE_HOURS = 24


def integration_district_ids(user) -> set | None:
    """Districts whose integrations ``user`` manages (``None``: every district, for a superuser)."""
    if user is None or not user.is_authenticated:
        return set()
    if user.is_superuser:
        return None
    return {g.district_id for g in grants_for(user) if g.tenant_wide and g.role == MembershipRole.DISTRICT_ADMIN}


def integration_districts(user) -> QuerySet:
    ids = integration_district_ids(user)
    districts = District.objects.order_by("name")
    return districts if ids is None else districts.filter(pk__in=ids)


def integration_token_list(*, user) -> list[IntegrationToken]:
    """The tokens of the districts ``user`` manages, newest first, each with ``requests_last_day`` and
    ``reads`` (``[(resource, requests)]``, most read first) over the last 24 hourly buckets. Two queries."""
    ids = integration_district_ids(user)
    tokens_qs = IntegrationToken.objects.select_related("district", "created_by").order_by("-created_date")
    if ids is not None:
        tokens_qs = tokens_qs.filter(district_id__in=ids)
    tokens = list(tokens_qs)
    since = timezone.now().replace(minute=0, second=0, microsecond=0) - datetime.timedelta(hours=USAGE_HOURS - 1)
    usage: dict = defaultdict(dict)
    if tokens:
        rows = (IntegrationTokenUsage.objects.filter(token__in=[t.pk for t in tokens], hour__gte=since)
                .values("token_id", "resource").annotate(n=Sum("requests")))
        for row in rows:
            usage[row["token_id"]][row["resource"]] = row["n"]
    for token in tokens:
        reads = sorted(usage[token.pk].items(), key=lambda kv: (-kv[1], kv[0]))
        token.reads = reads
        token.requests_last_day = sum(n for _r, n in reads)
    return tokens


def integration_token_for(*, user, pk) -> IntegrationToken | None:
    ids = integration_district_ids(user)
    qs = IntegrationToken.objects.filter(pk=pk)
    if ids is not None:
        qs = qs.filter(district_id__in=ids)
    return qs.first()
