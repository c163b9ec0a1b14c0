"""Both set-up wizards in a real browser, on the demo data: the 2027 academic year of Bulawayo (stopped at the
promotions step by the demo) is walked through from its first step, left in the middle and resumed in a new
browser context, a few decisions changed, executed — promoted learners sit in their new classes, repeaters in the
same grade, graduates have no new enrollment; then an exam session is set up from scratch to publication."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from assessments.models import ExamSession
from rostering.models import AcademicSession, Enrollment
from session_setup.models import SessionSetup, StudentPromotion
from tests.e2e.browser import assert_accessible, login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _open_class(page, name):
    """Pick one of last year's classes (an htmx swap) and wait until htmx has wired up the new rows."""
    page.get_by_role("navigation", name="Last year's classes").get_by_role("link", name=re.compile(name)).click()
    expect(page.locator("#class-panel h3")).to_contain_text(name)
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping, .htmx-added')")


def _step(page, title):
    expect(page.get_by_role("heading", level=2, name=re.compile(title))).to_be_visible()
    assert_accessible(page)


def test_academic_year_and_exam_session_wizards(page, live_server, browser, browser_context_args, browser_errors):
    call_command("seed_demo", stdout=io.StringIO())
    y2027 = AcademicSession.objects.get(district__name="Bulawayo City Schools", name="2027", type="school_year")
    setup = SessionSetup.objects.get(academic_session=y2027)
    login(page, live_server, "admin")

    # The dashboard and the setup list show the setups with their progress; Resume lands on the current step.
    expect(page.get_by_role("heading", name="Session setup")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Setup").click()
    expect(page.get_by_role("heading", name="Session setup", level=1)).to_be_visible()
    assert_accessible(page)
    screenshot(page, "setup-1-list")
    page.get_by_role("link", name="Resume 2027").click()
    _step(page, "Promotions")

    # Walk the wizard from its first step.
    page.get_by_role("link", name=re.compile("Year and dates")).click()
    _step(page, "Year and dates")
    expect(page.locator("#id_name")).to_have_value("2027")
    screenshot(page, "setup-2-year")
    page.get_by_role("button", name=re.compile("Next: terms")).click()
    _step(page, "Terms")
    expect(page.locator("#term-2-name")).to_have_value("Term 3 2027")
    screenshot(page, "setup-3-terms")
    page.get_by_role("button", name=re.compile("Next: grades and classes")).click()
    _step(page, "Grades and classes")
    expect(page.locator("table.class-table tbody tr")).to_have_count(3)
    screenshot(page, "setup-4-classes")
    page.get_by_role("button", name=re.compile("Next: promotions")).click()
    _step(page, "Promotions")
    screenshot(page, "setup-5-promotions")

    # Change one decision (htmx), then leave.
    grade5 = StudentPromotion.objects.filter(setup=setup, source_class__name="Grade 5A").order_by(
        "student__family_name", "student__given_name", "student_id")
    repeater = grade5[1]
    page.locator(f"#action-{repeater.pk}").select_option("repeat")
    expect(page.locator(f"#promotion-{repeater.pk} td.small")).not_to_contain_text("suggested")
    page.context.close()

    # A new browser context: resume exactly where it stopped, the decision kept.
    page = browser.new_context(**browser_context_args).new_page()
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/setup/")
    page.get_by_role("link", name="Resume 2027").click()
    _step(page, "Promotions")
    expect(page.locator(f"#action-{repeater.pk}")).to_have_value("repeat")

    # A few more decisions: a Grade 6 learner transfers, a Grade 7 learner repeats.
    _open_class(page, "Grade 6A")
    grade6 = StudentPromotion.objects.filter(setup=setup, source_class__name="Grade 6A").order_by(
        "student__family_name", "student__given_name", "student_id")
    transfer = grade6[0]
    page.locator(f"#action-{transfer.pk}").select_option("transfer")
    expect(page.locator(f"#dest-{transfer.pk}")).to_be_disabled()
    _open_class(page, "Grade 7A")
    grade7 = StudentPromotion.objects.filter(setup=setup, source_class__name="Grade 7A").order_by(
        "student__family_name", "student__given_name", "student_id")
    stays = grade7[0]
    page.locator(f"#action-{stays.pk}").select_option("repeat")
    expect(page.locator(f"#dest-{stays.pk}")).to_be_enabled()
    assert_accessible(page)
    screenshot(page, "setup-6-decisions")
    page.get_by_role("button", name=re.compile("Next: review")).click()
    _step(page, "Review and execute")
    screenshot(page, "setup-7-review")
    page.get_by_role("button", name=re.compile("Execute .* decisions")).click()
    expect(page.locator("#execution-panel")).to_contain_text("Done")
    assert_accessible(page)
    screenshot(page, "setup-8-executed")

    setup.refresh_from_db()
    assert (setup.status, setup.current_step) == ("completed", 4)
    new = Enrollment.objects.filter(academic_session=y2027, role="student")
    assert new.get(person_id=repeater.student_id).class_division.name == "Grade 5A"
    promoted = grade5.filter(action="promote").first()
    assert new.get(person_id=promoted.student_id).class_division.name == "Grade 6A"
    assert new.get(person_id=stays.student_id).class_division.name == "Grade 7A"
    assert not new.filter(person_id=transfer.student_id).exists()
    graduates = grade7.filter(action="graduate").values_list("student_id", flat=True)
    assert graduates and not new.filter(person_id__in=list(graduates)).exists()
    y2027.refresh_from_db()
    assert y2027.state == "active"
    page.goto(f"{live_server.url}/setup/history/students/{repeater.student_id}/")
    expect(page.locator("table.history-table")).to_contain_text("Repeat")
    assert_accessible(page)
    screenshot(page, "setup-9-history")

    # The exam-session wizard, from scratch to publication.
    page.goto(f"{live_server.url}/setup/")
    page.get_by_role("link", name="Set up an exam session").click()
    _step(page, "Name, year and dates")
    term = y2027.children.get(name="Term 1 2027")
    page.locator("#id_name").fill("Term 1 tests 2027")
    page.locator("#id_school").select_option(label="Nketa Primary School")
    page.locator("#id_academic_session").select_option(str(y2027.pk))
    page.locator("#id_term").select_option(str(term.pk))
    page.locator("#id_starts_on").fill("2027-03-22")
    page.locator("#id_ends_on").fill("2027-03-26")
    screenshot(page, "exam-1-details")
    page.get_by_role("button", name=re.compile("Next: exams")).click()
    _step(page, "Exams")
    for label in ("Grade 5 Mathematics", "Grade 5 English Language", "Grade 6 Mathematics"):
        page.get_by_label(label, exact=True).check()
    screenshot(page, "exam-2-exams")
    page.get_by_role("button", name=re.compile("Next: schedule")).click()
    _step(page, "Schedule")
    times = {"Grade 5 Mathematics": ("2027-03-22", "09:00"), "Grade 5 English Language": ("2027-03-22", "10:00"),
             "Grade 6 Mathematics": ("2027-03-22", "09:00")}
    for title, (day, at) in times.items():
        page.get_by_label(f"Date of {title}").fill(day)
        page.get_by_label(f"Start time of {title}").fill(at)
    page.get_by_role("button", name=re.compile("Next: review")).click()
    expect(page.get_by_role("alert")).to_contain_text("overlap")
    assert_accessible(page)
    screenshot(page, "exam-3-clash")
    page.get_by_label("Date of Grade 5 English Language").fill("2027-03-23")
    page.get_by_role("button", name=re.compile("Next: review")).click()
    _step(page, "Review and publish")
    screenshot(page, "exam-4-review")
    page.get_by_role("button", name=re.compile("Publish Term 1 tests 2027")).click()
    expect(page.locator(".badge-open", has_text="Published")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "exam-5-published")
    exam = ExamSession.objects.get(name="Term 1 tests 2027")
    assert exam.is_published and exam.setups.get().status == "completed"
    assert exam.activities.count() == 3
    assert browser_errors == []
