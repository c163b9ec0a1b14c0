"""Staff click through assessments in a real browser: exam sessions and their activities, the learner sessions
list (live filters, pages), a session's items, times, responses and subscores with the link to the roster
person, and a district admin creates, rotates and deactivates a Data API consumer (the secret shown once)."""

from __future__ import annotations

import re

import pytest
from learnosity_sdk.request import DataApi
from playwright.sync_api import expect

from assessments.choices import SessionStatus
from assessments.models import Consumer
from rostering.choices import PersonRole
from tests.assessments import factories as af
from tests.e2e.browser import assert_accessible, login, screenshot
from tests.rostering import factories as rf

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LEARNERS = [("Tariro", "Moyo"), ("Kudzai", "Dube"), ("Rufaro", "Ncube"), ("Tapiwa", "Sibanda"), ("Nyasha", "Banda"),
            ("Chipo", "Mutasa"), ("Farai", "Gumbo"), ("Tendai", "Zhou")]
STATUSES = [SessionStatus.COMPLETED, SessionStatus.COMPLETED, SessionStatus.INCOMPLETE, SessionStatus.PENDING_SCORING,
            SessionStatus.COMPLETED, SessionStatus.DISCARDED]


def _world_data(world):
    exam = af.exam(world.school_a, world.year, name="Term 2 examinations", is_published=True)
    numeracy = af.bank(world.district, exam_session=exam)
    writing = af.bank(world.district, prefix="w-", reference="writing", exam_session=exam)
    people = []
    for n, (given, family) in enumerate(LEARNERS * 4):
        person = rf.PersonFactory(district=world.district, school=world.school_a, role=PersonRole.STUDENT,
                                  given_name=given, family_name=f"{family}{'' if n < len(LEARNERS) else n}")
        people.append(person)
        af.session(world.district, numeracy if n % 3 else writing, n=n, user_id=str(person.pk), status=STATUSES[n % len(STATUSES)])
    other = af.bank(world.other_district, prefix="b-")
    af.session(world.other_district, other, n=1, user_id="bulawayo-learner")
    return exam, people


def test_staff_click_through_assessments_and_manage_a_consumer(page, live_server, world, browser_errors):
    _world_data(world)
    login(page, live_server, world.district_admin.username)

    # Nav → Assessments: counts per status, the exam session.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Assessments").click()
    expect(page.get_by_role("heading", name="Assessments", exact=True)).to_be_visible()
    expect(page.locator(".stat").first).to_contain_text("32")
    expect(page.get_by_role("link", name="Term 2 examinations")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "assessments-1-exams")

    page.get_by_role("link", name="Term 2 examinations").click()
    expect(page.get_by_role("heading", name=re.compile("Term 2 examinations"))).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(2)
    assert_accessible(page)
    screenshot(page, "assessments-2-exam-activities")
    page.locator("tbody tr").first.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Items in order")).to_be_visible()
    expect(page.locator(".assess-qtype").first).to_have_text("mcq")
    screenshot(page, "assessments-3-activity")

    # Learner sessions: pages, then the live filters (htmx swaps only the results).
    page.locator(".page-actions").get_by_role("link", name="Learner sessions").click()
    expect(page.get_by_role("heading", name="Learner sessions")).to_be_visible()
    expect(page.get_by_label("Activity")).to_have_value("numeracy")
    expect(page.locator("#results tbody tr")).to_have_count(21)
    page.get_by_role("navigation", name="Assessments").get_by_role("link", name="Learner sessions").click()
    expect(page.locator("#results tbody tr")).to_have_count(25)
    expect(page.get_by_text("Page 1 of 2")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "assessments-4-sessions")
    page.get_by_role("link", name="Next →").click()
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    expect(page.locator("#results tbody tr")).to_have_count(7)
    page.get_by_label("Status").select_option("Pending Scoring")
    expect(page.locator("#results tbody tr")).to_have_count(5)
    expect(page).to_have_url(re.compile(r"status=Pending(\+|%20)Scoring"))
    expect(page.locator("#results .badge").first).to_have_text("Pending scoring")
    page.get_by_label("Status").select_option("")
    page.get_by_label("Learner").fill("Tariro")
    expect(page.locator("#results tbody tr")).to_have_count(4)
    page.get_by_label("Activity").select_option("w-writing")
    expect(page.locator("#results tbody tr")).to_have_count(2)
    screenshot(page, "assessments-5-sessions-filtered")

    # A session's detail: items, time per item, responses as given, subscores; the roster link.
    page.locator("#results tbody tr").first.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Items and responses")).to_be_visible()
    expect(page.locator(".assess-item")).to_have_count(2)
    expect(page.locator(".assess-answer").first).to_contain_text("Cow")
    expect(page.locator(".assess-answer-text")).to_contain_text("two pairs of parallel sides")
    expect(page.locator(".assess-subscores li")).to_have_count(2)
    assert_accessible(page)
    screenshot(page, "assessments-6-session-detail")
    page.get_by_role("link", name="Roster record").click()
    expect(page.get_by_role("heading", name=re.compile("Tariro"))).to_be_visible()

    # Consumers: create (secret shown once), use it with the SDK, rotate, deactivate.
    page.goto(f"{live_server.url}/assessments/consumers/")
    expect(page.get_by_role("heading", name="Data API consumers")).to_be_visible()
    page.get_by_label("Name").fill("Data warehouse")
    page.get_by_label("Allowed domains").fill("localhost")
    page.get_by_role("button", name="Create consumer").click()
    expect(page.get_by_text("will not be shown again")).to_be_visible()
    key = page.locator("#issued-key").inner_text()
    secret = page.locator("#issued-secret").inner_text()
    assert len(key) == 16 and len(secret) == 40
    assert_accessible(page)
    screenshot(page, "assessments-7-consumer-created")
    rows = DataApi().request(f"{live_server.url}/data/v1/sessions/scores", {"consumer_key": key, "domain": "localhost"},
                             secret, {"limit": 50}, "get").json()
    assert rows["meta"]["status"] is True and len(rows["data"]) == 32  # Harare's only, not Bulawayo's
    page.goto(f"{live_server.url}/assessments/consumers/")
    expect(page.locator("#issued-secret")).to_have_count(0)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Rotate secret").click()
    expect(page.get_by_text("previous secret keeps working")).to_be_visible()
    assert page.locator("#issued-secret").inner_text() != secret
    page.goto(f"{live_server.url}/assessments/consumers/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Deactivate").click()
    expect(page.locator("tbody .badge")).to_have_text("Deactivated")
    assert Consumer.objects.get(consumer_key=key).is_active is False
    screenshot(page, "assessments-8-consumer-deactivated")
    assert browser_errors == []
