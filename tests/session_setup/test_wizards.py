"""Both wizards through their services and pages: terms, classes carried over, default decisions, changes one by
one and in bulk, execution (a task) with history rows, undo, and the exam session up to publication."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from rostering.choices import SessionState
from rostering.common.errors import Conflict
from rostering.models import ClassDivision, Enrollment
from session_setup import services as s
from session_setup.choices import ExecutionStatus, PromotionAction, SetupStatus
from session_setup.models import PromotionHistory, StudentPromotion
from tests.assessments import factories as af
from tests.rostering import factories as rf

pytestmark = pytest.mark.django_db
D = datetime.date


def _through_step_3(sw):
    setup = s.academic_year_save(actor=sw.district_admin, district=sw.district, school=None, year=sw.next_year,
                                 source_session=sw.year)
    assert (setup.status, setup.current_step) == (SetupStatus.PENDING, 1)
    s.academic_terms_save(actor=sw.district_admin, setup=setup,
                          terms=s.default_terms(sw.next_year.start_date, sw.next_year.end_date))
    assert s.academic_classes_carry_over(actor=sw.district_admin, setup=setup) == 4
    assert s.academic_classes_carry_over(actor=sw.district_admin, setup=setup) == 0
    s.academic_classes_save(actor=sw.district_admin, setup=setup, rows=[])
    s.promotions_prepare(actor=sw.district_admin, setup=setup)
    setup.refresh_from_db()
    assert setup.current_step == 3
    return setup


def test_terms_must_lie_inside_the_year_and_not_overlap(sw):
    setup = s.academic_year_save(actor=sw.district_admin, district=sw.district, school=None, year=sw.next_year)
    bad = [s.TermSpec("Term 1", D(2027, 1, 11), D(2027, 5, 1)), s.TermSpec("Term 2", D(2027, 4, 20), D(2027, 8, 1)),
           s.TermSpec("Term 3", D(2027, 9, 1), D(2028, 1, 20))]
    with pytest.raises(ValidationError) as exc:
        s.academic_terms_save(actor=sw.district_admin, setup=setup, terms=bad)
    text = " ".join(exc.value.messages)
    assert "overlap" in text and "inside 2027" in text
    assert not sw.next_year.children.exists()
    setup.refresh_from_db()
    assert setup.current_step == 1
    defaults = s.default_terms(sw.next_year.start_date, sw.next_year.end_date)
    assert len(defaults) == 3 and defaults[0].start_date == sw.next_year.start_date
    assert defaults[-1].end_date == sw.next_year.end_date


def test_defaults_promote_into_the_matching_class_and_graduate_the_final_grade(sw):
    setup = _through_step_3(sw)
    rows = {p.student_id: p for p in StudentPromotion.objects.filter(setup=setup).select_related("destination_class")}
    assert all(rows[p.pk].action == PromotionAction.PROMOTE for p in sw.pupils_6a + sw.pupils_6b)
    assert {rows[p.pk].destination_class.name for p in sw.pupils_6a + sw.pupils_6b} == {"7A"}
    assert all(rows[p.pk].action == PromotionAction.GRADUATE and rows[p.pk].destination_class is None
               for p in sw.pupils_7a)


def test_execution_moves_students_writes_history_and_activates_the_year(sw, django_capture_on_commit_callbacks):
    setup = _through_step_3(sw)
    new_6a = ClassDivision.objects.get(academic_session=sw.next_year, school=sw.school_a, name="6A")
    repeater, mover = sw.pupils_6a[0], sw.pupils_6b[0]
    p = StudentPromotion.objects.get(setup=setup, student=repeater)
    s.promotion_decide(actor=sw.district_admin, setup=setup, promotion=p,
                       action=PromotionAction.REPEAT)
    with pytest.raises(ValidationError):  # a repeater stays in the grade
        s.promotion_decide(actor=sw.district_admin, setup=setup, promotion=p, action=PromotionAction.REPEAT,
                           destination_class=ClassDivision.objects.get(academic_session=sw.next_year, name="7A",
                                                                       school=sw.school_a))
    s.promotion_decide(actor=sw.district_admin, setup=setup,
                       promotion=StudentPromotion.objects.get(setup=setup, student=mover),
                       action=PromotionAction.TRANSFER)
    s.promotions_confirm(actor=sw.district_admin, setup=setup)
    with django_capture_on_commit_callbacks(execute=True):
        execution = s.promotion_execution_start(actor=sw.district_admin, setup=setup)
    execution.refresh_from_db()
    setup.refresh_from_db()
    assert execution.status == ExecutionStatus.DONE and execution.processed == 7
    assert (setup.status, setup.current_step) == (SetupStatus.COMPLETED, 4)
    open_ = Enrollment.objects.filter(role="student", end_date__isnull=True)
    assert open_.get(person=repeater).class_division == new_6a
    promoted = [x for x in sw.pupils_6a[1:] + sw.pupils_6b[1:]]
    for person in promoted:
        e = open_.get(person=person)
        assert (e.class_division.name, e.academic_session) == ("7A", sw.next_year)
        person.refresh_from_db()
        assert person.grade_level == sw.grade7
    for person in [*sw.pupils_7a, mover]:
        assert not open_.filter(person=person).exists()
    assert not Enrollment.objects.filter(role="student", class_division__academic_session=sw.year,
                                         end_date__isnull=True).exists()
    history = PromotionHistory.objects.filter(setup=setup)
    assert history.count() == 7
    row = history.get(student=repeater)
    assert (row.action, row.source_class, row.destination_class, row.decided_by) == (
        "repeat", sw.class_6a, new_6a, sw.district_admin)
    sw.next_year.refresh_from_db()
    sw.year.refresh_from_db()
    assert (sw.next_year.state, sw.year.state) == (SessionState.ACTIVE, SessionState.COMPLETED)
    # Running it again changes nothing.
    s.promotions_execute(execution_id=execution.pk)
    assert PromotionHistory.objects.count() == 7
    # Undo while nothing is attached: everything comes back, the history stays (marked undone).
    s.promotion_execution_undo(actor=sw.district_admin, setup=setup)
    setup.refresh_from_db()
    assert (setup.status, setup.current_step) == (SetupStatus.PENDING, 4)
    assert not Enrollment.objects.filter(academic_session=sw.next_year, role="student").exists()
    assert Enrollment.objects.filter(class_division__academic_session=sw.year, role="student",
                                     end_date__isnull=True).count() == 7
    repeater.refresh_from_db()
    assert history.filter(undone_at__isnull=False).count() == 7
    sw.next_year.refresh_from_db()
    assert sw.next_year.state == SessionState.UPCOMING


def test_undo_is_refused_once_the_year_has_assessments(sw, django_capture_on_commit_callbacks):
    setup = _through_step_3(sw)
    s.promotions_confirm(actor=sw.district_admin, setup=setup)
    with django_capture_on_commit_callbacks(execute=True):
        s.promotion_execution_start(actor=sw.district_admin, setup=setup)
    af.exam(sw.school_a, sw.next_year, name="Term 1 tests 2027")
    setup.refresh_from_db()
    with pytest.raises(Conflict, match="exam sessions"):
        s.promotion_execution_undo(actor=sw.district_admin, setup=setup)
    assert Enrollment.objects.filter(academic_session=sw.next_year, role="student").count() == 5


def test_set_all_and_confirm_needs_every_decision(sw):
    setup = _through_step_3(sw)
    n = s.promotions_set_all(actor=sw.district_admin, setup=setup, source_class=sw.class_6a,
                             action=PromotionAction.REPEAT)
    assert n == 3
    assert set(StudentPromotion.objects.filter(setup=setup, source_class=sw.class_6a).values_list(
        "destination_class__name", flat=True)) == {"6A"}
    StudentPromotion.objects.filter(setup=setup, source_class=sw.class_6b).update(action="pending")
    with pytest.raises(ValidationError, match="without a decision"):
        s.promotions_confirm(actor=sw.district_admin, setup=setup)
    with pytest.raises(ValidationError):
        s.promotions_set_all(actor=sw.district_admin, setup=setup, source_class=sw.other_class, action="promote")


def test_the_execution_takes_a_fixed_number_of_queries_per_class(sw, django_capture_on_commit_callbacks):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.session_setup.factories import students

    setup = _through_step_3(sw)
    s.promotions_confirm(actor=sw.district_admin, setup=setup)
    counts = []
    for _round in range(2):
        execution = s.promotion_execution_start(actor=sw.district_admin, setup=setup)  # queued (on_commit not run)
        with CaptureQueriesContext(connection) as queries:
            s.promotions_execute(execution_id=execution.pk)
        assert execution.__class__.objects.get(pk=execution.pk).status == ExecutionStatus.DONE
        counts.append(len(queries.captured_queries))
        # Undo, then four times the students in the same classes: the execution takes as many queries.
        s.promotion_execution_undo(actor=sw.district_admin, setup=setup)
        for cls in (sw.class_6a, sw.class_6b, sw.class_7a_a):
            students(cls, 8, prefix=f"R{_round}")
        s.promotions_prepare(actor=sw.district_admin, setup=setup)
    assert StudentPromotion.objects.filter(setup=setup).count() == 7 + 2 * 24
    assert counts[0] == counts[1], counts


def test_exam_wizard_to_publication(sw):
    term = rf.TermFactory(district=sw.district, parent=sw.year, name="Term 2 2026", start_date=D(2026, 5, 12),
                          end_date=D(2026, 8, 6))
    english, maths = rf.SubjectFactory(district=sw.district, name="English"), rf.SubjectFactory(
        district=sw.district, name="Mathematics")
    with pytest.raises(ValidationError, match="inside Term 2"):
        s.exam_details_save(actor=sw.school_admin, school=sw.school_a, name="Mid-year exams",
                            academic_session=sw.year, term=term, starts_on=D(2026, 8, 1), ends_on=D(2026, 8, 20))
    setup = s.exam_details_save(actor=sw.school_admin, school=sw.school_a, name="Mid-year exams",
                                academic_session=sw.year, term=term, starts_on=D(2026, 7, 27), ends_on=D(2026, 7, 31))
    assert (setup.session_type, setup.current_step, setup.school) == ("exam_session", 1, sw.school_a)
    pairs = [(sw.grade6, maths), (sw.grade6, english), (sw.grade7, maths)]
    exams = s.exam_papers_save(actor=sw.school_admin, setup=setup, pairs=pairs, max_minutes=90)
    assert sorted(a.title for a in exams) == ["Grade 6 English", "Grade 6 Mathematics", "Grade 7 Mathematics"]
    by_title = {a.title: a for a in exams}
    at = lambda day, hour: timezone.make_aware(datetime.datetime(2026, 7, day, hour))  # noqa: E731
    clash = [s.SlotSpec(by_title["Grade 6 English"], at(27, 9), 120), s.SlotSpec(by_title["Grade 6 Mathematics"],
             at(27, 10), 90), s.SlotSpec(by_title["Grade 7 Mathematics"], at(27, 10), 90)]
    with pytest.raises(ValidationError, match="overlap"):
        s.exam_schedule_save(actor=sw.school_admin, setup=setup, slots=clash)
    with pytest.raises(ValidationError, match="between"):
        s.exam_schedule_save(actor=sw.school_admin, setup=setup, slots=[
            s.SlotSpec(a, at(26, 9), 60) for a in exams])
    with pytest.raises(Conflict):
        s.exam_session_publish(actor=sw.school_admin, setup=setup)
    s.exam_schedule_save(actor=sw.school_admin, setup=setup, slots=[
        s.SlotSpec(by_title["Grade 6 English"], at(27, 9), 120), s.SlotSpec(by_title["Grade 6 Mathematics"], at(28, 9), 90),
        s.SlotSpec(by_title["Grade 7 Mathematics"], at(27, 9), 90)])  # another grade may sit at the same time
    with pytest.raises(Exception):  # noqa: B017 - a registrar may not publish
        s.exam_session_publish(actor=sw.registrar, setup=setup)
    setup = s.exam_session_publish(actor=sw.school_admin, setup=setup)
    assert (setup.status, setup.current_step) == (SetupStatus.COMPLETED, 3)
    setup.exam_session.refresh_from_db()
    assert setup.exam_session.is_published


# --- pages: personas -------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["district_admin", "school_admin", "registrar", "class_teacher", "viewer",
                                     "other_registrar"])
def test_pages_for_every_persona(sw, client_for, persona):
    setup = _through_step_3(sw)
    client = client_for(sw.personas[persona])
    listed = client.get("/setup/")
    assert listed.status_code == 200
    assert (str(setup.pk) in listed.content.decode()) == (persona != "other_registrar")
    manage = persona == "district_admin"  # a district-wide year is a district admin's
    reads = persona != "other_registrar"
    for step in range(4):
        code = client.get(f"/setup/{setup.pk}/step/{step}/").status_code
        assert code == (200 if manage else 403 if reads else 404), (step, code)
    assert client.get("/setup/new/academic-year/").status_code == (200 if persona in ("district_admin", "school_admin")
                                                                    else 403)
    assert client.get(f"/setup/history/classes/{sw.class_6a.pk}/").status_code == (200 if reads else 404)
    assert client.get(f"/setup/history/students/{sw.pupils_6a[0].pk}/").status_code == (200 if reads else 404)
    before = StudentPromotion.objects.get(setup=setup, student=sw.pupils_6a[0]).action
    p = StudentPromotion.objects.get(setup=setup, student=sw.pupils_6a[0])
    code = client.post(f"/setup/{setup.pk}/promotions/{p.pk}/", {"action": "repeat"}).status_code
    assert code in ((302,) if manage else (403,) if reads else (404,))
    if not manage:
        assert StudentPromotion.objects.get(pk=p.pk).action == before


def test_the_wizard_pages_walk_through_and_bad_input_changes_nothing(sw, client_for):
    client = client_for(sw.district_admin)
    r = client.post("/setup/new/academic-year/", {"scope": f"district:{sw.district.pk}", "name": "",
                                                   "start_date": "2027-01-11"})
    assert r.status_code == 400
    r = client.post("/setup/new/academic-year/", {"scope": f"district:{sw.district.pk}", "year": str(sw.next_year.pk),
                                                   "source_session": str(sw.year.pk)})
    assert r.status_code == 302
    setup = sw.next_year.setups.get()
    r = client.post(f"/setup/{setup.pk}/step/1/", {"term_count": "2", "term-0-name": "Term 1",
                                                   "term-0-start": "2027-01-11", "term-0-end": "2027-06-01",
                                                   "term-1-name": "Term 2", "term-1-start": "2027-05-01",
                                                   "term-1-end": "2027-11-01"})
    assert r.status_code == 400 and "overlap" in r.content.decode()
    assert not sw.next_year.children.exists()
    r = client.post(f"/setup/{setup.pk}/step/1/", {"term_count": "1", "term-0-name": "Term 1",
                                                   "term-0-start": "2027-01-11", "term-0-end": "2027-06-01"})
    assert r.status_code == 302 and r["Location"].endswith("/step/2/")
    assert client.get(r["Location"]).status_code == 200
    assert client.post(f"/setup/{setup.pk}/step/2/", {}).status_code == 302
    page = client.get(f"/setup/{setup.pk}/step/3/?class={sw.class_6a.pk}", HTTP_HX_REQUEST="true")
    assert page.status_code == 200 and "promotion-table" in page.content.decode()
    assert client.get(f"/setup/{setup.pk}/").url.endswith("/step/3/")  # resume where it stopped
