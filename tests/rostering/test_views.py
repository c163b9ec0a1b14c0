"""Staff roster pages and the dashboard: permissions per persona, forms, htmx partials, query counts."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rostering.choices import MembershipRole, PersonRole, SessionType
from rostering.models import AcademicSession, ClassDivision, Enrollment, GradeLevel, Person, School, Subject
from tests.rostering import factories as f

pytestmark = pytest.mark.django_db

MODELS = ["school", "academicsession", "gradelevel", "subject", "classdivision", "person", "enrollment"]
PERSONAS = ["district_admin", "registrar", "class_teacher", "viewer", "other_registrar"]


@pytest.fixture
def roster(world):
    """``world`` plus a subject, a term, a student enrolled in 6A and a few people elsewhere."""
    world.subject = f.SubjectFactory(district=world.district, code="MATH", name="Mathematics")
    world.term = f.TermFactory(district=world.district, parent=world.year, name="Term 1")
    world.student = f.PersonFactory(
        district=world.district,
        school=world.school_a,
        grade_level=world.grade6,
        given_name="Rudo",
        family_name="Chikwanha",
        sis_id="AVP-0001",
    )
    world.enrollment = f.EnrollmentFactory(
        class_division=world.class_6a, person=world.student, subject=world.subject
    )
    world.student_b = f.PersonFactory(
        district=world.district,
        school=world.school_b,
        given_name="Farai",
        family_name="Ndlovu",
        sis_id="BRH-0001",
    )
    world.other_person = f.PersonFactory(
        district=world.other_district,
        school=world.other_school,
        given_name="Sipho",
        family_name="Dube",
        sis_id="HSP-0001",
    )
    return world


def objects_of(w) -> dict:
    return {
        "school": w.school_a,
        "academicsession": w.year,
        "gradelevel": w.grade6,
        "subject": w.subject,
        "classdivision": w.class_6a,
        "person": w.student,
        "enrollment": w.enrollment,
    }


# --- every page × every persona --------------------------------------------------------------------------

# Objects in school_a or 6A the registrar of school_a may change; district-level ones it may only see.
REGISTRAR_CAN_CHANGE = {"school", "classdivision", "person", "enrollment"}
DISTRICT_LEVEL = {"school", "subject"}


def expected_status(persona: str, model: str, action: str) -> int:
    if persona == "anonymous":
        return 302
    if action == "list":
        return 200
    if action == "create":
        if persona == "district_admin":
            return 200
        if persona in ("registrar", "other_registrar"):
            return 403 if model in DISTRICT_LEVEL else 200
        return 403
    # detail / edit / delete of an object in the fixture district
    if persona == "other_registrar":
        return 404
    if action == "detail":
        return 200
    if persona == "district_admin":
        return 200
    if persona == "registrar":
        return 200 if model in REGISTRAR_CAN_CHANGE else 403
    return 403


PAGES = [(m, a) for m in MODELS for a in ("list", "create", "detail", "edit", "delete")]


@pytest.mark.parametrize("persona", [*PERSONAS, "anonymous"])
@pytest.mark.parametrize(("model", "action"), PAGES, ids=[f"{m}_{a}" for m, a in PAGES])
def test_page_status_per_persona(roster, client, persona, model, action):
    if persona != "anonymous":
        client.force_login(getattr(roster, persona))
    args = [objects_of(roster)[model].pk] if action in ("detail", "edit", "delete") else []
    url = reverse(f"rostering:{model}_{action}", args=args)
    response = client.get(url)
    assert response.status_code == expected_status(persona, model, action), url
    if persona == "anonymous":
        assert response["Location"].startswith(reverse("login"))


def test_rostering_root_is_the_school_list(world, client_for):
    response = client_for(world.viewer).get("/rostering/")
    assert response.status_code == 200
    assert reverse("rostering:school_list") == "/rostering/"
    assert "Avondale Primary" in response.text and "Borrowdale High" in response.text
    assert client_for(world.viewer).get("/rostering/schools/?q=a")["Location"] == "/rostering/?q=a"


def test_sub_navigation_marks_the_current_tab(world, client_for):
    response = client_for(world.viewer).get(reverse("rostering:person_list"))
    tabs = re.search(r'<nav class="tabs roster-tabs".*?</nav>', response.text, re.S).group(0)
    for label in (
        "Schools",
        "Academic sessions",
        "Grade levels",
        "Classes",
        "Subjects",
        "People",
        "Enrollments",
    ):
        assert f">{label}</a>" in tabs
    assert re.search(r'aria-current="page">People</a>', tabs)


def test_other_school_is_404_for_a_school_registrar(roster, client_for):
    client = client_for(roster.registrar)
    assert client.get(reverse("rostering:school_detail", args=[roster.school_b.pk])).status_code == 404
    assert client.get(reverse("rostering:classdivision_edit", args=[roster.class_7a.pk])).status_code == 404
    assert client.get(reverse("rostering:person_detail", args=[roster.student_b.pk])).status_code == 404


def test_lists_show_only_what_the_user_may_see(roster, client_for):
    text = client_for(roster.registrar).get(reverse("rostering:person_list")).text
    assert "Chikwanha" in text and "Ndlovu" not in text and "Dube" not in text
    text = client_for(roster.other_registrar).get(reverse("rostering:person_list")).text
    assert "Dube" in text and "Chikwanha" not in text


def test_buttons_are_hidden_from_read_only_users(roster, client_for):
    viewer = client_for(roster.viewer)
    assert "New person" not in viewer.get(reverse("rostering:person_list")).text
    detail = viewer.get(reverse("rostering:classdivision_detail", args=[roster.class_6a.pk])).text
    assert reverse("rostering:classdivision_edit", args=[roster.class_6a.pk]) not in detail
    assert "Add enrollment" not in detail

    registrar = client_for(roster.registrar)
    assert "New person" in registrar.get(reverse("rostering:person_list")).text
    assert "New school" not in registrar.get(reverse("rostering:school_list")).text
    detail = registrar.get(reverse("rostering:classdivision_detail", args=[roster.class_6a.pk])).text
    assert reverse("rostering:classdivision_edit", args=[roster.class_6a.pk]) in detail
    assert "Add enrollment" in detail
    # The district-wide year is visible to the registrar but not theirs to change.
    year = registrar.get(reverse("rostering:academicsession_detail", args=[roster.year.pk])).text
    assert reverse("rostering:academicsession_edit", args=[roster.year.pk]) not in year


# --- dashboard ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_dashboard_for_every_persona(roster, client_for, persona):
    response = client_for(getattr(roster, persona)).get(reverse("dashboard"))
    assert response.status_code == 200
    text = response.text
    if persona == "other_registrar":
        assert "Hillside Primary" in text and "Avondale Primary" not in text
    elif persona in ("registrar", "class_teacher"):
        assert "Avondale Primary" in text and "Borrowdale High" not in text
    else:
        assert "Avondale Primary" in text and "Borrowdale High" in text and "Hillside Primary" not in text


def test_dashboard_cards_show_current_session_and_counts(world, client_for):
    today = datetime.date.today()
    old = f.AcademicSessionFactory(
        district=world.district,
        name="Long ago",
        start_date=datetime.date(2001, 1, 8),
        end_date=datetime.date(2001, 12, 1),
    )
    current = f.AcademicSessionFactory(
        district=world.district,
        school=world.school_a,
        name="This year",
        start_date=today - datetime.timedelta(days=30),
        end_date=today + datetime.timedelta(days=200),
    )
    f.TermFactory(
        district=world.district,
        parent=current,
        school=world.school_a,
        name="Current term",
        start_date=today - datetime.timedelta(days=5),
        end_date=today + datetime.timedelta(days=20),
    )
    for _ in range(3):
        f.PersonFactory(district=world.district, school=world.school_a, role=PersonRole.STUDENT)
    f.PersonFactory(district=world.district, school=world.school_b, role=PersonRole.STUDENT)

    response = client_for(world.district_admin).get(reverse("dashboard"))
    cards = {c.school.code: c for g in response.context["overview"].districts for c in g.cards}
    assert cards["AVP"].current_session == current
    assert cards["AVP"].current_term.name == "Current term"
    assert (cards["AVP"].students, cards["AVP"].teachers, cards["AVP"].classes) == (3, 1, 2)
    assert (cards["BRH"].students, cards["BRH"].teachers, cards["BRH"].classes) == (1, 0, 1)
    # School B has no year of its own: the district-wide one covering today, or else the latest.
    assert cards["BRH"].current_session in (world.year, old)
    assert cards["BRH"].current_session != old
    group = response.context["overview"].districts[0]
    assert (group.students, group.teachers, group.classes) == (4, 1, 3)
    assert "This year" in response.text and "Current term" in response.text


def test_dashboard_empty_state_without_memberships(db, client_for):
    user = f.UserFactory(username="newcomer")
    response = client_for(user).get(reverse("dashboard"))
    assert response.status_code == 200
    assert "Ask an administrator" in response.text
    assert "school-card" not in response.text


def test_dashboard_anonymous_redirects_to_login(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_dashboard_query_count_does_not_grow_with_schools(world, client_for):
    client = client_for(world.district_admin)
    client.get(reverse("dashboard"))  # warm up the session
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("dashboard"))
    for i in range(6):
        school = f.SchoolFactory(district=world.district, code=f"X{i}")
        f.AcademicSessionFactory(district=world.district, school=school, name=f"Year {i}")
        f.ClassDivisionFactory(school=school, grade_level=world.grade6)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("dashboard"))
    assert response.context["overview"].school_count == 8
    assert len(many) == len(few)


def test_dashboard_has_no_visible_placeholder_text(world, client_for):
    text = client_for(world.district_admin).get(reverse("dashboard")).text
    assert "registration progress" not in text.lower()
    assert "TODO" not in text


# --- create / edit: happy paths and bad input ---------------------------------------------------------------


def test_district_admin_creates_a_school(world, client_for):
    response = client_for(world.district_admin).post(
        reverse("rostering:school_create"),
        {"name": "Churchill Boys High", "code": "chb", "address": "", "phone": ""},
    )
    school = School.objects.get(name="Churchill Boys High")
    assert response.status_code == 302 and response["Location"] == reverse(
        "rostering:school_detail", args=[school.pk]
    )
    assert school.district == world.district and school.code == "CHB"


def test_duplicate_school_code_is_a_form_error(world, client_for):
    before = School.objects.count()
    response = client_for(world.district_admin).post(
        reverse("rostering:school_create"), {"name": "Another Avondale", "code": "AVP"}
    )
    assert response.status_code == 200
    assert "already uses this code" in " ".join(response.context["form"].errors["code"])
    assert School.objects.count() == before


def test_registrar_cannot_create_a_school(world, client_for):
    response = client_for(world.registrar).post(
        reverse("rostering:school_create"), {"name": "Mine", "code": "MIN"}
    )
    assert response.status_code == 403
    assert not School.objects.filter(code="MIN").exists()


def test_superuser_picks_the_district_of_a_new_school(world, client_for):
    client = client_for(world.superuser)
    form = client.get(reverse("rostering:school_create")).context["form"]
    assert "district" in form.fields
    response = client.post(
        reverse("rostering:school_create"),
        {"district": world.other_district.pk, "name": "Mpopoma", "code": "MPH"},
    )
    assert response.status_code == 302
    assert School.objects.get(code="MPH").district == world.other_district
    response = client.post(reverse("rostering:school_create"), {"name": "Nowhere", "code": "NWH"})
    assert response.status_code == 200 and "district" in response.context["form"].errors


def test_create_an_academic_session_with_two_terms(world, client_for):
    client = client_for(world.registrar)
    page = client.get(reverse("rostering:academicsession_create"))
    assert page.status_code == 200 and page.context["formset"].total_form_count() == 3
    data = {
        "school": world.school_a.pk,
        "name": "2027",
        "type": "school_year",
        "state": "upcoming",
        "start_date": "2027-01-11",
        "end_date": "2027-12-03",
        "parent": "",
        "terms-TOTAL_FORMS": "3",
        "terms-INITIAL_FORMS": "0",
        "terms-MIN_NUM_FORMS": "0",
        "terms-MAX_NUM_FORMS": "12",
        "terms-0-name": "Term 1",
        "terms-0-type": "term",
        "terms-0-start_date": "2027-01-11",
        "terms-0-end_date": "2027-04-09",
        "terms-1-name": "Term 2",
        "terms-1-type": "term",
        "terms-1-start_date": "2027-05-04",
        "terms-1-end_date": "2027-08-06",
        "terms-2-name": "",
        "terms-2-type": "term",
        "terms-2-start_date": "",
        "terms-2-end_date": "",
    }
    response = client.post(reverse("rostering:academicsession_create"), data)
    year = AcademicSession.objects.get(name="2027")
    assert response.status_code == 302
    assert response["Location"] == reverse("rostering:academicsession_detail", args=[year.pk])
    assert year.school == world.school_a and year.district == world.district
    terms = list(year.children.order_by("start_date"))
    assert [t.name for t in terms] == ["Term 1", "Term 2"]
    assert all(t.type == SessionType.TERM and t.school == world.school_a for t in terms)
    detail = client.get(response["Location"])
    assert "Term 1" in detail.text and "Term 2" in detail.text


def _year_data(**overrides):
    data = {
        "name": "2028",
        "type": "school_year",
        "state": "upcoming",
        "start_date": "2028-01-10",
        "end_date": "2028-12-01",
        "parent": "",
        "school": "",
        "terms-TOTAL_FORMS": "3",
        "terms-INITIAL_FORMS": "0",
        "terms-MIN_NUM_FORMS": "0",
        "terms-MAX_NUM_FORMS": "12",
    }
    data.update(overrides)
    return data


def test_end_before_start_is_a_form_error(world, client_for):
    before = AcademicSession.objects.count()
    response = client_for(world.district_admin).post(
        reverse("rostering:academicsession_create"),
        _year_data(start_date="2028-12-01", end_date="2028-01-10"),
    )
    assert response.status_code == 200
    assert "end_date" in response.context["form"].errors
    assert AcademicSession.objects.count() == before


def test_term_outside_its_year_is_a_row_error_and_nothing_is_written(world, client_for):
    before = AcademicSession.objects.count()
    response = client_for(world.district_admin).post(
        reverse("rostering:academicsession_create"),
        _year_data(
            **{
                "terms-0-name": "Term 1",
                "terms-0-type": "term",
                "terms-0-start_date": "2028-01-10",
                "terms-0-end_date": "2028-04-01",
                "terms-1-name": "Term 9",
                "terms-1-type": "term",
                "terms-1-start_date": "2028-11-01",
                "terms-1-end_date": "2029-02-01",
            }
        ),
    )
    assert response.status_code == 200
    formset = response.context["formset"]
    assert not formset.forms[0].errors
    assert "must lie inside its year" in " ".join(formset.forms[1].errors["end_date"])
    assert "must lie inside its year" in response.text
    assert AcademicSession.objects.count() == before


def test_term_rows_are_checked_even_while_the_year_has_errors(world, client_for):
    response = client_for(world.registrar).post(
        reverse("rostering:academicsession_create"),
        _year_data(
            **{
                "school": "",
                "terms-0-name": "Term 9",
                "terms-0-type": "term",
                "terms-0-start_date": "2028-11-01",
                "terms-0-end_date": "2029-02-01",
            }
        ),
    )
    assert response.status_code == 200
    assert "school" in response.context["form"].errors
    assert "end_date" in response.context["formset"].forms[0].errors
    assert not AcademicSession.objects.filter(name__in=["2028", "Term 9"]).exists()


def test_a_registrar_with_one_school_gets_it_preselected(world, client_for):
    form = client_for(world.registrar).get(reverse("rostering:academicsession_create")).context["form"]
    assert form.fields["school"].required and form.initial["school"] == world.school_a.pk


def test_add_a_term_from_the_year_page(world, client_for):
    client = client_for(world.district_admin)
    url = reverse("rostering:academicsession_create") + f"?parent={world.year.pk}"
    page = client.get(url)
    assert page.context["form"].initial["parent"] == world.year.pk and page.context["formset"] is None
    response = client.post(
        url,
        {
            "name": "Term 3",
            "type": "term",
            "state": "upcoming",
            "start_date": "2026-09-08",
            "end_date": "2026-12-04",
            "parent": world.year.pk,
            "school": "",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("rostering:academicsession_detail", args=[world.year.pk])
    assert world.year.children.get().name == "Term 3"


def test_registrar_creates_a_class_in_their_school(world, client_for):
    response = client_for(world.registrar).post(
        reverse("rostering:classdivision_create"),
        {
            "school": world.school_a.pk,
            "grade_level": world.grade6.pk,
            "academic_session": world.year.pk,
            "name": "6C",
            "capacity": "40",
        },
    )
    assert response.status_code == 302
    created = ClassDivision.objects.get(name="6C")
    assert created.school == world.school_a and created.district == world.district and created.capacity == 40


def test_registrar_cannot_place_a_class_in_another_school(world, client_for):
    response = client_for(world.registrar).post(
        reverse("rostering:classdivision_create"),
        {
            "school": world.school_b.pk,
            "grade_level": world.grade7.pk,
            "name": "7Z",
        },
    )
    assert response.status_code == 200
    assert "school" in response.context["form"].errors
    assert not ClassDivision.objects.filter(name="7Z").exists()


def test_another_districts_grade_in_a_class_form_is_an_error(world, client_for):
    foreign_grade = world.other_class.grade_level
    response = client_for(world.district_admin).post(
        reverse("rostering:classdivision_create"),
        {
            "school": world.school_a.pk,
            "grade_level": foreign_grade.pk,
            "name": "6Z",
        },
    )
    assert response.status_code == 200
    assert "grade_level" in response.context["form"].errors
    assert not ClassDivision.objects.filter(name="6Z").exists()


def test_another_districts_class_in_an_enrollment_form_is_an_error(roster, client_for):
    before = Enrollment.objects.count()
    response = client_for(roster.district_admin).post(
        reverse("rostering:enrollment_create"),
        {
            "class_division": roster.other_class.pk,
            "person": roster.student.pk,
            "role": "student",
        },
    )
    assert response.status_code == 200
    assert "class_division" in response.context["form"].errors
    assert Enrollment.objects.count() == before


def test_enroll_from_the_class_page(roster, client_for):
    client = client_for(roster.registrar)
    newcomer = f.PersonFactory(
        district=roster.district, school=roster.school_a, given_name="Tariro", family_name="Banda"
    )
    url = reverse("rostering:enrollment_create") + f"?class_division={roster.class_6b.pk}"
    page = client.get(url)
    people = list(page.context["form"].fields["person"].queryset)
    assert newcomer in people and roster.student_b not in people
    response = client.post(
        url, {"class_division": roster.class_6b.pk, "person": newcomer.pk, "role": "student"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("rostering:classdivision_detail", args=[roster.class_6b.pk])
    detail = client.get(response["Location"])
    assert "Banda, Tariro" in detail.text


def test_duplicate_enrollment_is_a_form_error(roster, client_for):
    before = Enrollment.objects.count()
    response = client_for(roster.district_admin).post(
        reverse("rostering:enrollment_create"),
        {
            "class_division": roster.class_6a.pk,
            "person": roster.student.pk,
            "role": "student",
            "subject": roster.subject.pk,
        },
    )
    assert response.status_code == 200
    assert "already enrolled" in " ".join(response.context["form"].errors["person"])
    assert Enrollment.objects.count() == before


def test_registrar_must_choose_a_school_for_a_new_person(world, client_for):
    client = client_for(world.registrar)
    data = {"role": "student", "given_name": "Nyasha", "family_name": "Gumbo", "school": ""}
    response = client.post(reverse("rostering:person_create"), data)
    assert response.status_code == 200 and "school" in response.context["form"].errors
    response = client.post(reverse("rostering:person_create"), {**data, "school": world.other_school.pk})
    assert response.status_code == 200 and "school" in response.context["form"].errors
    response = client.post(reverse("rostering:person_create"), {**data, "school": world.school_a.pk})
    assert response.status_code == 302
    assert Person.objects.get(family_name="Gumbo").district == world.district


def test_duplicate_student_number_is_a_form_error(roster, client_for):
    response = client_for(roster.district_admin).post(
        reverse("rostering:person_create"),
        {
            "role": "student",
            "given_name": "Copy",
            "family_name": "Cat",
            "school": roster.school_b.pk,
            "sis_id": "AVP-0001",
        },
    )
    assert response.status_code == 200
    assert "already has this number" in " ".join(response.context["form"].errors["sis_id"])
    assert not Person.objects.filter(family_name="Cat").exists()


def test_district_wide_grade_and_subject_go_into_the_users_district(world, client_for):
    client = client_for(world.district_admin)
    assert (
        client.post(
            reverse("rostering:gradelevel_create"), {"code": "05", "name": "Grade 5", "rank": 5}
        ).status_code
        == 302
    )
    assert GradeLevel.objects.get(code="05").district == world.district
    assert (
        client.post(reverse("rostering:subject_create"), {"code": "ENG", "name": "English"}).status_code
        == 302
    )
    assert Subject.objects.get(code="ENG").district == world.district
    response = client.post(reverse("rostering:gradelevel_create"), {"code": "06", "name": "Again", "rank": 6})
    assert response.status_code == 200 and "code" in response.context["form"].errors


def test_edit_a_person(roster, client_for):
    client = client_for(roster.registrar)
    url = reverse("rostering:person_edit", args=[roster.student.pk])
    form = client.get(url).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(given_name="Rudorwashe", date_of_birth="2014-03-14")
    response = client.post(url, data)
    assert response.status_code == 302
    roster.student.refresh_from_db()
    assert roster.student.given_name == "Rudorwashe"


def test_registrar_cannot_move_a_person_out_of_their_school(roster, client_for):
    client = client_for(roster.registrar)
    url = reverse("rostering:person_edit", args=[roster.student.pk])
    form = client.get(url).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(school="", date_of_birth="2014-03-14")
    response = client.post(url, data)
    assert response.status_code == 200 and "school" in response.context["form"].errors
    roster.student.refresh_from_db()
    assert roster.student.school == roster.school_a


def test_edit_with_end_before_start_changes_nothing(world, client_for):
    url = reverse("rostering:academicsession_edit", args=[world.year.pk])
    response = client_for(world.district_admin).post(
        url,
        {
            "name": "2026 renamed",
            "type": "school_year",
            "state": "active",
            "start_date": "2026-12-04",
            "end_date": "2026-01-12",
            "school": "",
            "parent": "",
        },
    )
    assert response.status_code == 200 and "end_date" in response.context["form"].errors
    world.year.refresh_from_db()
    assert world.year.name == "2026" and world.year.start_date == datetime.date(2026, 1, 12)


def test_viewer_cannot_post_a_create_or_edit(world, client_for):
    client = client_for(world.viewer)
    response = client.post(
        reverse("rostering:classdivision_create"),
        {
            "school": world.school_a.pk,
            "grade_level": world.grade6.pk,
            "name": "6V",
        },
    )
    assert response.status_code == 403
    response = client.post(reverse("rostering:classdivision_edit", args=[world.class_6a.pk]), {"name": "6X"})
    assert response.status_code == 403
    assert not ClassDivision.objects.filter(name__in=["6V", "6X"]).exists()


def test_other_district_cannot_post_to_an_edit_url(world, client_for):
    response = client_for(world.other_registrar).post(
        reverse("rostering:classdivision_edit", args=[world.class_6a.pk]), {"name": "Hijacked"}
    )
    assert response.status_code == 404
    world.class_6a.refresh_from_db()
    assert world.class_6a.name == "6A"


# --- delete ---------------------------------------------------------------------------------------------


def test_delete_a_subject(roster, client_for):
    response = client_for(roster.district_admin).post(
        reverse("rostering:subject_delete", args=[roster.subject.pk])
    )
    assert response.status_code == 302 and response["Location"] == reverse("rostering:subject_list")
    assert not Subject.objects.filter(pk=roster.subject.pk).exists()


def test_delete_in_use_grade_level_shows_the_conflict(world, client_for):
    client = client_for(world.district_admin)
    response = client.post(reverse("rostering:gradelevel_delete", args=[world.grade6.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("rostering:gradelevel_detail", args=[world.grade6.pk])
    assert "still used by" in response.text
    assert GradeLevel.objects.filter(pk=world.grade6.pk).exists()


def test_remove_an_enrollment_returns_to_the_class(roster, client_for):
    client = client_for(roster.registrar)
    back = reverse("rostering:classdivision_detail", args=[roster.class_6a.pk])
    url = reverse("rostering:enrollment_delete", args=[roster.enrollment.pk]) + f"?next={back}"
    page = client.get(url)
    assert page.status_code == 200 and "This cannot be undone" in page.text
    response = client.post(url, {"next": back})
    assert response.status_code == 302 and response["Location"] == back
    assert not Enrollment.objects.filter(pk=roster.enrollment.pk).exists()


def test_delete_ignores_an_offsite_next(roster, client_for):
    url = reverse("rostering:subject_delete", args=[roster.subject.pk])
    response = client_for(roster.district_admin).post(url, {"next": "https://evil.example/"})
    assert response["Location"] == reverse("rostering:subject_list")


def test_registrar_cannot_delete_the_district_year(world, client_for):
    response = client_for(world.registrar).post(
        reverse("rostering:academicsession_delete", args=[world.year.pk])
    )
    assert response.status_code == 403
    assert AcademicSession.objects.filter(pk=world.year.pk).exists()


# --- detail pages ------------------------------------------------------------------------------------------


def test_class_detail_lists_teachers_and_students(roster, client_for):
    response = client_for(roster.viewer).get(
        reverse("rostering:classdivision_detail", args=[roster.class_6a.pk])
    )
    assert [e.person.family_name for e in response.context["teachers"]] == ["Moyo"]
    assert [e.person.family_name for e in response.context["students"]] == ["Chikwanha"]
    assert "Class teacher" in response.text and "Chikwanha, Rudo" in response.text


def test_year_detail_shows_its_terms(roster, client_for):
    response = client_for(roster.viewer).get(
        reverse("rostering:academicsession_detail", args=[roster.year.pk])
    )
    assert list(response.context["children"]) == [roster.term]
    assert "Term 1" in response.text


def test_person_detail_lists_classes(roster, client_for):
    response = client_for(roster.class_teacher).get(
        reverse("rostering:person_detail", args=[roster.student.pk])
    )
    assert list(response.context["enrollments"]) == [roster.enrollment]
    assert "6A" in response.text and "Mathematics" in response.text


# --- people list: search, filters, htmx, pagination, query counts --------------------------------------------


def names(response) -> list[str]:
    return [p.family_name for p in response.context["page_obj"].object_list]


def test_people_search_by_name_and_number(roster, client_for):
    client = client_for(roster.district_admin)
    url = reverse("rostering:person_list")
    assert names(client.get(url, {"q": "chikw"})) == ["Chikwanha"]
    assert names(client.get(url, {"q": "BRH-0001"})) == ["Ndlovu"]
    assert names(client.get(url, {"q": "Dube"})) == []  # another district


def test_people_filters(roster, client_for):
    client = client_for(roster.district_admin)
    url = reverse("rostering:person_list")
    assert set(names(client.get(url, {"role": "teacher"}))) == {"Moyo"}
    assert set(names(client.get(url, {"school_id": roster.school_b.pk}))) == {"Ndlovu"}
    assert set(names(client.get(url, {"grade_level_id": roster.grade6.pk}))) == {"Chikwanha"}
    assert set(names(client.get(url, {"class_division_id": roster.class_6a.pk}))) == {"Moyo", "Chikwanha"}
    assert names(client.get(url, {"school_id": roster.other_school.pk})) == []
    assert client.get(url, {"school_id": "not-a-uuid", "page": "x"}).status_code == 200


def test_people_filter_choices_are_limited_to_the_users_scope(roster, client_for):
    form = client_for(roster.registrar).get(reverse("rostering:person_list")).context["filter_form"]
    school_choices = {label for _value, label in form.fields["school_id"].choices}
    assert school_choices == {"All", "Avondale Primary"}
    class_choices = {label for _value, label in form.fields["class_division_id"].choices}
    assert "7A · Borrowdale High" not in class_choices and "6A · Avondale Primary" in class_choices


def test_people_list_live_search_markup(world, client_for):
    text = client_for(world.viewer).get(reverse("rostering:person_list")).text
    search = re.search(r'<input type="search" name="q"[^>]*>', text, re.S).group(0)
    assert 'hx-get="/rostering/people/"' in search
    assert 'hx-trigger="keyup changed delay:300ms, search"' in search
    assert 'hx-target="#results"' in search and 'hx-push-url="true"' in search
    assert '<form method="get" action="/rostering/people/"' in text
    assert '<noscript><button type="submit"' in text


@pytest.mark.parametrize("model", MODELS)
def test_htmx_request_gets_only_the_results_partial(roster, client_for, model):
    client = client_for(roster.district_admin)
    url = reverse(f"rostering:{model}_list")
    partial = client.get(url, headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert (
        "<html" not in partial.text
        and "roster-tabs" not in partial.text
        and 'class="filters"' not in partial.text
    )
    assert "<table" in partial.text
    assert "HX-Request" in partial["Vary"]
    full = client.get(url)
    assert "<html" in full.text and 'id="results"' in full.text


def test_boosted_and_history_restore_requests_get_the_full_page(world, client_for):
    client = client_for(world.viewer)
    url = reverse("rostering:person_list")
    boosted = client.get(url, headers={"HX-Request": "true", "HX-Boosted": "true"})
    restore = client.get(url, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in boosted.text and "<html" in restore.text


def test_htmx_search_returns_matching_rows(roster, client_for):
    response = client_for(roster.viewer).get(
        reverse("rostering:person_list"), {"q": "ndlo"}, headers={"HX-Request": "true"}
    )
    assert "Ndlovu" in response.text and "Chikwanha" not in response.text


def test_pagination_links_have_real_hrefs(world, client_for):
    for i in range(30):
        f.PersonFactory(district=world.district, school=world.school_a, family_name=f"Zz{i:02d}")
    client = client_for(world.viewer)
    response = client.get(reverse("rostering:person_list"), {"q": "zz"})
    assert response.context["page_obj"].paginator.num_pages == 2
    assert 'href="?q=zz&amp;page=2"' in response.text
    assert 'hx-get="?q=zz&amp;page=2"' in response.text
    second = client.get(reverse("rostering:person_list"), {"q": "zz", "page": "2"})
    assert len(second.context["page_obj"].object_list) == 5
    assert client.get(reverse("rostering:person_list"), {"page": "999"}).status_code == 200


def _people_list_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, {"per_page": "50"})
    assert response.status_code == 200
    return len(ctx), len(response.context["page_obj"].object_list)


def test_people_list_query_count_is_constant(world, client_for, django_assert_max_num_queries):
    client = client_for(world.district_admin)
    url = reverse("rostering:person_list")
    client.get(url)  # warm up the session
    for _ in range(4):
        f.PersonFactory(district=world.district, school=world.school_a, grade_level=world.grade6)
    few, rows_few = _people_list_queries(client, url)
    for _ in range(45):
        f.PersonFactory(district=world.district, school=world.school_b, grade_level=world.grade7)
    many, rows_many = _people_list_queries(client, url)
    assert (rows_few, rows_many) == (5, 50)
    assert few == many
    with django_assert_max_num_queries(few):
        client.get(url, {"per_page": "50", "class_division_id": world.class_6a.pk, "q": "a"})
    with django_assert_max_num_queries(few):
        client.get(url, {"per_page": "50"}, headers={"HX-Request": "true"})


@pytest.mark.parametrize("model", ["school", "classdivision", "enrollment", "gradelevel"])
def test_other_lists_query_count_is_constant(world, client_for, model):
    client = client_for(world.district_admin)
    url = reverse(f"rostering:{model}_list")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url, {"per_page": "50"})
    for i in range(8):
        school = f.SchoolFactory(district=world.district, code=f"Q{i}")
        grade = f.GradeLevelFactory(district=world.district, school=school, code="06")
        cd = f.ClassDivisionFactory(school=school, grade_level=grade)
        f.EnrollmentFactory(class_division=cd)
    with CaptureQueriesContext(connection) as many:
        client.get(url, {"per_page": "50"})
    assert len(few) == len(many)


def test_no_inline_styles_or_scripts_on_the_pages(roster, client_for):
    client = client_for(roster.district_admin)
    urls = [reverse("dashboard")] + [reverse(f"rostering:{m}_list") for m in MODELS]
    urls += [reverse(f"rostering:{m}_detail", args=[o.pk]) for m, o in objects_of(roster).items()]
    urls += [reverse("rostering:academicsession_create"), reverse("rostering:person_create")]
    for url in urls:
        text = client.get(url).text
        assert " style=" not in text, url
        assert "{#" not in text and "{%" not in text, url
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), url


def test_membership_in_two_districts_offers_a_district_choice(world, client_for):
    f.MembershipFactory(
        user=world.district_admin, district=world.other_district, role=MembershipRole.DISTRICT_ADMIN
    )
    client = client_for(world.district_admin)
    form = client.get(reverse("rostering:subject_create")).context["form"]
    assert set(form.fields["district"].queryset) == {world.district, world.other_district}
    response = client.post(
        reverse("rostering:subject_create"),
        {"district": world.other_district.pk, "code": "SCI", "name": "Science"},
    )
    assert response.status_code == 302
    assert Subject.objects.get(code="SCI").district == world.other_district
