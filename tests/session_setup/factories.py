import datetime

from rostering.choices import PersonRole, SessionState, SessionType
from tests.rostering import factories as rf


def next_year(district, *, name="2027", school=None):
    return rf.AcademicSessionFactory(
        district=district, school=school, name=name, type=SessionType.SCHOOL_YEAR, state=SessionState.UPCOMING,
        start_date=datetime.date(2027, 1, 11), end_date=datetime.date(2027, 12, 3))


def students(cls, n, *, prefix="S"):
    out = []
    for i in range(n):
        person = rf.PersonFactory(district=cls.district, school=cls.school, role=PersonRole.STUDENT,
                                  grade_level=cls.grade_level, given_name=f"{prefix}{i}", family_name=f"{cls.name}-{i}")
        rf.EnrollmentFactory(class_division=cls, person=person, role="student", academic_session=cls.academic_session,
                             start_date=datetime.date(2026, 1, 12))
        out.append(person)
    return out
