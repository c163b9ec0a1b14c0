"""Signing in and out through the real login form, in headless Chromium."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_registrar_signs_in_sees_the_dashboard_and_signs_out(page, live_server, world, browser_errors):
    login(page, live_server, world.registrar.username)

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page).to_have_title(re.compile(r"School Sessions"))
    user_menu = page.locator("header .usermenu details summary")
    expect(user_menu).to_have_text(world.registrar.get_full_name())
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard")
    ).to_have_attribute("aria-current", "page")
    # The school switcher offers the registrar's own school only.
    expect(page.locator("#school-switch option")).to_have_text(["All my schools", world.school_a.name])
    screenshot(page, "login-registrar-dashboard")

    user_menu.click()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    # Signed out for real: the dashboard sends us back to the login form.
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    assert browser_errors == []


def test_wrong_password_shows_an_error_and_signs_nobody_in(page, live_server, world, browser_errors):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(world.registrar.username)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    error = page.get_by_role("alert")
    expect(error).to_contain_text("Please enter a correct username and password")
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_label("Username")).to_have_value(world.registrar.username)
    screenshot(page, "login-wrong-password")

    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    assert browser_errors == []
