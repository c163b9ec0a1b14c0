"""Non-trivial reads of roster data, always scoped with ``for_user``.

Every list selector returns a queryset that is already limited to what the user may see, filtered
by the model's FilterSet, and shaped for its page (``select_related`` / count annotations), so that
a page costs the same number of queries whatever its size.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.utils import timezone

from rostering.choices import EnrollmentRole, PersonRole, SessionType
from rostering.filtersets import (
    AcademicSessionFilterSet,
    ClassDivisionFilterSet,
    EnrollmentFilterSet,
    GradeLevelFilterSet,
    PersonFilterSet,
    SchoolFilterSet,
    SubjectFilterSet,
)
from rostering.models import (
    AcademicSession,
    ClassDivision,
    District,
    Enrollment,
    GradeLevel,
    Person,
    School,
    Subject,
)
from rostering.permissions import Perm, grants_for, has_any_perm
from rostering.security import AttemptCount, counting_since, failure_limit, locked_until, signin_unlock_reach


class SubqueryCount(Subquery):
    """``(SELECT COUNT(*) FROM (<subquery>))``: a count annotation that never multiplies joins."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _count)"
    output_field = IntegerField()


def _count(queryset: QuerySet, distinct_on: str = "pk") -> SubqueryCount:
    values = queryset.order_by().values(distinct_on)
    return SubqueryCount(values if distinct_on == "pk" else values.distinct())


def _filtered(filterset_class, filters, queryset: QuerySet) -> QuerySet:
    return filterset_class(filters or None, queryset=queryset).qs


# --- lists ------------------------------------------------------------------------------------------


def school_list(*, user, filters: Any = None) -> QuerySet[School]:
    qs = (
        School.objects.for_user(user)
        .select_related("district")
        .annotate(
            student_count=_count(Person.objects.filter(school=OuterRef("pk"), role=PersonRole.STUDENT)),
            teacher_count=_count(Person.objects.filter(school=OuterRef("pk"), role=PersonRole.TEACHER)),
            class_count=_count(ClassDivision.objects.filter(school=OuterRef("pk"))),
        )
    )
    return _filtered(SchoolFilterSet, filters, qs)


def academic_session_list(*, user, filters: Any = None) -> QuerySet[AcademicSession]:
    qs = (
        AcademicSession.objects.for_user(user)
        .select_related("school", "parent")
        .annotate(child_count=_count(AcademicSession.objects.filter(parent=OuterRef("pk"))))
    )
    return _filtered(AcademicSessionFilterSet, filters, qs)


def grade_level_list(*, user, filters: Any = None) -> QuerySet[GradeLevel]:
    visible_classes = ClassDivision.objects.for_user(user)
    visible_people = Person.objects.for_user(user)
    qs = (
        GradeLevel.objects.for_user(user)
        .select_related("school")
        .annotate(
            class_count=_count(visible_classes.filter(grade_level=OuterRef("pk"))),
            student_count=_count(visible_people.filter(grade_level=OuterRef("pk"), role=PersonRole.STUDENT)),
        )
    )
    return _filtered(GradeLevelFilterSet, filters, qs)


def subject_list(*, user, filters: Any = None) -> QuerySet[Subject]:
    qs = (
        Subject.objects.for_user(user)
        .select_related("district")
        .annotate(enrollment_count=_count(Enrollment.objects.for_user(user).filter(subject=OuterRef("pk"))))
    )
    return _filtered(SubjectFilterSet, filters, qs)


def class_division_list(*, user, filters: Any = None) -> QuerySet[ClassDivision]:
    qs = (
        ClassDivision.objects.for_user(user)
        .select_related("school", "grade_level", "academic_session")
        .annotate(
            # People, not enrollments: a teacher enrolled for three subjects counts once.
            student_count=_count(
                Enrollment.objects.filter(class_division=OuterRef("pk"), role=EnrollmentRole.STUDENT),
                "person_id",
            ),
            teacher_count=_count(
                Enrollment.objects.filter(class_division=OuterRef("pk"), role=EnrollmentRole.TEACHER),
                "person_id",
            ),
        )
    )
    return _filtered(ClassDivisionFilterSet, filters, qs)


def person_list(*, user, filters: Any = None) -> QuerySet[Person]:
    qs = Person.objects.for_user(user).select_related("school", "grade_level")
    return _filtered(PersonFilterSet, filters, qs)


