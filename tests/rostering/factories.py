import datetime

import factory
from django.contrib.auth import get_user_model

from rostering import models
from rostering.choices import MembershipRole, PersonRole, SessionState, SessionType


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("pass-12345-word")


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.District

    name = factory.Sequence(lambda n: f"District {n}")


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.School

    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"School {n}")
    code = factory.Sequence(lambda n: f"SCH{n:03d}")


class AcademicSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.AcademicSession

    district = factory.SubFactory(DistrictFactory)
    school = None
    name = factory.Sequence(lambda n: f"{2026 + n}")
    type = SessionType.SCHOOL_YEAR
    state = SessionState.ACTIVE
    start_date = datetime.date(2026, 1, 12)
    end_date = datetime.date(2026, 12, 4)


class TermFactory(AcademicSessionFactory):
    type = SessionType.TERM
    parent = factory.SubFactory(AcademicSessionFactory, district=factory.SelfAttribute("..district"))
    name = factory.Sequence(lambda n: f"Term {n}")
    start_date = factory.LazyAttribute(lambda o: o.parent.start_date)
    end_date = factory.LazyAttribute(lambda o: o.parent.start_date + datetime.timedelta(days=80))


class GradeLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.GradeLevel

    district = factory.SubFactory(DistrictFactory)
    school = None
    code = "06"
    name = "Grade 6"
    rank = 6


class SubjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Subject

    district = factory.SubFactory(DistrictFactory)
    code = factory.Sequence(lambda n: f"SUBJ{n}")
    name = factory.Sequence(lambda n: f"Subject {n}")


class ClassDivisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ClassDivision

    school = factory.SubFactory(SchoolFactory)
    district = factory.SelfAttribute("school.district")
    grade_level = factory.SubFactory(GradeLevelFactory, district=factory.SelfAttribute("..district"))
    academic_session = None
    name = factory.Sequence(lambda n: f"Class {n}")


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Person

    district = factory.SubFactory(DistrictFactory)
    school = None
    role = PersonRole.STUDENT
    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    sis_id = factory.Sequence(lambda n: f"S{n:06d}")
    date_of_birth = datetime.date(2014, 3, 14)


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Enrollment

    class_division = factory.SubFactory(ClassDivisionFactory)
    district = factory.SelfAttribute("class_division.district")
    person = factory.SubFactory(
        PersonFactory,
        district=factory.SelfAttribute("..district"),
        school=factory.SelfAttribute("..class_division.school"),
    )
    role = "student"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Membership

    user = factory.SubFactory(UserFactory)
    district = factory.SubFactory(DistrictFactory)
    school = None
    role = MembershipRole.VIEWER
