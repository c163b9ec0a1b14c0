"""The native rostering API (/api/v1/rostering/): personas × every endpoint, query counts, bad input.

Rules under test (DESIGN.md, Tenancy and permissions):
- objects outside the persona's districts/schools are invisible: 404 on retrieve/update/delete, absent from lists,
  and their ids are a 400 "Invalid pk" in a request body;
- a member who may change roster data nowhere (viewer, class teacher) gets 403 on every write;
- a registrar of school A writes in school A only (district-level objects and school B: 403 / 404 / 400);
- bad input is a 400 in the one error format and writes nothing.
"""

import datetime
import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from rostering.models import (
    AcademicSession,
    ClassDivision,
    District,
    Enrollment,
    GradeLevel,
    Person,
    School,
    Subject,
)
from rostering.services import api_token_create, api_token_revoke
from tests.hostile import HOSTILE
from tests.rostering import factories as f

pytestmark = pytest.mark.django_db

RESOURCES = {
    "schools": ("school", School),
    "academic-sessions": ("academic-session", AcademicSession),
    "grade-levels": ("grade-level", GradeLevel),
    "subjects": ("subject", Subject),
    "class-divisions": ("class-division", ClassDivision),
    "people": ("person", Person),
    "enrollments": ("enrollment", Enrollment),
}

# persona → (their district, their school or None for district-wide, may change roster data)
PERSONAS = {
    "district_admin": ("district", None, True),
    "registrar": ("district", "school_a", True),
    "class_teacher": ("district", "school_a", False),
    "viewer": ("district", None, False),
    "other_registrar": ("other_district", "other_school", True),
}


def list_url(resource: str) -> str:
    return reverse(f"rostering-api:{RESOURCES[resource][0]}-list")


def detail_url(resource: str, pk) -> str:
    return reverse(f"rostering-api:{RESOURCES[resource][0]}-detail", args=[pk])


def counts() -> dict:
    return {name: model.objects.count() for name, (_basename, model) in RESOURCES.items()}


def assert_error(response, status: int, code: str | None = None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) >= {"detail", "code"}, body
    assert isinstance(body["detail"], str) and body["detail"]
    if code is not None:
        assert body["code"] == code, body
    return body


# --- The objects every persona is checked against -------------------------------------------------


@pytest.fixture
def placed(world):
    """resource → {key: (object, its school or None)}; keys: a (school A), b (school B), d (district-level),
    other (another district)."""
    w = world
    return {
        "schools": {
            "a": (w.school_a, w.school_a), "b": (w.school_b, w.school_b), "other": (w.other_school, w.other_school),
        },
        "academic-sessions": {
            "a": (f.AcademicSessionFactory(district=w.district, school=w.school_a, name="AVP year"), w.school_a),
            "b": (f.AcademicSessionFactory(district=w.district, school=w.school_b, name="BRH year"), w.school_b),
            "d": (w.year, None),
            "other": (f.AcademicSessionFactory(district=w.other_district, name="Bulawayo 2026"), None),
        },
        "grade-levels": {
            "a": (f.GradeLevelFactory(district=w.district, school=w.school_a, code="05", name="Grade 5"), w.school_a),
            "b": (f.GradeLevelFactory(district=w.district, school=w.school_b, code="08", name="Form 1"), w.school_b),
            "d": (f.GradeLevelFactory(district=w.district, code="09", name="Form 2", rank=9), None),
            "other": (f.GradeLevelFactory(district=w.other_district, code="07", name="Grade 7"), None),
        },
        "subjects": {
            "d": (f.SubjectFactory(district=w.district, code="MATH", name="Mathematics"), None),
            "other": (f.SubjectFactory(district=w.other_district, code="MATH", name="Maths"), None),
        },
        "class-divisions": {
            "a": (w.class_6b, w.school_a), "b": (w.class_7a, w.school_b), "other": (w.other_class, w.other_school),
        },
        "people": {
            "a": (f.PersonFactory(district=w.district, school=w.school_a), w.school_a),
            "b": (f.PersonFactory(district=w.district, school=w.school_b), w.school_b),
            "d": (f.PersonFactory(district=w.district, school=None, role="administrator"), None),
            "other": (f.PersonFactory(district=w.other_district, school=w.other_school), w.other_school),
        },
        "enrollments": {
            "a": (f.EnrollmentFactory(class_division=w.class_6b), w.school_a),
            "b": (f.EnrollmentFactory(class_division=w.class_7a), w.school_b),
            "other": (f.EnrollmentFactory(class_division=w.other_class), w.other_school),
        },
    }


def scope_of(world, persona: str):
    district, school, writes = PERSONAS[persona]
    return getattr(world, district), (getattr(world, school) if school else None), writes


