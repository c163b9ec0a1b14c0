"""Executing the promotions of a district of 50,000 students (500 classes of 100) through the academic-year
wizard's service, against a plain bulk insert of their 50,000 new enrollments measured in the same run.

Budgets: the execution at most 10× the bulk insert (it also ends 50,000 enrollments, moves 50,000 people to
their new grade, writes 50,000 history rows and reports its progress), and a fixed number of queries per class
whatever its size.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<name> .venv/bin/python bench/run.py session_setup
"""

from __future__ import annotations

import datetime
import os
import sys
from pathlib import Path

os.environ.setdefault("TASKS_BACKEND", "django.tasks.backends.dummy.DummyBackend")  # the bench runs it itself
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import throwaway_database, timed, verdict

GRADES, STREAMS, PER_CLASS = 10, 50, 100
RATIO_BUDGET = 10.0
QUERIES_PER_CLASS_BUDGET = 10


def build():
    from django.contrib.auth import get_user_model

    from rostering.models import (
        AcademicSession,
        ClassDivision,
        District,
        Enrollment,
        GradeLevel,
        Person,
        School,
    )

    actor = get_user_model().objects.create(username="bench-admin", is_superuser=True, is_staff=True)
    district = District.objects.create(name="Bench district")
    school = School.objects.create(district=district, name="Bench High", code="BENCH")
    grades = [GradeLevel.objects.create(district=district, code=f"{n:02d}", name=f"Grade {n}", rank=n)
              for n in range(1, GRADES + 1)]
    old = AcademicSession.objects.create(district=district, name="2026", type="school_year", state="active",
                                         start_date=datetime.date(2026, 1, 12), end_date=datetime.date(2026, 12, 4))
    new = AcademicSession.objects.create(district=district, name="2027", type="school_year", state="upcoming",
                                         start_date=datetime.date(2027, 1, 11), end_date=datetime.date(2027, 12, 3))
    classes = ClassDivision.objects.bulk_create([
        ClassDivision(district=district, school=school, grade_level=g, academic_session=old, name=f"{g.name}-{s:02d}")
        for g in grades for s in range(STREAMS)])
    people = Person.objects.bulk_create([
        Person(district=district, school=school, role="student", given_name=f"S{n}", family_name=f"{c.name}",
               grade_level_id=c.grade_level_id)
        for c in classes for n in range(PER_CLASS)], batch_size=5000)
    Enrollment.objects.bulk_create([
        Enrollment(district=district, person=p, class_division=c, role="student", academic_session=old,
                   start_date=old.start_date)
        for i, c in enumerate(classes) for p in people[i * PER_CLASS:(i + 1) * PER_CLASS]], batch_size=5000)
    return actor, district, old, new, people


def main() -> int:
    with throwaway_database():
        from django.db import connection, transaction

        from rostering.models import Enrollment
        from session_setup import services
        from session_setup.choices import ExecutionStatus
        from session_setup.models import PromotionHistory

        actor, district, old, new, people = build()
        setup = services.academic_year_save(actor=actor, district=district, school=None, year=new, source_session=old)
        services.academic_terms_save(actor=actor, setup=setup, terms=services.default_terms(new.start_date, new.end_date))
        created = services.academic_classes_carry_over(actor=actor, setup=setup)
        services.academic_classes_save(actor=actor, setup=setup, rows=[])
        services.promotions_prepare(actor=actor, setup=setup)
        services.promotions_confirm(actor=actor, setup=setup)
        total = len(people)
        print(f"# {connection.vendor}: {total:,} students in {GRADES * STREAMS} classes, {created} classes carried over")

        # Baseline: the same 50,000 new enrollments, one plain bulk insert, rolled back.
        targets = {c.name: c for c in services.new_classes(setup)}
        moves = [(p.pk, targets[p.family_name]) for p in people]

        def bulk():
            with transaction.atomic():
                Enrollment.objects.bulk_create([
                    Enrollment(district=district, person_id=pk, class_division=cls, role="student",
                               academic_session=new, start_date=new.start_date) for pk, cls in moves], batch_size=2000)
                transaction.set_rollback(True)

        bulk()  # warm up
        baseline, _ = timed(bulk)

        execution = services.promotion_execution_start(actor=actor, setup=setup)
        queries = []
        with connection.execute_wrapper(lambda execute, sql, params, many, context: (
                queries.append(sql), execute(sql, params, many, context))[1]):
            elapsed, execution = timed(lambda: services.promotions_execute(execution_id=execution.pk))
        assert execution.status == ExecutionStatus.DONE, execution.error
        assert PromotionHistory.objects.filter(execution=execution).count() == total
        moved = Enrollment.objects.filter(academic_session=new, role="student").count()
        classes = GRADES * STREAMS
        ratio = elapsed / baseline
        per_class = len(queries) / classes
        print(f"# {moved:,} new enrollments, {total:,} history rows; graduates from Grade {GRADES}: {total - moved:,}")
        print(f"bulk insert of {total:,} new enrollments (baseline): {baseline:.2f} s")
        print(f"execute promotions for {total:,} students: {elapsed:.2f} s = {ratio:.1f}x the bulk insert "
              f"(budget {RATIO_BUDGET:.0f}x) {verdict(ratio <= RATIO_BUDGET)}")
        print(f"queries: {len(queries)} for {classes} classes = {per_class:.1f} per class, not per student "
              f"(budget {QUERIES_PER_CLASS_BUDGET}) {verdict(per_class <= QUERIES_PER_CLASS_BUDGET)}")
        return 0


if __name__ == "__main__":
    sys.exit(main())
