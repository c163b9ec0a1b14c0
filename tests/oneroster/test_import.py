"""Import of our sample sets, a set with deliberate errors, delta after bulk, idempotence, policies, tenancy."""

from __future__ import annotations

import datetime as dt
import zipfile

import pytest

from rostering.models import AcademicSession, ClassDivision, Enrollment, GradeLevel, Person, School
from rostering.oneroster.importer import Importer
from rostering.oneroster.models import ObjectType, RecordStatus, SourcedRecord
from tests.oneroster.conftest import rewrite, zip_folder
from tests.rostering import factories as f

pytestmark = pytest.mark.django_db


def totals(report, key):
    return {name: c[key] for name, c in report.counts.items()}


def roster(district):
    """Our roster of a district, as plain values (no ids), to compare two imports."""
    return {
        "schools": sorted(School.objects.filter(district=district).values_list("name", "code")),
        "sessions": sorted(AcademicSession.objects.filter(district=district).values_list(
            "name", "type", "start_date", "end_date", "parent__name")),
        "grades": sorted(GradeLevel.objects.filter(district=district).values_list("code", "name")),
        "classes": sorted(ClassDivision.objects.filter(district=district).values_list(
            "name", "school__name", "grade_level__code", "academic_session__name")),
        "people": sorted(Person.objects.filter(district=district).values_list(
            "given_name", "middle_name", "family_name", "role", "sis_id", "email", "phone", "school__name",
            "grade_level__code", "date_of_birth", "gender")),
        "enrollments": sorted(Enrollment.objects.filter(district=district).values_list(
            "person__sis_id", "class_division__name", "role", "primary", "start_date", "end_date", "academic_session__name")),
    }


def test_the_12_bulk_sample_builds_the_roster(district, samples):
    report = Importer(district=district, path=samples / "oneroster-1.2-bulk").run()
    assert report.applied and report.rejections == []
    assert report.version == "1.2"
    assert totals(report, "created") == {"orgs": 3, "academicSessions": 6, "courses": 2, "classes": 2, "users": 5, "roles": 5,
                                         "demographics": 2, "enrollments": 4}
    # orgs: the package's district is ours, its schools are schools (code from the identifier)
    assert sorted(School.objects.filter(district=district).values_list("name", "code")) == [
        ("Maple Valley Elementary", "NCES-000000100002"), ("Maple Valley High School", "NCES-000000100001")]
    rec = SourcedRecord.objects.get(district=district, type=ObjectType.ORG, sourced_id="org-district-1")
    assert rec.object_id == district.pk
    # sessions: types, parents and the year; a grading period keeps its OneRoster parent
    q1 = AcademicSession.objects.get(district=district, name="Quarter 1")
    assert (q1.type, q1.parent.name, q1.start_date, q1.end_date) == ("grading_period", "Semester 1", dt.date(2025, 8, 18), dt.date(2025, 10, 17))
    assert AcademicSession.objects.get(district=district, name="2025-2026").parent is None
    # classes: the first grade and the first term; users: roles, schools, grades, demographics
    alg = ClassDivision.objects.get(district=district, name="Algebra I - Period 1")
    assert (alg.school.name, alg.grade_level.code, alg.academic_session.name) == ("Maple Valley High School", "09", "Semester 1")
    avery = Person.objects.get(district=district, sis_id="S001")
    assert (avery.role, avery.given_name, avery.middle_name, avery.school.name, avery.grade_level.code) == (
        "student", "Avery", "Lee", "Maple Valley High School", "09")
    assert (avery.date_of_birth, avery.gender) == (dt.date(2010, 3, 14), "female")
    pat = Person.objects.get(district=district, email="pat.smith@example.net")
    assert (pat.role, pat.phone) == ("guardian", "+1-555-0100")
    user = SourcedRecord.objects.get(district=district, type=ObjectType.USER, sourced_id="usr-s-001")
    assert user.data["agentSourcedIds"] == ["usr-g-001"]  # agents for guardians, both ways
    assert user.data["userIds"] == [{"type": "district", "identifier": "S001"}, {"type": "state", "identifier": "9900001"}]
    teacher = Enrollment.objects.get(district=district, person__sis_id="T100")
    assert (teacher.role, teacher.primary, teacher.class_division.name) == ("teacher", True, "Algebra I - Period 1")
    assert Enrollment.objects.get(district=district, person__sis_id="S001").start_date == dt.date(2025, 8, 18)


