"""Staff pages beyond the walk-through: every write endpoint for every persona (refused ones change nothing),
bad input as a 4xx that changes nothing, the list's fixed query count, admin, and two concurrent setups of one
session on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from rostering.common.errors import Conflict
from session_setup import services as s
from session_setup.models import SessionSetup, SessionSetupStatusChange, StudentPromotion
from tests.session_setup.test_wizards import _through_step_3

pytestmark = pytest.mark.django_db


def _snapshot(setup):
    return (SessionSetup.objects.values().get(pk=setup.pk),
            list(StudentPromotion.objects.filter(setup=setup).order_by("pk").values_list("action", "destination_class")),
            SessionSetupStatusChange.objects.filter(setup=setup).count())


@pytest.mark.parametrize("persona", ["school_admin", "registrar", "class_teacher", "viewer", "other_registrar"])
def test_write_endpoints_refuse_everyone_but_the_setups_admin(sw, client_for, persona):
    setup = _through_step_3(sw)
    before = _snapshot(setup)
    client = client_for(sw.personas[persona])
    expected = 404 if persona == "other_registrar" else 403
    p = StudentPromotion.objects.filter(setup=setup).first()
    posts = [
        (f"/setup/{setup.pk}/step/0/", {"year": str(sw.next_year.pk)}),
        (f"/setup/{setup.pk}/step/1/", {"term_count": "0"}),
        (f"/setup/{setup.pk}/step/2/", {}),
        (f"/setup/{setup.pk}/step/3/", {}),
        (f"/setup/{setup.pk}/promotions/{p.pk}/", {"action": "drop_out"}),
        (f"/setup/{setup.pk}/promotions/set-all/", {"source_class": str(sw.class_6a.pk), "action": "repeat"}),
        (f"/setup/{setup.pk}/undo/", {}),
        (f"/setup/{setup.pk}/reopen/", {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == expected, url
    assert client.get(f"/setup/{setup.pk}/execution/").status_code == (404 if expected == 404 else 200)
    if persona != "school_admin":
        assert client.get("/setup/new/exam-session/").status_code == 403
        assert client.post("/setup/new/exam-session/", {"name": "X"}).status_code == 403
    assert _snapshot(setup) == before


def test_bad_page_input_is_a_4xx_that_changes_nothing(sw, client_for):
    setup = _through_step_3(sw)
    client = client_for(sw.district_admin)
    before = _snapshot(setup)
    p = StudentPromotion.objects.filter(setup=setup).first()
    r = client.post(f"/setup/{setup.pk}/promotions/{p.pk}/", {"action": "fly"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 400 and "Choose one of" in r.content.decode()
    r = client.post(f"/setup/{setup.pk}/promotions/{p.pk}/", {"action": "promote",
                                                             "destination_class": str(sw.other_class.pk)})
    assert r.status_code == 302
    assert client.post(f"/setup/{setup.pk}/promotions/set-all/", {"source_class": "junk", "action": "x"}).status_code == 404
    assert client.post(f"/setup/{setup.pk}/step/1/", {"term_count": "1", "term-0-name": "T",
                                                      "term-0-start": "not a date", "term-0-end": ""}).status_code == 400
    assert client.post(f"/setup/{setup.pk}/step/2/", {f"class-{sw.class_6a.pk}-name": "x",
                                                      "new-name": "9Z", "new-grade": "", "new-capacity": "lots"}
                       ).status_code == 400
    assert client.get(f"/setup/{setup.pk}/step/9/").status_code == 404
    assert client.get("/setup/00000000-0000-0000-0000-000000000000/step/0/").status_code == 404
    after = _snapshot(setup)
    assert after[1] == before[1] and after[2] == before[2]


def test_a_second_setup_of_the_same_year_from_the_page_points_to_the_first(sw, client_for):
    setup = _through_step_3(sw)
    r = client_for(sw.district_admin).post("/setup/new/academic-year/", {
        "scope": f"district:{sw.district.pk}", "year": str(sw.next_year.pk), "source_session": str(sw.year.pk)})
    assert r.status_code == 409
    assert f"/setup/{setup.pk}/" in r.content.decode() and "already in progress" in r.content.decode()
    assert SessionSetup.objects.count() == 1


def test_the_setup_list_and_dashboard_take_a_fixed_number_of_queries(sw, client_for, django_assert_max_num_queries):
    from tests.session_setup.factories import next_year

    client = client_for(sw.district_admin)
    for n in range(3):
        s.session_setup_create(actor=sw.district_admin, session_type="academic_session",
                               academic_session=next_year(sw.district, name=f"20{40 + n}"))
    client.get("/setup/")
    with django_assert_max_num_queries(12) as few:
        assert client.get("/setup/").status_code == 200
    for n in range(15):
        s.session_setup_create(actor=sw.district_admin, session_type="academic_session",
                               academic_session=next_year(sw.district, name=f"21{10 + n}"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/setup/")
    assert page.content.decode().count("Resume") >= 18
    assert client.get("/").status_code == 200


def test_admin_pages_load_for_a_superuser(sw, client_for):
    setup = _through_step_3(sw)
    client = client_for(sw.superuser)
    for url in ("/admin/session_setup/sessionsetup/", f"/admin/session_setup/sessionsetup/{setup.pk}/change/",
                "/admin/session_setup/studentpromotion/", "/admin/session_setup/promotionexecution/",
                "/admin/session_setup/promotionhistory/", "/admin/session_setup/examslot/"):
        assert client.get(url).status_code == 200, url


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="unique races are tested on PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_setups_of_one_year_leave_one_and_a_409(sw):
    barrier = threading.Barrier(2)
    results = []

    def start():
        try:
            barrier.wait(timeout=10)
            s.session_setup_create(actor=sw.district_admin, session_type="academic_session",
                                   academic_session=sw.next_year)
            results.append("created")
        except Conflict as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == ["created", "setup_in_progress"] or sorted(results) == ["conflict", "created"]
    assert SessionSetup.objects.filter(academic_session=sw.next_year).count() == 1


def test_anonymous_pages_redirect_to_login():
    r = Client().get("/setup/")
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]


def test_grade_levels_are_renamed_on_the_classes_step_by_those_who_may(sw, client_for):
    setup = _through_step_3(sw)
    client = client_for(sw.district_admin)
    r = client.post(f"/setup/{setup.pk}/step/2/", {f"grade-{sw.grade6.pk}-name": "Standard 6"})
    assert r.status_code == 302
    sw.grade6.refresh_from_db()
    assert sw.grade6.name == "Standard 6"
    r = client.post(f"/setup/{setup.pk}/step/2/", {f"grade-{sw.grade6.pk}-name": "  "})
    assert r.status_code == 400 and "give it a name" in r.content.decode()
    # A step is all or nothing: a good rename next to a bad new class is not kept either.
    r = client.post(f"/setup/{setup.pk}/step/2/", {f"grade-{sw.grade7.pk}-name": "Standard 7", "new-name": "9Z",
                                                   "new-grade": str(sw.grade7.pk), "new-capacity": "lots"})
    assert r.status_code == 400
    sw.grade6.refresh_from_db()
    sw.grade7.refresh_from_db()
    assert (sw.grade6.name, sw.grade7.name) == ("Standard 6", "Grade 7")


def test_the_execution_panel_polls_while_the_task_runs(sw, client_for):
    setup = _through_step_3(sw)
    s.promotions_confirm(actor=sw.district_admin, setup=setup)
    execution = s.promotion_execution_start(actor=sw.district_admin, setup=setup)  # queued: on_commit not run
    client = client_for(sw.district_admin)
    panel = client.get(f"/setup/{setup.pk}/execution/").content.decode()
    assert 'hx-trigger="every 1s"' in panel and f"0 of {execution.total} students" in panel
    assert "Execute" not in panel  # no second start while one is queued
    s.promotions_execute(execution_id=execution.pk)
    panel = client.get(f"/setup/{setup.pk}/execution/").content.decode()
    assert "every 1s" not in panel and "Done" in panel and "Undo the promotions" in panel
