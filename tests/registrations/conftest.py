"""Roster people around the shared ``world``, for access-code generation tests."""

from dataclasses import dataclass

import pytest

from rostering.choices import PersonRole
from tests.rostering import factories as rf


@dataclass
class Roster:
    students_6a: list
    students_6b: list
    grade6_unplaced: object  # in Grade 6 at school A, not in a class yet
    students_7a: list  # school B
    teacher_6a: object  # the class teacher persona's Person
    teacher_a: object  # another teacher of school A (no class)
    teacher_b: object  # a teacher of school B
    other_student: object  # another district


@pytest.fixture
def roster(world) -> Roster:
    def students(cls, n):
        return [
            rf.EnrollmentFactory(
                class_division=cls,
                person=rf.PersonFactory(
                    district=cls.district, school=cls.school, grade_level=cls.grade_level, role=PersonRole.STUDENT
                ),
                role="student",
            ).person
            for _ in range(n)
        ]

    s6a = students(world.class_6a, 3)
    s6b = students(world.class_6b, 2)
    s7a = students(world.class_7a, 2)
    unplaced = rf.PersonFactory(district=world.district, school=world.school_a, grade_level=world.grade6)
    teacher_6a = world.class_teacher.person
    teacher_a = rf.PersonFactory(
        district=world.district, school=world.school_a, role=PersonRole.TEACHER, sis_id="T-100", date_of_birth=None
    )
    teacher_b = rf.PersonFactory(
        district=world.district, school=world.school_b, role=PersonRole.TEACHER, sis_id="T-200", date_of_birth=None
    )
    other = rf.EnrollmentFactory(class_division=world.other_class).person
    return Roster(
        students_6a=s6a, students_6b=s6b, grade6_unplaced=unplaced, students_7a=s7a, teacher_6a=teacher_6a,
        teacher_a=teacher_a, teacher_b=teacher_b, other_student=other,
    )
