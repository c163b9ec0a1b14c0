"""Reads for the review queue and the failed-attempts log: always scoped, shared by the pages and the API.

- ``submission_list(user=, filters=)``: the queue. Starts from ``review.submissions_for_user`` (tenant scope;
  class teachers only see their classes) and loads every relation a row shows, so a page costs the same
  number of queries whatever its size.
- ``submission_detail_queryset(user=)``: the same scope, with what the detail view needs.
- ``code_attempt_list(user=, outcome=)``: failed and throttled code attempts of the user's districts.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Max, Prefetch, Q, QuerySet

from registrations.choices import PersonType, SubmissionStatus
from registrations.codes import normalize_code
from registrations.models import CodeAttempt, RegistrationSession, Submission, SubmissionStatusChange
from registrations.review import REVIEWABLE, submissions_for_user
from rostering.choices import MembershipRole
from rostering.models import ClassDivision
from rostering.permissions import ROLE_PERMISSIONS, Perm, grants_for

AWAITING_REVIEW = "awaiting_review"
STATUS_FILTER_CHOICES = [(AWAITING_REVIEW, "Awaiting review"), *SubmissionStatus.choices]
PERSON_TYPE_CHOICES = PersonType.choices
SUBMISSION_LIST_RELATED = ("session__school", "access_code", "class_division", "grade_level", "reviewed_by")


def _search_q(text: str) -> Q:
    """Every word must match a name part, the code, or the student/teacher number."""
    q = Q()
    for word in text.split()[:6]:
        code = normalize_code(word)
        word_q = (
            Q(payload__given_name__icontains=word)
            | Q(payload__middle_name__icontains=word)
            | Q(payload__family_name__icontains=word)
            | Q(payload__student_number__iexact=word)
            | Q(payload__teacher_number__iexact=word)
        )
        if code:
            word_q |= Q(access_code__code__icontains=code)
        q &= word_q
    return q


def submission_list(*, user, filters: dict[str, Any] | None = None) -> QuerySet[Submission]:
    """The review queue: ``filters`` may hold session_id, status (a status or ``awaiting_review``),
    person_type, class_division_id and search (words of a name, a code, or a number)."""
    filters = filters or {}
    qs = submissions_for_user(user)
    if filters.get("session_id"):
        qs = qs.filter(session_id=filters["session_id"])
    status = filters.get("status")
    if status == AWAITING_REVIEW:
        qs = qs.filter(status__in=REVIEWABLE)
    elif status:
        qs = qs.filter(status=status)
    if filters.get("person_type"):
        qs = qs.filter(person_type=filters["person_type"])
    if filters.get("class_division_id"):
        qs = qs.filter(class_division_id=filters["class_division_id"])
    search = (filters.get("search") or "").strip()
    if search:
        qs = qs.filter(_search_q(search))
    return qs.select_related(*SUBMISSION_LIST_RELATED).order_by(
        F("submitted_at").desc(nulls_last=True), "-created_at", "-id"
    )


def submission_detail_queryset(*, user) -> QuerySet[Submission]:
    """One submission with its session, code, placement, reviewer and history (who did what)."""
    return submissions_for_user(user).select_related(
        *SUBMISSION_LIST_RELATED, "session__class_division", "session__grade_level", "imported_person",
    ).prefetch_related(
        Prefetch("status_changes", queryset=SubmissionStatusChange.objects.select_related("actor"))
    )


def review_filter_options(*, user) -> dict[str, QuerySet]:
    """What the queue's filter menus offer: the sessions and classes the user can see."""
    sessions = (
        RegistrationSession.objects.for_user(user, perm=Perm.REGISTRATIONS_VIEW)
        .select_related("school").order_by("-created_at")
    )
    classes = ClassDivision.objects.for_user(user).select_related("school", "grade_level")
    roles = {g.role for g in grants_for(user)}
    if not user.is_superuser and roles and roles <= {MembershipRole.CLASS_TEACHER}:
        from registrations.review import class_teacher_division_ids

        classes = classes.filter(pk__in=class_teacher_division_ids(user))
    return {"sessions": sessions, "classes": classes.order_by("school__name", "grade_level__rank", "name")}


# --- failed code attempts ----------------------------------------------------------------------------


def can_see_code_attempts(user) -> bool:
    if user.is_superuser:
        return True
    return any(Perm.REGISTRATIONS_MANAGE in ROLE_PERMISSIONS.get(g.role, ()) for g in grants_for(user))


def code_attempt_list(*, user, outcome: str = "") -> QuerySet[CodeAttempt]:
    """Failed and throttled attempts at /register that concern the user's districts, newest first.

    Needs a role that manages registrations (district admin, school admin, registrar): others get a 403.
    School-level staff see their schools' attempts and those that could not be tied to a school.
    """
    if not can_see_code_attempts(user):
        raise PermissionDenied("Only staff who manage registrations can see failed code attempts.")
    qs = CodeAttempt.objects.all()
    if not user.is_superuser:
        scope = Q(pk__in=[])
        for g in grants_for(user):
            if Perm.REGISTRATIONS_MANAGE not in ROLE_PERMISSIONS.get(g.role, ()):
                continue
            grant_q = Q(district_id=g.district_id)
            if g.school_id is not None:
                grant_q &= Q(session__school_id=g.school_id) | Q(session__isnull=True)
            scope |= grant_q
        qs = qs.filter(scope)
    if outcome:
        qs = qs.filter(outcome=outcome)
    return qs.select_related("session__school", "district").order_by("-created_at", "-id")


def code_attempt_hotspots(attempts: QuerySet[CodeAttempt], *, since, limit: int = 5) -> list[dict[str, Any]]:
    """The addresses with the most failures since ``since`` (one aggregate query): who may be guessing."""
    return list(
        attempts.filter(created_at__gte=since, ip_address__isnull=False)
        .values("ip_address")
        .annotate(failures=Count("id"), last_at=Max("created_at"))
        .order_by("-failures", "-last_at")[:limit]
    )
