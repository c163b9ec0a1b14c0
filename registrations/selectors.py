"""Reads of registration data, always scoped to what the user may see."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from registrations.choices import CodeStatus
from registrations.models import AccessCode, RegistrationSession
from rostering.permissions import Perm, tenant_wide_districts

_COUNTERS = {
    "codes_generated": Q(),
    "revoked": Q(revoked_at__isnull=False),
    "unused": Q(status=CodeStatus.UNUSED, revoked_at__isnull=True),
    "started": Q(status=CodeStatus.STARTED, revoked_at__isnull=True),
    "submitted": Q(status=CodeStatus.SUBMITTED),
    "needs_correction": Q(status=CodeStatus.NEEDS_CORRECTION),
    "approved": Q(status=CodeStatus.APPROVED),
    "rejected": Q(status=CodeStatus.REJECTED),
    "imported": Q(status=CodeStatus.IMPORTED),
}


@dataclass(frozen=True)
class ProgressSummary:
    """The seed's RegistrationProgressSummary (DESIGN.md gives the formulas)."""

    expected_count: int | None
    codes_generated: int
    unused: int
    started: int
    submitted: int
    needs_correction: int
    approved: int
    rejected: int
    imported: int
    revoked: int
    completion_percent: float
    approval_percent: float

    def as_camel(self) -> dict[str, Any]:
        return {
            "expectedCount": self.expected_count,
            "codesGenerated": self.codes_generated,
            "unused": self.unused,
            "started": self.started,
            "submitted": self.submitted,
            "needsCorrection": self.needs_correction,
            "approved": self.approved,
            "rejected": self.rejected,
            "imported": self.imported,
            "revoked": self.revoked,
            "completionPercent": self.completion_percent,
            "approvalPercent": self.approval_percent,
        }

    as_dict = asdict


def _percent(part: int, whole: int | None) -> float:
    if not whole:
        return 0.0
    return round(part * 100 / whole, 1)


def build_progress(expected_count: int | None, counts: dict[str, int]) -> ProgressSummary:
    c = {k: int(counts.get(k) or 0) for k in _COUNTERS}
    reviewed_or_waiting = c["submitted"] + c["needs_correction"] + c["approved"] + c["rejected"] + c["imported"]
    return ProgressSummary(
        expected_count=expected_count,
        completion_percent=_percent(c["submitted"] + c["approved"] + c["imported"], expected_count),
        approval_percent=_percent(c["approved"] + c["imported"], reviewed_or_waiting),
        **c,
    )


def progress_annotations(prefix: str = "access_codes") -> dict[str, Count]:
    """Annotations that compute every counter for many sessions in the same query as the list."""
    return {
        f"progress_{name}": Count(prefix, filter=_prefixed(q, prefix)) if name != "codes_generated" else Count(prefix)
        for name, q in _COUNTERS.items()
    }


def _prefixed(q: Q, prefix: str) -> Q:
    return Q(*[(f"{prefix}__{k}", v) for k, v in q.children], _connector=q.connector)


def progress_from_annotated(session: RegistrationSession) -> ProgressSummary:
    return build_progress(session.expected_count, {k: getattr(session, f"progress_{k}") for k in _COUNTERS})


def attach_progress(sessions: list[RegistrationSession]) -> list[RegistrationSession]:
    """Set the ``progress_*`` counters on sessions already fetched (one page of a list) in one grouped query.

    Cheaper than annotating a whole list: only the page's codes are counted (index: session, status),
    however many codes the other sessions of the district have. ``progress_from_annotated`` reads them.
    """
    rows = (
        AccessCode.objects.filter(session_id__in=[s.pk for s in sessions])
        .order_by()
        .values("session_id")
        .annotate(**{name: Count("pk", filter=q) if q.children else Count("pk") for name, q in _COUNTERS.items()})
    ) if sessions else []
    counts = {row["session_id"]: row for row in rows}
    for session in sessions:
        row = counts.get(session.pk, {})
        for name in _COUNTERS:
            setattr(session, f"progress_{name}", row.get(name, 0))
    return sessions


def registration_progress(*, session: RegistrationSession) -> ProgressSummary:
    """One aggregate query over the session's codes (index: session, status)."""
    counts = AccessCode.objects.filter(session_id=session.pk).aggregate(
        **{name: Count("pk", filter=q) if q.children else Count("pk") for name, q in _COUNTERS.items()}
    )
    return build_progress(session.expected_count, counts)


def registration_session_list(
    *, user, tenant_wide: bool = False, filters: dict | None = None, with_progress: bool = True
) -> QuerySet:
    """Sessions the user may see, with their progress counters annotated (constant number of queries).

    The annotation counts the codes of every session in the list before any slicing; for paginated lists
    over large districts pass ``with_progress=False`` and call ``attach_progress(page)`` on the page.

    Without ``tenant_wide`` the list is what the user can reach (their schools, or their districts for
    district-level roles). ``tenant_wide=True`` asks for the district-wide view and needs a
    district-level role (403 otherwise).
    """
    from django.core.exceptions import PermissionDenied

    qs = RegistrationSession.objects.for_user(user, perm=Perm.REGISTRATIONS_VIEW)
    if tenant_wide and not user.is_superuser:
        districts = tenant_wide_districts(user, Perm.REGISTRATIONS_VIEW)
        if not districts:
            raise PermissionDenied("tenantWide needs a district-level role.")
        qs = RegistrationSession.objects.filter(district_id__in=districts)
    filters = filters or {}
    if filters.get("mode"):
        qs = qs.filter(mode=filters["mode"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("school_id"):
        qs = qs.filter(school_id=filters["school_id"])
    qs = qs.select_related("school", "class_division", "grade_level", "academic_year", "term", "created_by")
    return qs.annotate(**progress_annotations()) if with_progress else qs
