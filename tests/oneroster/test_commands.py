"""manage.py import_oneroster / export_oneroster / create_oneroster_client."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from rostering.models import Person
from rostering.oneroster.models import ApiClient, ImportRun, RunStatus
from tests.oneroster import validator
from tests.oneroster.conftest import rewrite
from tests.oneroster.test_import import BROKEN

pytestmark = pytest.mark.django_db


def call(*args):
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command(*args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_import_prints_a_report_and_a_progress_bar(district, samples):
    code, out, err = call("import_oneroster", str(samples / "oneroster-1.2-bulk"), "--district", district.name)
    assert code == 0
    assert "OneRoster 1.2 import into Maple Valley" in out
    assert "users.csv                 5        0          0        0         0" in out
    assert "Applying  [#########################] 100%" in err
    run = ImportRun.objects.get()
    assert (run.status, run.applied, run.counts["users"]["created"]) == (RunStatus.SUCCEEDED, True, 5)
    assert (samples / "oneroster-1.2-bulk" / "users.csv").exists()  # a path given to the command is left alone
    code, out, _ = call("import_oneroster", str(samples / "oneroster-1.2-bulk"), "--district", str(district.pk))
    assert code == 0 and "users.csv                 0        0          5" in out


def test_import_exits_non_zero_when_rows_are_rejected(district, copy_sample):
    folder = copy_sample("oneroster-1.2-bulk")
    for name, change in BROKEN.items():
        rewrite(folder / name, change.get("replace"), change.get("append"))
    code, out, _ = call("import_oneroster", str(folder), "--district", district.name)
    assert code == 1
    assert "REJECTED demographics.csv:1 birthDate: Header column 4 must be 'birthDate'" in out
    assert "REJECTED enrollments.csv:6 userSourcedId: userSourcedId refers to user 'usr-s-999'" in out
    assert ImportRun.objects.get().rejected_count == 6


def test_dry_run_writes_nothing(district, samples):
    code, out, _ = call("import_oneroster", str(samples / "oneroster-1.2-bulk"), "--district", district.name, "--dry-run")
    assert code == 0 and "(dry run: nothing written)" in out
    assert not Person.objects.exists()


def test_unknown_district_or_path(district, samples):
    with pytest.raises(CommandError, match="No district"):
        call("import_oneroster", str(samples / "oneroster-1.2-bulk"), "--district", "Atlantis")
    with pytest.raises(CommandError, match="does not exist"):
        call("import_oneroster", "/nowhere.zip", "--district", district.name)


def test_export_writes_a_valid_zip(district, imported, tmp_path):
    target = tmp_path / "export.zip"
    code, out, _ = call("export_oneroster", str(target), "--district", district.name)
    assert code == 0 and "5 users" in out and "4 enrollments" in out
    assert validator.validate(target) == []


def test_create_client_prints_three_lines(district):
    code, out, _ = call("create_oneroster_client", district.name)
    lines = out.strip().splitlines()
    assert code == 0 and [line.split(": ")[0] for line in lines] == ["client_id", "client_secret", "token_url"]
    assert lines[2] == "token_url: /ims/oneroster/token"
    client = ApiClient.objects.get()
    assert client.application.client_id == lines[0].split(": ")[1] and client.district == district
    assert client.application.client_secret != lines[1].split(": ")[1]  # stored hashed
