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


# --- manual marking -------------------------------------------------------------------------------------------------

MARKING_ROLES = (MembershipRole.DISTRICT_ADMIN, MembershipRole.SCHOOL_ADMIN)


def marking_q(user):
    """A ``Q`` over ``AssessmentSession`` selecting the sessions the user may mark, or ``None`` for all
    (superuser). District and school admins mark within their scope; a class teacher marks the learners
    enrolled in the classes they teach; registrars and viewers mark nothing (they read)."""
    from django.db.models import Q

    from rostering.choices import EnrollmentRole
    from rostering.models import Enrollment

    if user is None or not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser:
        return None
    q = Q(pk__in=[])
    teaches = False
    for g in grants_for(user):
        if g.role in MARKING_ROLES:
            grant_q = Q(district_id=g.district_id)
            if g.school_id is not None:
                grant_q &= Q(school_id=g.school_id)
            q |= grant_q
        elif g.role == MembershipRole.CLASS_TEACHER:
            teaches = True
    if teaches:
        classes = Enrollment.objects.filter(person__user=user, role=EnrollmentRole.TEACHER).values("class_division_id")
        learners = Enrollment.objects.filter(class_division_id__in=classes, role=EnrollmentRole.STUDENT).values("person_id")
        district_ids = [g.district_id for g in grants_for(user) if g.role == MembershipRole.CLASS_TEACHER]
        q |= Q(district_id__in=district_ids, person_id__in=learners)
    return q


def can_mark_anything(user) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return user.is_superuser or any(g.role in (*MARKING_ROLES, MembershipRole.CLASS_TEACHER) for g in grants_for(user))