def test_a_second_import_of_the_same_package_changes_nothing(district, samples, imported):
    before = roster(district)
    stamps = dict(Person.objects.filter(district=district).values_list("pk", "updated_date"))
    again = Importer(district=district, path=samples / "oneroster-1.2-bulk").run()
    assert again.rejections == []
    assert set(totals(again, "unchanged").values()) != {0}
    for key in ("created", "updated", "deleted", "rejected"):
        assert set(totals(again, key).values()) == {0}, key
    assert roster(district) == before
    assert dict(Person.objects.filter(district=district).values_list("pk", "updated_date")) == stamps


def test_the_delta_after_the_bulk_changes_only_what_it_names(district, samples, imported):
    before = roster(district)
    report = Importer(district=district, path=samples / "oneroster-1.2-delta").run()
    assert report.applied and report.rejections == []
    assert report.counts["academicSessions"]["updated"] == 1
    assert report.counts["enrollments"]["deleted"] == 1
    after = roster(district)
    assert [s for s in after["sessions"] if s not in before["sessions"]] == [
        ("Spring Semester", "semester", dt.date(2026, 1, 20), dt.date(2026, 6, 12), "2025-2026")]
    assert [e for e in before["enrollments"] if e not in after["enrollments"]] == [
        ("S002", "Grade 3 Homeroom A", "student", False, None, None, None)]
    for key in ("schools", "grades", "classes", "people"):
        assert after[key] == before[key], key
    gone = SourcedRecord.objects.get(district=district, type=ObjectType.ENROLLMENT, sourced_id="enr-s002-hr3")
    assert (gone.status, gone.object_id) == (RecordStatus.TOBEDELETED, None)
    assert gone.date_last_modified is not None
    # the same delta again: nothing left to change
    again = Importer(district=district, path=samples / "oneroster-1.2-delta").run()
    assert again.counts["enrollments"] == {"created": 0, "updated": 0, "unchanged": 1, "deleted": 0, "rejected": 0}
    assert again.counts["academicSessions"]["unchanged"] == 1


def test_the_11_bulk_sample_gives_the_same_roster(samples):
    one = f.DistrictFactory(name="From 1.1")
    two = f.DistrictFactory(name="From 1.2")
    r11 = Importer(district=one, path=samples / "oneroster-1.1-bulk").run()
    Importer(district=two, path=samples / "oneroster-1.2-bulk").run()
    assert r11.applied and r11.rejections == [] and r11.version == "1.1"
    assert "roles" not in r11.counts
    assert roster(one) == roster(two)


def test_a_zip_is_read_like_the_folder(district, samples, tmp_path):
    package = zip_folder(samples / "oneroster-1.2-bulk", tmp_path / "bulk.zip")
    report = Importer(district=district, path=package).run()
    assert report.applied and report.rejections == []
    assert Person.objects.filter(district=district).count() == 5


