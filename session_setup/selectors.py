"""Every non-trivial read of session set-up, scoped to the user (another district's rows are not found)."""

from __future__ import annotations

from django.db.models import Count, Q

from session_setup.filtersets import SessionSetupFilterSet, search_q
from session_setup.models import PromotionHistory, SessionSetup, StudentPromotion


def setup_list(*, user, filters: dict | None = None, search: str = ""):
    qs = (SessionSetup.objects.for_user(user)
          .select_related("academic_session", "exam_session", "school", "created_by", "source_session"))
    if filters:
        qs = SessionSetupFilterSet(filters, qs).qs
    if search:
        qs = qs.filter(search_q(search))
    return qs


def setup_detail(*, user, pk) -> SessionSetup:
    return setup_list(user=user).select_related("exam_session__school", "exam_session__term").get(pk=pk)


def promotion_rows(*, setup: SessionSetup, source_class_id):
    return (StudentPromotion.objects.filter(setup=setup, source_class_id=source_class_id)
            .select_related("student", "destination_class", "decided_by")
            .order_by("student__family_name", "student__given_name", "student_id"))


def promotion_counts_by_class(*, setup: SessionSetup) -> dict:
    """``{source_class_id: {action: n}}`` in one query."""
    out: dict = {}
    for class_id, action, n in (StudentPromotion.objects.filter(setup=setup)
                                .values_list("source_class_id", "action").annotate(n=Count("id")).order_by()):
        out.setdefault(class_id, {})[action] = n
    return out


def history_for(*, user, student=None, class_division=None):
    """Promotion history rows the user can see, for one student or one class (as source or destination)."""
    qs = PromotionHistory.objects.filter(setup__in=SessionSetup.objects.for_user(user))
    if student is not None:
        qs = qs.filter(student=student)
    if class_division is not None:
        qs = qs.filter(Q(source_class=class_division) | Q(destination_class=class_division))
    return qs.select_related("student", "source_class", "destination_class", "decided_by", "setup__academic_session",
                             "setup__source_session").order_by("-executed_at", "student__family_name", "student_id")
