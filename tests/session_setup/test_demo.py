"""The demo seed's setups: Bulawayo's 2026 year completed with its promotion history, its 2027 year stopped at
the promotions step, Highfield's exam session being set up; running it again changes nothing."""

import io

import pytest
from django.core.management import call_command

from rostering.choices import SessionState
from rostering.models import AcademicSession, ClassDivision, Enrollment
from session_setup.choices import ExecutionStatus, PromotionAction, SetupStatus
from session_setup.models import PromotionHistory, SessionSetup, StudentPromotion

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_the_three_setups_once():
    call_command("seed_demo", stdout=io.StringIO())
    y2026 = AcademicSession.objects.get(district__name="Bulawayo City Schools", name="2026", type="school_year")
    y2027 = AcademicSession.objects.get(district__name="Bulawayo City Schools", name="2027", type="school_year")
    done = SessionSetup.objects.get(academic_session=y2026)
    assert (done.status, done.current_step, done.session_type) == (SetupStatus.COMPLETED, 4, "academic_session")
    assert done.executions.get().status == ExecutionStatus.DONE
    history = PromotionHistory.objects.filter(setup=done)
    assert history.count() == Enrollment.objects.filter(class_division__academic_session=y2026, role="student").count()
    assert history.filter(action=PromotionAction.REPEAT).count() == 1
    assert set(history.filter(action="promote").values_list("destination_class__name", flat=True)) == {
        "Grade 5A", "Grade 6A", "Grade 7A"}
    assert not Enrollment.objects.filter(class_division__academic_session=done.source_session,
                                         end_date__isnull=True, role="student").exists()
    assert (y2026.state, done.source_session.state) == (SessionState.ACTIVE, SessionState.COMPLETED)

    nxt = SessionSetup.objects.get(academic_session=y2027)
    assert (nxt.status, nxt.current_step) == (SetupStatus.PENDING, 3)
    assert y2027.children.count() == 3 and y2027.state == SessionState.UPCOMING
    assert ClassDivision.objects.filter(academic_session=y2027).count() == 3
    assert all(c.enrollments.filter(role="teacher", primary=True).count() == 1
               for c in ClassDivision.objects.filter(academic_session=y2027))
    decisions = StudentPromotion.objects.filter(setup=nxt)
    assert decisions.filter(action="graduate").exists() and decisions.filter(action="repeat").count() == 1
    assert not Enrollment.objects.filter(academic_session=y2027, role="student").exists()

    exam = SessionSetup.objects.get(session_type="exam_session", exam_session__name="End of year examinations 2026")
    assert (exam.status, exam.current_step, exam.exam_session.is_published) == (SetupStatus.PENDING, 2, False)
    assert exam.exam_session.activities.count() == 8  # Forms 1–4 × Mathematics, English

    counts = (SessionSetup.objects.count(), PromotionHistory.objects.count(), Enrollment.objects.count())
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert (SessionSetup.objects.count(), PromotionHistory.objects.count(), Enrollment.objects.count()) == counts
    assert "Nothing to create" in out.getvalue()
