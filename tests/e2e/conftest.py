"""Real-browser tests: pytest-playwright driving Debian's Chromium against pytest-django's live server.

- The browser is Debian's ``/usr/bin/chromium`` (never ``playwright install``). When it is missing the
  e2e tests are skipped with the reason, except under CI (``CI`` set), where they fail.
- ``live_server`` tests run in transactional mode (tables are flushed after each test), so rows
  created in a test are visible to the server thread, on SQLite and PostgreSQL alike.
- Helpers live in ``tests/e2e/browser.py``: ``login(page, live_server, username)`` signs in through the
  real login form; ``screenshot(page, name)`` saves ``var/screenshots/<name>.png``. A failing test
  saves ``var/screenshots/FAILED-<test>.png`` by itself.
- The ``browser_errors`` fixture collects console errors and CSP violations of the page.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.db import connections

from tests.e2e.browser import screenshot

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Playwright's sync API runs an event loop in the test thread; the Django ORM calls that the tests
# make next to it are safe because nothing else runs in that thread (tests/conftest.py sets it too).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def playwright(playwright):
    """pytest-playwright's, closing the database connections it made Django open.

    While Playwright's sync API has its event loop running in this thread, Django keeps the thread's
    connections in context-local storage: other connection objects than the ones opened before it started
    (asgiref's thread-critical ``Local``). Closed here, before the loop stops; otherwise their connection
    outlives the session and the test database cannot be dropped at the end."""
    yield playwright
    connections.close_all()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        message = (
            f"{CHROMIUM} is missing: the browser tests drive Debian's Chromium "
            "(`apt-get install chromium`, or run `bash scripts/ensure-chromium`)."
        )
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": CHROMIUM_ARGS,
        "headless": browser_type_launch_args.get("headless", True),
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {
        **browser_context_args,
        "locale": "en-GB",
        "timezone_id": "Africa/Harare",
        "viewport": {"width": 1280, "height": 860},
    }


@pytest.fixture(autouse=True)
def _page_timeouts(request):
    if "page" in request.fixturenames:
        page = request.getfixturevalue("page")
        page.set_default_timeout(10_000)
        page.set_default_navigation_timeout(15_000)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing browser test leaves ``var/screenshots/FAILED-<test>.png`` (taken before the page closes)."""
    report = yield
    if report.when == "call" and report.failed:
        page = getattr(item, "funcargs", {}).get("page")
        if page is not None and not page.is_closed():
            try:
                screenshot(page, f"FAILED-{item.name}")
            except Exception as exc:  # never hide the test's own failure
                report.sections.append(("screenshot", f"could not save a screenshot: {exc}"))
    return report


@pytest.fixture
def browser_errors(page):
    """Console errors seen by the page, a list of strings. Chromium reports every Content-Security-Policy
    violation (an inline ``style=""``, a script without the nonce) as a console error, so asserting
    ``browser_errors == []`` at the end of a test proves that nothing was blocked."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    return errors
