"""The participant's side of a registration, end to end in real browsers.

A registrar prints code slips for a class-locked student intake and keeps the session's live progress
panel open; a student on a phone enters the code from a slip, fills the form (autosaved: a reload keeps
the answers), reviews and submits; the registrar asks for a correction of the date of birth; the student
sees the message and the flagged field, fixes it and sends it again; the registrar approves, which
writes the student into class 6A's roster. The progress panel follows every step by itself (htmx
polling every 5 s).
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from registrations.choices import RegistrationMode, SessionStatus, SubmissionStatus
from registrations.models import Submission
from registrations.services.codes import access_codes_generate
from registrations.services.sessions import registration_session_create, registration_session_transition
from tests.e2e.browser import SCREENSHOTS, login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "screen": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Mobile Safari/537.36"
    ),
}
POLL = 12_000  # the progress panel refreshes every 5 s: two chances, then a failure
TITLE = "Grade 6A intake 2026"
STUDENT = {
    "First name": "Rudo",
    "Surname": "Chikwanha",
    "Parent / guardian name": "Farai Chikwanha",
    "Parent / guardian phone": "+263 77 123 4567",
}
WRONG_BIRTH_DATE = "2004-05-17"
RIGHT_BIRTH_DATE = "2014-05-17"
CORRECTION = "Please check your date of birth"


def _watch(page, errors: list[str], who: str) -> None:
    """Collect console errors and uncaught exceptions of another page into ``browser_errors``."""

    def on_console(msg) -> None:
        if msg.type == "error":
            errors.append(f"{who} console at {page.url}: {msg.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"{who} page error at {page.url}: {exc}"))


@pytest.fixture
def open_phone(browser, browser_context_args, browser_errors):
    """``open_phone()`` → a new page in a fresh phone-sized context (no cookies: a phone picked up anew);
    its console errors go to ``browser_errors``. Every context is closed at the end of the test."""
    contexts = []

    def make():
        context = browser.new_context(**{**browser_context_args, **PHONE})
        contexts.append(context)
        phone = context.new_page()
        phone.set_default_timeout(10_000)
        phone.set_default_navigation_timeout(15_000)
        _watch(phone, browser_errors, "phone")
        return phone

    yield make
    for context in contexts:
        context.close()


@contextmanager
def _screenshot_on_failure(page, name: str):
    """The conftest hook saves the registrar's page on failure; this saves the phone's too."""
    try:
        yield
    except BaseException:
        if not page.is_closed():
            screenshot(page, name)
        raise


def _shot(page, name: str, *, full_page: bool = True) -> None:
    """Like ``browser.screenshot`` but leaves the text caret alone. Playwright hides it by putting
    ``style="caret-color: transparent"`` on every input and then leaves ``style=""`` behind; htmx copies
    that attribute onto the input an out-of-band swap brings in (``#form-version``), which the strict
    CSP then blocks and reports as a console error."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page, caret="initial")


def _fits_the_phone(page) -> None:
    """Nothing sticks out sideways: the page never scrolls horizontally at 390 px."""
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the phone's screen"


def _counter(panel, label: str):
    return panel.locator(".stat", has_text=label).locator(".value")


def _breakdown(panel, label: str):
    item = panel.locator(".reg-breakdown li", has_text=re.compile(rf"^\s*\d+\s+{label}\s*$"))
    return item.locator(".badge")


def _completion(panel):
    return panel.locator(".reg-bar").first.locator(".progress-label strong")


def _bar_ratio(panel) -> float:
    bar = panel.locator(".reg-bar").first
    fill = bar.locator("rect.bar-fill").bounding_box()
    track = bar.locator("rect.bar-track").bounding_box()
    return fill["width"] / track["width"]


def test_student_registers_on_a_phone_corrects_on_request_and_lands_in_the_class_roster(
    page, live_server, world, browser_errors, open_phone
):
    session = registration_session_create(
        actor=world.registrar, school=world.school_a, mode=RegistrationMode.STUDENT_INTAKE, title=TITLE,
        class_division=world.class_6a, expected_count=5,
    )
    batch = access_codes_generate(session=session, actor=world.registrar, count=5)
    registration_session_transition(session=session, to=SessionStatus.OPEN, actor=world.registrar)

    # --- Registrar (desktop): print the batch's slips, read one code off them; keep the session open. ---
    login(page, live_server, world.registrar.username)
    print_url = reverse("registrations:codes_print", args=[session.pk])
    page.goto(f"{live_server.url}{print_url}?batch={batch.print_batch_id}")
    slips = page.locator("article.slip")
    expect(slips).to_have_count(5)
    slip = slips.first
    code = slip.locator(".slip-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{5}-[A-Z0-9]{5}", code), code
    register_address = slip.locator(".slip-steps strong").inner_text().strip()
    assert register_address.endswith("/register")

    page.goto(f"{live_server.url}{reverse('registrations:session_detail', args=[session.pk])}")
    panel = page.locator("section.reg-progress")
    expect(panel).to_have_attribute("hx-trigger", "every 5s")
    expect(_counter(panel, "Expected")).to_have_text("5")
    expect(_counter(panel, "Codes generated")).to_have_text("5")
    expect(_breakdown(panel, "unused")).to_have_text("5")
    expect(_completion(panel)).to_have_text("0%")
    assert _bar_ratio(panel) == 0

    # A second tab of the same registrar for the review work; the first one keeps polling.
    desk = page.context.new_page()
    _watch(desk, browser_errors, "registrar tab")

    # --- Student (phone): the address from the slip, then the code typed in. ---
    phone = open_phone()
    with _screenshot_on_failure(phone, "FAILED-participant-phone"):
        phone.goto(f"http://{register_address}")
        expect(phone.get_by_role("heading", name="Enter your access code")).to_be_visible()
        phone.get_by_label("Access code").fill(code)
        _fits_the_phone(phone)
        _shot(phone, "participant-code-entry")
        phone.get_by_role("button", name="Continue").tap()

        expect(phone).to_have_url(re.compile(r"/register/form$"))
        expect(phone.get_by_role("heading", name="Your details")).to_be_visible()
        expect(phone.locator(".public-title")).to_have_text(TITLE)
        expect(phone.locator(".steps [aria-current=step]")).to_contain_text("Details")
        # The class lock: grade and class are set by the school.
        expect(phone.get_by_label("Grade")).to_be_disabled()
        expect(phone.get_by_label("Grade").locator("option:checked")).to_have_text("Grade 6")
        expect(phone.locator("#field-grade_level_id .locked-note")).to_contain_text("Set by your school")

        form = phone.locator("form.reg-form")
        for label, value in STUDENT.items():
            phone.get_by_role("textbox", name=label, exact=True).fill(value)
        phone.get_by_label("Date of birth").fill(WRONG_BIRTH_DATE)
        phone.get_by_role("radio", name="Female").check()
        phone.get_by_label("Relationship to the student").select_option(label="Mother")
        # Autosave: every change posts the form; wait until the last one is answered.
        expect(form).not_to_have_class(re.compile(r"\bhtmx-request\b"))
        saved = phone.locator("#save-status .saved-indicator")
        expect(saved).to_contain_text(re.compile(r"Saved at \d\d:\d\d"))
        _fits_the_phone(phone)
        _shot(phone, "participant-form-saved")

        # The registrar's panel sees the started code by itself.
        expect(_breakdown(panel, "started")).to_have_text("1", timeout=POLL)

        # A reload keeps everything typed.
        phone.reload()
        for label, value in STUDENT.items():
            expect(phone.get_by_role("textbox", name=label, exact=True)).to_have_value(value)
        expect(phone.get_by_label("Date of birth")).to_have_value(WRONG_BIRTH_DATE)
        expect(phone.get_by_role("radio", name="Female")).to_be_checked()
        relationship = phone.get_by_label("Relationship to the student")
        expect(relationship.locator("option:checked")).to_have_text("Mother")
        expect(phone.locator("#save-status")).to_contain_text("Your answers are saved automatically.")

        phone.get_by_role("button", name="Continue to review").tap()
        expect(phone).to_have_url(re.compile(r"/register/review$"))
        expect(phone.get_by_role("heading", name="Check your answers")).to_be_visible()
        answers = phone.locator("dl.answers")
        expect(answers.locator(".answer", has_text="First name").locator("dd")).to_have_text("Rudo")
        expect(answers.locator(".answer", has_text="Date of birth").locator("dd")).to_contain_text("2004")
        expect(answers.locator(".answer", has_text="Class").last.locator("dd")).to_contain_text("6A")
        expect(phone.locator(".warning-summary")).to_have_count(0)
        _fits_the_phone(phone)
        _shot(phone, "participant-review")
        phone.get_by_role("button", name="Submit").tap()

        expect(phone).to_have_url(re.compile(r"/register/status$"))
        expect(phone.get_by_role("heading", name="Sent — thank you!")).to_be_visible()
        expect(phone.locator(".status-card .badge")).to_have_text("Submitted")
        _fits_the_phone(phone)
        _shot(phone, "participant-submitted")
    phone.context.close()  # the student puts the phone away

    # --- Registrar: the panel counts the submission; the queue has it; send it back for a correction. ---
    expect(_counter(panel, "Awaiting review")).to_have_text("1", timeout=POLL)
    expect(_breakdown(panel, "submitted")).to_have_text("1")
    expect(_completion(panel)).to_have_text("20%")
    assert 0.15 < _bar_ratio(panel) < 0.25

    desk.goto(f"{live_server.url}/")
    desk.get_by_role("navigation", name="Main").get_by_role("link", name="Review queue").click()
    expect(desk.get_by_role("heading", name="Submissions", exact=True)).to_be_visible()
    desk.get_by_role("link", name="Rudo Chikwanha").click()
    expect(desk.get_by_role("heading", name=re.compile("Rudo Chikwanha"))).to_be_visible()
    expect(desk.locator("h1 .badge")).to_have_text("Submitted")
    expect(desk.locator(".review-answers-table tr", has_text="Date of birth")).to_contain_text("17 May 2004")
    desk.locator("#correction summary").click()
    desk.get_by_label("Message to the participant").fill(CORRECTION)
    desk.locator("#correction").get_by_label("Date of birth").check()
    desk.get_by_role("button", name="Send back to the participant").click()
    expect(desk.get_by_text("Sent Rudo Chikwanha’s form back for correction.")).to_be_visible()
    expect(desk.locator("h1 .badge")).to_have_text("Needs correction")
    expect(desk.locator(".review-alert")).to_contain_text(CORRECTION)
    expect(desk.locator(".review-alert")).to_contain_text("(Fields: Date of birth)")
    expect(desk.locator("tr.row-flagged")).to_contain_text("Date of birth")
    _shot(desk, "participant-registrar-review-detail")

    expect(_breakdown(panel, "needs correction")).to_have_text("1", timeout=POLL)
    expect(_counter(panel, "Awaiting review")).to_have_text("0")
    expect(_completion(panel)).to_have_text("0%")

    # --- Student, later, scans the QR code of the same slip: the message and the flagged field. ---
    phone = open_phone()
    with _screenshot_on_failure(phone, "FAILED-participant-phone-correction"):
        phone.goto(f"{live_server.url}/register?code={code}")
        expect(phone.get_by_label("Access code")).to_have_value(code)
        phone.get_by_role("button", name="Continue").tap()
        expect(phone).to_have_url(re.compile(r"/register/status$"))
        expect(phone.get_by_role("heading", name="Please correct your answers")).to_be_visible()
        expect(phone.locator(".status-card .correction-message")).to_have_text(CORRECTION)
        expect(phone.locator(".status-card")).to_contain_text("Please check: Date of birth.")
        phone.get_by_role("link", name="Correct my answers").tap()

        expect(phone).to_have_url(re.compile(r"/register/form$"))
        expect(phone.get_by_role("heading", name="Correct your answers")).to_be_visible()
        correction_box = phone.locator(".correction-box")
        expect(correction_box).to_contain_text("Your school asked for a correction")
        expect(correction_box.locator(".correction-message")).to_have_text(CORRECTION)
        to_the_field = correction_box.get_by_role("link", name="Date of birth")
        expect(to_the_field).to_have_attribute("href", "#field-date_of_birth")
        birth = phone.locator("#field-date_of_birth")
        expect(birth).to_have_class(re.compile(r"\bflagged\b"))
        expect(birth.locator(".flag-mark")).to_have_text("please check")
        expect(phone.locator(".field.flagged")).to_have_count(1)
        expect(phone.get_by_label("Date of birth")).to_have_value(WRONG_BIRTH_DATE)
        _fits_the_phone(phone)
        _shot(phone, "participant-correction-shown")

        # The link in the message brings the flagged field into view, clear of the sticky save bar.
        to_the_field.tap()
        expect(phone).to_have_url(re.compile(r"/register/form#field-date_of_birth$"))
        date_input = phone.get_by_label("Date of birth")
        expect(date_input).to_be_in_viewport()
        save_bar = phone.locator(".form-footer").bounding_box()
        field_box = date_input.bounding_box()
        assert field_box["y"] + field_box["height"] <= save_bar["y"], (field_box, save_bar)
        _shot(phone, "participant-correction-field", full_page=False)

        date_input.fill(RIGHT_BIRTH_DATE)
        expect(phone.locator("form.reg-form")).not_to_have_class(re.compile(r"\bhtmx-request\b"))
        expect(phone.locator("#save-status .saved-indicator")).to_be_visible()
        phone.get_by_role("button", name="Continue to review").tap()
        expect(phone).to_have_url(re.compile(r"/register/review$"))
        expect(phone.locator(".alert-warning")).to_contain_text("asked you to check: Date of birth.")
        expect(phone.locator(".answer", has_text="Date of birth").locator("dd")).to_contain_text("2014")
        phone.get_by_role("button", name="Send my corrections").tap()
        expect(phone).to_have_url(re.compile(r"/register/status$"))
        expect(phone.get_by_role("heading", name="Corrections sent — thank you!")).to_be_visible()
        expect(phone.locator(".status-card .badge")).to_have_text("Resubmitted")
        _fits_the_phone(phone)
        _shot(phone, "participant-resubmitted")

    # --- Registrar: approve; the session imports on approval, into class 6A. ---
    expect(_counter(panel, "Awaiting review")).to_have_text("1", timeout=POLL)
    desk.reload()
    expect(desk.locator("h1 .badge")).to_have_text("Resubmitted")
    expect(desk.locator(".review-answers-table tr", has_text="Date of birth")).to_contain_text("17 May 2014")
    expect(desk.get_by_text("Approving writes this record to the roster at once.")).to_be_visible()
    desk.get_by_role("button", name="Approve", exact=True).click()
    expect(desk.get_by_text("Approved Rudo Chikwanha.")).to_be_visible()
    expect(desk.locator("h1 .badge")).to_have_text("Imported")
    expect(desk.locator(".review-alert")).to_contain_text("On the roster")
    submission = Submission.objects.get(access_code__code=code.replace("-", ""))
    assert submission.status == SubmissionStatus.IMPORTED
    assert submission.imported_person.date_of_birth.isoformat() == RIGHT_BIRTH_DATE

    desk.goto(f"{live_server.url}{reverse('rostering:classdivision_detail', args=[world.class_6a.pk])}")
    expect(desk.get_by_role("heading", name="6A", exact=True)).to_be_visible()
    students = desk.locator(".card", has=desk.get_by_role("heading", name=re.compile(r"^Students")))
    row = students.locator("tbody tr", has_text="Chikwanha, Rudo")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("17 May 2014")
    expect(row).to_contain_text("Female")
    _shot(desk, "participant-class-roster")

    # The panel, by itself: imported 1, approved 1, the completion bar at 20 %.
    expect(_breakdown(panel, "imported")).to_have_text("1", timeout=POLL)
    expect(_counter(panel, "Approved")).to_have_text("1")
    expect(_counter(panel, "Awaiting review")).to_have_text("0")
    expect(_breakdown(panel, "unused")).to_have_text("4")
    expect(_completion(panel)).to_have_text("20%")
    assert 0.15 < _bar_ratio(panel) < 0.25
    page.bring_to_front()
    _shot(page, "participant-progress-panel")

    # The student's status page says it is done.
    with _screenshot_on_failure(phone, "FAILED-participant-phone-done"):
        phone.reload()
        expect(phone.get_by_role("heading", name="Approved and registered")).to_be_visible()
        _shot(phone, "participant-done")

    assert browser_errors == []