BROKEN = {
    # a bad header order: two columns swapped
    "demographics.csv": {"replace": {"sourcedId,status,dateLastModified,birthDate,sex,": "sourcedId,status,dateLastModified,sex,birthDate,"}},
    # a missing required value (the enrollment's role)
    "enrollments.csv": {"replace": {"enr-s002-hr3,,,cls-hr3-a,org-school-es,usr-s-002,student,false,,": "enr-s002-hr3,,,cls-hr3-a,org-school-es,usr-s-002,,false,,"},
                        # a dangling reference
                        "append": ["enr-s999-alg1,,,cls-alg1-p1,org-school-hs,usr-s-999,student,false,,"]},
    # a duplicate sourcedId
    "courses.csv": {"append": ["crs-alg1,,,as-sy2026,Algebra I (again),MATH-101B,09,org-school-hs,Mathematics,02052"]},
    # a bad datetime, and an unknown enum
    "academicSessions.csv": {"replace": {"as-t1-2026,,,Trimester 1": "as-t1-2026,,2026-01-21 14:05,Trimester 1",
                                         "as-q2-2026,,,Quarter 2,gradingPeriod,": "as-q2-2026,,,Quarter 2,quarter,"}},
}
EXPECTED = [
    ("academicSessions.csv", 6, "type", "as-q2-2026", "row.invalid_enum"),
    ("academicSessions.csv", 7, "dateLastModified", "as-t1-2026", "row.invalid_datetime"),
    ("courses.csv", 4, "sourcedId", "crs-alg1", "row.duplicate_sourced_id"),
    ("demographics.csv", 1, "birthDate", "", "schema.header_order_mismatch"),
    ("enrollments.csv", 5, "role", "enr-s002-hr3", "row.required_value_missing"),
    ("enrollments.csv", 6, "userSourcedId", "enr-s999-alg1", "reference.unresolved"),
]


@pytest.fixture
def broken(copy_sample):
    folder = copy_sample("oneroster-1.2-bulk")
    for name, change in BROKEN.items():
        rewrite(folder / name, change.get("replace"), change.get("append"))
    return folder


def test_a_broken_copy_yields_exactly_those_rejections(district, broken):
    report = Importer(district=district, path=broken).run()
    got = [(r.file, r.line, r.column, r.sourced_id, r.code) for r in report.rejections]
    assert got == EXPECTED
    reasons = {r.code: r.reason for r in report.rejections}
    assert "must be 'birthDate', found 'sex'" in reasons["schema.header_order_mismatch"]
    assert reasons["row.invalid_datetime"] == "'2026-01-21 14:05' is not a datetime in the form YYYY-MM-DDTHH:MM:SS.sssZ."
    assert reasons["row.invalid_enum"] == "'quarter' is not a valid type (one of gradingPeriod, schoolYear, semester, term or ext:…)."
    assert reasons["row.duplicate_sourced_id"] == "sourcedId 'crs-alg1' appears twice in courses.csv."
    assert reasons["row.required_value_missing"] == "A value for role is required."
    assert reasons["reference.unresolved"] == "userSourcedId refers to user 'usr-s-999', which is not in the package."
    # by default the valid rows are applied; the rejected ones are not
    assert report.applied
    assert not AcademicSession.objects.filter(district=district, name__in=["Trimester 1", "Quarter 2"]).exists()
    assert AcademicSession.objects.filter(district=district).count() == 4
    assert SourcedRecord.objects.get(district=district, type=ObjectType.COURSE, sourced_id="crs-alg1").data["title"] == "Algebra I"
    assert Enrollment.objects.filter(district=district).count() == 3
    assert Person.objects.filter(district=district, date_of_birth__isnull=False).count() == 0  # demographics not read
    assert Person.objects.filter(district=district).count() == 5
    assert report.counts["enrollments"] == {"created": 3, "updated": 0, "unchanged": 0, "deleted": 0, "rejected": 2}


def test_all_or_nothing_applies_nothing_when_a_row_is_rejected(district, broken):
    report = Importer(district=district, path=broken, all_or_nothing=True).run()
    assert len(report.rejections) == len(EXPECTED)
    assert not report.applied
    assert not Person.objects.filter(district=district).exists()
    assert not SourcedRecord.objects.filter(district=district).exists()
    assert not School.objects.filter(district=district).exists()


def test_a_dry_run_reports_and_writes_nothing(district, samples):
    report = Importer(district=district, path=samples / "oneroster-1.2-bulk", dry_run=True).run()
    assert report.counts["users"]["created"] == 5 and not report.applied
    assert not Person.objects.filter(district=district).exists()
    assert not SourcedRecord.objects.filter(district=district).exists()


