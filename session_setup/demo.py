"""Demo session setups for ``manage.py seed_demo`` (found through the ``<app>.demo.seed`` hook).

- Bulawayo City Schools (Nketa Primary): the 2026 school year's setup, **completed**, with its promotion history
  (last year's Grade 4A, 5A and 6A moved up, one Grade 5 learner repeating), and the **2027** setup in progress,
  stopped at the promotions step (year, terms and classes done; a decision per learner, a few changed).
- Harare Metropolitan Schools (Highfield): the "End of year examinations 2026" exam session being set up — its
  exams per form and subject created, stopped at the schedule.

Everything goes through the services (rostering's for the roster, assessments' for the exam session), as the
wizards do. Idempotent: a part that already exists is left alone.
"""

from __future__ import annotations

import datetime

from assessments.models import ExamSession
from rostering.choices import EnrollmentRole
from rostering.models import AcademicSession, ClassDivision, Enrollment, Person
from rostering.services import roster_object_create
from session_setup import services
from session_setup.choices import PromotionAction, SetupSessionType
from session_setup.models import SessionSetup, StudentPromotion

BULAWAYO, HARARE = "bulawayo", "harare"
EXAM_NAME = "End of year examinations 2026"
NEXT_YEAR = ("2027", datetime.date(2027, 1, 12), datetime.date(2027, 12, 2))


def seed(demo) -> None:
    _completed_2026(demo)
    _in_progress_2027(demo)
    _exam_being_set_up(demo)


def _enroll(demo, person_id, cls, year, start):
    roster_object_create(actor=demo.actor, model=Enrollment, district=cls.district, data={
        "person": Person.objects.get(pk=person_id), "class_division": cls, "role": EnrollmentRole.STUDENT,
        "academic_session": year, "start_date": start})


def _completed_2026(demo) -> None:
    district = demo.districts[BULAWAYO]
    this_year, last_year = demo.years[BULAWAYO, 2026], demo.years[BULAWAYO, 2025]
    if SessionSetup.objects.filter(academic_session=this_year).exists():
        return
    nps = demo.schools["NPS"]
    start = demo.terms[BULAWAYO, 2025][0].start_date
    current = {c.name: c for c in ClassDivision.objects.filter(school=nps, academic_session=this_year)}
    # Last year's classes: each of this year's learners sat one grade lower (one Grade 5 learner repeats).
    plan = {"Grade 5A": "Grade 4A", "Grade 6A": "Grade 5A", "Grade 7A": "Grade 6A"}
    grades = {c.grade_level.name: c.grade_level for c in current.values()}
    grades.setdefault("Grade 4", demo.grades[BULAWAYO, "04"])
    old = {}
    for now_name, then_name in plan.items():
        old[then_name] = cls = demo.ensure(ClassDivision, district, {
            "school": nps, "academic_session": last_year, "name": then_name},
            {"grade_level": grades[then_name[:-1]], "capacity": current[now_name].capacity})
        for teacher in Enrollment.objects.filter(class_division=current[now_name], role=EnrollmentRole.TEACHER):
            roster_object_create(actor=demo.actor, model=Enrollment, district=district, data={
                "person": teacher.person, "class_division": cls, "role": EnrollmentRole.TEACHER,
                "subject": teacher.subject, "primary": teacher.primary, "academic_session": last_year,
                "start_date": start})
    repeater = None
    for now_name, then_name in plan.items():
        pupils = list(Enrollment.objects.filter(class_division=current[now_name], role=EnrollmentRole.STUDENT)
                      .order_by("person__family_name", "person__given_name").values_list("person_id", flat=True))
        for n, person_id in enumerate(pupils):
            if now_name == "Grade 5A" and n == 0:
                repeater = person_id  # was in Grade 5A last year too
                _enroll(demo, person_id, old["Grade 5A"], last_year, start)
            else:
                _enroll(demo, person_id, old[then_name], last_year, start)
    setup = services.academic_year_save(actor=demo.actor, district=district, school=None, year=this_year,
                                        source_session=last_year)
    services.academic_terms_save(actor=demo.actor, setup=setup, terms=[
        services.TermSpec(t.name, t.start_date, t.end_date) for t in demo.terms[BULAWAYO, 2026]])
    services.academic_classes_save(actor=demo.actor, setup=setup, rows=[])
    services.promotions_prepare(actor=demo.actor, setup=setup)
    if repeater is not None:
        services.promotion_decide(actor=demo.actor, setup=setup, action=PromotionAction.REPEAT,
                                  promotion=StudentPromotion.objects.get(setup=setup, student_id=repeater))
    services.promotions_confirm(actor=demo.actor, setup=setup)
    execution = services.promotion_execution_start(actor=demo.actor, setup=setup)
    services.promotions_execute(execution_id=execution.pk)
    demo.created["session setups"] += 1
    demo.note(f"Session setup: Bulawayo's 2026 year completed ({execution.total} learners promoted, with history).")


def _in_progress_2027(demo) -> None:
    district = demo.districts[BULAWAYO]
    name, start, end = NEXT_YEAR
    if AcademicSession.objects.filter(district=district, name=name, type="school_year").exists():
        return
    setup = services.academic_year_save(actor=demo.actor, district=district, school=None, name=name,
                                        start_date=start, end_date=end, source_session=demo.years[BULAWAYO, 2026])
    services.academic_terms_save(actor=demo.actor, setup=setup, terms=[
        services.TermSpec("Term 1 2027", datetime.date(2027, 1, 12), datetime.date(2027, 4, 8)),
        services.TermSpec("Term 2 2027", datetime.date(2027, 5, 11), datetime.date(2027, 8, 5)),
        services.TermSpec("Term 3 2027", datetime.date(2027, 9, 7), datetime.date(2027, 12, 2)),
    ])
    services.academic_classes_carry_over(actor=demo.actor, setup=setup)
    services.academic_classes_save(actor=demo.actor, setup=setup, rows=[])
    services.promotions_prepare(actor=demo.actor, setup=setup)
    grade5 = ClassDivision.objects.get(school=demo.schools["NPS"], academic_session=demo.years[BULAWAYO, 2026],
                                       name="Grade 5A")
    first = StudentPromotion.objects.filter(setup=setup, source_class=grade5).order_by(
        "student__family_name", "student__given_name").first()
    if first is not None:
        services.promotion_decide(actor=demo.actor, setup=setup, promotion=first, action=PromotionAction.REPEAT)
    demo.created["session setups"] += 1
    demo.note("Session setup: Bulawayo's 2027 year in progress, stopped at the promotions step "
              f"(/setup/{setup.pk}/).")


def _exam_being_set_up(demo) -> None:
    hgs = demo.schools["HGS"]
    if ExamSession.objects.filter(district=hgs.district, name=EXAM_NAME).exists():
        return
    term = demo.terms[HARARE, 2026][2]
    setup = services.exam_details_save(actor=demo.actor, school=hgs, name=EXAM_NAME,
                                       academic_session=demo.years[HARARE, 2026], term=term,
                                       starts_on=datetime.date(2026, 11, 23), ends_on=datetime.date(2026, 12, 2))
    assert setup.session_type == SetupSessionType.EXAM_SESSION
    grades = services.exam_grades(setup)
    subjects = [demo.subjects[HARARE, code] for code in ("MATH", "ENG")]
    services.exam_papers_save(actor=demo.actor, setup=setup, pairs=[(g, s) for g in grades for s in subjects],
                              max_minutes=120)
    demo.created["session setups"] += 1
    demo.note(f"Session setup: {EXAM_NAME} at Highfield being set up, stopped at the schedule.")

