"""Who may do what, and where: the one place that turns memberships into answers.

A membership grants a role in a district, either district-wide (``school is None``) or for one
school. Objects a user cannot reach are hidden by ``TenantQuerySet.for_user`` (404); a user who can
see an object but whose role is too low for the action gets ``PermissionDenied`` (403).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db.models import Q

from rostering.choices import MembershipRole

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class Perm:
    ROSTER_VIEW = "roster.view"
    ROSTER_CHANGE = "roster.change"
    REGISTRATIONS_VIEW = "registrations.view"
    REGISTRATIONS_MANAGE = "registrations.manage"
    REGISTRATIONS_REVIEW = "registrations.review"
    SIGNIN_UNLOCK = "signin.unlock"  # lift the sign-in lockout of the district's staff
    SETUP_VIEW = "setup.view"  # session setups (academic-year and exam-session wizards): read
    SETUP_MANAGE = "setup.manage"  # run the wizards: school admins and district admins


_READ = {Perm.ROSTER_VIEW, Perm.REGISTRATIONS_VIEW, Perm.SETUP_VIEW}
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    MembershipRole.DISTRICT_ADMIN: frozenset(
        _READ
        | {Perm.ROSTER_CHANGE, Perm.REGISTRATIONS_MANAGE, Perm.REGISTRATIONS_REVIEW, Perm.SIGNIN_UNLOCK, Perm.SETUP_MANAGE}
    ),
    MembershipRole.SCHOOL_ADMIN: frozenset(
        _READ | {Perm.ROSTER_CHANGE, Perm.REGISTRATIONS_MANAGE, Perm.REGISTRATIONS_REVIEW, Perm.SETUP_MANAGE}
    ),
    MembershipRole.REGISTRAR: frozenset(
        _READ | {Perm.ROSTER_CHANGE, Perm.REGISTRATIONS_MANAGE, Perm.REGISTRATIONS_REVIEW}
    ),
    MembershipRole.CLASS_TEACHER: frozenset(_READ | {Perm.REGISTRATIONS_REVIEW}),
    MembershipRole.VIEWER: frozenset(_READ),
}


@dataclass(frozen=True)
class Grant:
    district_id: object
    school_id: object | None
    role: str

    @property
    def tenant_wide(self) -> bool:
        return self.school_id is None

    def covers(self, district_id, school_id) -> bool:
        if self.district_id != district_id:
            return False
        return self.school_id is None or (school_id is not None and self.school_id == school_id)


def grants_for(user: AbstractBaseUser | AnonymousUser | None) -> tuple[Grant, ...]:
    """The user's memberships, loaded once per user object (one query per request)."""
    if user is None or not user.is_authenticated:
        return ()
    cached = getattr(user, "_school_sessions_grants", None)
    if cached is None:
        # Through the app registry, not an import: models.py imports this module (TenantQuerySet).
        Membership = apps.get_model("rostering", "Membership")
        cached = tuple(
            Grant(district_id=d, school_id=s, role=r)
            for d, s, r in Membership.objects.filter(user=user).values_list("district_id", "school_id", "role")
        )
        user._school_sessions_grants = cached
    return cached


def forget_grants(user) -> None:
    if hasattr(user, "_school_sessions_grants"):
        del user._school_sessions_grants


def has_perm(user, perm: str, *, district_id, school_id=None) -> bool:
    """May ``user`` do ``perm`` on something in this district (and school, if it has one)?"""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return any(
        g.covers(district_id, school_id) and perm in ROLE_PERMISSIONS.get(g.role, ()) for g in grants_for(user)
    )


def require_perm(user, perm: str, *, district_id, school_id=None) -> None:
    if not has_perm(user, perm, district_id=district_id, school_id=school_id):
        raise PermissionDenied("Your role does not allow this action here.")


def has_perm_on(user, perm: str, obj) -> bool:
    """``has_perm`` for an object that carries its ``district_id`` (and ``school_id``, if it has one)."""
    return has_perm(user, perm, district_id=obj.district_id, school_id=getattr(obj, "school_id", None))


def has_any_perm(user, perm: str) -> bool:
    """Does the user hold ``perm`` anywhere? (Used to show or hide navigation and buttons.)"""
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return any(perm in ROLE_PERMISSIONS.get(g.role, ()) for g in grants_for(user))


def tenant_wide_districts(user, perm: str | None = None) -> set:
    """Districts in which the user holds a district-wide membership (optionally with ``perm``)."""
    return {
        g.district_id
        for g in grants_for(user)
        if g.tenant_wide and (perm is None or perm in ROLE_PERMISSIONS.get(g.role, ()))
    }


def scope_q(user, *, district_field: str = "district", school_field: str | None = None,
            school_nullable: bool = False, perm: str | None = None) -> Q | None:
    """A ``Q`` selecting the rows the user may see, or ``None`` for "everything" (superuser).

    ``school_field`` is the lookup to the row's school id (``"school_id"``, ``"pk"`` for schools,
    ``None`` for district-level models);
    ``school_nullable`` rows with no school are district-wide and visible to every member.
    """
    if user.is_superuser:
        return None
    q = Q(pk__in=[])
    for g in grants_for(user):
        if perm is not None and perm not in ROLE_PERMISSIONS.get(g.role, ()):
            continue
        grant_q = Q(**{f"{district_field}_id": g.district_id})
        if g.school_id is not None and school_field is not None:
            school_q = Q(**{school_field: g.school_id})
            if school_nullable:
                school_q |= Q(**{f"{school_field}__isnull": True})
            grant_q &= school_q
        q |= grant_q
    return q


def visible_district_ids(user) -> Iterable:
    return {g.district_id for g in grants_for(user)}
