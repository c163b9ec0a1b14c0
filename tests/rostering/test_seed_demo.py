"""``manage.py seed_demo``: idempotent, realistic, one working login per persona."""

import io

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count
from django.test import Client
from django.urls import reverse

from rostering.choices import EnrollmentRole, MembershipRole, PersonRole, SessionState, SessionType
from rostering.models import (
    AcademicSession,
    ClassDivision,
    District,
    Enrollment,
    GradeLevel,
    Membership,
    Person,
    School,
    Subject,
)

pytestmark = pytest.mark.django_db

DEMO_PASSWORD = settings.SCHOOL_SESSIONS["DEMO_PASSWORD"]
MODELS = (
    District,
    School,
    AcademicSession,
    GradeLevel,
    Subject,
    ClassDivision,
    Person,
    Enrollment,
    Membership,
)


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    counts = {model.__name__: model.objects.count() for model in MODELS}
    counts["User"] = get_user_model().objects.count()
    counts["linked people"] = Person.objects.filter(user__isnull=False).count()
    return counts


@pytest.fixture
def seeded(db):
    return _seed()


def test_seeding_twice_changes_nothing(seeded):
    first = _counts()
    updated = {
        m.__name__: max(m.objects.values_list("updated_date", flat=True))
        for m in MODELS
        if m is not Membership
    }
    second_output = _seed()
    assert _counts() == first
    assert "Nothing to create" in second_output
    assert updated == {
        m.__name__: max(m.objects.values_list("updated_date", flat=True))
        for m in MODELS
        if m is not Membership
    }


def test_output_gives_the_url_and_every_login(seeded):
    assert "http://127.0.0.1:8000/" in seeded
    for username in ("admin", "district.admin", "registrar", "class.teacher", "viewer", "other.registrar"):
        assert f"  {username} " in seeded
    assert DEMO_PASSWORD in seeded


def test_roster_is_realistic(seeded):
    harare = District.objects.get(name="Harare Metropolitan Schools")
    bulawayo = District.objects.get(name="Bulawayo City Schools")
    assert School.objects.filter(district=harare).count() == 3
    assert list(School.objects.filter(district=bulawayo).values_list("code", flat=True)) == ["NPS"]
    assert School.objects.filter(code="HGS", district=harare).exists()

    students = Person.objects.filter(role=PersonRole.STUDENT)
    assert 300 <= students.count() <= 450
    assert 25 <= Person.objects.filter(role=PersonRole.TEACHER, district=harare).count() <= 35
    # Every student is in exactly one current class, of their own grade and school (last year's enrollments,
    # ended by the demo's completed year setup, are history).
    current = Enrollment.objects.filter(role=EnrollmentRole.STUDENT, end_date__isnull=True)
    per_student = current.values("person").annotate(n=Count("pk"))
    assert per_student.count() == students.count()
    assert {row["n"] for row in per_student} == {1}
    for enrollment in current.select_related(
        "person", "class_division"
    )[:50]:
        assert enrollment.person.grade_level_id == enrollment.class_division.grade_level_id
        assert enrollment.person.school_id == enrollment.class_division.school_id
    # One class teacher per class; teachers also teach subjects.
    for cls in ClassDivision.objects.all():
        assert cls.enrollments.filter(role=EnrollmentRole.TEACHER, primary=True).count() == 1, cls
        assert cls.enrollments.filter(role=EnrollmentRole.TEACHER, subject__isnull=False).exists(), cls
    assert {"Form 1A", "Form 4B", "Grade 6A", "Grade 7A"} <= set(
        ClassDivision.objects.values_list("name", flat=True)
    )

    grades = dict(GradeLevel.objects.filter(district=harare).values_list("name", "code"))
    assert grades["Grade 1"] == "01" and grades["Form 1"] == "08" and grades["Upper Sixth"] == "13"
    assert {"Mathematics", "English Language", "Shona"} <= set(Subject.objects.values_list("name", flat=True))


