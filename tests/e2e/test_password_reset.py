"""Forgotten password and sign-in lockout, in headless Chromium: every page checked with axe-core."""

import re

import pytest
from django.conf import settings
from django.core import mail
from playwright.sync_api import expect

from tests.e2e.browser import E2E_PASSWORD, assert_accessible, login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a-fresh-passphrase-for-term-2"


def unexpected(errors: list[str]) -> list[str]:
    """Console errors but Chromium's note on the lockout page's own status (429, deliberately)."""
    return [e for e in errors if "status of 429 (Too Many Requests)" not in e]


def test_login_page_is_accessible(page, live_server, world, browser_errors):
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("link", name="Forgot your password?")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "signin-login-page")
    assert browser_errors == []


def test_staff_user_resets_a_forgotten_password_and_signs_in_with_it(page, live_server, world, browser_errors):
    user = world.registrar
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()

    expect(page).to_have_url(f"{live_server.url}/accounts/password-reset/")
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Email").fill(user.email)
    screenshot(page, "password-reset-1-email")
    page.get_by_role("button", name="Send the link").click()

    expect(page).to_have_url(f"{live_server.url}/accounts/password-reset/done/")
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "password-reset-2-sent")

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    link = re.search(r"https?://\S+/accounts/password-reset/\S+/", message.body).group(0)
    assert link.startswith(live_server.url)

    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    expect(page.get_by_text(f"For the account {user.username}.")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    screenshot(page, "password-reset-3-new-password")
    page.get_by_role("button", name="Set the new password").click()

    expect(page).to_have_url(f"{live_server.url}/accounts/password-reset/complete/")
    expect(page.get_by_role("heading", name="Password changed")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "password-reset-4-done")
    page.get_by_role("link", name="Sign in").click()

    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    login(page, live_server, user.username, password=NEW_PASSWORD)
    expect(page.locator("header .usermenu details summary")).to_have_text(user.get_full_name())

    # The link worked once.
    page.goto(link)
    expect(page.get_by_role("heading", name="Link no longer valid")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "password-reset-5-used-link")
    assert browser_errors == []


def test_a_weak_new_password_is_explained(page, live_server, world, browser_errors):
    page.goto(f"{live_server.url}/accounts/password-reset/")
    page.get_by_label("Email").fill(world.viewer.email)
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    link = re.search(r"https?://\S+/accounts/password-reset/\S+/", mail.outbox[0].body).group(0)
    page.goto(link)
    page.get_by_label("New password", exact=True).fill("password")
    page.get_by_label("New password confirmation").fill("password")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_text("This password is too common.")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "password-reset-weak-password")
    assert browser_errors == []


def test_lockout_is_shown_and_a_district_admin_lifts_it(page, browser, live_server, world, browser_errors):
    user = world.registrar
    user.set_password(E2E_PASSWORD)
    user.save(update_fields=["password"])
    # The district admin signs in first: every browser here shares 127.0.0.1, which the failures lock too.
    admin_context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    admin_page = admin_context.new_page()
    login(admin_page, live_server, world.district_admin.username)

    page.goto(f"{live_server.url}/accounts/login/")
    for attempt in range(1, settings.AXES_FAILURE_LIMIT + 1):
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(f"not-the-password-{attempt}")
        page.get_by_role("button", name="Sign in").click()
        if attempt < settings.AXES_FAILURE_LIMIT:
            expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username and password")

    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Sign-in is locked for now.")
    expect(alert).to_contain_text(f"Ask a district admin to unlock it, or wait {minutes} minutes and try again.")
    expect(page).to_have_title(re.compile(r"^Sign-in locked"))
    assert_accessible(page)
    screenshot(page, "signin-locked-out")

    # The right password is refused too while the lock lasts.
    page.get_by_role("link", name="Back to sign in").click()
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(E2E_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Sign-in is locked for now.")

    # The district admin finds it under the account menu and unlocks it.
    admin_page.locator("header .usermenu details summary").click()
    admin_page.get_by_role("link", name="Sign-in lockouts").click()
    expect(admin_page.get_by_role("heading", name="Sign-in lockouts")).to_be_visible()
    row = admin_page.get_by_role("row").filter(has_text=user.username)
    expect(row).to_contain_text("Account")
    expect(row).to_contain_text("127.0.0.1")
    assert_accessible(admin_page)
    screenshot(admin_page, "signin-lockouts-page")
    row.get_by_role("button", name=f"Unlock the account {user.username}").click()
    expect(admin_page.get_by_role("status")).to_contain_text(f"Sign-in unlocked for the account “{user.username}”.")
    expect(admin_page.get_by_text("Nobody is locked out")).to_be_visible()
    assert_accessible(admin_page)
    screenshot(admin_page, "signin-lockouts-unlocked")
    admin_context.close()

    login(page, live_server, user.username, password=E2E_PASSWORD)
    expect(page.locator("header .usermenu details summary")).to_have_text(user.get_full_name())
    assert unexpected(browser_errors) == []


def test_admin_login_lockout_keeps_the_admin_look(page, live_server, world, browser_errors):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.get_by_label("Username").fill(world.superuser.username)
        page.get_by_label("Password").fill("not-the-password")
        page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Sign-in is locked for now")
    expect(page.get_by_role("link", name="Forgot your password?")).to_be_visible()
    screenshot(page, "signin-locked-out-admin")
    # Django's own admin login page names no icon, so Chromium asks for /favicon.ico (a 404) before the lockout.
    assert [e for e in unexpected(browser_errors) if "status of 404" not in e] == []
