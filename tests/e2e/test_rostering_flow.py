"""The rostering foundation in a real browser: a registrar signs in, sees the dashboard, creates a school
year with two terms through the pages (a term outside the year is refused inline first, nothing written),
then finds a student by name with the People list's htmx live filter and opens the student's page."""

from __future__ import annotations

import datetime
import re

import pytest
from playwright.sync_api import expect

from rostering.choices import SessionType
from rostering.models import AcademicSession
from tests.e2e.browser import login, screenshot
from tests.rostering import factories as f

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STUDENTS = [("Rutendo", "Mapfumo"), ("Farai", "Chikwanha"), ("Tatenda", "Chirwa"), ("Vimbai", "Marufu")]


def fill_term(main, number: int, name: str, start: str, end: str) -> None:
    main.get_by_label(f"Term {number} name", exact=True).fill(name)
    main.get_by_label(f"Term {number} start date", exact=True).fill(start)
    main.get_by_label(f"Term {number} end date", exact=True).fill(end)


def test_registrar_creates_a_school_year_with_terms_and_finds_a_student(
    page, live_server, world, browser_errors
):
    people = {
        family: f.PersonFactory(
            district=world.district,
            school=world.school_a,
            given_name=given,
            family_name=family,
            sis_id=f"AVP-{number:04d}",
            grade_level=world.grade6,
        )
        for number, (given, family) in enumerate(STUDENTS, start=1)
    }
    login(page, live_server, world.registrar.username)

    # The dashboard: one card, for the registrar's school.
    cards = page.locator("article.school-card")
    expect(cards).to_have_count(1)
    expect(cards.get_by_role("heading", name=world.school_a.name)).to_be_visible()
    expect(cards.locator(".badge-code")).to_have_text(world.school_a.code)
    expect(cards.locator(".school-counts div", has_text="Students").locator("dd")).to_have_text(
        str(len(STUDENTS))
    )

    # Rostering → Academic sessions → New academic session.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Rostering").click()
    page.get_by_role("navigation", name="Roster").get_by_role("link", name="Academic sessions").click()
    expect(page.get_by_role("heading", name="Academic sessions", exact=True)).to_be_visible()
    page.get_by_role("link", name="New academic session").first.click()
    expect(page.get_by_role("heading", name="New academic session")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/rostering/sessions/new/$"))

    # The registrar's only school is preselected; a school year is the default type. (Scoped to <main>:
    # the header's school switcher is labelled "School" too.)
    main = page.get_by_role("main")
    expect(main.get_by_label("School", exact=True)).to_have_value(str(world.school_a.pk))
    expect(main.get_by_label("Type", exact=True)).to_have_value(SessionType.SCHOOL_YEAR)
    main.get_by_label("Name", exact=True).fill("2027")
    main.get_by_label("Start date", exact=True).fill("2027-01-11")
    main.get_by_label("End date", exact=True).fill("2027-12-03")
    fill_term(main, 1, "Term 1", "2027-01-11", "2027-04-09")
    fill_term(main, 2, "Term 2", "2027-05-03", "2027-12-20")  # ends after the year does

    # Bad input: the second term row shows the error, the rest of the form keeps what was typed.
    page.get_by_role("button", name="Create academic session").click()
    bad_row = page.locator("tr.term-row").nth(1)
    expect(bad_row).to_have_class(re.compile(r"\bhas-error\b"))
    expect(bad_row.locator(".errorlist")).to_contain_text(
        "A term must lie inside its year (11 Jan 2027 – 03 Dec 2027)."
    )
    expect(page.locator("tr.term-row").first).not_to_have_class(re.compile(r"\bhas-error\b"))
    expect(page).to_have_url(re.compile(r"/rostering/sessions/new/$"))
    expect(main.get_by_label("Name", exact=True)).to_have_value("2027")
    expect(main.get_by_label("Term 1 name", exact=True)).to_have_value("Term 1")
    expect(main.get_by_label("Term 2 end date", exact=True)).to_have_value("2027-12-20")
    assert not AcademicSession.objects.filter(name__in=["2027", "Term 1", "Term 2"]).exists()
    screenshot(page, "rostering-year-form-error")

    # Fixed: the year and both terms are created, and the year's page lists the terms.
    main.get_by_label("Term 2 end date", exact=True).fill("2027-08-06")
    page.get_by_role("button", name="Create academic session").click()
    expect(page.get_by_role("heading", name="2027")).to_be_visible()
    year = AcademicSession.objects.get(name="2027", district=world.district)
    expect(page).to_have_url(f"{live_server.url}/rostering/sessions/{year.pk}/")
    expect(page.get_by_text("School year “2027” created with 2 terms.")).to_be_visible()
    expect(page.locator(".page-header .subtitle")).to_have_text(f"School year · {world.school_a.name}")
    terms_card = page.locator(".card", has=page.get_by_role("heading", name="Terms"))
    rows = terms_card.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Term 1")
    expect(rows.nth(0)).to_contain_text("11 Jan – 9 Apr 2027")
    expect(rows.nth(1)).to_contain_text("Term 2")
    expect(rows.nth(1)).to_contain_text("3 May – 6 Aug 2027")
    assert (year.type, year.school_id, year.start_date, year.end_date) == (
        SessionType.SCHOOL_YEAR,
        world.school_a.pk,
        datetime.date(2027, 1, 11),
        datetime.date(2027, 12, 3),
    )
    terms = list(
        year.children.order_by("start_date").values_list(
            "name", "type", "school_id", "start_date", "end_date"
        )
    )
    assert terms == [
        (
            "Term 1",
            SessionType.TERM,
            world.school_a.pk,
            datetime.date(2027, 1, 11),
            datetime.date(2027, 4, 9),
        ),
        ("Term 2", SessionType.TERM, world.school_a.pk, datetime.date(2027, 5, 3), datetime.date(2027, 8, 6)),
    ]
    screenshot(page, "rostering-year-detail")

    # People: typing in the search box filters the table in place (htmx, no submit, no page load).
    page.get_by_role("navigation", name="Roster").get_by_role("link", name="People").click()
    expect(page.get_by_role("heading", name="People", exact=True)).to_be_visible()
    table_rows = page.locator("#results tbody tr")
    expect(table_rows).to_have_count(len(STUDENTS) + 1)  # and the class teacher of 6A
    page.evaluate("window.__samePage = true")
    page.get_by_role("searchbox", name="Search").press_sequentially("mapf")
    expect(page).to_have_url(re.compile(r"/rostering/people/\?(.*&)?q=mapf"))
    expect(table_rows).to_have_count(1)
    target = people["Mapfumo"]
    expect(table_rows.first).to_contain_text("Mapfumo, Rutendo")
    expect(table_rows.first).to_contain_text("AVP-0001")
    for family, given in [
        ("Chikwanha", "Farai"),
        ("Chirwa", "Tatenda"),
        ("Marufu", "Vimbai"),
        ("Moyo", "Tendai"),
    ]:
        expect(page.locator("#results")).not_to_contain_text(f"{family}, {given}")
    assert page.evaluate("window.__samePage === true"), (
        "the search reloaded the page instead of swapping #results"
    )
    screenshot(page, "rostering-people-filtered")

    # The student's page.
    page.get_by_role("link", name="Mapfumo, Rutendo").click()
    expect(page).to_have_url(f"{live_server.url}/rostering/people/{target.pk}/")
    expect(page.get_by_role("heading", name="Rutendo Mapfumo")).to_be_visible()
    expect(page.locator(".page-header .subtitle")).to_contain_text("AVP-0001")
    expect(page.locator(".page-header .subtitle")).to_contain_text(world.school_a.name)
    assert browser_errors == []