def can_see(world, persona, obj, obj_school) -> bool:
    district, school, _writes = scope_of(world, persona)
    return obj.district_id == district.pk and (school is None or obj_school is None or obj_school == school)


def expected_write(world, persona, resource, obj, obj_school, *, success: int, delete: bool = False) -> int:
    _district, school, writes = scope_of(world, persona)
    if not writes:
        return 403  # a role that changes roster data nowhere is refused before anything is looked up
    if not can_see(world, persona, obj, obj_school):
        return 404
    if resource == "schools" and delete:
        return success if school is None else 403  # removing a school is a district-level act
    return success if school is None or obj_school == school else 403


PERSONA_NAMES = list(PERSONAS)
PLACED_CASES = [
    (resource, key)
    for resource, keys in {
        "schools": "a b other", "academic-sessions": "a b d other", "grade-levels": "a b d other",
        "subjects": "d other", "class-divisions": "a b other", "people": "a b d other", "enrollments": "a b other",
    }.items()
    for key in keys.split()
]


@pytest.mark.parametrize("persona", PERSONA_NAMES)
@pytest.mark.parametrize("resource", list(RESOURCES))
def test_list_shows_exactly_what_the_persona_may_see(world, placed, api_client_for, resource, persona):
    user = world.personas[persona]
    response = api_client_for(user).get(list_url(resource), {"page_size": 200})
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    listed = {row["id"] for row in body["results"]}
    for key, (obj, obj_school) in placed[resource].items():
        assert (str(obj.pk) in listed) is can_see(world, persona, obj, obj_school), (resource, key)


@pytest.mark.parametrize("persona", PERSONA_NAMES)
@pytest.mark.parametrize(("resource", "key"), PLACED_CASES)
def test_retrieve_is_404_outside_reach(world, placed, api_client_for, resource, key, persona):
    obj, obj_school = placed[resource][key]
    response = api_client_for(world.personas[persona]).get(detail_url(resource, obj.pk))
    if can_see(world, persona, obj, obj_school):
        assert response.status_code == 200, response.content
        assert response.json()["id"] == str(obj.pk)
        assert response.json()["district_id"] == str(obj.district_id)
    else:
        assert_error(response, 404, "not_found")


@pytest.mark.parametrize("persona", PERSONA_NAMES)
@pytest.mark.parametrize(("resource", "key"), PLACED_CASES)
def test_update_follows_role_and_reach(world, placed, api_client_for, resource, key, persona):
    obj, obj_school = placed[resource][key]
    model = RESOURCES[resource][1]
    expected = expected_write(world, persona, resource, obj, obj_school, success=200)
    response = api_client_for(world.personas[persona]).patch(
        detail_url(resource, obj.pk), {"properties": {"checked_by": persona}}, format="json"
    )
    stored = model.objects.get(pk=obj.pk).properties
    if expected == 200:
        assert response.status_code == 200, response.content
        assert response.json()["properties"] == {"checked_by": persona}
        assert stored == {"checked_by": persona}
    else:
        assert_error(response, expected)
        assert stored == obj.properties


@pytest.mark.parametrize("persona", PERSONA_NAMES)
@pytest.mark.parametrize(("resource", "key"), PLACED_CASES)
def test_delete_follows_role_and_reach(world, placed, api_client_for, resource, key, persona):
    obj, obj_school = placed[resource][key]
    model = RESOURCES[resource][1]
    expected = expected_write(world, persona, resource, obj, obj_school, success=204, delete=True)
    response = api_client_for(world.personas[persona]).delete(detail_url(resource, obj.pk))
    if expected == 204:
        assert response.status_code == 204, response.content
        assert not model.objects.filter(pk=obj.pk).exists()
    else:
        assert_error(response, expected)
        assert model.objects.filter(pk=obj.pk).exists()


def create_payload(world, resource: str, target: str) -> dict:
    """A valid body that creates an object in school A ("a"), school B ("b") or district-wide ("d")."""
    school = {"a": world.school_a, "b": world.school_b, "d": None}[target]
    school_id = str(school.pk) if school else None
    if resource == "schools":
        return {"name": "Chisipite Junior", "code": "cjs", "grade_codes": ["01", "02"]}
    if resource == "subjects":
        return {"code": "SCI", "name": "Science", "identifiers": [{"type": "ministry_code", "value": "ZW-SCI"}]}
    if resource == "academic-sessions":
        return {
            "name": "2027", "type": "school_year", "state": "upcoming", "school_id": school_id,
            "start_date": "2027-01-11", "end_date": "2027-12-03",
        }
    if resource == "grade-levels":
        return {"school_id": school_id, "code": "04", "name": "Grade 4", "rank": 4}
    if resource == "class-divisions":
        grade = world.grade6 if target == "a" else world.grade7
        return {"school_id": school_id, "grade_level_id": str(grade.pk), "name": "Z1", "capacity": 35,
                "academic_session_id": str(world.year.pk)}
    if resource == "people":
        payload = {"role": "student", "school_id": school_id, "given_name": "Rudo", "family_name": "Chikwanha",
                   "sis_id": "NEW-0001", "date_of_birth": "2014-05-02", "gender": "female",
                   "properties": {"house": "Msasa"}}
        if school is not None:
            payload["grade_level_id"] = str(world.grade6.pk)
        return payload
    if resource == "enrollments":
        person = f.PersonFactory(district=world.district, school=school)
        klass = world.class_6b if target == "a" else world.class_7a
        return {"person_id": str(person.pk), "class_division_id": str(klass.pk), "role": "student",
                "start_date": "2026-01-12"}
    raise AssertionError(resource)


