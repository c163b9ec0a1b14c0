"""Session-setup fixtures: the shared world plus a school admin of school A, last year's classes with students
(Grade 6A, 6B and 7A at school A; Grade 7 is school A's final grade) and next year."""

from dataclasses import dataclass

import pytest

from rostering.choices import MembershipRole
from tests.rostering import factories as rf
from tests.session_setup import factories as sf


@dataclass
class SetupWorld:
    w: object
    school_admin: object
    next_year: object
    class_7a_a: object
    pupils_6a: list
    pupils_6b: list
    pupils_7a: list

    def __getattr__(self, name):
        return getattr(self.w, name)

    @property
    def personas(self) -> dict:
        return {**self.w.personas, "school_admin": self.school_admin}


@pytest.fixture
def sw(world) -> SetupWorld:
    school_admin = rf.UserFactory(username="school_admin_a")
    rf.MembershipFactory(user=school_admin, district=world.district, school=world.school_a,
                         role=MembershipRole.SCHOOL_ADMIN)
    class_7a_a = rf.ClassDivisionFactory(school=world.school_a, grade_level=world.grade7, name="7A",
                                         academic_session=world.year)
    return SetupWorld(
        w=world, school_admin=school_admin, next_year=sf.next_year(world.district), class_7a_a=class_7a_a,
        pupils_6a=sf.students(world.class_6a, 3), pupils_6b=sf.students(world.class_6b, 2),
        pupils_7a=sf.students(class_7a_a, 2),
    )
