"""OneRoster import at scale (DESIGN.md, performance budgets: importing 100,000 users at most 10× a COPY).

A generated OneRoster 1.2 bulk package — one district, 20 schools, a school year, 4,000 classes,
100,000 users (96,000 students, 4,000 teachers) with their roles and 100,000 enrollments — is imported
(both passes: every row checked, then applied in one transaction) and compared with a PostgreSQL ``COPY``
of the same people and enrollments straight into the same tables (``rostering_person``,
``rostering_enrollment``) of another district, measured in the same run. Also printed: the peak memory
the import added (resident set size), which stays far below the package's size because rows stream.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<name> .venv/bin/python bench/bench_oneroster.py

``BENCH_ONEROSTER_N=5000`` shrinks the run for a quick smoke test (the budget is for 100,000). Runs in a
throwaway database ``bench_<name>``.
"""

from __future__ import annotations

import csv
import io
import os
import resource
import sys
import tempfile
import uuid
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import throwaway_database, timed, verdict
from django.db import connection

N = int(os.environ.get("BENCH_ONEROSTER_N", "100000"))
SCHOOLS = 20
CLASS_SIZE = 24
BUDGET = 10.0

MANIFEST_FILES = [
    "academicSessions", "categories", "classes", "classResources", "courseResources", "courses", "demographics",
    "enrollments", "lineItemLearningObjectiveIds", "lineItems", "lineItemScoreScales", "orgs", "resources",
    "resultLearningObjectiveIds", "results", "resultScoreScales", "roles", "scoreScales", "userProfiles",
    "userResources", "users",
]
WRITTEN = {"orgs", "academicSessions", "courses", "classes", "users", "roles", "enrollments"}


def _writer(zf: zipfile.ZipFile, name: str, header: str):
    raw = zf.open(f"{name}.csv", "w")
    text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
    out = csv.writer(text, lineterminator="\r\n")
    out.writerow(header.split(","))
    return raw, text, out


def build_package(path: Path) -> dict:
    teachers = N // (CLASS_SIZE + 1)
    students = N - teachers
    classes = teachers
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("manifest.csv", "w") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            w = csv.writer(text, lineterminator="\r\n")
            w.writerows([["propertyName", "value"], ["manifest.version", "1.0"], ["oneroster.version", "1.2"]])
            w.writerows([[f"file.{n}", "bulk" if n in WRITTEN else "absent"] for n in MANIFEST_FILES])
            text.flush()
            text.detach()
        files = {
            "orgs": "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
            "academicSessions": "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear",
            "courses": "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,subjectCodes",
            "classes": "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods",
            "users": "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns",
            "roles": "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId",
            "enrollments": "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate",
        }
        handles = {name: _writer(zf, name, header) for name, header in files.items() if name in {"orgs"}}
        raw, text, w = handles["orgs"]
        w.writerow(["org-d", "", "", "Bench District", "district", "BD", ""])
        for s in range(SCHOOLS):
            w.writerow([f"org-s{s}", "", "", f"Bench School {s}", "school", f"BS{s:03d}", "org-d"])
        text.flush()
        text.detach()
        raw.close()
        for name, rows in (
            ("academicSessions", [["as-y", "", "", "2025-2026", "schoolYear", "2025-08-18", "2026-06-12", "", "2026"]]),
            ("courses", [[f"crs-{s}", "", "", "as-y", f"Homeroom {s}", f"HR-{s}", "06", f"org-s{s}", "", ""] for s in range(SCHOOLS)]),
            ("classes", [[f"cls-{c}", "", "", f"Class {c}", "06", f"crs-{c % SCHOOLS}", f"C{c}", "homeroom", "", f"org-s{c % SCHOOLS}",
                          "as-y", "", "", ""] for c in range(classes)]),
        ):
            raw, text, w = _writer(zf, name, files[name])
            w.writerows(rows)
            text.flush()
            text.detach()
            raw.close()
        for name in ("users", "roles", "enrollments"):
            raw, text, w = _writer(zf, name, files[name])
            for i in range(N):
                teacher = i < teachers
                c = i if teacher else (i - teachers) % classes
                school = f"org-s{c % SCHOOLS}"
                sid = f"usr-{i}"
                if name == "users":
                    w.writerow([sid, "", "", "true", f"user{i}", f"{{sis:{i}}}", f"Given{i}", f"Family{i % 5000}", "", f"ID{i:07d}",
                                f"user{i}@bench.example.org", "", "", "", "" if teacher else "06", "", "", "", "", "", school, ""])
                elif name == "roles":
                    w.writerow([f"rol-{i}", "", "", sid, "primary", "teacher" if teacher else "student", "", "", school, ""])
                else:
                    w.writerow([f"enr-{i}", "", "", f"cls-{c}", school, sid, "teacher" if teacher else "student",
                                "true" if teacher else "false", "", ""])
            text.flush()
            text.detach()
            raw.close()
    return {"teachers": teachers, "students": students, "classes": classes}


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _copy_text(model, rows: list[dict]) -> tuple[str, str]:
    """COPY's text format of ``rows`` (attname -> value) over every concrete column of ``model``."""
    import json

    fields = [f for f in model._meta.concrete_fields]
    out = io.StringIO()
    for row in rows:
        cells = []
        for f in fields:
            value = row.get(f.attname, f.get_default() if f.has_default() else None)
            if value is None:
                cells.append("\\N")
            elif isinstance(value, bool):
                cells.append("t" if value else "f")
            elif isinstance(value, (dict, list)):
                cells.append(json.dumps(value))
            else:
                cells.append(str(value))
        out.write("\t".join(cells) + "\n")
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    return columns, out.getvalue()


