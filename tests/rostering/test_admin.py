"""Django admin for roster data: superuser only, constant queries per changelist, writes through services."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rostering.choices import MembershipRole, SessionType
from rostering.models import (
    AcademicSession,
    ApiToken,
    ClassDivision,
    Enrollment,
    GradeLevel,
    Membership,
    School,
    Subject,
)
from rostering.services import api_token_create
from tests.rostering import factories as f

pytestmark = pytest.mark.django_db

EXTRA_ROWS = 55  # more than one admin page (50)


def _grow(model_name: str, world) -> str:
    """Add a page and a bit of rows of one model; returns a label that must show on the first page."""
    d = world.district
    if model_name == "district":
        for n in range(EXTRA_ROWS):
            f.DistrictFactory(name=f"Grown district {n:02d}")
        return "Grown district 00"
    if model_name == "school":
        for n in range(EXTRA_ROWS):
            f.SchoolFactory(district=d, name=f"Grown school {n:02d}", code=f"GS{n:02d}")
        return "Grown school 00"
    if model_name == "academicsession":
        for n in range(EXTRA_ROWS):
            f.TermFactory(district=d, parent=world.year, name=f"Grown term {n:02d}")
        return "Grown term"
    if model_name == "gradelevel":
        for n in range(EXTRA_ROWS):
            f.GradeLevelFactory(district=f.DistrictFactory(), name=f"Grown grade {n:02d}", rank=n)
        return "Grown grade 00"
    if model_name == "subject":
        for n in range(EXTRA_ROWS):
            f.SubjectFactory(district=d, name=f"Grown subject {n:02d}")
        return "Grown subject 00"
    if model_name == "classdivision":
        for n in range(EXTRA_ROWS):
            f.ClassDivisionFactory(
                school=world.school_b,
                grade_level=world.grade7,
                academic_session=world.year,
                name=f"7G{n:02d}",
            )
        return "7G00"
    if model_name == "person":
        for n in range(EXTRA_ROWS):
            f.PersonFactory(
                district=d, school=world.school_a, grade_level=world.grade6, family_name=f"Aaron{n:02d}"
            )
        return "Aaron00"
    if model_name == "enrollment":
        for n in range(EXTRA_ROWS):
            f.EnrollmentFactory(class_division=world.class_6a, person__family_name=f"Abel{n:02d}")
        return "Abel"
    if model_name == "membership":
        for n in range(EXTRA_ROWS):
            f.MembershipFactory(
                user=f.UserFactory(username=f"grown{n:02d}"), district=d, role=MembershipRole.VIEWER
            )
        return "grown"
    if model_name == "apitoken":
        for n in range(EXTRA_ROWS):
            api_token_create(user=world.viewer if n % 2 else world.registrar, name=f"Grown token {n:02d}")
        return "Grown token"
    if model_name == "user":
        for n in range(EXTRA_ROWS):
            f.UserFactory(username=f"aaa-grown-{n:02d}")
        return "aaa-grown-00"
    raise AssertionError(model_name)


CHANGELISTS = [
    ("rostering", "district"),
    ("rostering", "school"),
    ("rostering", "academicsession"),
    ("rostering", "gradelevel"),
    ("rostering", "subject"),
    ("rostering", "classdivision"),
    ("rostering", "person"),
    ("rostering", "enrollment"),
    ("rostering", "membership"),
    ("rostering", "apitoken"),
    ("auth", "user"),
]


@pytest.mark.parametrize(("app_label", "model_name"), CHANGELISTS)
def test_changelist_queries_do_not_grow_with_rows(client, world, app_label, model_name):
    api_token_create(user=world.registrar, name="Existing token")
    client.force_login(world.superuser)
    url = reverse(f"admin:{app_label}_{model_name}_changelist")

    with CaptureQueriesContext(connection) as few:
        response = client.get(url)
    assert response.status_code == 200

    label = _grow(model_name, world)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.status_code == 200
    assert label in response.content.decode()
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    assert len(many) <= 12


@pytest.mark.parametrize(("app_label", "model_name"), CHANGELISTS)
def test_changelist_search_and_add_page_render(client, world, app_label, model_name):
    client.force_login(world.superuser)
    assert client.get(reverse(f"admin:{app_label}_{model_name}_changelist"), {"q": "Moyo"}).status_code == 200
    add = client.get(reverse(f"admin:{app_label}_{model_name}_add"))
    # Tokens are only ever created by their owner, so admin has no add page for them.
    assert add.status_code == (403 if model_name == "apitoken" else 200)


@pytest.mark.parametrize(
    "obj_name",
    ["district", "school_a", "year", "grade6", "class_6a", "superuser"],
)
def test_change_pages_render(client, world, obj_name):
    client.force_login(world.superuser)
    obj = getattr(world, obj_name)
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    assert client.get(url).status_code == 200


def test_person_enrollment_membership_change_pages_render(client, world):
    client.force_login(world.superuser)
    enrollment = Enrollment.objects.get(class_division=world.class_6a)
    membership = Membership.objects.get(user=world.registrar)
    subject = f.SubjectFactory(district=world.district, code="MATH", name="Mathematics")
    for obj in (enrollment, enrollment.person, membership, subject):
        url = reverse(f"admin:rostering_{obj._meta.model_name}_change", args=[obj.pk])
        assert client.get(url).status_code == 200


def test_changelist_filters_and_count_links_work(client, world):
    client.force_login(world.superuser)
    response = client.get(
        reverse("admin:rostering_school_changelist"), {"district__id__exact": world.district.pk}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Avondale Primary" in body and "Hillside Primary" not in body
    response = client.get(
        reverse("admin:rostering_enrollment_changelist"), {"class_division__id__exact": world.class_6a.pk}
    )
    assert response.status_code == 200
    assert "Tendai Moyo" in response.content.decode()
    response = client.get(reverse("admin:rostering_academicsession_changelist"), {"start_date__year": "2026"})
    assert response.status_code == 200


def test_rostering_admin_is_superuser_only(client, world):
    staff = f.UserFactory(username="staff-with-perms", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="rostering"))
    client.force_login(staff)
    assert "Rostering" not in client.get(reverse("admin:index")).content.decode()
    for _app, model_name in CHANGELISTS[:-1]:
        assert client.get(reverse(f"admin:rostering_{model_name}_changelist")).status_code == 403
    assert client.get(reverse("admin:rostering_school_change", args=[world.school_a.pk])).status_code == 403
    response = client.post(
        reverse("admin:rostering_school_add"),
        {
            "district": world.district.pk,
            "name": "Sneaky",
            "code": "SNK",
            "identifiers": "[]",
            "properties": "{}",
            "grade_codes": "[]",
        },
    )
    assert response.status_code == 403
    assert not School.objects.filter(code="SNK").exists()


def _school_form(world, **overrides):
    data = {
        "district": world.district.pk,
        "name": "Mabelreign Girls High",
        "code": "mgh",
        "address": "",
        "phone": "",
        "grade_codes": '["08", "09"]',
        "identifiers": "[]",
        "properties": "{}",
    }
    return {**data, **overrides}


def test_admin_add_and_change_go_through_validation(client, world):
    client.force_login(world.superuser)
    response = client.post(reverse("admin:rostering_school_add"), _school_form(world))
    assert response.status_code == 302, response.content.decode()[:2000]
    school = School.objects.get(district=world.district, code="MGH")  # the model's clean() upper-cased it

    duplicate = client.post(
        reverse("admin:rostering_school_add"), _school_form(world, name="Copy", code="AVP")
    )
    assert duplicate.status_code == 200
    assert "already exists" in duplicate.content.decode()
    assert not School.objects.filter(name="Copy").exists()

    url = reverse("admin:rostering_school_change", args=[school.pk])
    response = client.post(url, _school_form(world, name="Mabelreign Girls High School", code="MGH"))
    assert response.status_code == 302
    school.refresh_from_db()
    assert school.name == "Mabelreign Girls High School"


def _year_form(world, terms):
    data = {
        "district": world.district.pk,
        "school": "",
        "name": "2027",
        "type": SessionType.SCHOOL_YEAR,
        "state": "upcoming",
        "start_date": "2027-01-01",
        "end_date": "2027-12-31",
        "parent": "",
        "identifiers": "[]",
        "properties": "{}",
        "children-TOTAL_FORMS": str(len(terms)),
        "children-INITIAL_FORMS": "0",
        "children-MIN_NUM_FORMS": "0",
        "children-MAX_NUM_FORMS": "1000",
    }
    for n, (name, start, end) in enumerate(terms):
        data |= {
            f"children-{n}-name": name,
            f"children-{n}-type": SessionType.TERM,
            f"children-{n}-state": "upcoming",
            f"children-{n}-start_date": start,
            f"children-{n}-end_date": end,
        }
    return data


def test_school_year_with_terms_inline(client, world):
    client.force_login(world.superuser)
    add_page = client.get(reverse("admin:rostering_academicsession_add")).content.decode()
    assert "terms inside this session" in add_page.lower()

    terms = [("Term 1 2027", "2027-01-12", "2027-04-08"), ("Term 2 2027", "2027-05-11", "2027-08-05")]
    response = client.post(reverse("admin:rostering_academicsession_add"), _year_form(world, terms))
    assert response.status_code == 302, response.content.decode()[:3000]
    year = AcademicSession.objects.get(district=world.district, name="2027", type=SessionType.SCHOOL_YEAR)
    children = list(year.children.order_by("start_date"))
    assert [t.name for t in children] == ["Term 1 2027", "Term 2 2027"]
    assert all(t.district_id == world.district.pk and t.type == SessionType.TERM for t in children)


def test_term_outside_its_year_is_refused_and_nothing_is_written(client, world):
    client.force_login(world.superuser)
    before = AcademicSession.objects.count()
    response = client.post(
        reverse("admin:rostering_academicsession_add"),
        _year_form(world, [("Term 1 2027", "2026-11-01", "2027-02-01")]),
    )
    assert response.status_code == 200
    assert "must lie inside its year" in response.content.decode()
    assert AcademicSession.objects.count() == before

    # An invalid year with a term: the year's own errors, no crash, nothing written.
    data = _year_form(world, [("Term 1 2027", "2027-01-12", "2027-04-08")]) | {"start_date": ""}
    response = client.post(reverse("admin:rostering_academicsession_add"), data)
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert AcademicSession.objects.count() == before


def test_admin_delete_goes_through_the_service(client, world):
    client.force_login(world.superuser)
    subject = f.SubjectFactory(district=world.district, code="ART", name="Art")
    url = reverse("admin:rostering_subject_delete", args=[subject.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not Subject.objects.filter(pk=subject.pk).exists()

    # A grade level still used by classes is protected: admin lists what blocks it and deletes nothing.
    url = reverse("admin:rostering_gradelevel_delete", args=[world.grade6.pk])
    response = client.post(url, {"post": "yes"})
    assert response.status_code == 200
    assert GradeLevel.objects.filter(pk=world.grade6.pk).exists()
    assert ClassDivision.objects.filter(grade_level=world.grade6).count() == 2


def test_api_token_admin_never_shows_the_raw_token_and_revokes(client, world):
    token, raw = api_token_create(user=world.registrar, name="SIS sync")
    other, _raw = api_token_create(user=world.viewer, name="Reports")
    client.force_login(world.superuser)

    changelist = reverse("admin:rostering_apitoken_changelist")
    body = client.get(changelist).content.decode()
    assert token.hint in body and raw not in body

    change = client.get(reverse("admin:rostering_apitoken_change", args=[token.pk])).content.decode()
    assert raw not in change and token.key_hash in change
    assert 'name="_save"' not in change  # read-only page

    edit = client.post(reverse("admin:rostering_apitoken_change", args=[token.pk]), {"name": "renamed"})
    assert edit.status_code == 403

    response = client.post(
        changelist, {"action": "revoke_selected", "_selected_action": [token.pk], "index": 0}, follow=True
    )
    assert response.status_code == 200
    assert "Revoked 1 token." in response.content.decode()
    token.refresh_from_db()
    other.refresh_from_db()
    assert token.revoked_at is not None and other.revoked_at is None

    revoked_at = token.revoked_at
    response = client.post(
        changelist, {"action": "revoke_selected", "_selected_action": [token.pk], "index": 0}, follow=True
    )
    assert "already revoked" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at == revoked_at

    active = client.get(changelist, {"status": "active"}).content.decode()
    assert "Reports" in active and "SIS sync" not in active
    assert ApiToken.objects.count() == 2


def test_user_admin_shows_memberships_inline(client, world):
    client.force_login(world.superuser)
    body = client.get(reverse("admin:auth_user_change", args=[world.registrar.pk])).content.decode()
    assert "staff memberships" in body.lower()
    assert "Avondale Primary" in body


def test_membership_admin_validates_the_school_district(client, world):
    client.force_login(world.superuser)
    user = f.UserFactory(username="new-registrar")
    response = client.post(
        reverse("admin:rostering_membership_add"),
        {
            "user": user.pk,
            "district": world.district.pk,
            "school": world.other_school.pk,
            "role": "registrar",
        },
    )
    assert response.status_code == 200
    assert "another district" in response.content.decode()
    assert not Membership.objects.filter(user=user).exists()

    response = client.post(
        reverse("admin:rostering_membership_add"),
        {"user": user.pk, "district": world.district.pk, "school": world.school_b.pk, "role": "registrar"},
    )
    assert response.status_code == 302
    assert Membership.objects.get(user=user).school == world.school_b


def test_district_changelist_links_to_its_schools(client, world):
    client.force_login(world.superuser)
    body = client.get(reverse("admin:rostering_district_changelist")).content.decode()
    schools_url = reverse("admin:rostering_school_changelist")
    assert f'<a href="{schools_url}?district__id__exact={world.district.pk}">2</a>' in body
    assert f'<a href="{schools_url}?district__id__exact={world.other_district.pk}">1</a>' in body
