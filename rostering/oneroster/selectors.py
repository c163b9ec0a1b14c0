"""Reads of OneRoster runs and clients, always scoped to what the user may see."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from rostering.models import District, School
from rostering.oneroster.models import ApiClient, ExportRun, ImportRun
from rostering.oneroster.services import client_district_ids
from rostering.permissions import ROLE_PERMISSIONS, Perm, grants_for


def _reach(user, perm: str) -> Q | None:
    """``None``: everything (superuser); otherwise a Q on ``district``/``school`` of a run."""
    if user is None or not user.is_authenticated:
        return Q(pk__in=[])
    if user.is_superuser:
        return None
    q = Q(pk__in=[])
    for g in grants_for(user):
        if perm not in ROLE_PERMISSIONS.get(g.role, ()):
            continue
        q |= Q(district_id=g.district_id) if g.school_id is None else Q(district_id=g.district_id, school_id=g.school_id)
    return q


def _scoped(qs: QuerySet, user, perm: str) -> QuerySet:
    q = _reach(user, perm)
    return qs if q is None else qs.filter(q)


def import_run_list(*, user) -> QuerySet[ImportRun]:
    return _scoped(ImportRun.objects.select_related("district", "school", "created_by"), user, Perm.ROSTER_VIEW)


def export_run_list(*, user) -> QuerySet[ExportRun]:
    return _scoped(ExportRun.objects.select_related("district", "school", "created_by"), user, Perm.ROSTER_VIEW)


def import_targets(*, user, perm: str = Perm.ROSTER_CHANGE) -> tuple[QuerySet[District], QuerySet[School]]:
    """Districts the user may import into district-wide, and schools they may import into."""
    if user.is_superuser:
        return District.objects.all(), School.objects.select_related("district")
    wide = {g.district_id for g in grants_for(user) if g.school_id is None and perm in ROLE_PERMISSIONS.get(g.role, ())}
    schools = {g.school_id for g in grants_for(user) if g.school_id and perm in ROLE_PERMISSIONS.get(g.role, ())}
    return (District.objects.filter(pk__in=wide),
            School.objects.filter(Q(district_id__in=wide) | Q(pk__in=schools)).select_related("district"))


def api_client_list(*, user) -> QuerySet[ApiClient]:
    qs = ApiClient.objects.select_related("district", "application")
    if user.is_superuser:
        return qs
    return qs.filter(district_id__in=client_district_ids(user))
