"""A district admin issues an integration token on the Integrations page, an integration reads the roster with it
through the Graph API, the page shows when it was last used, its requests of the last 24 hours and what it read,
and the admin revokes it (the next request is 401)."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import assert_accessible, login, screenshot
from tests.rostering import factories as rf

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def graph_get(live_server, path: str, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(f"{live_server.url}/api/v2/graph/{path}",
                                     headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_district_admin_issues_watches_and_revokes_an_integration_token(page, live_server, world, browser_errors):
    for given, family in (("Sofia", "Banda"), ("Rudo", "Dube"), ("Tariro", "Moyo")):
        rf.PersonFactory(district=world.district, school=world.school_a, given_name=given, family_name=family)
    login(page, live_server, world.district_admin.username)

    page.locator("details.dropdown summary").click()
    page.get_by_role("link", name="Integrations").click()
    expect(page.get_by_role("heading", name="Integrations", exact=True)).to_be_visible()
    expect(page.get_by_text("No integrations yet")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "integrations-1-empty")

    page.get_by_label("Name").fill("Reading app")
    page.get_by_role("button", name="Issue token").click()
    expect(page.get_by_role("heading", name="Token for Reading app")).to_be_visible()
    token = page.locator("#issued-token").inner_text().strip()
    assert token.startswith("sit_")
    assert_accessible(page)
    screenshot(page, "integrations-2-issued")

    # The integration reads the roster with it.
    status, body = graph_get(live_server, "people?$first=2", token)
    assert status == 200 and len(body["$data"]) == 2 and body["$next"].startswith(live_server.url)
    assert graph_get(live_server, "people?" + body["$next"].split("?", 1)[1], token)[0] == 200
    assert graph_get(live_server, "sessions", token)[0] == 200

    page.goto(f"{live_server.url}/integrations/")
    row = page.locator("tbody tr", has_text="Reading app")
    expect(row.locator("td.num")).to_have_text("3")
    expect(row).to_contain_text("people 2")
    expect(row).to_contain_text("sessions 1")
    expect(row).not_to_contain_text("never")
    expect(page.locator("#issued-token")).to_have_count(0)  # shown once
    assert token not in page.content()
    assert_accessible(page)
    screenshot(page, "integrations-3-used")

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=re.compile("Revoke")).click()
    expect(page.get_by_text("revoked: its requests are refused")).to_be_visible()
    expect(page.locator("tbody tr", has_text="Reading app").locator(".badge")).to_have_text("Revoked")
    assert_accessible(page)
    screenshot(page, "integrations-4-revoked")
    status, body = graph_get(live_server, "people", token)
    assert status == 401 and body["$errors"][0]["code"] == "INVALID_TOKEN"
    assert browser_errors == []