CREATE_CASES = [
    (resource, target)
    for resource, targets in {
        "schools": "d", "academic-sessions": "a b d", "grade-levels": "a b d", "subjects": "d",
        "class-divisions": "a b", "people": "a b d", "enrollments": "a b",
    }.items()
    for target in targets.split()
]


def expected_create(persona: str, target: str) -> int:
    district, school, writes = PERSONAS[persona]
    if not writes:
        return 403
    if target == "d":  # no ids in the body: it lands in the persona's own district, district-wide
        return 201 if school is None else 403
    if district != "district" or (school is not None and school != f"school_{target}"):
        return 400  # the school (class, person) is out of reach: "Invalid pk"
    return 201


@pytest.mark.parametrize("persona", PERSONA_NAMES)
@pytest.mark.parametrize(("resource", "target"), CREATE_CASES)
def test_create_follows_role_and_reach(world, api_client_for, resource, target, persona):
    payload = create_payload(world, resource, target)
    before = counts()
    response = api_client_for(world.personas[persona]).post(list_url(resource), payload, format="json")
    expected = expected_create(persona, target)
    if expected == 201:
        assert response.status_code == 201, response.content
        body = response.json()
        model = RESOURCES[resource][1]
        obj = model.objects.get(pk=body["id"])
        assert body["district_id"] == str(obj.district_id)
        own_district = world.other_district if persona == "other_registrar" else world.district
        assert obj.district_id == own_district.pk
        assert counts()[resource] == before[resource] + 1
    else:
        body = assert_error(response, expected)
        if expected == 400:
            assert "Invalid pk" in str(body["errors"])
        assert counts() == before


# --- Full round trips ----------------------------------------------------------------------------------