def test_rows_that_depend_on_a_rejected_row_are_rejected_with_it(district, copy_sample):
    folder = copy_sample("oneroster-1.2-bulk")
    rewrite(folder / "classes.csv", {"cls-hr3-a,,,Grade 3 Homeroom A,03,crs-hr3,3A,homeroom": "cls-hr3-a,,,Grade 3 Homeroom A,03,crs-hr3,3A,lecture"})
    report = Importer(district=district, path=folder).run()
    got = [(r.file, r.line, r.column, r.code) for r in report.rejections]
    assert got == [
        ("classes.csv", 3, "classType", "row.invalid_enum"),
        ("enrollments.csv", 4, "classSourcedId", "reference.unresolved"),
        ("enrollments.csv", 5, "classSourcedId", "reference.unresolved"),
    ]
    assert "which was rejected" in report.rejections[1].reason
    assert not ClassDivision.objects.filter(district=district, name="Grade 3 Homeroom A").exists()


def test_bulk_rows_with_status_and_delta_rows_without(district, copy_sample):
    folder = copy_sample("oneroster-1.2-bulk")
    rewrite(folder / "orgs.csv", {"org-school-es,,,": "org-school-es,active,2026-01-01T00:00:00.000Z,"})
    report = Importer(district=district, path=folder).run()
    assert next((r.file, r.line, r.column, r.code) for r in report.rejections) == ("orgs.csv", 4, "status", "row.field_forbidden_in_bulk")
    delta = copy_sample("oneroster-1.2-delta")
    rewrite(delta / "enrollments.csv", {"enr-s002-hr3,tobedeleted,2026-01-21T14:05:00.000Z": "enr-s002-hr3,tobedeleted,"})
    report = Importer(district=f.DistrictFactory(), path=delta).run()
    assert ("enrollments.csv", 2, "dateLastModified", "row.field_required_in_delta") in [
        (r.file, r.line, r.column, r.code) for r in report.rejections]


def test_a_delta_may_refer_to_what_the_district_holds_but_not_to_what_it_does_not(district, samples, imported, copy_sample):
    delta = copy_sample("oneroster-1.2-delta")
    rewrite(delta / "enrollments.csv", append=[
        "enr-new,active,2026-02-01T08:00:00.000Z,cls-hr3-a,org-school-es,usr-s-002,student,false,2026-02-01,",
        "enr-bad,active,2026-02-01T08:00:00.000Z,cls-nope,org-school-es,usr-s-002,student,false,,",
    ])
    report = Importer(district=district, path=delta).run()
    assert [(r.line, r.code) for r in report.rejections] == [(4, "reference.unresolved")]
    assert "'cls-nope', which is not in the package or this district" in report.rejections[0].reason
    assert Enrollment.objects.get(district=district, person__sis_id="S002").start_date == dt.date(2026, 2, 1)


def test_semantic_checks(district, copy_sample):
    folder = copy_sample("oneroster-1.2-bulk")
    rewrite(folder / "courses.csv", append=["crs-extra,,,as-sem1-2026,Extra,EX-1,09,org-school-hs,,"])  # not a schoolYear
    rewrite(folder / "enrollments.csv", {"enr-t200-hr3,,,cls-hr3-a,org-school-es": "enr-t200-hr3,,,cls-hr3-a,org-district-1"})
    rewrite(folder / "roles.csv", append=["rol-t-100-hs-2,,,usr-t-100,primary,aide,,,org-school-hs,"])
    rewrite(folder / "users.csv", {"+1-555-0100,usr-s-001,,,,,,,org-school-hs,": "+1-555-0100,usr-s-001,,,,,,,org-school-es,"})
    report = Importer(district=district, path=folder).run()
    codes = {(r.file, r.code) for r in report.rejections}
    assert ("courses.csv", "semantic.academic_session_type_mismatch") in codes
    assert ("enrollments.csv", "semantic.org_type_mismatch") in codes
    assert ("roles.csv", "semantic.duplicate_primary_role") in codes
    assert ("users.csv", "semantic.primary_org_without_role") in codes