def enrollment_list(*, user, filters: Any = None) -> QuerySet[Enrollment]:
    qs = Enrollment.objects.for_user(user).select_related(
        "person", "class_division", "class_division__school", "subject", "academic_session"
    )
    return _filtered(EnrollmentFilterSet, filters, qs)


def class_division_roster(*, class_division: ClassDivision) -> dict[str, list[Enrollment]]:
    """The people enrolled in a class, teachers (class teacher first) and students apart."""
    enrollments = (
        Enrollment.objects.filter(class_division=class_division)
        .select_related("person", "subject")
        .order_by("-primary", "person__family_name", "person__given_name")
    )
    roster: dict[str, list[Enrollment]] = {"teachers": [], "students": []}
    for e in enrollments:
        roster["students" if e.role == EnrollmentRole.STUDENT else "teachers"].append(e)
    return roster


# --- dashboard ------------------------------------------------------------------------------------


def _current_year_subquery(today: datetime.date) -> Subquery:
    """The school year covering ``today`` for the outer school (its own before the district's),
    falling back to the latest one."""
    years = (
        AcademicSession.objects.filter(district=OuterRef("district_id"), type=SessionType.SCHOOL_YEAR)
        .filter(Q(school=OuterRef("pk")) | Q(school__isnull=True))
        .annotate(
            covers_today=Case(
                When(start_date__lte=today, end_date__gte=today, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
            district_wide=Case(
                When(school__isnull=True, then=Value(1)), default=Value(0), output_field=IntegerField()
            ),
        )
        .order_by("covers_today", "district_wide", "-start_date")
        .values("pk")[:1]
    )
    return Subquery(years)


@dataclass
class SchoolCard:
    school: School
    current_session: AcademicSession | None
    current_term: AcademicSession | None
    students: int
    teachers: int
    classes: int


@dataclass
class DistrictGroup:
    district: District
    cards: list[SchoolCard] = field(default_factory=list)

    @property
    def students(self) -> int:
        return sum(c.students for c in self.cards)

    @property
    def teachers(self) -> int:
        return sum(c.teachers for c in self.cards)

    @property
    def classes(self) -> int:
        return sum(c.classes for c in self.cards)


@dataclass
class DashboardOverview:
    has_access: bool
    districts: list[DistrictGroup]
    today: datetime.date

    @property
    def school_count(self) -> int:
        return sum(len(d.cards) for d in self.districts)


def dashboard_overview(*, user, today: datetime.date | None = None, school_id=None) -> DashboardOverview:
    """The user's schools with their current school year (and term) and head counts.

    Three queries whatever the number of schools: schools with counts, their current years,
    and the terms of those years that cover today. ``school_id`` (the school switcher's focus) narrows
    it to one of the user's schools.
    """
    today = today or timezone.localdate()
    has_access = user.is_superuser or bool(grants_for(user))
    if not has_access:
        return DashboardOverview(has_access=False, districts=[], today=today)
    visible = School.objects.for_user(user)
    if school_id and visible.filter(pk=school_id).exists():
        visible = visible.filter(pk=school_id)
    schools = list(
        visible
        .select_related("district")
        .annotate(
            student_count=_count(Person.objects.filter(school=OuterRef("pk"), role=PersonRole.STUDENT)),
            teacher_count=_count(Person.objects.filter(school=OuterRef("pk"), role=PersonRole.TEACHER)),
            class_count=_count(ClassDivision.objects.filter(school=OuterRef("pk"))),
            current_session_id=_current_year_subquery(today),
        )
        .order_by("district__name", "name")
    )
    session_ids = {s.current_session_id for s in schools if s.current_session_id}
    sessions = AcademicSession.objects.in_bulk(session_ids) if session_ids else {}
    terms: dict[Any, AcademicSession] = {}
    if session_ids:
        for term in AcademicSession.objects.filter(
            parent_id__in=session_ids, start_date__lte=today, end_date__gte=today
        ).order_by("start_date"):
            terms.setdefault(term.parent_id, term)
    groups: dict[Any, DistrictGroup] = {}
    for s in schools:
        group = groups.setdefault(s.district_id, DistrictGroup(district=s.district))
        group.cards.append(
            SchoolCard(
                school=s,
                current_session=sessions.get(s.current_session_id),
                current_term=terms.get(s.current_session_id),
                students=s.student_count,
                teachers=s.teacher_count,
                classes=s.class_count,
            )
        )
    return DashboardOverview(has_access=True, districts=list(groups.values()), today=today)


# --- sign-in lockouts (django-axes) ---------------------------------------------------------------


@dataclass
class SigninLockout:
    """One current lockout: of an account (``kind == "account"``) or of a client address."""

    kind: str
    username: str = ""
    ip_address: str = ""
    user: Any = None  # the account's user, when it exists
    usernames: list[str] = field(default_factory=list)  # address lockouts: the accounts tried from there
    addresses: list[str] = field(default_factory=list)  # account lockouts: where the failures came from
    failures: int = 0
    last_attempt: datetime.datetime | None = None
    locked_until: datetime.datetime | None = None


def _lockout_from_rows(kind: str, rows: list[tuple], **identity) -> SigninLockout | None:
    until = locked_until(AttemptCount(attempt_time=t, failures=n) for _u, _ip, t, n in rows)
    if until is None:
        return None
    return SigninLockout(
        kind=kind,
        usernames=sorted({u for u, _ip, _t, _n in rows if u}),
        addresses=sorted({ip for _u, ip, _t, _n in rows if ip}),
        failures=sum(n for *_rest, n in rows),
        last_attempt=max(t for _u, _ip, t, _n in rows),
        locked_until=until,
        **identity,
    )


def signin_lockout_list(*, user) -> list[SigninLockout]:
    """The sign-in lockouts ``user`` may lift, newest first: locked accounts of their district's members
    (every one for a superuser), then locked addresses that unlocking those accounts would not free (for a
    district admin, only addresses where every counted failure was made on such an account).

    Raises ``PermissionDenied`` for users who may not unlock anything.
    """
    if not has_any_perm(user, Perm.SIGNIN_UNLOCK):
        raise PermissionDenied("Only district admins and superusers can see sign-in lockouts.")
    limit = failure_limit()
    counted = AccessAttempt.objects.filter(attempt_time__gte=counting_since()).order_by()
    columns = ("username", "ip_address", "attempt_time", "failures_since_start")
    reach = signin_unlock_reach(user)

    over_limit = counted.exclude(username__isnull=True).values("username")
    if reach is not None:
        over_limit = over_limit.filter(username__in=reach)
    over_limit = over_limit.annotate(total=Sum("failures_since_start")).filter(total__gte=limit)
    by_username: dict[str, list[tuple]] = {}
    for row in counted.filter(username__in=over_limit.values("username")).values_list(*columns):
        by_username.setdefault(row[0], []).append(row)
    users = get_user_model().objects.in_bulk(list(by_username), field_name="username")
    accounts = [
        lockout
        for name, rows in by_username.items()
        if (lockout := _lockout_from_rows("account", rows, username=name, user=users.get(name)))
    ]
    locked_names = {a.username for a in accounts}

    ips_over_limit = (
        counted.exclude(ip_address__isnull=True)
        .values("ip_address")
        .annotate(total=Sum("failures_since_start"))
        .filter(total__gte=limit)
    )
    by_ip: dict[str, list[tuple]] = {}
    for row in counted.filter(ip_address__in=ips_over_limit.values("ip_address")).values_list(*columns):
        by_ip.setdefault(row[1], []).append(row)
    if reach is not None:
        tried = {u for rows in by_ip.values() for u, *_rest in rows if u}
        reachable = set(reach.filter(username__in=tried).values_list("username", flat=True))
        by_ip = {ip: rows for ip, rows in by_ip.items() if all(u in reachable for u, *_rest in rows)}
    addresses = []
    for ip, rows in by_ip.items():
        rest = [r for r in rows if r[0] not in locked_names]
        if locked_until(AttemptCount(attempt_time=r[2], failures=r[3]) for r in rest) is None:
            continue  # unlocking the accounts listed above frees this address too
        if lockout := _lockout_from_rows("address", rows, ip_address=ip):
            addresses.append(lockout)

    newest_first = lambda lockout: lockout.last_attempt  # noqa: E731
    return sorted(accounts, key=newest_first, reverse=True) + sorted(addresses, key=newest_first, reverse=True)


def signin_lockout_ends_at(*, request, credentials: dict | None = None) -> datetime.datetime | None:
    """When the lockout that refused this sign-in request ends (the later one, if both the account and the
    address are locked)."""
    handler = AxesProxyHandler.get_implementation()
    ends = [
        locked_until(
            AttemptCount(attempt_time=t, failures=n)
            for t, n in attempts.values_list("attempt_time", "failures_since_start")
        )
        for attempts in handler.get_user_attempts(request, credentials)
    ]
    return max((e for e in ends if e is not None), default=None)