def test_district_admin_round_trip_on_a_class_division(world, api_client_for):
    api = api_client_for(world.district_admin)
    created = api.post(list_url("class-divisions"), create_payload(world, "class-divisions", "b"), format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["school_id"] == str(world.school_b.pk)
    assert body["school_name"] == "Borrowdale High"
    assert body["grade_level_name"] == "Grade 7"
    assert body["district_id"] == str(world.district.pk)
    url = detail_url("class-divisions", body["id"])

    replaced = api.put(url, {"school_id": str(world.school_b.pk), "grade_level_id": str(world.grade7.pk),
                             "name": "7Z", "capacity": 30}, format="json")
    assert replaced.status_code == 200, replaced.content
    assert replaced.json()["name"] == "7Z"
    assert replaced.json()["academic_session_id"] == str(world.year.pk)  # PUT leaves optional fields alone

    moved = api.patch(url, {"school_id": str(world.school_a.pk), "grade_level_id": str(world.grade6.pk)}, format="json")
    assert moved.status_code == 200, moved.content
    klass = ClassDivision.objects.get(pk=body["id"])
    assert (klass.school, klass.grade_level, klass.name, klass.capacity) == (world.school_a, world.grade6, "7Z", 30)

    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404


def test_school_codes_are_stored_upper_case_and_listed_with_filters(world, api_client_for):
    api = api_client_for(world.district_admin)
    response = api.post(list_url("schools"), create_payload(world, "schools", "d"), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["code"] == "CJS"
    assert response.json()["grade_codes"] == ["01", "02"]
    found = api.get(list_url("schools"), {"q": "chisip"}).json()
    assert [row["code"] for row in found["results"]] == ["CJS"]
    ordered = api.get(list_url("schools"), {"ordering": "-code"}).json()
    assert [row["code"] for row in ordered["results"]] == ["CJS", "BRH", "AVP"]


def test_list_filters_by_related_ids(world, api_client_for):
    api = api_client_for(world.district_admin)
    body = api.get(list_url("class-divisions"), {"school_id": str(world.school_a.pk)}).json()
    assert {row["name"] for row in body["results"]} == {"6A", "6B"}
    teacher_rows = api.get(list_url("enrollments"), {"class_division_id": str(world.class_6a.pk)}).json()
    assert [(row["person_name"], row["role"]) for row in teacher_rows["results"]] == [("Tendai Moyo", "teacher")]
    people = api.get(list_url("people"), {"class_division_id": str(world.class_6a.pk)}).json()
    assert [row["full_name"] for row in people["results"]] == ["Tendai Moyo"]


def test_school_year_created_with_terms_lists_them_as_children(world, api_client_for):
    api = api_client_for(world.district_admin)
    payload = {
        **create_payload(world, "academic-sessions", "d"),
        "terms": [
            {"name": "Term 1", "start_date": "2027-01-11", "end_date": "2027-04-09"},
            {"name": "Term 2", "start_date": "2027-05-10", "end_date": "2027-08-06", "state": "upcoming"},
            {"name": "Term 3", "start_date": "2027-09-06", "end_date": "2027-12-03"},
        ],
    }
    response = api.post(list_url("academic-sessions"), payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert [child["name"] for child in body["children"]] == ["Term 1", "Term 2", "Term 3"]
    assert "terms" not in body
    year = AcademicSession.objects.get(pk=body["id"])
    assert set(year.children.values_list("type", flat=True)) == {"term"}
    detail = api.get(detail_url("academic-sessions", year.pk)).json()
    assert [c["start_date"] for c in detail["children"]] == ["2027-01-11", "2027-05-10", "2027-09-06"]
    terms = api.get(list_url("academic-sessions"), {"parent_id": str(year.pk)}).json()
    assert terms["count"] == 3


def test_children_only_show_sessions_the_user_may_see(world, api_client_for):
    f.TermFactory(district=world.district, parent=world.year, school=world.school_b, name="BRH term")
    f.TermFactory(district=world.district, parent=world.year, school=world.school_a, name="AVP term")
    detail = api_client_for(world.registrar).get(detail_url("academic-sessions", world.year.pk)).json()
    assert [c["name"] for c in detail["children"]] == ["AVP term"]


def test_user_of_several_districts_names_the_district_of_district_level_objects(world, api_client_for):
    f.MembershipFactory(user=world.district_admin, district=world.other_district, school=None, role="district_admin")
    api = api_client_for(world.district_admin)
    payload = create_payload(world, "subjects", "d")
    before = counts()
    missing = api.post(list_url("subjects"), payload, format="json")
    assert "several districts" in assert_error(missing, 400, "invalid")["errors"]["district_id"][0]
    stranger = api.post(list_url("subjects"), {**payload, "district_id": str(f.DistrictFactory().pk)}, format="json")
    assert "Invalid pk" in assert_error(stranger, 400)["errors"]["district_id"][0]
    assert counts() == before
    chosen = api.post(list_url("subjects"), {**payload, "district_id": str(world.other_district.pk)}, format="json")
    assert chosen.status_code == 201, chosen.content
    assert Subject.objects.get(pk=chosen.json()["id"]).district == world.other_district


def test_district_id_must_match_the_school_and_cannot_change(world, api_client_for):
    f.MembershipFactory(user=world.district_admin, district=world.other_district, school=None, role="district_admin")
    api = api_client_for(world.district_admin)
    before = counts()
    payload = {**create_payload(world, "people", "a"), "district_id": str(world.other_district.pk)}
    mismatch = api.post(list_url("people"), payload, format="json")
    assert "not the district of the given school" in assert_error(mismatch, 400)["errors"]["district_id"][0]
    person = f.PersonFactory(district=world.district, school=world.school_a)
    moved = api.patch(detail_url("people", person.pk), {"district_id": str(world.other_district.pk)}, format="json")
    assert "cannot be changed" in assert_error(moved, 400)["errors"]["district_id"][0]
    assert counts() == {**before, "people": before["people"] + 1}
    person.refresh_from_db()
    assert person.district == world.district


def test_registrar_cannot_move_things_out_of_their_school(world, api_client_for):
    api = api_client_for(world.registrar)
    person = f.PersonFactory(district=world.district, school=world.school_a)
    to_district = api.patch(detail_url("people", person.pk), {"school_id": None}, format="json")
    assert_error(to_district, 403, "permission_denied")
    to_b = api.patch(detail_url("class-divisions", world.class_6a.pk), {"school_id": str(world.school_b.pk)},
                     format="json")
    assert "Invalid pk" in assert_error(to_b, 400)["errors"]["school_id"][0]
    person.refresh_from_db()
    world.class_6a.refresh_from_db()
    assert person.school == world.school_a and world.class_6a.school == world.school_a


def test_superuser_sees_every_district(world, api_client_for):
    api = api_client_for(world.superuser)
    assert api.get(list_url("schools")).json()["count"] == 3
    assert api.get(detail_url("class-divisions", world.other_class.pk)).status_code == 200
    assert api.get(reverse("rostering-api:district-list")).json()["count"] == 2


# --- Districts (read-only) --------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONA_NAMES)
def test_districts_are_read_only_and_limited_to_memberships(world, api_client_for, persona):
    api = api_client_for(world.personas[persona])
    own = world.other_district if persona == "other_registrar" else world.district
    stranger = world.district if persona == "other_registrar" else world.other_district
    body = api.get(reverse("rostering-api:district-list")).json()
    assert [row["id"] for row in body["results"]] == [str(own.pk)]
    assert api.get(reverse("rostering-api:district-detail", args=[own.pk])).json()["name"] == own.name
    assert_error(api.get(reverse("rostering-api:district-detail", args=[stranger.pk])), 404, "not_found")
    assert_error(api.post(reverse("rostering-api:district-list"), {"name": "X"}, format="json"), 405)
    assert_error(api.patch(reverse("rostering-api:district-detail", args=[own.pk]), {"name": "X"}, format="json"), 405)
    assert_error(api.delete(reverse("rostering-api:district-detail", args=[own.pk])), 405)
    assert District.objects.get(pk=own.pk).name == own.name


# --- Query counts: constant whatever the page size ------------------------------------------------


@pytest.fixture
def crowded(world):
    """Twelve more rows of every resource in school A (so the registrar sees them too), each with its own
    related rows, and twelve more schools."""
    w = world
    codes = ["KG", "01", "02", "03", "04", "05", "08", "09", "10", "11", "12", "13"]
    for n, code in enumerate(codes):
        f.SchoolFactory(district=w.district)
        year = f.AcademicSessionFactory(district=w.district, school=w.school_a, name=f"Year {n}")
        f.TermFactory(district=w.district, parent=year, school=w.school_a, name=f"Term {n}")
        grade = f.GradeLevelFactory(district=w.district, school=w.school_a, code=code, name=f"Level {code}")
        f.SubjectFactory(district=w.district)
        klass = f.ClassDivisionFactory(school=w.school_a, grade_level=grade, academic_session=year, name=f"C{n}")
        person = f.PersonFactory(district=w.district, school=w.school_a, grade_level=grade)
        f.EnrollmentFactory(class_division=klass, person=person)
    return w


@pytest.mark.parametrize("persona", ["district_admin", "registrar"])
@pytest.mark.parametrize("basename", [*(b for b, _m in RESOURCES.values()), "district"])
def test_list_query_count_does_not_grow_with_page_size(crowded, api_client_for, django_assert_max_num_queries,
                                                      basename, persona):
    api = api_client_for(crowded.personas[persona])
    url = reverse(f"rostering-api:{basename}-list")
    api.get(url)  # warm up: the token's last-used time is written once
    with CaptureQueriesContext(connection) as small:
        rows_small = api.get(url, {"page_size": 5}).json()["results"]
    with django_assert_max_num_queries(len(small.captured_queries)):
        rows_large = api.get(url, {"page_size": 50}).json()["results"]
    assert len(small.captured_queries) <= 5  # token, memberships, count, page (+ the children prefetch)
    if basename != "district" and not (basename == "school" and persona == "registrar"):
        assert len(rows_small) == 5 and len(rows_large) > 10


# --- Bad input: a clear 400, nothing written -----------------------------------------------------


@pytest.fixture
def admin_api(world, api_client_for):
    return api_client_for(world.district_admin)


def test_end_before_start_is_refused(world, admin_api):
    before = counts()
    payload = {**create_payload(world, "academic-sessions", "d"), "start_date": "2027-06-01", "end_date": "2027-01-01"}
    body = assert_error(admin_api.post(list_url("academic-sessions"), payload, format="json"), 400, "invalid")
    assert body["errors"]["end_date"] == ["The end date must be after the start date."]
    enrollment = {**create_payload(world, "enrollments", "a"), "start_date": "2026-05-01", "end_date": "2026-04-01"}
    before = counts()
    body = assert_error(admin_api.post(list_url("enrollments"), enrollment, format="json"), 400)
    assert "end_date" in body["errors"]
    assert counts() == before


def test_term_outside_its_year_is_refused(world, admin_api):
    before = counts()
    payload = {"name": "Term 9", "type": "term", "parent_id": str(world.year.pk),
               "start_date": "2025-11-01", "end_date": "2026-02-01"}
    body = assert_error(admin_api.post(list_url("academic-sessions"), payload, format="json"), 400)
    assert "must lie inside its year" in body["errors"]["start_date"][0]
    assert counts() == before


def test_year_with_a_bad_term_writes_nothing(world, admin_api):
    before = counts()
    payload = {
        **create_payload(world, "academic-sessions", "d"),
        "terms": [
            {"name": "Term 1", "start_date": "2027-01-11", "end_date": "2027-04-09"},
            {"name": "Term 2", "start_date": "2027-11-01", "end_date": "2028-02-01"},
        ],
    }
    body = assert_error(admin_api.post(list_url("academic-sessions"), payload, format="json"), 400)
    assert "must lie inside its year" in body["errors"]["end_date"][0]
    assert counts() == before


def test_terms_only_when_creating_a_school_year(world, admin_api):
    before = counts()
    term = {"name": "Term 1", "start_date": "2026-01-12", "end_date": "2026-04-01"}
    payload = {"name": "Semester 1", "type": "semester", "parent_id": str(world.year.pk),
               "start_date": "2026-01-12", "end_date": "2026-06-30", "terms": [term]}
    body = assert_error(admin_api.post(list_url("academic-sessions"), payload, format="json"), 400)
    assert body["errors"]["terms"] == ["Only a school year can be created with terms."]
    body = assert_error(
        admin_api.patch(detail_url("academic-sessions", world.year.pk), {"terms": [term]}, format="json"), 400
    )
    assert body["errors"]["terms"] == ["Terms can only be given when creating a school year."]
    assert counts() == before


@pytest.mark.parametrize(
    ("resource", "field"),
    [
        ("class-divisions", "school_id"), ("class-divisions", "grade_level_id"),
        ("class-divisions", "academic_session_id"), ("people", "school_id"), ("people", "grade_level_id"),
        ("enrollments", "person_id"), ("enrollments", "class_division_id"), ("academic-sessions", "parent_id"),
        ("grade-levels", "school_id"),
    ],
)
@pytest.mark.parametrize("bad", ["unknown", "other_district", "not_a_uuid"])
def test_unknown_or_foreign_ids_are_400(world, admin_api, resource, field, bad):
    other_ids = {
        "school_id": world.other_school.pk, "grade_level_id": GradeLevel.objects.get(district=world.other_district).pk,
        "academic_session_id": f.AcademicSessionFactory(district=world.other_district).pk,
        "parent_id": f.AcademicSessionFactory(district=world.other_district).pk,
        "person_id": f.PersonFactory(district=world.other_district).pk,
        "class_division_id": world.other_class.pk,
    }
    value = {"unknown": str(uuid.uuid4()), "other_district": str(other_ids[field]), "not_a_uuid": "AVP"}[bad]
    target = "d" if resource in {"academic-sessions", "grade-levels"} else "a"
    payload = create_payload(world, resource, target)
    if resource == "academic-sessions":
        payload.update(type="term", start_date="2026-02-01", end_date="2026-03-01")
    payload[field] = value
    before = counts()
    body = assert_error(admin_api.post(list_url(resource), payload, format="json"), 400, "invalid")
    message = body["errors"][field][0]
    assert ("Invalid pk" in message) if bad != "not_a_uuid" else ("valid UUID" in message)
    assert counts() == before


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_malformed_json_is_400(world, admin_api, resource):
    before = counts()
    response = admin_api.generic("POST", list_url(resource), '{"name": "Broken', content_type="application/json")
    assert "Not valid JSON" in assert_error(response, 400, "parse_error")["detail"]
    response = admin_api.generic("POST", list_url(resource), "[1, 2]", content_type="application/json")
    assert_error(response, 400, "invalid")
    assert counts() == before


def test_non_json_bodies_are_refused(world, admin_api):
    response = admin_api.post(list_url("subjects"), {"code": "X", "name": "Y"}, format="multipart")
    assert_error(response, 415, "unsupported_media_type")
    assert not Subject.objects.exists()


@pytest.mark.parametrize("resource", [*RESOURCES, "districts"])
@pytest.mark.parametrize(("page_size", "message"), [("10000", "between 1 and 200"), ("0", "between 1 and 200"),
                                                    ("ten", "whole number")])
def test_bad_page_sizes_are_400(admin_api, resource, page_size, message):
    url = reverse("rostering-api:district-list") if resource == "districts" else list_url(resource)
    body = assert_error(admin_api.get(url, {"page_size": page_size}), 400, "invalid")
    assert message in body["errors"]["page_size"][0]


def test_bad_filters_and_pages(world, admin_api):
    body = assert_error(admin_api.get(list_url("class-divisions"), {"school_id": "AVP"}), 400, "invalid")
    assert "school_id" in body["errors"]
    assert_error(admin_api.get(list_url("academic-sessions"), {"type": "decade"}), 400, "invalid")
    assert_error(admin_api.get(list_url("schools"), {"page": 99}), 404, "not_found")
    assert_error(admin_api.get(detail_url("schools", "not-a-uuid")), 404, "not_found")


@pytest.mark.parametrize(
    "identifiers",
    [
        "S-1",
        [{"type": "sis_id"}],
        [{"type": "", "value": "1"}],
        [{"type": "sis_id", "value": ["1"]}],
        ["sis_id"],
        [{"type": "x", "value": str(n)} for n in range(51)],
    ],
)
def test_invalid_identifiers_shape_is_400(world, admin_api, identifiers):
    before = counts()
    payload = {**create_payload(world, "people", "a"), "identifiers": identifiers}
    body = assert_error(admin_api.post(list_url("people"), payload, format="json"), 400, "invalid")
    assert "identifiers" in body["errors"]
    assert counts() == before


@pytest.mark.parametrize(
    ("resource", "change", "field"),
    [
        ("schools", {"name": ""}, "name"),
        ("schools", {"code": "   "}, "code"),
        ("schools", {"grade_codes": ["G6"]}, "grade_codes"),
        ("schools", {"properties": ["not", "an", "object"]}, "properties"),
        ("subjects", {"name": "x" * 201}, "name"),
        ("people", {"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ("people", {"date_of_birth": "31/12/2014"}, "date_of_birth"),
        ("people", {"email": "not-an-email"}, "email"),
        ("people", {"role": "principal"}, "role"),
        ("grade-levels", {"code": "6"}, "code"),
        ("grade-levels", {"rank": -1}, "rank"),
        ("class-divisions", {"capacity": -5}, "capacity"),
        ("academic-sessions", {"type": "decade"}, "type"),
    ],
)
def test_invalid_field_values_are_400(world, admin_api, resource, change, field):
    target = "d" if resource in {"schools", "subjects", "academic-sessions"} else "a"
    before = counts()
    payload = {**create_payload(world, resource, target), **change}
    body = assert_error(admin_api.post(list_url(resource), payload, format="json"), 400, "invalid")
    assert field in body["errors"], body
    assert counts() == before


def test_duplicates_are_400(world, admin_api):
    before = counts()
    dup_code = assert_error(admin_api.post(list_url("schools"), {"name": "Avondale Two", "code": "avp"},
                                           format="json"), 400)
    assert "already exists" in dup_code["detail"]
    f.PersonFactory(district=world.district, sis_id="NEW-0001")
    before = counts()
    assert_error(admin_api.post(list_url("people"), create_payload(world, "people", "a"), format="json"), 400)
    dup_class = {**create_payload(world, "class-divisions", "a"), "name": "6A"}
    assert_error(admin_api.post(list_url("class-divisions"), dup_class, format="json"), 400)
    assert counts() == before


def test_update_errors_are_reported_under_api_field_names(world, admin_api):
    term = f.TermFactory(district=world.district, parent=world.year)
    other_year = f.AcademicSessionFactory(district=world.district, school=world.school_b, name="BRH 2026")
    f.ClassDivisionFactory(school=world.school_a, grade_level=world.grade6, name="6Q", academic_session=term)
    klass = ClassDivision.objects.get(name="6Q")
    response = admin_api.patch(detail_url("class-divisions", klass.pk), {"academic_session_id": str(other_year.pk)},
                               format="json")
    body = assert_error(response, 400)
    assert body["errors"]["academic_session_id"] == ["This academic session does not belong to the class's school."]
    klass.refresh_from_db()
    assert klass.academic_session == term


def test_deleting_a_grade_level_still_in_use_is_409(world, admin_api):
    body = assert_error(admin_api.delete(detail_url("grade-levels", world.grade6.pk)), 409, "in_use")
    assert "class divisions" in body["detail"]
    assert GradeLevel.objects.filter(pk=world.grade6.pk).exists()


# --- Authentication -------------------------------------------------------------------------------


def test_anonymous_requests_are_401(world):
    api = APIClient()
    for resource in RESOURCES:
        assert_error(api.get(list_url(resource)), 401, "not_authenticated")
    response = api.post(list_url("subjects"), {"code": "X", "name": "Y"}, format="json")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Bearer"
    assert not Subject.objects.exists()


@pytest.mark.parametrize("header", ["Bearer sst_not-a-real-token", "Bearer", "Bearer a b", "Bearer nope"])
def test_bad_bearer_tokens_are_401(world, header):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=header)
    assert_error(api.get(list_url("schools")), 401, "authentication_failed")


def test_session_auth_works_and_needs_csrf_for_writes(world):
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(world.district_admin)
    listed = api.get(list_url("schools"))
    assert listed.status_code == 200
    refused = api.post(list_url("subjects"), {"code": "SCI", "name": "Science"}, format="json")
    assert "CSRF" in assert_error(refused, 403, "permission_denied")["detail"]
    assert not Subject.objects.exists()
    token = get_random_string(32)  # what Django puts in the csrftoken cookie
    api.cookies["csrftoken"] = token
    accepted = api.post(list_url("subjects"), {"code": "SCI", "name": "Science"}, format="json",
                        HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201, accepted.content


def test_dates_in_responses_are_iso(world, admin_api):
    body = admin_api.get(detail_url("academic-sessions", world.year.pk)).json()
    assert body["start_date"] == "2026-01-12"
    assert datetime.datetime.fromisoformat(body["created_date"])


def test_bearer_token_authenticates_as_its_user(world, api_client_for):
    body = api_client_for(world.registrar).get(reverse("rostering-api:school-list")).json()
    assert [row["code"] for row in body["results"]] == ["AVP"]


def test_revoked_expired_and_inactive_users_tokens_are_401(world):
    revoked, raw_revoked = api_token_create(user=world.district_admin, name="Old")
    api_token_revoke(token=revoked, actor=world.district_admin)
    _expired, raw_expired = api_token_create(user=world.district_admin, name="Expired",
                                             expires_at=timezone.now() - datetime.timedelta(seconds=1))
    _inactive, raw_inactive = api_token_create(user=world.viewer, name="Viewer")
    world.viewer.is_active = False
    world.viewer.save()
    for raw in (raw_revoked, raw_expired, raw_inactive):
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert_error(api.get(list_url("schools")), 401, "authentication_failed")
        assert_error(api.post(list_url("subjects"), {"code": "X", "name": "Y"}, format="json"), 401)
    assert not Subject.objects.exists()


def test_bearer_writes_need_no_csrf_token(world):
    _token, raw = api_token_create(user=world.district_admin, name="Sync")
    api = APIClient(enforce_csrf_checks=True)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = api.post(list_url("subjects"), {"code": "SCI", "name": "Science"}, format="json")
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    ("resource", "change", "field"),
    [
        ("people", {"identifiers": None}, "identifiers"),
        ("people", {"properties": None}, "properties"),
        ("people", {"given_name": "Ru\x00do"}, "given_name"),
        ("people", {"sis_id": 42.5}, None),
        ("schools", {"grade_codes": None}, "grade_codes"),
        ("class-divisions", {"capacity": 2**40}, "capacity"),
        ("class-divisions", {"school_id": None}, "school_id"),
        ("class-divisions", {"school_id": 7}, "school_id"),
        ("grade-levels", {"rank": 40000}, "rank"),
        ("academic-sessions", {"start_date": "2027-02-30"}, "start_date"),
        ("academic-sessions", {"name": None}, "name"),
        ("enrollments", {"primary": "perhaps"}, "primary"),
    ],
)
def test_odd_values_are_400_never_500(world, admin_api, resource, change, field):
    target = "d" if resource in {"schools", "academic-sessions", "grade-levels"} else "a"
    payload = {**create_payload(world, resource, target), **change}
    before = counts()
    response = admin_api.post(list_url(resource), payload, format="json")
    if field is None:  # accepted after coercion
        assert response.status_code == 201, response.content
        return
    assert field in assert_error(response, 400, "invalid")["errors"]
    assert counts() == before


@pytest.mark.parametrize(
    ("resource", "params"),
    [
        ("people", {"q": "Ru\x00do"}),
        ("people", {"sis_id": "S\x00"}),
        ("schools", {"code": "\x00"}),
        ("enrollments", {"role": "principal"}),
        ("academic-sessions", {"starts_after": "yesterday"}),
    ],
)
def test_odd_filter_values_are_400(world, admin_api, resource, params):
    assert_error(admin_api.get(list_url(resource), params), 400, "invalid")


@pytest.mark.parametrize("page", ["0", "abc", "-1"])
def test_odd_pages_are_404(world, admin_api, page):
    assert_error(admin_api.get(list_url("schools"), {"page": page}), 404, "not_found")


# --- hostile values in the free-form JSON fields -------------------------------------------------------------


@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(field=st.sampled_from(["identifiers", "properties", "name", "code"]), value=HOSTILE)
def test_school_json_fields_take_anything_and_store_only_what_fits(world, admin_api, field, value):
    before = counts()
    body = json.dumps({"name": "Fuzz High", "code": "FZH", field: value})
    response = admin_api.generic("POST", list_url("schools"), body.encode("utf-8", "surrogatepass"),
                                 content_type="application/json")
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        assert response.status_code in (400, 413) and counts() == before
    else:
        school = School.objects.get(pk=response.json()["id"])
        assert len(json.dumps(school.properties)) <= 64 * 1024 and len(json.dumps(school.identifiers)) <= 16 * 1024
        school.delete()