def test_package_level_problems(district, samples, tmp_path, copy_sample):
    not_zip = tmp_path / "roster.zip"
    not_zip.write_bytes(b"not a zip at all")
    report = Importer(district=district, path=not_zip).run()
    assert [(r.file, r.code) for r in report.rejections] == [("package.csv", "package.invalid")] and not report.applied
    no_manifest = copy_sample("oneroster-1.2-bulk")
    (no_manifest / "manifest.csv").unlink()
    report = Importer(district=district, path=no_manifest).run()
    assert report.fatal and report.rejections[0].code == "manifest.missing"
    extra = copy_sample("oneroster-1.2-delta")
    (extra / "users.csv").write_text("sourcedId\n")  # present but listed as absent
    with zipfile.ZipFile(tmp_path / "x.zip", "w") as zf:
        for p in sorted(extra.iterdir()):
            zf.write(p, p.name)
        zf.writestr("notes/readme.txt", "hello")
    report = Importer(district=district, path=tmp_path / "x.zip").run()
    codes = [r.code for r in report.rejections]
    assert "manifest.file_unexpected" in codes and "package.unknown_file" in codes
    assert Person.objects.filter(district=district).count() == 0


def test_values_are_checked(district, copy_sample):
    folder = copy_sample("oneroster-1.2-bulk")
    rewrite(folder / "users.csv", {"usr-t-200,,,true,mchen": "usr-t 200,,,TRUE,mchen"})
    rewrite(folder / "academicSessions.csv", {"as-q2-2026,,,Quarter 2,gradingPeriod,2025-10-20": "as-q2-2026,,,Quarter 2,gradingPeriod,2025-13-20"})
    rewrite(folder / "classes.csv", {'"09,10",crs-alg1': '"09,X1",crs-alg1'})
    report = Importer(district=district, path=folder).run()
    got = {(r.file, r.column, r.code) for r in report.rejections}
    assert ("users.csv", "sourcedId", "row.invalid_sourced_id") in got
    assert ("academicSessions.csv", "startDate", "row.invalid_date") in got
    assert ("classes.csv", "grades", "row.invalid_enum") in got


def test_metadata_columns_are_kept_and_must_come_last(district, copy_sample):
    folder = copy_sample("oneroster-1.2-bulk")
    text = (folder / "orgs.csv").read_text().splitlines()
    text[0] += ",metadata.region"
    text[1:] = [line + ",North" for line in text[1:]]
    (folder / "orgs.csv").write_text("\n".join(text) + "\n")
    Importer(district=district, path=folder).run()
    rec = SourcedRecord.objects.get(district=district, type=ObjectType.ORG, sourced_id="org-school-hs")
    assert rec.data["metadata"] == {"region": "North"}
    lines = (folder / "courses.csv").read_text().splitlines()
    lines[0] = lines[0].replace("sourcedId,status", "sourcedId,metadata.x,status")
    (folder / "courses.csv").write_text("\n".join(lines) + "\n")
    report = Importer(district=f.DistrictFactory(), path=folder).run()
    assert ("courses.csv", "schema.metadata_column_position") in {(r.file, r.code) for r in report.rejections}


def test_another_district_is_untouched(district, samples, world):
    before = roster(world.district), roster(world.other_district)
    Importer(district=district, path=samples / "oneroster-1.2-bulk").run()
    assert (roster(world.district), roster(world.other_district)) == before
    assert not SourcedRecord.objects.exclude(district=district).exists()


def test_the_import_of_one_school_rejects_the_rest(district, samples, imported):
    hs = School.objects.get(district=district, name="Maple Valley High School")
    report = Importer(district=district, path=samples / "oneroster-1.2-bulk", school=hs).run()
    rejected = {(r.file, r.sourced_id) for r in report.rejections}
    assert ("orgs.csv", "org-school-es") in rejected and ("classes.csv", "cls-hr3-a") in rejected
    assert ("users.csv", "usr-s-002") in rejected
    assert not any(sid.endswith("-hs") or sid.endswith("alg1") for _f, sid in rejected if sid)
