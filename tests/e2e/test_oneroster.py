"""A district admin uploads the OneRoster zip of their student information system, watches the import's
progress bar, reads the report (counts per file, rejected rows with file, line, column and reason),
downloads the rejected rows, exports the roster and creates a REST client whose secret is shown once."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from django.test import override_settings
from playwright.sync_api import expect

from rostering.oneroster.models import ImportRun, RunStatus
from rostering.oneroster.services import import_run_execute
from tests.e2e.browser import assert_accessible, login, screenshot
from tests.oneroster.conftest import SAMPLES, rewrite
from tests.oneroster.test_import import BROKEN

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broken_zip(tmp_path):
    import shutil

    folder = tmp_path / "sis"
    shutil.copytree(SAMPLES / "oneroster-1.2-bulk", folder)
    for p in folder.iterdir():
        p.chmod(0o644)
    for name, change in BROKEN.items():
        rewrite(folder / name, change.get("replace"), change.get("append"))
    target = tmp_path / "maple-valley-sis.zip"
    with zipfile.ZipFile(target, "w") as zf:
        for p in sorted(folder.glob("*.csv")):
            zf.write(p, p.name)
    return target


def test_upload_progress_report_export_and_client(page, live_server, world, broken_zip, tmp_path, browser_errors, settings):
    settings.ONEROSTER = {**settings.ONEROSTER, "STORAGE_DIR": tmp_path / "storage"}
    login(page, live_server, world.district_admin.username)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Rostering").click()
    page.get_by_role("navigation", name="Roster").get_by_role("link", name="OneRoster").click()
    expect(page.get_by_role("heading", name="OneRoster", exact=True)).to_be_visible()
    expect(page.get_by_text("No imports yet")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "oneroster-imports-empty")

    # the upload queues a background task; with no worker running it waits, and the page says so
    with override_settings(TASKS={"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}):
        page.get_by_label("OneRoster package").set_input_files(str(broken_zip))
        page.get_by_label("Import into").select_option(label=f"{world.district.name} (whole district)")
        page.get_by_role("button", name="Import").click()
        expect(page.get_by_role("heading", name="Waiting for a worker…")).to_be_visible()
    expect(page.get_by_role("img", name="Queued: 0%")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "oneroster-import-queued")

    # a worker takes it: the page polls its status every second and shows the progress it reports
    run = ImportRun.objects.get()
    ImportRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, phase="Applying", progress_done=4_000, progress_total=10_000)
    expect(page.get_by_role("heading", name="Applying…")).to_be_visible(timeout=10_000)
    expect(page.get_by_role("img", name="Applying: 40%")).to_be_visible()
    expect(page.get_by_text("4,000 of 10,000")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "oneroster-import-progress")
    # (the run itself, while the page is elsewhere: an in-memory SQLite test database locks its tables for the
    # import's transaction, which a real server's database does not)
    page.get_by_role("link", name="OneRoster imports").click()
    ImportRun.objects.filter(pk=run.pk).update(status=RunStatus.QUEUED, phase="", progress_done=0, progress_total=0)
    import_run_execute(run=run)
    page.get_by_role("link", name="maple-valley-sis.zip").click()
    expect(page.get_by_role("heading", name="Result")).to_be_visible(timeout=10_000)
    expect(page.get_by_text("Applied, rows rejected")).to_be_visible()
    expect(page.get_by_text("6 rows were rejected")).to_be_visible()
    table = page.locator("table.or-counts")
    expect(table.get_by_role("row", name="users.csv")).to_contain_text("5")
    rejected = page.get_by_role("table").nth(1)
    expect(rejected).to_contain_text("userSourcedId refers to user 'usr-s-999', which is not in the package.")
    expect(rejected).to_contain_text("Header column 4 must be 'birthDate', found 'sex'")
    assert ImportRun.objects.get().status == RunStatus.REJECTED
    assert_accessible(page)
    screenshot(page, "oneroster-import-report")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as CSV").click()
    lines = Path(download_info.value.path()).read_text(encoding="utf-8").strip().splitlines()
    assert lines[0] == "file,line,column,sourcedId,code,reason" and len(lines) == 7

    # export: runs in the background (immediate here) and offers the zip
    page.get_by_role("navigation", name="Roster").get_by_role("link", name="OneRoster").click()
    page.get_by_role("navigation", name="OneRoster").get_by_role("link", name="Exports").click()
    page.get_by_role("button", name="Export").click()
    expect(page.get_by_text("The export has started")).to_be_visible()
    expect(page.get_by_role("link", name="Download zip")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "oneroster-exports")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download zip").click()
    with zipfile.ZipFile(download_info.value.path()) as zf:
        assert "manifest.csv" in zf.namelist() and "users.csv" in zf.namelist()

    # a REST client: the secret is shown once
    page.get_by_role("navigation", name="OneRoster").get_by_role("link", name="REST clients").click()
    expect(page.get_by_text("No clients yet")).to_be_visible()
    page.get_by_label("Name").fill("Google Classroom")
    page.get_by_label("May read demographics").check()
    page.get_by_role("button", name="Create client").click()
    expect(page.get_by_text("will not be shown again")).to_be_visible()
    expect(page.locator("#issued-secret")).not_to_be_empty()
    assert_accessible(page)
    screenshot(page, "oneroster-clients")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("is revoked")).to_be_visible()
    expect(page.get_by_text("Revoked", exact=True)).to_be_visible()
    assert browser_errors == []
