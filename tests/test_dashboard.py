"""The staff dashboard brings rostering and registrations together."""

import pytest
from django.urls import reverse

from registrations.services.codes import access_codes_generate
from registrations.services.sessions import registration_session_create, registration_session_transition

pytestmark = pytest.mark.django_db


def _open_session(world, title, school=None, actor=None):
    actor = actor or world.registrar
    session = registration_session_create(
        actor=actor, school=school or world.school_a, mode="student_intake", title=title, expected_count=10
    )
    access_codes_generate(session=session, actor=actor, count=4)
    return registration_session_transition(session=session, to="open", actor=actor)


def test_dashboard_lists_open_registration_sessions_with_progress(world, client_for):
    _open_session(world, "Grade 6 intake")
    draft = registration_session_create(actor=world.registrar, school=world.school_a, mode="student_intake", title="Not yet")
    _open_session(world, "Hillside intake", school=world.other_school, actor=world.other_registrar)

    response = client_for(world.registrar).get(reverse("dashboard"))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Registration sessions in progress" in body
    assert "Grade 6 intake" in body
    assert draft.title not in body  # drafts are not in progress
    assert "Hillside intake" not in body  # another district's session never shows
    ((session, progress),) = response.context["live_sessions"]
    assert session.title == "Grade 6 intake"
    assert progress.codes_generated == 4 and progress.unused == 4


def test_dashboard_empty_state_without_open_sessions(world, client_for):
    body = client_for(world.viewer).get(reverse("dashboard")).content.decode()
    assert "No registration session is open" in body


def test_dashboard_queries_do_not_grow_with_sessions(world, client_for, django_assert_max_num_queries):
    client = client_for(world.district_admin)
    _open_session(world, "One")
    client.get(reverse("dashboard"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(reverse("dashboard"))
    for i in range(5):
        _open_session(world, f"More {i}", school=world.school_b, actor=world.district_admin)
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(reverse("dashboard"))
    assert len(response.context["live_sessions"]) == 6


def test_school_switcher_focuses_dashboard_and_roster_lists(world, client_for):
    from tests.rostering.factories import PersonFactory

    PersonFactory(district=world.district, school=world.school_a, given_name="Anesu", family_name="Mukamuri")
    PersonFactory(district=world.district, school=world.school_b, given_name="Bongani", family_name="Sibanda")
    _open_session(world, "Avondale intake")
    client = client_for(world.district_admin)

    response = client.get(reverse("switch_school"), {"school": world.school_b.pk, "next": "/"})
    assert response.status_code == 302

    dashboard = client.get(reverse("dashboard"))
    schools = [card.school for group in dashboard.context["overview"].districts for card in group.cards]
    assert schools == [world.school_b]
    assert dashboard.context["live_sessions"] == []  # school A's session is out of focus

    people = client.get(reverse("rostering:person_list")).content.decode()
    assert "Sibanda" in people and "Mukamuri" not in people
    everyone = client.get(reverse("rostering:person_list"), {"school_id": ""}).content.decode()
    assert "Sibanda" in everyone and "Mukamuri" in everyone  # "All schools" in the filter still works

    client.get(reverse("switch_school"), {"school": ""})
    schools = [c.school for g in client.get(reverse("dashboard")).context["overview"].districts for c in g.cards]
    assert set(schools) == {world.school_a, world.school_b}


def test_school_switcher_refuses_a_school_out_of_reach(world, client_for):
    client = client_for(world.registrar)
    assert client.get(reverse("switch_school"), {"school": world.school_b.pk}).status_code == 404
    assert client.get(reverse("switch_school"), {"school": world.other_school.pk}).status_code == 404
    assert client.get(reverse("switch_school"), {"school": "not-a-uuid"}).status_code == 404


def test_times_show_in_the_district_time_zone(world, client_for):
    import zoneinfo

    from django.utils import timezone

    world.district.time_zone = "Africa/Harare"
    world.district.save(update_fields=["time_zone"])
    client = client_for(world.registrar)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    assert client.session["district_tz"] == "Africa/Harare"
    assert timezone.get_current_timezone() != zoneinfo.ZoneInfo("Africa/Harare")  # deactivated after the request
