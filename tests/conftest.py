"""Shared fixtures: a small district with two schools, another district, and the personas of DESIGN.md.

Personas (every endpoint is checked against all of them):
- ``district_admin``  — district-wide admin of ``district``
- ``registrar``       — registrar of ``school_a``
- ``class_teacher``   — class teacher of ``class_6a`` (linked Person enrolled as its teacher)
- ``viewer``          — district-wide viewer
- ``other_registrar`` — registrar of a school in ``other_district``
"""

import os
from dataclasses import dataclass

import pytest
from django.http import HttpRequest
from django.test import Client
from rest_framework.test import APIClient

from rostering.choices import MembershipRole, PersonRole
from rostering.services import api_token_create
from tests.rostering import factories as f

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@dataclass
class World:
    district: object
    school_a: object
    school_b: object
    other_district: object
    other_school: object
    year: object
    grade6: object
    grade7: object
    class_6a: object
    class_6b: object
    class_7a: object
    other_class: object
    district_admin: object
    registrar: object
    class_teacher: object
    viewer: object
    other_registrar: object
    superuser: object

    @property
    def personas(self) -> dict:
        return {
            "district_admin": self.district_admin,
            "registrar": self.registrar,
            "class_teacher": self.class_teacher,
            "viewer": self.viewer,
            "other_registrar": self.other_registrar,
        }


@pytest.fixture
def world(db) -> World:
    district = f.DistrictFactory(name="Harare Metropolitan Schools")
    school_a = f.SchoolFactory(district=district, name="Avondale Primary", code="AVP")
    school_b = f.SchoolFactory(district=district, name="Borrowdale High", code="BRH")
    other_district = f.DistrictFactory(name="Bulawayo Schools")
    other_school = f.SchoolFactory(district=other_district, name="Hillside Primary", code="HSP")
    year = f.AcademicSessionFactory(district=district, name="2026")
    grade6 = f.GradeLevelFactory(district=district, code="06", name="Grade 6", rank=6)
    grade7 = f.GradeLevelFactory(district=district, code="07", name="Grade 7", rank=7)
    other_grade = f.GradeLevelFactory(district=other_district, code="06", name="Grade 6", rank=6)
    class_6a = f.ClassDivisionFactory(school=school_a, grade_level=grade6, name="6A", academic_session=year)
    class_6b = f.ClassDivisionFactory(school=school_a, grade_level=grade6, name="6B", academic_session=year)
    class_7a = f.ClassDivisionFactory(school=school_b, grade_level=grade7, name="7A", academic_session=year)
    other_class = f.ClassDivisionFactory(school=other_school, grade_level=other_grade, name="6A")

    def member(username, role, district_, school=None, **user_kwargs):
        user = f.UserFactory(username=username, **user_kwargs)
        f.MembershipFactory(user=user, district=district_, school=school, role=role)
        return user

    district_admin = member("dadmin", MembershipRole.DISTRICT_ADMIN, district)
    registrar = member("registrar_a", MembershipRole.REGISTRAR, district, school_a)
    class_teacher = member("teacher_6a", MembershipRole.CLASS_TEACHER, district, school_a)
    teacher_person = f.PersonFactory(
        district=district, school=school_a, role=PersonRole.TEACHER, user=class_teacher,
        given_name="Tendai", family_name="Moyo", date_of_birth=None,
    )
    f.EnrollmentFactory(class_division=class_6a, person=teacher_person, role="teacher", primary=True)
    viewer = member("viewer", MembershipRole.VIEWER, district)
    other_registrar = member("other_registrar", MembershipRole.REGISTRAR, other_district, other_school)
    superuser = f.UserFactory(username="root", is_superuser=True, is_staff=True)
    return World(
        district=district, school_a=school_a, school_b=school_b, other_district=other_district,
        other_school=other_school, year=year, grade6=grade6, grade7=grade7, class_6a=class_6a,
        class_6b=class_6b, class_7a=class_7a, other_class=other_class, district_admin=district_admin,
        registrar=registrar, class_teacher=class_teacher, viewer=viewer, other_registrar=other_registrar,
        superuser=superuser,
    )


class SignInClient(Client):
    """Django's test client, whose ``login()`` passes a request to ``authenticate()``.

    The sign-in lockout (django-axes' ``AxesStandaloneBackend``, first in ``AUTHENTICATION_BACKENDS``) watches
    every password check and needs the request it came with; Django's ``Client.login()`` calls
    ``authenticate()`` without one. The lockout stays fully on: failed ``login()`` calls count like failed
    sign-ins from 127.0.0.1.
    """

    def login(self, **credentials):
        if "request" not in credentials:
            request = HttpRequest()
            request.META.update({"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": "Django test client"})
            credentials["request"] = request
        return super().login(**credentials)


@pytest.fixture
def client():
    """pytest-django's ``client``, with a ``login()`` that the sign-in lockout accepts."""
    return SignInClient()


@pytest.fixture
def api_client_for(db):
    """``api_client_for(user)`` → an APIClient authenticating with a real bearer token of that user."""

    def make(user) -> APIClient:
        client = APIClient()
        if user is not None:
            _token, raw = api_token_create(user=user, name="tests")
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    return make


@pytest.fixture
def client_for(client):
    """``client_for(user)`` → the Django test client logged in as that user (session auth, CSRF on)."""

    def make(user):
        client.force_login(user)
        return client

    return make


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters live in the cache: every test starts with a clean one."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
