"""Two districts with an integration token each, and a small roster in the first (``world`` of tests/conftest.py)."""

import datetime
from dataclasses import dataclass

import pytest
from django.test import Client

from rostering.choices import PersonRole, SessionState, SessionType
from rostering.services import integration_token_create
from tests.rostering import factories as f


@dataclass
class Graph:
    world: object
    token: str
    other_token: str
    sessions: list
    people: list

    def client(self, token: str | None = None) -> Client:
        return Client(HTTP_AUTHORIZATION=f"Bearer {token or self.token}")


@pytest.fixture
def graph(world) -> Graph:
    w = world
    _t, raw = integration_token_create(district=w.district, name="Reading app")
    _o, other_raw = integration_token_create(district=w.other_district, name="Other district's app")
    fall = f.AcademicSessionFactory(district=w.district, name="Fall 2024", type=SessionType.SEMESTER,
                                    state=SessionState.COMPLETED, start_date=datetime.date(2024, 8, 1),
                                    end_date=datetime.date(2024, 12, 20), school=w.school_a,
                                    identifiers=[{"type": "sis_id", "value": "T-1"}], properties={"k": "v"})
    spring = f.AcademicSessionFactory(district=w.district, name="Spring 2025", type=SessionType.SEMESTER,
                                      state=SessionState.ACTIVE, start_date=datetime.date(2025, 1, 6),
                                      end_date=datetime.date(2025, 5, 30))
    summer = f.AcademicSessionFactory(district=w.district, name="summer school", type=SessionType.TERM,
                                      state=SessionState.UPCOMING, start_date=datetime.date(2025, 6, 2),
                                      end_date=datetime.date(2025, 8, 1))
    f.AcademicSessionFactory(district=w.other_district, name="Fall 2024", start_date=datetime.date(2024, 8, 1),
                             end_date=datetime.date(2024, 12, 20))
    people = [
        f.PersonFactory(district=w.district, school=w.school_a, given_name="Sofia", family_name="Banda",
                        email="sofia.banda@example.com", role=PersonRole.STUDENT, grade_level=w.grade6),
        f.PersonFactory(district=w.district, school=w.school_a, given_name="Tatenda", middle_name="R",
                        family_name="Chikore", email="", role=PersonRole.STUDENT),
        f.PersonFactory(district=w.district, school=w.school_b, given_name="Rudo", family_name="Dube",
                        email="rudo@school.example.org", role=PersonRole.TEACHER),
        f.PersonFactory(district=w.district, school=None, given_name="Farai", family_name="Admin",
                        role=PersonRole.ADMINISTRATOR),
    ]
    f.EnrollmentFactory(class_division=w.class_6a, person=people[0], role="student")
    f.EnrollmentFactory(class_division=w.class_7a, person=people[2], role="teacher", primary=True)
    f.PersonFactory(district=w.other_district, school=w.other_school, given_name="Sofia", family_name="Other")
    return Graph(world=w, token=raw, other_token=other_raw, sessions=[w.year, fall, spring, summer], people=people)
