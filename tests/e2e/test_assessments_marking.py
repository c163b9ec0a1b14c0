"""A class teacher marks essays in a real browser: the marking queue with its filters, the marking screen
(the question, the learner's answer, a score bounded by the max), saving, and the session's score changing
in place (htmx) when its last essay is marked; then the activity's results page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from assessments.choices import SessionStatus
from assessments.models import AssessmentSession
from rostering.choices import PersonRole
from tests.assessments import factories as af
from tests.e2e.browser import assert_accessible, login, screenshot
from tests.rostering import factories as rf

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_class_teacher_marks_an_essay_and_sees_the_session_score_change(page, live_server, world, browser_errors):
    exam = af.exam(world.school_a, world.year, name="Term 2 examinations", is_published=True)
    activity = af.bank(world.district, exam_session=exam)
    learners = []
    for n, (given, family) in enumerate([("Rudo", "Chikomo"), ("Tariro", "Moyo"), ("Kudzai", "Dube")]):
        person = rf.PersonFactory(district=world.district, school=world.school_a, role=PersonRole.STUDENT,
                                  given_name=given, family_name=family)
        rf.EnrollmentFactory(class_division=world.class_6a, person=person, role="student")
        learners.append(af.session(world.district, activity, n=n, user_id=str(person.pk), status=SessionStatus.PENDING_SCORING))
    outsider = rf.PersonFactory(district=world.district, school=world.school_a, role=PersonRole.STUDENT,
                                given_name="Tatenda", family_name="Ncube")
    rf.EnrollmentFactory(class_division=world.class_6b, person=outsider, role="student")
    af.session(world.district, activity, n=9, user_id=str(outsider.pk), status=SessionStatus.PENDING_SCORING)

    login(page, live_server, world.class_teacher.username)
    page.goto(f"{live_server.url}/assessments/marking/")
    expect(page.get_by_role("heading", name="Marking", exact=True)).to_be_visible()
    expect(page.locator("#results tbody tr")).to_have_count(3)  # the teacher's class only
    expect(page.locator("#results")).not_to_contain_text("Tatenda Ncube")
    page.get_by_label("Class").select_option(label=f"6A · {world.school_a.name}")
    expect(page).to_have_url(re.compile(r"class_division="))
    expect(page.locator("#results tbody tr")).to_have_count(3)
    assert_accessible(page)
    screenshot(page, "assessments-marking-1-queue")

    page.get_by_role("link", name="Start marking").click()
    expect(page.get_by_role("heading", name="Rudo Chikomo")).to_be_visible()
    expect(page.get_by_text("Describe a parallelogram.")).to_be_visible()
    expect(page.get_by_text("A quadrilateral with two pairs of parallel sides.")).to_be_visible()
    session_card = page.locator("#session-score")
    expect(session_card).to_contain_text("Pending scoring")
    expect(session_card.locator("[data-session-score]")).to_have_text("2")
    score = page.get_by_label("Score out of 3")
    expect(score).to_be_focused()
    expect(score).to_have_attribute("max", "3")
    assert_accessible(page)
    screenshot(page, "assessments-marking-2-screen")

    score.fill("4")  # above the max: refused, nothing saved
    score.press("Enter")
    expect(page.get_by_text("The score cannot be more than 3.")).to_be_visible()
    assert AssessmentSession.objects.get(pk=learners[0].pk).status == SessionStatus.PENDING_SCORING

    page.get_by_label("Score out of 3").fill("2.5")
    page.get_by_role("button", name="Save score").click()
    expect(page.get_by_role("status")).to_contain_text("Saved: 2.5 of 3")
    expect(session_card.locator("[data-session-score]")).to_have_text("4.5")  # swapped in place by htmx
    expect(session_card).to_contain_text("Completed")
    expect(page.get_by_role("heading", name="Rudo Chikomo")).to_be_visible()  # the same page, not reloaded
    assert_accessible(page)
    screenshot(page, "assessments-marking-3-saved")
    session = AssessmentSession.objects.get(pk=learners[0].pk)
    assert (session.score, session.status) == (4.5, SessionStatus.COMPLETED)

    page.get_by_role("link", name="Next response →").first.click()
    expect(page.get_by_role("heading", name="Tariro Moyo")).to_be_visible()
    # The queue shows what still awaits a score: Rudo's essay is marked, so nothing comes before Tariro's.
    expect(page.get_by_role("link", name="← Previous")).to_have_count(0)
    page.get_by_role("link", name="Next →").click()
    expect(page.get_by_role("heading", name="Kudzai Dube")).to_be_visible()
    page.get_by_role("link", name="← Previous").click()
    expect(page.get_by_role("heading", name="Tariro Moyo")).to_be_visible()

    page.goto(f"{live_server.url}/assessments/activities/{activity.pk}/results/")
    expect(page.get_by_role("heading", name=re.compile("Results"))).to_be_visible()
    expect(page.locator(".hist-bar")).to_have_count(10)
    expect(page.get_by_text("Average per subscore")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "assessments-marking-4-results")
