"""Who may see assessment data and who may manage Data API consumers.

Assessment results are read by every staff role in reach (``Perm.ROSTER_VIEW``, scoped by
``for_user``: a school membership sees its school's sessions). Consumers hand out a district's whole
assessment data set to a program, so only a district-wide district admin (or a superuser) manages them.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from rostering.choices import MembershipRole
from rostering.permissions import Perm, grants_for, has_any_perm


def can_view_assessments(user) -> bool:
    return has_any_perm(user, Perm.ROSTER_VIEW)


def consumer_district_ids(user) -> set:
    """Districts whose consumers the user manages (every district for a superuser: ``None``)."""
    return {g.district_id for g in grants_for(user) if g.tenant_wide and g.role == MembershipRole.DISTRICT_ADMIN}


def can_manage_consumers(user, district_id=None) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    ids = consumer_district_ids(user)
    return bool(ids) if district_id is None else district_id in ids


def require_consumer_manager(user, district_id) -> None:
    if not can_manage_consumers(user, district_id):
        raise PermissionDenied("Only a district admin manages Data API consumers.")
