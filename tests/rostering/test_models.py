"""Roster models: database constraints (hold even when ``full_clean`` is skipped), ``clean()`` rules,
``for_user`` scoping, and API tokens (hashed storage, activity)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from rostering.models import (
    AcademicSession,
    ApiToken,
    District,
    Enrollment,
    GradeLevel,
    Membership,
    Person,
    School,
    Subject,
    hash_token,
)
from rostering.services import api_token_create
from tests.rostering import factories as f

pytestmark = pytest.mark.django_db


def assert_db_refuses(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


# --- Database constraints ------------------------------------------------------------------------------


def test_school_code_is_unique_in_its_district_only(world):
    assert_db_refuses(lambda: School.objects.create(district=world.district, name="Copy", code="AVP"))
    School.objects.create(district=world.other_district, name="Avondale (Bulawayo)", code="AVP")
    assert School.objects.filter(code="AVP").count() == 2


def test_school_code_cannot_be_blank(world):
    assert_db_refuses(lambda: School.objects.create(district=world.district, name="No code", code=""))


def test_session_end_before_start_is_refused_by_the_database(world):
    assert_db_refuses(
        lambda: AcademicSession.objects.create(
            district=world.district, name="Backwards", start_date=datetime.date(2026, 6, 1),
            end_date=datetime.date(2026, 1, 1),
        )
    )
    assert_db_refuses(
        lambda: AcademicSession.objects.create(
            district=world.district, name="Zero length", start_date=datetime.date(2026, 6, 1),
            end_date=datetime.date(2026, 6, 1),
        )
    )


def test_session_type_and_state_must_be_known_values(world):
    base = {"district": world.district, "start_date": datetime.date(2027, 1, 1), "end_date": datetime.date(2027, 2, 1)}
    assert_db_refuses(lambda: AcademicSession.objects.create(name="x", type="decade", **base))
    assert_db_refuses(lambda: AcademicSession.objects.create(name="y", state="paused", **base))


def test_a_school_year_cannot_have_a_parent(world):
    assert_db_refuses(
        lambda: AcademicSession.objects.create(
            district=world.district, name="Nested year", type="school_year", parent=world.year,
            start_date=datetime.date(2026, 2, 1), end_date=datetime.date(2026, 3, 1),
        )
    )


def test_person_sis_id_is_unique_in_the_district_when_set(world):
    Person.objects.create(district=world.district, given_name="A", family_name="B", sis_id="S-1")
    assert_db_refuses(lambda: Person.objects.create(district=world.district, given_name="C", family_name="D",
                                                    sis_id="S-1"))
    Person.objects.create(district=world.other_district, given_name="E", family_name="F", sis_id="S-1")
    Person.objects.create(district=world.district, given_name="G", family_name="H", sis_id="")
    Person.objects.create(district=world.district, given_name="I", family_name="J", sis_id="")
    assert Person.objects.filter(district=world.district, sis_id="").count() == 2


def test_grade_level_codes_are_unique_per_scope(world):
    assert_db_refuses(lambda: GradeLevel.objects.create(district=world.district, code="06", name="Again"))
    GradeLevel.objects.create(district=world.district, school=world.school_a, code="06", name="Grade 6 (AVP)")
    assert_db_refuses(
        lambda: GradeLevel.objects.create(district=world.district, school=world.school_a, code="06", name="Again")
    )
    assert_db_refuses(lambda: GradeLevel.objects.create(district=world.district, code="G6", name="Not a code"))


def test_subject_code_is_unique_in_the_district(world):
    Subject.objects.create(district=world.district, code="MATH", name="Mathematics")
    assert_db_refuses(lambda: Subject.objects.create(district=world.district, code="MATH", name="Maths"))


def test_class_names_are_unique_per_school_and_session(world):
    assert_db_refuses(
        lambda: f.ClassDivisionFactory(school=world.school_a, grade_level=world.grade6, name="6A",
                                       academic_session=world.year)
    )
    f.ClassDivisionFactory(school=world.school_b, grade_level=world.grade6, name="6A", academic_session=world.year)


def test_enrollment_constraints(world):
    person = f.PersonFactory(district=world.district, school=world.school_a)
    Enrollment.objects.create(district=world.district, person=person, class_division=world.class_6a, role="student")
    assert_db_refuses(lambda: Enrollment.objects.create(
        district=world.district, person=person, class_division=world.class_6a, role="student"))
    assert_db_refuses(lambda: Enrollment.objects.create(
        district=world.district, person=person, class_division=world.class_6b, role="student",
        start_date=datetime.date(2026, 5, 1), end_date=datetime.date(2026, 4, 1)))
    assert_db_refuses(lambda: Enrollment.objects.create(
        district=world.district, person=person, class_division=world.class_6b, role="principal"))


def test_membership_is_unique_per_user_and_scope(world):
    assert_db_refuses(lambda: Membership.objects.create(user=world.registrar, district=world.district,
                                                        school=world.school_a, role="viewer"))
    assert_db_refuses(lambda: Membership.objects.create(user=world.viewer, district=world.district, role="registrar"))


# --- clean(): rules within one row ----------------------------------------------------------------------


def errors_of(obj) -> dict:
    with pytest.raises(ValidationError) as info:
        obj.full_clean()
    return info.value.message_dict


def test_clean_upper_cases_and_strips_school_codes(world):
    school = School(district=world.district, name="Chisipite", code="  cjs ")
    school.full_clean()
    assert school.code == "CJS"


@pytest.mark.parametrize(
    "identifiers",
    ["S-1", [{"type": "sis_id"}], [{"type": "sis_id", "value": 1}], [{"type": "a", "value": "b", "extra": "c"}], ["x"]],
)
def test_clean_checks_the_shape_of_identifiers(world, identifiers):
    school = School(district=world.district, name="Shape", code="SHP", identifiers=identifiers)
    assert "identifiers" in errors_of(school)


def test_clean_checks_properties_is_an_object(world):
    assert "properties" in errors_of(Subject(district=world.district, code="X", name="X", properties=["a"]))


def test_clean_refuses_end_before_start(world):
    session = AcademicSession(district=world.district, name="Backwards", start_date=datetime.date(2027, 6, 1),
                              end_date=datetime.date(2027, 1, 1))
    assert errors_of(session)["end_date"] == ["The end date must be after the start date."]


def test_clean_keeps_terms_inside_their_year(world):
    term = AcademicSession(district=world.district, name="Term 1", type="term", parent=world.year,
                           start_date=datetime.date(2025, 12, 1), end_date=datetime.date(2026, 3, 1))
    assert "must lie inside its year" in errors_of(term)["start_date"][0]
    term.start_date = datetime.date(2026, 1, 12)
    term.full_clean()


def test_clean_refuses_impossible_parents(world):
    term = f.TermFactory(district=world.district, parent=world.year)
    inside_term = AcademicSession(district=world.district, name="GP", type="grading_period", parent=term,
                                  start_date=term.start_date, end_date=term.end_date)
    assert "school year or semester" in errors_of(inside_term)["parent"][0]
    foreign_year = f.AcademicSessionFactory(district=world.other_district)
    foreign = AcademicSession(district=world.district, name="T", type="term", parent=foreign_year,
                              start_date=foreign_year.start_date, end_date=foreign_year.end_date)
    assert "another district" in errors_of(foreign)["parent"][0]
    school_year = f.AcademicSessionFactory(district=world.district, school=world.school_b)
    crossed = AcademicSession(district=world.district, school=world.school_a, name="T", type="term",
                              parent=school_year, start_date=school_year.start_date, end_date=school_year.end_date)
    assert "another school" in errors_of(crossed)["parent"][0]


def test_clean_refuses_cross_district_links(world):
    person = Person(district=world.district, school=world.other_school, given_name="A", family_name="B")
    assert "school" in errors_of(person)
    klass = f.ClassDivisionFactory.build(school=world.school_a, district=world.district,
                                         grade_level=GradeLevel.objects.get(district=world.other_district), name="9Z")
    assert "grade_level" in errors_of(klass)
    enrollment = Enrollment(district=world.district, class_division=world.class_6a,
                            person=f.PersonFactory(district=world.other_district), role="student")
    assert errors_of(enrollment)["person"] == ["This belongs to another district."]


def test_clean_refuses_a_birth_date_in_the_future(world):
    person = Person(district=world.district, given_name="A", family_name="B",
                    date_of_birth=timezone.localdate() + datetime.timedelta(days=1))
    assert "date_of_birth" in errors_of(person)


def test_clean_keeps_district_admins_district_wide(world):
    membership = Membership(user=f.UserFactory(), district=world.district, school=world.school_a,
                            role="district_admin")
    assert "school" in errors_of(membership)


def test_clean_reports_unique_constraints_as_validation_errors(world):
    with pytest.raises(ValidationError) as info:
        School(district=world.district, name="Copy", code="avp").full_clean()
    assert "already exists" in str(info.value)


# --- Scoping ---------------------------------------------------------------------------------------------


def test_for_user_hides_everything_from_anonymous_and_non_members(world):
    from django.contrib.auth.models import AnonymousUser

    assert not School.objects.for_user(AnonymousUser()).exists()
    assert not School.objects.for_user(None).exists()
    assert not School.objects.for_user(f.UserFactory()).exists()
    assert not District.objects.for_user(f.UserFactory()).exists()


def test_for_user_shows_district_level_rows_to_school_members(world):
    assert set(GradeLevel.objects.for_user(world.registrar)) == {world.grade6, world.grade7}
    assert set(AcademicSession.objects.for_user(world.class_teacher)) == {world.year}
    assert set(District.objects.for_user(world.registrar)) == {world.district}


def test_enrollments_are_scoped_through_their_class(world):
    b_enrollment = f.EnrollmentFactory(class_division=world.class_7a)
    assert b_enrollment not in Enrollment.objects.for_user(world.registrar)
    assert b_enrollment in Enrollment.objects.for_user(world.viewer)


# --- API tokens ----------------------------------------------------------------------------------------


def test_only_the_hash_of_a_token_is_stored(world):
    token, raw = api_token_create(user=world.registrar, name="Sync")
    assert raw.startswith("sst_") and len(raw) > 40
    row = ApiToken.objects.get(pk=token.pk)
    assert row.key_hash == hash_token(raw) and len(row.key_hash) == 64
    assert row.hint == raw[:10]
    stored = [str(v) for v in ApiToken.objects.filter(pk=token.pk).values().first().values()]
    assert raw not in stored
    assert not any(raw[10:] in value for value in stored)


def test_token_activity(world):
    token, _raw = api_token_create(user=world.registrar, name="Sync")
    assert token.is_active
    token.expires_at = timezone.now() - datetime.timedelta(seconds=1)
    assert not token.is_active
    token.expires_at = timezone.now() + datetime.timedelta(days=1)
    assert token.is_active
    token.revoked_at = timezone.now()
    assert not token.is_active
