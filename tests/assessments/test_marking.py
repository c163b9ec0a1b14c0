"""Marking pages (queue, filters, the marking screen, who may mark), the activity results page and its CSV, and
the Data API jobs pages."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from assessments.choices import JobStatus, SessionStatus
from assessments.jobs import job_create
from assessments.models import AssessmentSession, Job, Response
from rostering.choices import PersonRole
from tests.assessments import factories as af
from tests.rostering import factories as rf

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(world, activity_a, activity_b):
    in_6a = rf.PersonFactory(district=world.district, school=world.school_a, role=PersonRole.STUDENT,
                             given_name="Rudo", family_name="Chikomo")
    in_6b = rf.PersonFactory(district=world.district, school=world.school_a, role=PersonRole.STUDENT,
                             given_name="Tatenda", family_name="Ncube")
    rf.EnrollmentFactory(class_division=world.class_6a, person=in_6a, role="student")
    rf.EnrollmentFactory(class_division=world.class_6b, person=in_6b, role="student")
    mine = af.session(world.district, activity_a, n=1, user_id=str(in_6a.pk), status=SessionStatus.PENDING_SCORING)
    other_class = af.session(world.district, activity_a, n=2, user_id=str(in_6b.pk), status=SessionStatus.PENDING_SCORING)
    theirs = af.session(world.other_district, activity_b, n=3, status=SessionStatus.PENDING_SCORING)
    essay = lambda s: Response.objects.get(session=s, question_type="longtextV2")  # noqa: E731
    return {"mine": mine, "other_class": other_class, "theirs": theirs, "essay": essay, "activity": activity_a}


def test_queue_lists_essays_awaiting_a_score_with_filters(client_for, world, data, django_assert_max_num_queries):
    client = client_for(world.district_admin)
    url = reverse("assessments:marking_queue")
    with django_assert_max_num_queries(14):
        page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Rudo Chikomo" in text and "Tatenda Ncube" in text and "2 responses" in text
    assert "Describe a parallelogram" in text
    only_6a = client.get(url, {"class_division": world.class_6a.pk}).content.decode()
    assert "Rudo Chikomo" in only_6a and "Tatenda Ncube" not in only_6a
    assert "1 response " in only_6a
    assert "2 responses" in client.get(url, {"activity": "numeracy"}).content.decode()
    assert "2 responses" in client.get(url, {"activity": "no-such"}).content.decode()  # junk is dropped, not an error
    assert "Nothing to mark under these filters" in client.get(url, {"state": "marked", "activity": "numeracy"}).content.decode()
    partial = client.get(url, {"question": "q-essay"}, headers={"HX-Request": "true"})
    assert partial.status_code == 200 and b"<html" not in partial.content and b"Rudo Chikomo" in partial.content
    assert client.get(url, {"state": "nonsense", "class_division": "x"}).status_code == 200


def test_marking_saves_through_the_service_and_completes_the_session(client_for, world, data):
    client = client_for(world.district_admin)
    essay = data["essay"](data["mine"])
    url = reverse("assessments:mark_response", args=[essay.pk])
    page = client.get(url)
    assert page.status_code == 200 and b"Describe a parallelogram" in page.content and b'max="3"' in page.content
    assert b"A quadrilateral with two pairs of parallel sides." in page.content and b"<p>A quadrilateral" not in page.content

    too_high = client.post(url, {"score": "3.5"}, headers={"HX-Request": "true"})
    assert too_high.status_code == 200 and b"cannot be more than 3" in too_high.content  # the panel with its error
    assert client.post(url, {"score": "-1"}).status_code == 400
    assert Response.objects.get(pk=essay.pk).score is None

    saved = client.post(url, {"score": "2.5"}, headers={"HX-Request": "true"})
    assert saved.status_code == 200 and b"<html" not in saved.content
    assert b"Saved: 2.5 of 3" in saved.content and b'data-session-score>4.5<' in saved.content and b"Completed" in saved.content
    essay.refresh_from_db()
    assert (essay.score, essay.manual_score, essay.max_manual_score) == (2.5, 2.5, 3)
    session = AssessmentSession.objects.get(pk=data["mine"].pk)
    assert (session.score, session.status) == (4.5, SessionStatus.COMPLETED)
    assert session.subscores[1]["score"] == 2.5
    # Without htmx: saved, then on to the next response of the queue.
    other = data["essay"](data["other_class"])
    follow = client.post(url, {"score": "3"})
    assert follow.status_code == 302 and follow["Location"].startswith(reverse("assessments:mark_response", args=[other.pk]))


def test_who_may_mark(client_for, world, data):
    mine, other = data["essay"](data["mine"]), data["essay"](data["other_class"])
    teacher = client_for(world.class_teacher)
    queue = teacher.get(reverse("assessments:marking_queue")).content.decode()
    assert "Rudo Chikomo" in queue and "Tatenda Ncube" not in queue  # only the learners of the classes they teach
    assert teacher.post(reverse("assessments:mark_response", args=[mine.pk]), {"score": "1"}).status_code == 302
    assert teacher.post(reverse("assessments:mark_response", args=[other.pk]), {"score": "1"}).status_code == 403
    assert Response.objects.get(pk=other.pk).score is None

    viewer = client_for(world.viewer)
    page = viewer.get(reverse("assessments:mark_response", args=[other.pk]))
    assert page.status_code == 200 and b"Save score" not in page.content and b"You can read this response" in page.content
    assert viewer.post(reverse("assessments:mark_response", args=[other.pk]), {"score": "1"}).status_code == 403
    # Another district's response is not found.
    theirs = data["essay"](data["theirs"])
    assert client_for(world.district_admin).get(reverse("assessments:mark_response", args=[theirs.pk])).status_code == 404
    assert client_for(world.other_registrar).get(reverse("assessments:mark_response", args=[mine.pk])).status_code == 404


def test_results_page_and_csv(client_for, world, data):
    activity = data["activity"]
    client = client_for(world.viewer)
    client_for(world.district_admin).post(reverse("assessments:mark_response", args=[data["essay"](data["mine"]).pk]), {"score": "3"})
    page = client.get(reverse("assessments:activity_results", args=[activity.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Distribution of scores" in text and 'class="hist-bar"' in text and "Facts" in text and "Writing" in text
    assert "https://" not in text.split("<main", 1)[-1]  # drawn here, nothing from a CDN
    assert "80–90%: 1 session" in text  # 5 of 6 after marking
    res = client.get(reverse("assessments:activity_results_csv", args=[activity.pk]))
    assert res.status_code == 200 and res["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(res.streaming_content).decode())))
    by_session = {r["session_id"]: r for r in rows}
    assert set(by_session) == {data["mine"].session_id, data["other_class"].session_id}
    assert by_session[data["mine"].session_id]["score"] == "5" and by_session[data["mine"].session_id]["subscore-2_score"] == "3"
    assert by_session[data["mine"].session_id]["learner"] == "Rudo Chikomo"
    assert client_for(world.other_registrar).get(reverse("assessments:activity_results_csv", args=[activity.pk])).status_code == 404


def test_jobs_pages(client_for, world, data, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_create(district_id=world.district.pk, type="sessionstatuses", request={"statuses": [
            {"session_id": "nope", "user_id": "x", "status": "Completed"}]})
    job.refresh_from_db()
    assert job.status == JobStatus.HALTED
    theirs = job_create(district_id=world.other_district.pk, type="sessionstatuses", request={"statuses": []})
    admin = client_for(world.district_admin)
    listing = admin.get(reverse("assessments:job_list")).content.decode()
    assert str(job.reference)[:10] in listing and str(theirs.reference)[:10] not in listing
    assert "Halted" in admin.get(reverse("assessments:job_list"), {"status": "halted"}).content.decode()
    detail = admin.get(reverse("assessments:job_detail", args=[job.pk])).content.decode()
    assert "Why it halted" in detail and "There is no session" in detail and "nope" in detail
    assert admin.get(reverse("assessments:job_detail", args=[theirs.pk])).status_code == 404
    assert client_for(world.viewer).get(reverse("assessments:job_list")).status_code == 403
    assert Job.objects.count() == 2


def test_session_page_links_its_essays_to_the_marking_screen_and_shows_orders(client_for, world, data):
    from assessments.views import describe

    page = client_for(world.district_admin).get(reverse("assessments:session_detail", args=[data["mine"].pk]))
    assert reverse("assessments:mark_response", args=[data["essay"](data["mine"]).pk]).encode() in page.content

    class Stored:
        question_type = "orderlist"
        value = {"value": [2, 0, 1]}

    class Q:
        data = {"list": ["a", "b", "c"]}
        options = []

    assert describe(Stored, Q)[0] == ["1. c", "2. a", "3. b"]
