"""Staff pages: upload → progress → report (rejected rows listed and downloadable), exports, REST clients."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from rostering.models import Person
from rostering.oneroster.models import ApiClient, ExportRun, ImportRun, RunStatus
from tests.oneroster import validator
from tests.oneroster.conftest import rewrite, zip_folder
from tests.oneroster.test_import import BROKEN

pytestmark = pytest.mark.django_db
IMPORTS = reverse("oneroster_pages:import_list")


def upload(client, path, target, **extra):
    with open(path, "rb") as fh:
        package = SimpleUploadedFile(path.name, fh.read(), content_type="application/zip")
    return client.post(IMPORTS, {"package": package, "target": target, **extra})


def test_upload_runs_in_the_background_and_shows_the_report(client, world, samples, tmp_path, django_capture_on_commit_callbacks):
    client.force_login(world.district_admin)
    page = client.get(IMPORTS)
    assert page.status_code == 200 and b"Upload a package" in page.content
    package = zip_folder(samples / "oneroster-1.2-bulk", tmp_path / "sis-export.zip")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = upload(client, package, f"d:{world.district.pk}")
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("oneroster_pages:import_detail", args=[run.pk])
    queued = client.get(response["Location"])
    assert b"Waiting for a worker" in queued.content and b'hx-trigger="every 1s"' in queued.content
    for callback in callbacks:  # the task (immediate backend in tests)
        callback()
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.applied and run.source_name == "sis-export.zip"
    assert not __import__("pathlib").Path(run.package_path).exists()  # the upload is not kept after its import
    page = client.get(response["Location"])
    text = page.content.decode()
    assert "Everything was applied." in text and "every 1s" not in text
    assert "<code>users.csv</code></th><td class=\"num\">5</td>" in text
    assert "No rejected rows" in text
    # the status fragment for htmx polling
    fragment = client.get(response["Location"], HTTP_HX_REQUEST="true")
    assert fragment.content.decode().lstrip().startswith('<div id="import-status"')
    assert Person.objects.filter(district=world.district).count() == 5 + 1
    assert "sis-export.zip" in client.get(IMPORTS).content.decode()


def test_rejected_rows_are_listed_and_downloadable(client, world, copy_sample, tmp_path, django_capture_on_commit_callbacks):
    folder = copy_sample("oneroster-1.2-bulk")
    for name, change in BROKEN.items():
        rewrite(folder / name, change.get("replace"), change.get("append"))
    client.force_login(world.district_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, zip_folder(folder, tmp_path / "broken.zip"), f"d:{world.district.pk}")
    run = ImportRun.objects.get()
    text = client.get(response["Location"]).content.decode()
    assert "Applied, rows rejected" in text and "6 rows were rejected" in text
    assert "userSourcedId refers to user &#x27;usr-s-999&#x27;, which is not in the package." in text
    csv_response = client.get(reverse("oneroster_pages:import_rejections_csv", args=[run.pk]))
    body = b"".join(csv_response.streaming_content).decode()
    lines = body.strip().splitlines()
    assert lines[0] == "file,line,column,sourcedId,code,reason" and len(lines) == 7
    assert "enrollments.csv,6,userSourcedId,enr-s999-alg1,reference.unresolved," in body


def test_individual_csv_files_can_be_uploaded(client, world, samples, django_capture_on_commit_callbacks):
    client.force_login(world.district_admin)
    files = [SimpleUploadedFile(p.name, p.read_bytes(), content_type="text/csv") for p in sorted((samples / "oneroster-1.2-bulk").glob("*.csv"))]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(IMPORTS, {"package": files, "target": f"d:{world.district.pk}", "all_or_nothing": "on"})
    run = ImportRun.objects.get()
    assert run.status == RunStatus.SUCCEEDED and run.all_or_nothing and run.source_name == "9 CSV files"


def test_a_bad_upload_is_a_form_error(client, world):
    client.force_login(world.district_admin)
    response = client.post(IMPORTS, {"package": SimpleUploadedFile("roster.txt", b"hello"), "target": f"d:{world.district.pk}"})
    assert response.status_code == 400 and b"Upload a .zip package or .csv files." in response.content
    assert not ImportRun.objects.exists()


def test_a_registrar_imports_into_their_school_only(client, world, samples, tmp_path):
    client.force_login(world.registrar)
    page = client.get(IMPORTS).content.decode()
    assert f'value="s:{world.school_a.pk}"' in page and f'value="d:{world.district.pk}"' not in page
    response = upload(client, zip_folder(samples / "oneroster-1.2-bulk", tmp_path / "p.zip"), f"d:{world.district.pk}")
    assert response.status_code == 400 and not ImportRun.objects.exists()


def test_runs_of_another_district_are_not_found(client, world, samples, tmp_path, django_capture_on_commit_callbacks):
    client.force_login(world.district_admin)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, zip_folder(samples / "oneroster-1.2-bulk", tmp_path / "p.zip"), f"d:{world.district.pk}")
    run = ImportRun.objects.get()
    client.force_login(world.other_registrar)
    assert client.get(reverse("oneroster_pages:import_detail", args=[run.pk])).status_code == 404
    assert client.get(reverse("oneroster_pages:import_rejections_csv", args=[run.pk])).status_code == 404
    assert "p.zip" not in client.get(IMPORTS).content.decode()
    client.force_login(world.viewer)  # sees the district's imports, may not upload
    assert b"p.zip" in client.get(IMPORTS).content and b"Upload a package" not in client.get(IMPORTS).content


def test_export_page_starts_an_export_and_offers_the_download(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.district_admin)
    url = reverse("oneroster_pages:export_list")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"target": f"d:{world.district.pk}"})
    assert response.status_code == 302
    run = ExportRun.objects.get()
    assert run.status == RunStatus.SUCCEEDED
    page = client.get(url).content.decode()
    download = reverse("oneroster_pages:export_download", args=[run.pk])
    assert download in page and "Download zip" in page
    response = client.get(download)
    assert response["Content-Type"] == "application/zip"
    data = b"".join(response.streaming_content)
    path = __import__("pathlib").Path(run.file_path).with_name("downloaded.zip")
    path.write_bytes(data)
    assert validator.validate(path) == []
    assert zipfile.ZipFile(io.BytesIO(data)).namelist()[-1] == "manifest.csv"
    client.force_login(world.other_registrar)
    assert client.get(download).status_code == 404


def test_clients_page_for_district_admins(client, world):
    url = reverse("oneroster_pages:client_list")
    client.force_login(world.viewer)
    assert client.get(url).status_code == 403
    client.force_login(world.district_admin)
    response = client.post(url, {"name": "Google Classroom", "district": world.district.pk, "demographics": "on"})
    text = response.content.decode()
    api_client = ApiClient.objects.get()
    assert "will not be shown again" in text and api_client.application.client_id in text
    assert "/ims/oneroster/token" in text and api_client.demographics
    assert "will not be shown again" not in client.get(url).content.decode()
    client.post(reverse("oneroster_pages:client_revoke", args=[api_client.pk]))
    api_client.refresh_from_db()
    assert not api_client.is_active
    client.force_login(world.other_registrar)
    assert client.post(reverse("oneroster_pages:client_revoke", args=[api_client.pk])).status_code == 403


def test_admin_lists_the_oneroster_models(client, world, imported):
    client.force_login(world.superuser)
    for name in ("sourcedrecord", "importrun", "exportrun", "apiclient"):
        response = client.get(reverse(f"admin:oneroster_{name}_changelist"))
        assert response.status_code == 200, name
    assert b"usr-s-001" in client.get(reverse("admin:oneroster_sourcedrecord_changelist"), {"q": "usr-s-001"}).content
