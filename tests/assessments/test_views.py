"""Staff pages: exam sessions, activities, learner sessions (filters, pages, detail) and the consumers page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assessments.choices import SessionStatus
from assessments.models import Consumer
from rostering.choices import PersonRole
from tests.assessments import factories as af
from tests.rostering import factories as rf


@pytest.fixture
def data(world, activity_a, activity_b):
    student = rf.PersonFactory(district=world.district, school=world.school_a, role=PersonRole.STUDENT,
                               given_name="Rudo", family_name="Chikomo")
    mine = [af.session(world.district, activity_a, n=n, status=[SessionStatus.COMPLETED, SessionStatus.INCOMPLETE][n % 2])
            for n in range(30)]
    linked = af.session(world.district, activity_a, n=99, user_id=str(student.pk))
    theirs = af.session(world.other_district, activity_b, n=1)
    return {"mine": mine, "linked": linked, "theirs": theirs, "student": student}


def test_pages_for_every_persona(client_for, world, data):
    exam = data["linked"].linked_activity.exam_session
    urls = [
        reverse("assessments:exam_list"),
        reverse("assessments:exam_detail", args=[exam.pk]),
        reverse("assessments:activity_detail", args=[data["linked"].linked_activity.pk]),
        reverse("assessments:session_list"),
        reverse("assessments:session_detail", args=[data["linked"].pk]),
    ]
    for name in ("district_admin", "registrar", "class_teacher", "viewer"):
        client = client_for(world.personas[name])
        for url in urls:
            assert client.get(url).status_code == 200, (name, url)
    other = client_for(world.other_registrar)
    assert other.get(urls[0]).status_code == 200
    for url in urls[1:3] + urls[4:]:
        assert other.get(url).status_code == 404, url  # another district's: not found
    listing = other.get(urls[3]).content.decode()
    assert data["linked"].session_id[:12] not in listing and "Rudo" not in listing


def test_session_list_filters_pages_and_constant_queries(client_for, world, data, django_assert_max_num_queries):
    client = client_for(world.district_admin)
    url = reverse("assessments:session_list")
    page = client.get(url).content.decode()
    assert "Rudo Chikomo" in page and "Page 1 of 2" in page
    assert "badge-assess-completed" in page and "bar-fill" in page
    completed = client.get(url, {"status": "Completed"}).content.decode()
    assert "badge-assess-incomplete" not in completed
    assert "Rudo Chikomo" in client.get(url, {"user": "rudo"}).content.decode()
    assert "No sessions match" in client.get(url, {"user": "nobody-at-all"}).content.decode()
    partial = client.get(url, {"page": 2}, headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.content.decode() and 'id="results"' in partial.content.decode()
    for junk in ({"page": "x"}, {"date_from": "not-a-date"}, {"status": "Nope"}, {"page": "99999"}, {"user": "a" * 500}):
        assert client.get(url, junk).status_code == 200, junk
    client.get(url)
    with django_assert_max_num_queries(12):
        client.get(url)
    for n in range(30, 60):
        af.session(world.district, data["linked"].linked_activity, n=n)
    with django_assert_max_num_queries(12):
        client.get(url)


def test_session_detail_shows_items_times_responses_and_subscores(client_for, world, data):
    client = client_for(world.viewer)
    page = client.get(reverse("assessments:session_detail", args=[data["linked"].pk])).content.decode()
    for text in ("Rudo Chikomo", "Items and responses", "1 min", "1 min 5 s", "Cow", "Ox", "Bulawayo",
                 "A quadrilateral with two pairs of parallel sides.", "Manual marking", "Facts", "Writing",
                 "Flagged by learner", reverse("rostering:person_detail", args=[data["student"].pk])):
        assert text in page, text
    assert "<p>A quadrilateral" not in page  # the learner's HTML is shown as text, never as markup


def test_consumers_page_for_district_admins_only(client_for, world, data):
    url = reverse("assessments:consumer_list")
    for name in ("registrar", "class_teacher", "viewer", "other_registrar"):
        assert client_for(world.personas[name]).get(url).status_code == 403, name
    client = client_for(world.district_admin)
    assert client.get(url).status_code == 200
    res = client.post(url, {"district": world.district.pk, "name": "Warehouse", "allowed_domains": "reports.example.org, *.school.example"})
    assert res.status_code == 200
    consumer = Consumer.objects.get(name="Warehouse")
    assert consumer.district == world.district and consumer.allowed_domains == ["reports.example.org", "*.school.example"]
    secret = res.context["issued"].secret
    assert secret in res.content.decode() and secret not in client.get(url).content.decode()  # shown once
    bad = client.post(url, {"district": world.district.pk, "name": "", "allowed_domains": "not a domain!"})
    assert bad.status_code == 400 and Consumer.objects.count() == 1
    stolen = client.post(url, {"district": world.other_district.pk, "name": "Sneaky"})
    assert stolen.status_code == 400 and not Consumer.objects.filter(name="Sneaky").exists()
    rotated = client.post(reverse("assessments:consumer_rotate", args=[consumer.pk]))
    assert rotated.status_code == 200 and rotated.context["issued"].secret != secret
    assert client.post(reverse("assessments:consumer_toggle", args=[consumer.pk])).status_code == 302
    consumer.refresh_from_db()
    assert consumer.is_active is False and consumer.deactivated_at is not None
    foreign = af.consumer(world.other_district).consumer
    assert client.post(reverse("assessments:consumer_rotate", args=[foreign.pk])).status_code == 404
    assert client.post(reverse("assessments:consumer_toggle", args=[foreign.pk])).status_code == 404
    assert client_for(world.viewer).post(reverse("assessments:consumer_toggle", args=[consumer.pk])).status_code == 403
