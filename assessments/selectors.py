"""Scoped reads for the staff pages: every queryset starts from ``Model.objects.for_user(user)``."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Avg, Count, Prefetch, Q, QuerySet

from assessments.models import (
    Activity,
    AssessmentSession,
    Consumer,
    ExamSession,
    Question,
    Response,
    SessionItem,
)
from assessments.permissions import consumer_district_ids
from rostering.permissions import Perm


@dataclass(frozen=True)
class SessionFilters:
    activity: str = ""
    user: str = ""
    status: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    exam: str = ""


def exam_session_list(*, user) -> QuerySet[ExamSession]:
    return (
        ExamSession.objects.for_user(user, perm=Perm.ROSTER_VIEW)
        .select_related("school", "academic_session", "term")
        .annotate(activity_count=Count("activities", distinct=True))
        .order_by("-starts_on", "name")
    )


def exam_session_detail(*, user, pk) -> ExamSession:
    return exam_session_list(user=user).get(pk=pk)


def activity_list(*, user, exam_session: ExamSession | None = None) -> QuerySet[Activity]:
    qs = Activity.objects.for_user(user, perm=Perm.ROSTER_VIEW).select_related("grade_level", "subject", "exam_session")
    if exam_session is not None:
        qs = qs.filter(exam_session=exam_session)
    return qs.annotate(
        item_count=Count("activity_items", distinct=True),
        session_count=Count("sessions", distinct=True),
        completed_count=Count("sessions", filter=Q(sessions__status="Completed"), distinct=True),
        average_score=Avg("sessions__score", filter=Q(sessions__status="Completed")),
        average_max=Avg("sessions__max_score", filter=Q(sessions__status="Completed")),
    ).order_by("title")


def activity_detail(*, user, pk) -> Activity:
    return (
        Activity.objects.for_user(user, perm=Perm.ROSTER_VIEW)
        .select_related("exam_session__school", "grade_level", "subject")
        .prefetch_related("activity_items__item__questions")
        .get(pk=pk)
    )


def assessment_session_list(*, user, filters: SessionFilters) -> QuerySet[AssessmentSession]:
    qs = AssessmentSession.objects.for_user(user, perm=Perm.ROSTER_VIEW).select_related("person", "linked_activity")
    if filters.activity:
        qs = qs.filter(activity_id=filters.activity)
    if filters.user:
        qs = qs.filter(
            Q(user_id__icontains=filters.user)
            | Q(person__given_name__icontains=filters.user)
            | Q(person__family_name__icontains=filters.user)
        )
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.exam:
        qs = qs.filter(linked_activity__exam_session_id=filters.exam)
    if filters.date_from:
        qs = qs.filter(updated_at__date__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(updated_at__date__lte=filters.date_to)
    return qs.defer("adaptive", "session_metadata", "metadata").order_by("-updated_at", "-id")


def assessment_session_detail(*, user, pk) -> AssessmentSession:
    return (
        AssessmentSession.objects.for_user(user, perm=Perm.ROSTER_VIEW)
        .select_related("person", "linked_activity__exam_session", "school")
        .prefetch_related(
            Prefetch("items", queryset=SessionItem.objects.order_by("position")),
            Prefetch("responses", queryset=Response.objects.select_related("question").order_by("position")),
        )
        .get(pk=pk)
    )


def question_lookup(*, district_id, references: list[str]) -> dict[str, Question]:
    return {q.reference: q for q in Question.objects.filter(district_id=district_id, reference__in=references)}


def consumer_list(*, user) -> QuerySet[Consumer]:
    qs = Consumer.objects.select_related("district", "created_by").order_by("-created_at")
    if user.is_superuser:
        return qs
    return qs.filter(district_id__in=consumer_district_ids(user))


# --- manual marking and results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkingFilters:
    activity: str = ""
    class_division: str = ""
    question: str = ""
    state: str = "awaiting"  # awaiting | marked | all


def marking_queue(*, user, filters: MarkingFilters) -> QuerySet[Response]:
    """Manually scored responses in the user's reach (the ones they may mark, when they mark at all), oldest
    first; ``awaiting``: attempted and not scored yet."""
    from assessments.permissions import can_mark_anything, marking_q
    from rostering.models import Enrollment

    sessions = AssessmentSession.objects.for_user(user, perm=Perm.ROSTER_VIEW)
    if can_mark_anything(user):
        q = marking_q(user)
        if q is not None:
            sessions = sessions.filter(q)
    qs = Response.objects.filter(session__in=sessions.values("pk"), automarkable=False, attempted=True)
    if filters.state == "awaiting":
        qs = qs.filter(score__isnull=True)
    elif filters.state == "marked":
        qs = qs.filter(score__isnull=False)
    if filters.activity:
        qs = qs.filter(session__activity_id=filters.activity)
    if filters.question:
        qs = qs.filter(question_reference=filters.question)
    if filters.class_division:
        learners = Enrollment.objects.filter(class_division_id=filters.class_division, role="student").values("person_id")
        qs = qs.filter(session__person_id__in=learners)
    return qs.select_related("session__person", "session__linked_activity", "question").defer(
        "session__adaptive", "session__metadata", "session__session_metadata").order_by("id")


def markable(*, user, session: AssessmentSession) -> bool:
    from assessments.permissions import marking_q

    q = marking_q(user)
    return q is None or AssessmentSession.objects.filter(q, pk=session.pk).exists()


def activity_results(*, activity: Activity, bins: int = 10) -> dict:
    """Scores of an activity's finished sessions: a histogram of percentages, the average per subscore."""
    rows = list(
        AssessmentSession.objects.filter(district_id=activity.district_id, linked_activity=activity,
                                         status__in=["Completed", "Pending Scoring"])
        .values_list("score", "max_score", "subscores")
    )
    counts = [0] * bins
    percents = []
    sums: dict[str, list] = {}
    for score, top, subscores in rows:
        if score is not None and top:
            pct = max(0.0, min(100.0, score / top * 100))
            percents.append(pct)
            counts[min(bins - 1, int(pct // (100 / bins)))] += 1
        for s in subscores or []:
            entry = sums.setdefault(s["id"], [s.get("title", s["id"]), 0.0, 0.0, 0])
            entry[1] += s.get("score") or 0
            entry[2] += s.get("max_score") or 0
            entry[3] += 1
    tallest = max(counts) or 1
    width = 100 // bins
    histogram = [{"low": i * width, "high": (i + 1) * width if i < bins - 1 else 100, "count": c,
                  "height": c / tallest * 100} for i, c in enumerate(counts)]
    subscores = [{"id": sid, "title": title, "average": total / n, "average_max": top / n,
                  "percent": (total / top * 100) if top else None}
                 for sid, (title, total, top, n) in sums.items()]
    return {"sessions": len(rows), "scored": len(percents), "histogram": histogram, "subscores": subscores,
            "average_percent": sum(percents) / len(percents) if percents else None}
