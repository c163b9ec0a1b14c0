"""Progress summary formulas (DESIGN.md) and the scoped session list."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from registrations.choices import CodeStatus, RegistrationMode, SessionStatus
from registrations.selectors import (
    attach_progress,
    build_progress,
    progress_from_annotated,
    registration_progress,
    registration_session_list,
)
from rostering.permissions import forget_grants
from tests.registrations.factories import AccessCodeFactory, RegistrationSessionFactory

SPREAD = {
    CodeStatus.UNUSED: 5,
    CodeStatus.STARTED: 4,
    CodeStatus.SUBMITTED: 6,
    CodeStatus.NEEDS_CORRECTION: 2,
    CodeStatus.APPROVED: 3,
    CodeStatus.REJECTED: 1,
    CodeStatus.IMPORTED: 8,
}


def session_with_codes(world, *, expected_count=40, spread=SPREAD, revoked_unused=2, revoked_started=1, **kwargs):
    kwargs.setdefault("school", world.school_a)
    session = RegistrationSessionFactory(expected_count=expected_count, **kwargs)
    for status, n in spread.items():
        for _ in range(n):
            AccessCodeFactory(session=session, status=status)
    now = timezone.now()
    for status, n in ((CodeStatus.UNUSED, revoked_unused), (CodeStatus.STARTED, revoked_started)):
        for _ in range(n):
            AccessCodeFactory(session=session, status=status, revoked_at=now)
    return session


def test_progress_counters_and_formulas(world, django_assert_num_queries):
    session = session_with_codes(world)
    with django_assert_num_queries(1):
        summary = registration_progress(session=session)
    assert summary.as_camel() == {
        "expectedCount": 40,
        "codesGenerated": 32,
        "unused": 5,
        "started": 4,
        "submitted": 6,
        "needsCorrection": 2,
        "approved": 3,
        "rejected": 1,
        "imported": 8,
        "revoked": 3,
        # (submitted + approved + imported) / expectedCount × 100 = (6 + 3 + 8) / 40
        "completionPercent": 42.5,
        # (approved + imported) / (submitted + needsCorrection + approved + rejected + imported) = 11 / 20
        "approvalPercent": 55.0,
    }


def test_every_code_is_counted_exactly_once(world):
    summary = registration_progress(session=session_with_codes(world))
    parts = (summary.unused + summary.started + summary.submitted + summary.needs_correction + summary.approved
             + summary.rejected + summary.imported + summary.revoked)
    assert parts == summary.codes_generated


@pytest.mark.parametrize("expected", [0, None])
def test_zero_or_missing_expected_count_gives_zero_completion(world, expected):
    summary = registration_progress(session=session_with_codes(world, expected_count=expected))
    assert summary.completion_percent == 0.0
    assert summary.expected_count == expected
    assert summary.approval_percent == 55.0


def test_nothing_reviewed_gives_zero_approval(world):
    session = session_with_codes(world, spread={CodeStatus.UNUSED: 3, CodeStatus.STARTED: 2})
    summary = registration_progress(session=session)
    assert (summary.approval_percent, summary.completion_percent) == (0.0, 0.0)


def test_empty_session(world):
    session = RegistrationSessionFactory(school=world.school_a, expected_count=10)
    summary = registration_progress(session=session)
    assert summary.codes_generated == 0 and summary.completion_percent == 0.0 and summary.approval_percent == 0.0


def test_percentages_are_rounded_to_one_decimal_and_may_pass_100():
    summary = build_progress(3, {"submitted": 1, "approved": 1, "imported": 2})
    assert summary.completion_percent == 133.3
    assert build_progress(7, {"submitted": 1}).completion_percent == 14.3
    assert build_progress(None, {"approved": 2, "rejected": 1}).approval_percent == 66.7


def test_list_annotates_the_same_progress_in_one_query(world, django_assert_num_queries):
    sessions = [session_with_codes(world, expected_count=10 * (i + 1)) for i in range(3)]
    RegistrationSessionFactory(school=world.school_a)  # no codes
    forget_grants(world.district_admin)  # start cold: the user's grants, then the list itself
    with django_assert_num_queries(2):
        rows = list(registration_session_list(user=world.district_admin))
    assert len(rows) == 4
    by_id = {r.pk: r for r in rows}
    for session in sessions:
        assert progress_from_annotated(by_id[session.pk]) == registration_progress(session=session)
    empty = next(r for r in rows if r.pk not in {s.pk for s in sessions})
    assert progress_from_annotated(empty).codes_generated == 0


def test_list_is_scoped_to_the_users_schools(world):
    a = RegistrationSessionFactory(school=world.school_a)
    b = RegistrationSessionFactory(school=world.school_b)
    other = RegistrationSessionFactory(school=world.other_school)
    ids = lambda user, **kw: {s.pk for s in registration_session_list(user=user, **kw)}  # noqa: E731
    assert ids(world.district_admin) == {a.pk, b.pk}
    assert ids(world.viewer) == {a.pk, b.pk}
    assert ids(world.registrar) == {a.pk}
    assert ids(world.class_teacher) == {a.pk}
    assert ids(world.other_registrar) == {other.pk}
    assert ids(world.superuser) == {a.pk, b.pk, other.pk}


def test_tenant_wide_needs_a_district_level_role(world):
    a = RegistrationSessionFactory(school=world.school_a)
    b = RegistrationSessionFactory(school=world.school_b)
    assert {s.pk for s in registration_session_list(user=world.district_admin, tenant_wide=True)} == {a.pk, b.pk}
    assert {s.pk for s in registration_session_list(user=world.viewer, tenant_wide=True)} == {a.pk, b.pk}
    for user in (world.registrar, world.class_teacher, world.other_registrar):
        with pytest.raises(PermissionDenied):
            registration_session_list(user=user, tenant_wide=True)


def test_list_filters(world):
    intake = RegistrationSessionFactory(school=world.school_a, mode=RegistrationMode.STUDENT_INTAKE,
                                        status=SessionStatus.OPEN)
    teacher = RegistrationSessionFactory(school=world.school_b)
    user = world.district_admin

    def ids(**filters):
        return {s.pk for s in registration_session_list(user=user, filters=filters)}

    assert ids(mode=RegistrationMode.STUDENT_INTAKE) == {intake.pk}
    assert ids(status=SessionStatus.DRAFT) == {teacher.pk}
    assert ids(school_id=world.school_b.pk) == {teacher.pk}
    assert ids(school_id=world.other_school.pk) == set()


def test_attach_progress_counts_one_page_in_one_query(world, django_assert_num_queries):
    sessions = [session_with_codes(world, expected_count=20), RegistrationSessionFactory(school=world.school_a)]
    page = list(registration_session_list(user=world.superuser, with_progress=False).order_by("created_at"))
    assert not hasattr(page[0], "progress_codes_generated")
    with django_assert_num_queries(1):
        attach_progress(page)
    for row, session in zip(page, sessions, strict=True):
        assert progress_from_annotated(row) == registration_progress(session=session)
    with django_assert_num_queries(0):
        assert attach_progress([]) == []