def copy_baseline(district, classes_by_index: list) -> float:
    """COPY the same people and enrollments into the real tables, for another district."""
    import datetime as dt

    from rostering.models import Enrollment, Person

    now = dt.datetime.now(dt.UTC)
    teachers = N // (CLASS_SIZE + 1)
    people, enrollments = [], []
    for i in range(N):
        teacher = i < teachers
        pid = uuid.uuid4()
        people.append({"id": pid, "created_date": now, "updated_date": now, "district_id": district.pk,
                       "role": "teacher" if teacher else "student", "given_name": f"Given{i}", "family_name": f"Family{i % 5000}",
                       "sis_id": f"ID{i:07d}", "email": f"user{i}@bench.example.org"})
        c = i if teacher else (i - teachers) % len(classes_by_index)
        enrollments.append({"id": uuid.uuid4(), "created_date": now, "updated_date": now, "district_id": district.pk,
                            "person_id": pid, "class_division_id": classes_by_index[c], "role": "teacher" if teacher else "student",
                            "primary": teacher})
    people_cols, people_text = _copy_text(Person, people)
    enrol_cols, enrol_text = _copy_text(Enrollment, enrollments)

    def run():
        with connection.cursor() as cur, cur.connection.transaction():
            with cur.copy(f"COPY {Person._meta.db_table} ({people_cols}) FROM STDIN") as copy:
                copy.write(people_text)
            with cur.copy(f"COPY {Enrollment._meta.db_table} ({enrol_cols}) FROM STDIN") as copy:
                copy.write(enrol_text)

    seconds, _ = timed(run)
    return seconds


def main() -> None:
    from rostering.models import ClassDivision, District, Enrollment, GradeLevel, Person, School
    from rostering.oneroster.importer import Importer
    from rostering.oneroster.models import SourcedRecord

    with throwaway_database():
        print(f"# database: {connection.vendor}; {N:,} users, {N:,} enrollments", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            package = Path(tmp) / "bench.zip"
            shape = build_package(package)
            with zipfile.ZipFile(package) as zf:
                unpacked = sum(i.file_size for i in zf.infolist())
            print(f"# package: {package.stat().st_size / 1e6:.1f} MB zipped, {unpacked / 1e6:.1f} MB of CSV, "
                  f"{shape['classes']:,} classes", flush=True)
            district = District.objects.create(name="Bench District")
            before = rss_mb()
            seconds, report = timed(lambda: Importer(district=district, path=package).run())
            peak = rss_mb() - before
            assert report.applied and not report.rejections, report.rejections[:5]
            assert Person.objects.filter(district=district).count() == N
            assert Enrollment.objects.filter(district=district).count() == N
            print(f"# import wrote {Person.objects.filter(district=district).count():,} people, "
                  f"{Enrollment.objects.filter(district=district).count():,} enrollments, "
                  f"{SourcedRecord.objects.filter(district=district).count():,} sourcedId records", flush=True)
            other = District.objects.create(name="COPY District")
            grade = GradeLevel.objects.create(district=other, code="06", name="Sixth grade", rank=10)
            schools = [School.objects.create(district=other, name=f"S{s}", code=f"S{s}") for s in range(SCHOOLS)]
            classes = ClassDivision.objects.bulk_create([
                ClassDivision(district=other, school=schools[c % SCHOOLS], grade_level=grade, name=f"Class {c}")
                for c in range(shape["classes"])])
            copy_seconds = copy_baseline(other, [c.pk for c in classes]) if connection.vendor == "postgresql" else None
            again_seconds, again = timed(lambda: Importer(district=district, path=package).run())
            assert not any(c["created"] or c["updated"] for c in again.counts.values())
        if copy_seconds is None:
            print(f"import of {N:,} users with enrollments: {seconds:.2f} s (COPY needs PostgreSQL: no ratio) OK")
            return
        ratio = seconds / copy_seconds
        print(f"import of {N:,} users with enrollments: {seconds:.2f} s; COPY of the same rows: {copy_seconds:.2f} s; "
              f"ratio {ratio:.1f}× (budget ≤ {BUDGET:.0f}×) {verdict(ratio <= BUDGET)}")
        print(f"peak memory added by the import: {peak:.0f} MB (package {unpacked / 1e6:.0f} MB of CSV) OK")
        print(f"second import of the same package (nothing to change): {again_seconds:.2f} s OK")


if __name__ == "__main__":
    main()
