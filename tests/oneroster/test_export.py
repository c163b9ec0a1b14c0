"""Export: a valid OneRoster 1.2.1 bulk package (checked by tests/oneroster/validator.py), and the round trip."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest

from rostering.choices import PersonRole
from rostering.models import Enrollment, Person
from rostering.oneroster.exporter import Exporter
from rostering.oneroster.importer import Importer
from tests.oneroster import validator
from tests.oneroster.test_import import roster
from tests.rostering import factories as f

pytestmark = pytest.mark.django_db


def read(path) -> dict[str, list[list[str]]]:
    with zipfile.ZipFile(path) as zf:
        return {n: list(csv.reader(io.StringIO(zf.read(n).decode("utf-8"), newline=""))) for n in zf.namelist()}


def native_roster(world):
    """Objects we created ourselves (no sourcedId from elsewhere), of every kind, in ``world.district``."""
    student = f.PersonFactory(district=world.district, school=world.school_a, role=PersonRole.STUDENT, grade_level=world.grade6,
                              given_name="Rudo", family_name="Chikore", sis_id="AVP-001", email="rudo@example.org")
    f.EnrollmentFactory(class_division=world.class_6a, person=student, role="student")
    f.PersonFactory(district=world.district, school=None, role=PersonRole.ADMINISTRATOR, given_name="Ada", family_name="Ncube",
                    sis_id="", email="", date_of_birth=None)
    return student


def test_the_export_is_valid_oneroster_121(world, tmp_path, samples):
    native_roster(world)
    Importer(district=world.district, path=samples / "oneroster-1.2-bulk").run()
    path = tmp_path / "out.zip"
    counts = Exporter(district=world.district).write(path)
    assert validator.validate(path) == []
    files = read(path)
    manifest = dict(files["manifest.csv"][1:])
    assert [k for k in manifest if k.startswith("file.")] == [f"file.{n}" for n in validator.MANIFEST_21]
    assert manifest["oneroster.version"] == "1.2"
    for name in ("orgs", "academicSessions", "courses", "classes", "users", "roles", "enrollments", "demographics"):
        assert manifest[f"file.{name}"] == "bulk"
        extension = ["metadata.gradeName"] if name in {"classes", "users"} else []
        assert files[f"{name}.csv"][0] == validator.COLUMNS[name].split(",") + extension
    assert counts["orgs"] == 1 + 2 + 2  # the district (the sample's district org became it), its 2 schools and the sample's 2
    users = {r[0]: r for r in files["users.csv"][1:]}
    assert users["usr-s-001"][3] == "true" and users["usr-s-001"][5] == "{district:S001},{state:9900001}"
    assert all(r[1] == r[2] == "" for rows in files.values() for r in rows[1:] if rows[0][:3] == ["sourcedId", "status", "dateLastModified"])
    with zipfile.ZipFile(path) as zf:
        assert all("/" not in n for n in zf.namelist())


def test_objects_we_created_get_stable_sourced_ids(world, tmp_path):
    student = native_roster(world)
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    Exporter(district=world.district).write(first)
    Exporter(district=world.district).write(second)
    assert read(first) == read(second)
    users = {r[0]: r for r in read(first)["users.csv"][1:]}
    assert users[student.pk.hex][6:8] == ["Rudo", "Chikore"]
    roles = [r for r in read(first)["roles.csv"][1:] if r[3] == student.pk.hex]
    assert [(r[4], r[5], r[8]) for r in roles] == [("primary", "student", world.school_a.pk.hex)]
    assert validator.validate(first) == []


def test_round_trip_into_an_empty_district_changes_nothing(world, tmp_path, samples):
    native_roster(world)
    Importer(district=world.district, path=samples / "oneroster-1.2-bulk").run()
    Importer(district=world.district, path=samples / "oneroster-1.2-delta").run()
    out = tmp_path / "export.zip"
    Exporter(district=world.district).write(out)
    empty = f.DistrictFactory(name=world.district.name)
    report = Importer(district=empty, path=out).run()
    assert report.rejections == [] and report.applied
    assert roster(empty) == roster(world.district)
    again = tmp_path / "again.zip"
    Exporter(district=empty).write(again)
    assert read(again) == read(out)
    # importing the export back into the district it came from makes nothing new: our own objects come back
    # under the sourcedIds we gave them (their records are written now), the imported ones are unchanged
    before = roster(world.district)
    back = Importer(district=world.district, path=out).run()
    assert back.rejections == []
    assert roster(world.district) == before
    for name in ("orgs", "academicSessions", "classes", "users", "enrollments"):
        assert back.counts[name]["created"] == 0, name
    assert back.counts["users"]["unchanged"] == 5  # the sample's people
    third = Importer(district=world.district, path=out).run()
    assert {k for c in third.counts.values() for k, n in c.items() if n and k != "unchanged"} == set()


def test_one_school_exports_its_own_roster_only(world, tmp_path, samples):
    native_roster(world)
    path = tmp_path / "school.zip"
    Exporter(district=world.district, school=world.school_a).write(path)
    assert validator.validate(path) == []
    files = read(path)
    schools = [r for r in files["orgs.csv"][1:] if r[4] == "school"]
    assert [r[3] for r in schools] == ["Avondale Primary"]
    assert {r[3] for r in files["classes.csv"][1:]} == {"6A", "6B"}
    people = {(r[6], r[7]) for r in files["users.csv"][1:]}
    assert ("Rudo", "Chikore") in people and ("Ada", "Ncube") not in people


def test_another_district_is_never_exported(world, tmp_path):
    native_roster(world)
    f.PersonFactory(district=world.other_district, school=world.other_school, given_name="Zodwa", family_name="Dube")
    path = tmp_path / "out.zip"
    Exporter(district=world.district).write(path)
    text = "".join(",".join(r) for rows in read(path).values() for r in rows)
    assert "Zodwa" not in text and "Hillside" not in text
    assert Person.objects.filter(district=world.district).count() == len(read(path)["users.csv"]) - 1
    assert Enrollment.objects.filter(district=world.district).count() == len(read(path)["enrollments.csv"]) - 1
