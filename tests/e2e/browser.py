"""Helpers for the browser tests (import them in test modules; the fixtures are in conftest.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
E2E_PASSWORD = "e2e-pass-2026-long-enough"
# axe-core, pinned in package.json and installed by `make install` / `make test` (scripts/ensure-node-modules).
AXE_JS = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


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


def assert_accessible(page, *, tags: list[str] | None = None) -> None:
    """Run axe-core on the page as it is now and fail with a readable list of every WCAG 2.2 A/AA violation.

    axe is evaluated through the DevTools protocol, so the page's Content-Security-Policy (which forbids
    inline scripts) is left as it is.
    """
    if not AXE_JS.exists():
        raise AssertionError(f"{AXE_JS} is missing: run `make install` (it runs `npm ci` for axe-core).")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    violations = page.evaluate(
        """async (tags) => {
            const results = await window.axe.run(document, {
                runOnly: {type: "tag", values: tags}, resultTypes: ["violations"],
            });
            return results.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map((n) => ({target: n.target, html: n.html, summary: n.failureSummary})),
            }));
        }""",
        tags or WCAG_22_AA,
    )
    if violations:
        lines = [f"{len(violations)} accessibility violation(s) on {page.url}:"]
        for v in violations:
            lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
            for node in v["nodes"]:
                lines.append(f"    at {json.dumps(node['target'])}: {node['html'][:200]}")
                lines.extend(f"      {line}" for line in (node["summary"] or "").splitlines())
        raise AssertionError("\n".join(lines))
