"""Helpers for the browser tests (import them in test modules; the fixtures are in conftest.py)."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
E2E_PASSWORD = "e2e-pass-2026-long-enough"


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot to ``var/screenshots/<name>.png`` and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name).strip('-')}.png"
    # caret="initial": hiding the caret leaves style="" on inputs, which htmx may copy and the CSP reports.
    page.screenshot(path=str(path), full_page=True, caret="initial")
    return path


def login(page, live_server, username: str, *, password: str | None = None) -> None:
    """Sign in through the login form and wait for the dashboard.

    Without ``password`` the user's password is first set to a known one, so any user the test
    made (fixtures, factories, the demo seed) can sign in.
    """
    if password is None:
        user = get_user_model().objects.get(username=username)
        user.set_password(E2E_PASSWORD)
        user.save(update_fields=["password"])
        password = E2E_PASSWORD
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
