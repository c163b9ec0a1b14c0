"""A registrar sets up a class-locked student verification session in a real browser: New Session form
(mode first, htmx refresh), roster-assigned codes with hints, printable slips with QR codes, and the
session's live progress panel (htmx polling)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from registrations.choices import SubmissionStatus
from registrations.models import AccessCode, RegistrationSession
from tests.e2e.browser import login, screenshot
from tests.registrations.factories import SubmissionFactory
from tests.rostering import factories as f

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PUPILS = [("Tariro", "Moyo"), ("Kudzai", "Dube"), ("Rufaro", "Ncube"), ("Tapiwa", "Sibanda"), ("Nyasha", "Banda"),
          ("Chipo", "Mutasa")]


def test_registrar_creates_a_verification_session_prints_slips_and_watches_progress(
    page, live_server, world, browser_errors
):
    for number, (given, family) in enumerate(PUPILS, start=1):
        pupil = f.PersonFactory(district=world.district, school=world.school_a, given_name=given, family_name=family,
                                sis_id=f"AVP-{number:04d}", grade_level=world.grade6)
        f.EnrollmentFactory(class_division=world.class_6a, person=pupil, role="student")
    login(page, live_server, world.registrar.username)

    # Sessions list → New Session.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Registrations").click()
    expect(page.get_by_role("heading", name="Registration sessions")).to_be_visible()
    page.get_by_role("link", name="New session").first.click()
    expect(page.get_by_role("heading", name="New registration session")).to_be_visible()

    # Mode first: choosing it re-renders the form (htmx) with the mode's defaults.
    page.get_by_text("Student verification", exact=True).click()
    expect(page.locator("#id_roster_policy")).to_have_value("preloaded_only")
    expect(page.locator("#id_rf_date_of_birth option:checked")).to_have_text("Mode default (required)")
    # The registrar's only school is preselected; the class picker offers its classes only.
    expect(page.locator("#id_school")).to_have_value(str(world.school_a.pk))
    expect(page.locator("#id_class_division option")).to_have_text(["No class lock", "6A · Grade 6", "6B · Grade 6"])
    page.locator("#id_class_division").select_option(label="6A · Grade 6")
    page.get_by_label("Title").fill("Grade 6A details check")
    page.get_by_label("Expected participants").fill(str(len(PUPILS)))
    page.get_by_role("button", name="Create draft session").click()

    session = RegistrationSession.objects.get(title="Grade 6A details check")
    expect(page).to_have_url(re.compile(rf"/registrations/{session.pk}/\?tab=codes$"))
    expect(page.locator("h1 .badge")).to_have_text("Draft")
    expect(page.locator(".page-header .subtitle")).to_contain_text("Student verification")
    expect(page.locator(".page-header .subtitle")).to_contain_text("Class 6A")

    # Roster-assigned codes with name hints (both preset for a pre-loaded roster policy).
    expect(page.get_by_text(f"{len(PUPILS)} students in class 6A have no code yet")).to_be_visible()
    expect(page.get_by_label("Assign each code to a person on the roster")).to_be_checked()
    expect(page.get_by_label("Print the person's name and number on the slip")).to_be_checked()
    page.get_by_role("button", name="Generate codes").click()
    expect(page.get_by_text(f"Generated {len(PUPILS)} roster-assigned codes.")).to_be_visible()
    codes = list(AccessCode.objects.filter(session=session))
    assert len(codes) == len(PUPILS) and all(c.assigned_person_id for c in codes)
    table = page.locator("table.reg-codes tbody tr")
    expect(table).to_have_count(len(PUPILS))
    expect(page.locator("table.reg-codes")).to_contain_text("Tariro Moyo")

    # Print the slips: one per code, each with a QR code, the code, the name hint and the /register address.
    page.get_by_role("link", name="Print slips").click()
    slips = page.locator("article.slip")
    expect(slips).to_have_count(len(PUPILS))
    expect(page.locator("article.slip svg.qr")).to_have_count(len(PUPILS))
    expect(page.locator("section.sheet")).to_have_count(1)
    first = codes[0]
    slip = slips.filter(has_text=first.display_code)
    expect(slip).to_contain_text(first.display_name_hint)
    expect(slip).to_contain_text(world.school_a.name)
    expect(slip).to_contain_text("Grade 6A details check")
    expect(slip).to_contain_text(re.compile(r"localhost:\d+/register|127\.0\.0\.1:\d+/register"))
    qr_box = slip.locator("svg.qr").bounding_box()
    assert qr_box["width"] > 90 and abs(qr_box["width"] - qr_box["height"]) < 1  # ~30 mm square
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    assert browser_errors == []
    screenshot(page, "slips")
    page.emulate_media(media="print")
    expect(page.locator(".print-toolbar")).to_be_hidden()
    screenshot(page, "slips-print")
    page.emulate_media(media="screen")

    # Open the session: the progress panel shows the codes and refreshes itself.
    page.get_by_role("link", name="Grade 6A details check").click()
    panel = page.locator("section.reg-progress")
    expect(panel).to_be_visible()
    expect(panel.locator(".stat", has_text="Codes generated").locator(".value")).to_have_text(str(len(PUPILS)))
    expect(panel.locator(".stat", has_text="Expected").locator(".value")).to_have_text(str(len(PUPILS)))
    expect(panel.locator(".reg-breakdown li", has_text="unused").locator(".badge")).to_have_text(str(len(PUPILS)))
    expect(panel).to_have_attribute("hx-trigger", "every 5s")

    page.get_by_role("button", name="Open", exact=True).click()
    expect(page.locator("h1 .badge")).to_have_text("Open")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    expect(page.get_by_role("button", name="Close")).to_have_attribute("data-confirm", re.compile("Close this session"))

    # A participant submits (as the public pages will do): the panel picks it up by itself within seconds.
    SubmissionFactory(access_code=codes[0], status=SubmissionStatus.SUBMITTED)
    awaiting = panel.locator(".stat", has_text="Awaiting review").locator(".value")
    expect(awaiting).to_have_text("1", timeout=12_000)
    completion = page.locator(".reg-progress .reg-bar").first
    expect(completion).to_contain_text("16.7%")
    fill = completion.locator("rect.bar-fill").bounding_box()
    track = completion.locator("rect.bar-track").bounding_box()
    assert 0.12 < fill["width"] / track["width"] < 0.22  # the SVG bar really is drawn at 16.7 %
    assert browser_errors == []
    screenshot(page, "registration-session-detail")