def test_calendar_has_this_year_and_last_year_with_terms(seeded):
    harare = District.objects.get(name="Harare Metropolitan Schools")
    years = {y.name: y for y in AcademicSession.objects.filter(district=harare, type=SessionType.SCHOOL_YEAR)}
    assert set(years) == {"2025", "2026"}
    this_year, last_year = years["2026"], years["2025"]
    assert (this_year.start_date.month, this_year.end_date.month) == (1, 12)
    assert last_year.state == SessionState.COMPLETED
    assert [t.name for t in this_year.children.order_by("start_date")] == [
        "Term 1 2026",
        "Term 2 2026",
        "Term 3 2026",
    ]
    assert last_year.children.filter(state=SessionState.COMPLETED).count() == 3
    assert ClassDivision.objects.filter(district=harare).exclude(academic_session=this_year).count() == 0


PERSONA_MEMBERSHIPS = {
    "district.admin": (MembershipRole.DISTRICT_ADMIN, "Harare Metropolitan Schools", None),
    "registrar": (MembershipRole.REGISTRAR, "Harare Metropolitan Schools", "HGS"),
    "class.teacher": (MembershipRole.CLASS_TEACHER, "Harare Metropolitan Schools", "HGS"),
    "viewer": (MembershipRole.VIEWER, "Harare Metropolitan Schools", None),
    "other.registrar": (MembershipRole.REGISTRAR, "Bulawayo City Schools", "NPS"),
}


def test_each_persona_has_its_membership(seeded):
    for username, (role, district, school) in PERSONA_MEMBERSHIPS.items():
        user = get_user_model().objects.get(username=username)
        assert not user.is_superuser and not user.is_staff, username
        membership = Membership.objects.select_related("district", "school").get(user=user)
        assert membership.role == role, username
        assert membership.district.name == district, username
        assert (membership.school.code if membership.school else None) == school, username


def test_admin_is_a_superuser_and_the_class_teacher_is_on_the_roster(seeded):
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert not Membership.objects.filter(user=admin).exists()

    teacher = Person.objects.get(user__username="class.teacher")
    assert (teacher.given_name, teacher.family_name, teacher.role) == ("Tendai", "Moyo", PersonRole.TEACHER)
    enrollment = Enrollment.objects.get(person=teacher, role=EnrollmentRole.TEACHER, primary=True)
    assert enrollment.class_division.name == "Form 1A"
    assert enrollment.class_division.school.code == "HGS"


def test_tenancy_is_visible_in_the_demo(seeded):
    users = {u.username: u for u in get_user_model().objects.all()}
    assert set(School.objects.for_user(users["other.registrar"]).values_list("code", flat=True)) == {"NPS"}
    assert set(School.objects.for_user(users["registrar"]).values_list("code", flat=True)) == {"HGS"}
    assert School.objects.for_user(users["district.admin"]).count() == 3
    assert School.objects.for_user(users["admin"]).count() == 4


def test_every_demo_login_works_with_the_demo_password(seeded):
    for username in ("admin", *PERSONA_MEMBERSHIPS):
        client = Client()
        response = client.post(reverse("login"), {"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 302, username
        assert response["Location"] == reverse("dashboard")
        assert client.get(reverse("dashboard")).status_code == 200, username


def test_wrong_password_is_refused(seeded, client):
    response = client.post(reverse("login"), {"username": "registrar", "password": "not-the-password"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_other_apps_add_their_demo_data_through_a_demo_module(db, monkeypatch):
    """An app's ``demo.seed(demo)`` runs after the roster sections, with their objects at hand."""
    from rostering.management.commands import seed_demo

    seen = {}

    def seed(demo):
        seen["school"] = demo.schools["HGS"].name
        seen["class"] = demo.classes["HGS", "Form 1A"].grade_level.name
        seen["term"] = [t.name for t in demo.terms["harare", 2026]]
        demo.note("Registration sessions: 2 created.")

    monkeypatch.setattr(seed_demo, "app_seeders", lambda: [("registrations", seed)])
    output = _seed()
    assert seen == {
        "school": "Highfield Government Secondary School",
        "class": "Form 1",
        "term": ["Term 1 2026", "Term 2 2026", "Term 3 2026"],
    }
    assert "Registration sessions: 2 created." in output


def test_app_seeders_finds_demo_modules_of_installed_apps():
    from django.apps import apps

    from rostering.management.commands.seed_demo import app_seeders

    found = dict(app_seeders())
    assert "rostering" not in found
    for label, seed in found.items():
        assert apps.get_app_config(label).name == seed.__module__.removesuffix(".demo")
