"""Import of a OneRoster 1.1 / 1.2 CSV package into one district.

Two passes over the files, both streaming:

1. **Check**: headers (exact names and order), every value (required, enums, dates, datetimes, lists,
   sourcedId characters), bulk/delta lifecycle columns, duplicate sourcedIds. Only the sourcedIds (and
   the few facts later checks need, such as an org's type) are kept.
2. **Apply**, in one transaction, file by file in dependency order: references (inside the package, and
   to what the district already holds for delta files and absent files), the semantic checks of the spec,
   then the writes, in batches. A row whose reference was itself rejected is rejected too, naming it.

Policy: by default the valid rows are applied and each rejected row is reported (and rows depending on
it are rejected with it, so nothing is half-linked). With ``all_or_nothing`` any rejection rolls the
whole package back. ``dry_run`` always rolls back, after counting what would change.
A bulk file does not delete what it leaves out; deletions come as ``tobedeleted`` rows of a delta file.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import NamedTuple

import orjson
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import JSONField
from django.utils import timezone

from rostering.choices import EnrollmentRole, GradeLevelCode, PersonRole, SessionState, SessionType
from rostering.models import AcademicSession, ClassDivision, District, Enrollment, GradeLevel, Person, School
from rostering.oneroster import csvspec as spec
from rostering.oneroster.models import RECORD_DATA_MAX_BYTES, ObjectType, RecordStatus, SourcedRecord
from rostering.oneroster.package import Package, PackageError

log = logging.getLogger(__name__)

BATCH = 1000
# Our own export adds this extension column to classes.csv and users.csv: the grade level's display name,
# used when the grade level is made (a OneRoster grade is a bare CEDS code). It is not kept as metadata.
GRADE_NAME = "gradeName"
FILE_ORDER = ["orgs", "academicSessions", "courses", "classes", "users", "roles", "demographics", "enrollments"]
COUNT_KEYS = ("created", "updated", "unchanged", "deleted", "rejected")

SESSION_TYPE = {"schoolYear": SessionType.SCHOOL_YEAR, "semester": SessionType.SEMESTER, "term": SessionType.TERM,
                "gradingPeriod": SessionType.GRADING_PERIOD}
USER_ROLE = {
    "student": PersonRole.STUDENT, "teacher": PersonRole.TEACHER, "guardian": PersonRole.GUARDIAN,
    "parent": PersonRole.GUARDIAN, "relative": PersonRole.GUARDIAN, "administrator": PersonRole.ADMINISTRATOR,
    "districtAdministrator": PersonRole.ADMINISTRATOR, "siteAdministrator": PersonRole.ADMINISTRATOR,
    "systemAdministrator": PersonRole.ADMINISTRATOR, "principal": PersonRole.ADMINISTRATOR,
    "aide": PersonRole.STAFF, "counselor": PersonRole.STAFF, "proctor": PersonRole.STAFF,
}
ENROLLMENT_ROLE = {"student": EnrollmentRole.STUDENT, "teacher": EnrollmentRole.TEACHER,
                   "administrator": EnrollmentRole.AIDE, "proctor": EnrollmentRole.AIDE,
                   "ext:ta": EnrollmentRole.TA, "ext:aide": EnrollmentRole.AIDE}
SEX = {"male": "male", "female": "female", "other": "other", "unspecified": ""}
GRADE_RANK = {code: i for i, code in enumerate(spec.GRADES)}


@dataclass
class Rejection:
    file: str
    line: int
    column: str
    sourced_id: str
    code: str
    reason: str


@dataclass
class Report:
    version: str = ""
    counts: dict = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)
    applied: bool = False
    dry_run: bool = False
    all_or_nothing: bool = False
    fatal: str = ""

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    def count(self, file: str, key: str, n: int = 1) -> None:
        bucket = self.counts.setdefault(file, dict.fromkeys(COUNT_KEYS, 0))
        bucket[key] += n


class Ref(NamedTuple):
    sourced_id: str
    object_id: uuid.UUID | None
    status: str
    data: dict


class _Rollback(Exception):
    pass


def _batched(it: Iterable, n: int) -> Iterator[list]:
    it = iter(it)
    while chunk := list(islice(it, n)):
        yield chunk


def native_sid(obj) -> str:
    """The sourcedId of an object we created ourselves: its id without dashes (stable, in the allowed set)."""
    return obj.pk.hex


ProgressFn = Callable[[str, int, int], None]


class Importer:
    def __init__(self, *, district: District, path, school: School | None = None, all_or_nothing: bool = False,
                 dry_run: bool = False, progress: ProgressFn | None = None):
        self.district = district
        self.path = path
        self.school = school
        self.report = Report(dry_run=dry_run, all_or_nothing=all_or_nothing)
        self.progress = progress or (lambda phase, done, total: None)
        self.modes: dict[str, str] = {}
        self.headers: dict[str, spec.Header] = {}
        self.bad_lines: dict[str, set[int]] = defaultdict(set)
        # from the check pass: sourcedIds in the package, per OneRoster type, with what later checks need
        self.ids: dict[str, dict[str, object]] = defaultdict(dict)
        self.user_roles: dict[str, list[tuple[str, str, str]]] = defaultdict(list)  # user -> [(role, org, roleType)]
        self.identifiers: dict[str, str] = {}
        self.rejected_sids: dict[str, set[str]] = defaultdict(set)
        self._done = 0
        self._total = 0

    # --- reporting ------------------------------------------------------------------------------

    def reject(self, file: str, line: int, column: str, sid: str, code: str, reason: str, *, taint: bool = True) -> None:
        """Report a refused row; with ``taint`` the rows that refer to its sourcedId are refused too."""
        self.report.rejections.append(Rejection(file + ".csv", line, column, sid or "", code, reason))
        if line == 1 and file in spec.OBJECT_TYPE:  # a bad header: the whole file was not read
            self.report.count(file, "rejected")
        if line > 1:
            self.report.count(file, "rejected")
            self.bad_lines[file].add(line)
            if sid and taint:
                self.rejected_sids[spec.OBJECT_TYPE[file]].add(sid)

    def _tick(self, phase: str, n: int = 1) -> None:
        self._done += n
        if self._done % 500 == 0 or self._done >= self._total:
            self.progress(phase, self._done, self._total)

    # --- entry point ---------------------------------------------------------------------------

    def run(self) -> Report:
        try:
            with Package(self.path) as package:
                if not self._read_manifest(package):
                    return self.report
                files = [f for f in FILE_ORDER if self.modes.get(f) in {"bulk", "delta"}]
                self._total = sum(package.size(f) for f in files) or 1
                for f in files:
                    self._check_file(package, f)
                self._done, self._total = 0, sum(self._rows.get(f, 0) for f in files) or 1
                self.progress("Applying", 0, self._total)
                try:
                    with transaction.atomic():
                        for f in files:
                            if f in self.headers:
                                getattr(self, f"_apply_{f}")(package)
                        if self.report.dry_run or (self.report.all_or_nothing and self.report.rejections):
                            raise _Rollback
                        self.report.applied = True
                except _Rollback:
                    self.report.applied = False
        except PackageError as exc:
            self.report.fatal = str(exc)
            self.reject("package", 0, "", "", "package.invalid", str(exc))
        self.progress("Done", self._total, self._total)
        return self.report

    # --- manifest ------------------------------------------------------------------------------

    def _read_manifest(self, package: Package) -> bool:
        names = package.names()
        for other in package.others:
            self.reject("package", 0, "", "", "package.unknown_file", f"'{other}' is not a CSV file at the root of the package.")
        if "manifest" not in names:
            self.reject("manifest", 0, "", "", "manifest.missing", "The package has no manifest.csv.")
            self.report.fatal = "The package has no manifest.csv."
            return False
        props: dict[str, str] = {}
        for line, cells in package.rows("manifest"):
            if line == 1:
                if [c.lstrip("\ufeff") for c in cells[:2]] != ["propertyName", "value"]:
                    self.reject("manifest", 1, "", "", "schema.header_order_mismatch", "manifest.csv must start with propertyName,value.")
                    self.report.fatal = "manifest.csv has no propertyName,value header."
                    return False
                continue
            if len(cells) != 2:
                self.reject("manifest", line, "", "", "manifest.bad_row", "A manifest row has exactly two values.")
                continue
            props[cells[0].strip()] = cells[1].strip()
        version = props.get("oneroster.version", "")
        if version not in spec.IMPORT_VERSIONS:
            self.reject("manifest", 0, "oneroster.version", "", "manifest.unsupported_version",
                        f"oneroster.version must be 1.1 or 1.2, not '{version[:20]}'.")
            self.report.fatal = "Unsupported OneRoster version."
            return False
        self.version = "1.1" if version == "1.1" else "1.2"
        self.report.version = version
        known = spec.MANIFEST_FILES_11 if self.version == "1.1" else spec.MANIFEST_FILES_12
        for key, value in props.items():
            if not key.startswith("file."):
                continue
            name = key[5:]
            if name not in known:
                self.reject("manifest", 0, key, "", "manifest.unknown_property", f"{key} is not a file of OneRoster {self.version}.")
            elif value not in {"absent", "bulk", "delta"}:
                self.reject("manifest", 0, key, "", "manifest.invalid_mode", f"{key} must be absent, bulk or delta, not '{value[:20]}'.")
            else:
                self.modes[name] = value
        for name in sorted(names - {"manifest"}):
            mode = self.modes.get(name, "absent")
            if name not in known:
                self.reject("package", 0, "", "", "package.unknown_file", f"{name}.csv is not a OneRoster {self.version} file.")
            elif mode == "absent":
                self.reject("manifest", 0, f"file.{name}", "", "manifest.file_unexpected",
                            f"{name}.csv is in the package but the manifest says file.{name} is absent; it was not read.")
            elif name not in spec.ROSTER_FILES:
                self.reject("package", 0, "", "", "package.not_rostering",
                            f"{name}.csv is not roster data; it was not read.")
        for name, mode in self.modes.items():
            if mode in {"bulk", "delta"} and name not in names:
                self.reject("manifest", 0, f"file.{name}", "", "manifest.file_missing",
                            f"The manifest lists {name}.csv as {mode} but the package does not hold it.")
                self.modes[name] = "absent"
        if self.version == "1.1":
            self.modes.pop("roles", None)
        return True

    # --- pass 1: check ---------------------------------------------------------------------------

    _rows: dict

    def _check_file(self, package: Package, file: str) -> None:
        self._rows = getattr(self, "_rows", {})
        delta = self.modes[file] == "delta"
        otype = spec.OBJECT_TYPE[file]
        header = None
        seen = self.ids[otype]
        count = 0
        for line, cells in package.rows(file):
            self._tick("Checking", sum(len(c) + 1 for c in cells))
            if line == 1:
                header, problem = spec.check_header(cells, file, self.version)
                if problem:
                    self.reject(file, 1, problem.column, "", problem.code, problem.reason + f" {file}.csv was not read.")
                    return
                continue
            count += 1
            values, _meta, problems = spec.check_row(header, cells, delta=delta)
            sid = values.get("sourcedId") or ""
            if not problems and sid in seen:
                problems.append(spec.Problem("sourcedId", "row.duplicate_sourced_id", f"sourcedId '{sid}' appears twice in {file}.csv."))
            if not problems and file == "users" and values.get("identifier") and values.get("status") != "tobedeleted":
                other = self.identifiers.get(values["identifier"])
                if other and other != sid:
                    problems.append(spec.Problem("identifier", "row.duplicate_identifier",
                                                 f"identifier '{values['identifier']}' is also user {other}'s."))
            if problems:
                first = problems[0]
                # a duplicate leaves the first row standing; any other refusal takes its dependants with it
                self.reject(file, line, first.column, sid, first.code, first.reason, taint=sid not in seen)
                continue
            if file == "orgs" or file == "academicSessions":
                seen[sid] = values["type"]
            elif file == "users":
                seen[sid] = True
                if values.get("identifier"):
                    self.identifiers[values["identifier"]] = sid
                if self.version == "1.1":
                    for org in values.get("orgSourcedIds") or []:
                        self.user_roles[sid].append((values["role"], org, "primary"))
            elif file == "roles":
                seen[sid] = True
                if values.get("status") != "tobedeleted":
                    self.user_roles[values["userSourcedId"]].append((values["role"], values["orgSourcedId"], values["roleType"]))
            else:
                seen[sid] = True
        self.headers[file] = header
        self._rows[file] = count

    # --- shared apply helpers -----------------------------------------------------------------------

    def _rows_to_apply(self, package: Package, file: str) -> Iterator[tuple[int, dict, dict]]:
        header = self.headers[file]
        bad = self.bad_lines[file]
        for line, cells in package.rows(file):
            if line == 1:
                continue
            self._tick("Applying")
            if line in bad:
                continue
            values, meta = spec.convert_row(header, cells)  # checked in pass 1: conversions only
            yield line, values, meta

    def _records(self, otype: str, sids: Iterable[str]) -> dict[str, SourcedRecord]:
        sids = list(set(sids))
        out: dict[str, SourcedRecord] = {}
        for chunk in _batched(sids, 900):
            for rec in SourcedRecord.objects.filter(district=self.district, type=otype, sourced_id__in=chunk):
                out[rec.sourced_id] = rec
        out.update(self._adopt(otype, [s for s in sids if s not in out]))
        return out

    def _refs(self, otype: str, sids: Iterable[str]) -> dict:
        """Like ``_records``, for the objects rows refer to (read only): light tuples, not model instances."""
        sids = list(set(sids))
        out: dict = {}
        for chunk in _batched(sids, 900):
            for row in SourcedRecord.objects.filter(district=self.district, type=otype, sourced_id__in=chunk).values_list(
                    "sourced_id", "object_id", "status", "data"):
                out[row[0]] = Ref(*row)
        out.update(self._adopt(otype, [s for s in sids if s not in out]))
        return out

    def _adopt(self, otype: str, sids: list[str]) -> dict[str, SourcedRecord]:
        """Our own export names the objects we created by their id without dashes: such a sourcedId, coming
        back, is that object (an unsaved record links it), not a new one."""
        models = {ObjectType.ORG: [School, District], ObjectType.ACADEMIC_SESSION: [AcademicSession],
                  ObjectType.CLASS: [ClassDivision], ObjectType.USER: [Person], ObjectType.ENROLLMENT: [Enrollment]}
        wanted = {}
        for sid in sids:
            if len(sid) == 32 and all(c in "0123456789abcdef" for c in sid):
                wanted[uuid.UUID(hex=sid)] = sid
        if not wanted or otype not in models:
            return {}
        found = set()
        for model in models[otype]:
            qs = model.objects.filter(pk__in=list(wanted))
            qs = qs.filter(pk=self.district.pk) if model is District else qs.filter(district=self.district)
            found |= set(qs.values_list("pk", flat=True))
        linked = set(SourcedRecord.objects.filter(district=self.district, type=otype, object_id__in=list(found))
                     .values_list("object_id", flat=True))
        return {wanted[pk]: SourcedRecord(district_id=self.district.pk, type=otype, sourced_id=wanted[pk], object_id=pk, data={})
                for pk in found - linked}

    def _ref_state(self, otype: str, sid: str, records: dict[str, SourcedRecord] | None, *, file: str) -> str | None:
        """Why ``sid`` (a reference to ``otype``) cannot be used, or ``None``."""
        if sid in self.rejected_sids[otype]:
            return f"refers to {otype} '{sid}', which was rejected"
        if sid in self.ids[otype]:
            return None
        rec = records.get(sid) if records is not None else None
        source_file = {v: k for k, v in spec.OBJECT_TYPE.items()}[otype]
        may_look_outside = self.modes[file] == "delta" or self.modes.get(source_file) not in {"bulk", "delta"}
        if rec is not None and may_look_outside and rec.status == RecordStatus.ACTIVE:
            return None
        where = "the package" if not may_look_outside else "the package or this district"
        return f"refers to {otype} '{sid}', which is not in {where}"

    def _data(self, values: dict, meta: dict, **derived) -> dict:
        data = {k: v for k, v in values.items() if k not in {"sourcedId", "status", "dateLastModified"}}
        if meta:
            data["metadata"] = meta
        data.update({f"_{k}": v for k, v in derived.items()})
        return data

    def _bounded(self, file, line, sid, data) -> bool:
        """The record's JSON within its field's cap. Depth is bounded by construction (values, lists of
        values, one metadata object) and NUL was refused by the row checks, so the size is what is left."""
        size = len(orjson.dumps(data))
        if size > RECORD_DATA_MAX_BYTES:
            self.reject(file, line, "metadata" if "metadata" in data else "", sid, "row.too_large",
                        f"Too large: {size:,} bytes of JSON; at most {RECORD_DATA_MAX_BYTES:,} can be stored.")
            return False
        return True

    def _save_record(self, rec: SourcedRecord | None, otype: str, sid: str, values: dict, data: dict, object_id) -> SourcedRecord:
        modified = spec.parse_datetime(values.get("dateLastModified")) or timezone.now()
        status = values.get("status") or RecordStatus.ACTIVE
        if rec is None:
            rec = SourcedRecord(district_id=self.district.pk, type=otype, sourced_id=sid)
        rec.object_id, rec.data, rec.status, rec.date_last_modified = object_id, data, status, modified
        rec.save()
        return rec

    def _delete(self, file: str, line: int, otype: str, sid: str, rec: SourcedRecord | None, model) -> None:
        """A ``tobedeleted`` row: remove what it names (keeping the sourcedId, marked)."""
        if rec is None or rec.status == RecordStatus.TOBEDELETED:
            self.report.count(file, "unchanged")
            return
        if model is District or (otype == "org" and rec.object_id == self.district.pk):
            self.reject(file, line, "status", sid, "semantic.cannot_delete_district", "The district itself cannot be deleted by an import.")
            return
        if rec.object_id and model is not None:
            model.objects.filter(district=self.district, pk=rec.object_id).delete()
        rec.status, rec.object_id = RecordStatus.TOBEDELETED, None
        rec.date_last_modified = timezone.now()
        rec.save(update_fields=["status", "object_id", "date_last_modified", "updated_at"])
        self.report.count(file, "deleted")

    def _insert(self, model, objs: list) -> None:
        """Insert new rows: with COPY on PostgreSQL (inside the import's transaction), bulk_create elsewhere.

        Every value was checked before (the rows' own checks and the model's rules the apply step repeats),
        as ``full_clean`` would; what COPY writes is what ``save`` would write (``pre_save``, ``get_db_prep_save``).
        """
        if not objs:
            return
        if connection.vendor != "postgresql":
            model.objects.bulk_create(objs, batch_size=BATCH)
            return
        fields = [f for f in model._meta.concrete_fields if f is not model._meta.auto_field]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        json_fields = {f.attname for f in fields if isinstance(f, JSONField)}
        stamped = {f.attname for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)}
        plain = [(f.attname, f.attname in json_fields, f.attname in stamped) for f in fields]
        now = timezone.now()
        with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                row = []
                for attname, is_json, is_stamp in plain:
                    value = getattr(obj, attname)
                    if is_json:
                        value = orjson.dumps(value).decode()
                    elif is_stamp and value is None:
                        value = now
                    row.append(value)
                copy.write_row(row)

    def _full_save(self, file, line, sid, obj) -> bool:
        try:
            obj.full_clean()
            with transaction.atomic():
                obj.save()
        except ValidationError as exc:
            column, message = _first_error(exc)
            self.reject(file, line, column, sid, "semantic.invalid", message)
            return False
        except IntegrityError:
            self.reject(file, line, "", sid, "semantic.duplicate", "This would duplicate an object the district already holds.")
            return False
        return True

    # --- orgs ------------------------------------------------------------------------------------

    def _apply_orgs(self, package: Package) -> None:
        file, otype = "orgs", ObjectType.ORG
        rows = list(self._rows_to_apply(package, file))  # orgs are few: parents first
        records = self._records(otype, [v["sourcedId"] for _, v, _ in rows] + [v["parentSourcedId"] for _, v, _ in rows if v["parentSourcedId"]])
        district_rec = SourcedRecord.objects.filter(district=self.district, type=otype, object_id=self.district.pk).first()
        depth = {}

        def level(values, seen=()):
            sid = values["sourcedId"]
            if sid in depth:
                return depth[sid]
            parent = values.get("parentSourcedId")
            by_sid = {v["sourcedId"]: v for _, v, _ in rows}
            d = 0 if not parent or parent not in by_sid or parent in seen else level(by_sid[parent], (*seen, sid)) + 1
            depth[sid] = d
            return d

        for line, values, meta in sorted(rows, key=lambda r: level(r[1])):
            sid = values["sourcedId"]
            rec = records.get(sid)
            if values.get("status") == "tobedeleted":
                self._delete(file, line, otype, sid, rec, School)
                continue
            parent = values.get("parentSourcedId")
            if parent:
                why = self._ref_state(otype, parent, records, file=file)
                if why:
                    self.reject(file, line, "parentSourcedId", sid, "reference.unresolved", f"parentSourcedId {why}.")
                    continue
                if parent == sid:
                    self.reject(file, line, "parentSourcedId", sid, "semantic.self_parent", "An org cannot be its own parent.")
                    continue
            data = self._data(values, meta)
            if not self._bounded(file, line, sid, data):
                continue
            org_type = values["type"]
            if org_type == "district" and (district_rec is None or district_rec.sourced_id == sid):
                target = self.district.pk
                state = "unchanged" if rec is not None and rec.data == data and rec.object_id == target else ("updated" if rec else "created")
                district_rec = self._save_record(rec, otype, sid, values, data, target)
                records[sid] = district_rec
                self.report.count(file, state)
                continue
            if org_type != "school":
                # departments, other districts, states: kept as OneRoster data (we roster schools)
                state = "unchanged" if rec is not None and rec.data == data and rec.status == RecordStatus.ACTIVE else ("updated" if rec else "created")
                records[sid] = self._save_record(rec, otype, sid, values, data, None)
                self.report.count(file, state)
                continue
            school = School.objects.filter(district=self.district, pk=rec.object_id).first() if rec and rec.object_id else None
            if self.school is not None and (school is None or school.pk != self.school.pk):
                self.reject(file, line, "sourcedId", sid, "scope.outside_school", f"Only {self.school.name} can be imported here.")
                continue
            if rec is not None and school is not None and rec.data == data and rec.status == RecordStatus.ACTIVE:
                self.report.count(file, "unchanged")
                continue
            created = school is None
            if created:
                school = School(district=self.district, code=self._school_code(values))
            school.name = values["name"]
            if not self._full_save(file, line, sid, school):
                continue
            records[sid] = self._save_record(rec, otype, sid, values, data, school.pk)
            self.report.count(file, "created" if created else "updated")

    def _school_code(self, values: dict) -> str:
        import re

        base = (values.get("identifier") or values["sourcedId"]).upper()
        base = re.sub(r"[^A-Z0-9-]", "-", base).strip("-")[:28] or "SCHOOL"
        code, n = base, 1
        while School.objects.filter(district=self.district, code=code).exists():
            n += 1
            code = f"{base[:26]}-{n}"
        return code

    # --- academic sessions -----------------------------------------------------------------------

    def _apply_academicSessions(self, package: Package) -> None:
        file, otype = "academicSessions", ObjectType.ACADEMIC_SESSION
        rows = list(self._rows_to_apply(package, file))
        by_sid = {v["sourcedId"]: v for _, v, _ in rows}
        order: dict[str, int] = {}

        def level(sid, seen=()):
            if sid in order:
                return order[sid]
            parent = by_sid[sid].get("parentSourcedId")
            d = 0 if not parent or parent not in by_sid or parent in seen else level(parent, (*seen, sid)) + 1
            order[sid] = d
            return d

        records = self._records(otype, list(by_sid) + [v["parentSourcedId"] for v in by_sid.values() if v["parentSourcedId"]])
        today = timezone.localdate()
        for line, values, meta in sorted(rows, key=lambda r: level(r[1]["sourcedId"])):
            sid = values["sourcedId"]
            rec = records.get(sid)
            if values.get("status") == "tobedeleted":
                self._delete(file, line, otype, sid, rec, AcademicSession)
                continue
            parent_sid = values.get("parentSourcedId")
            parent = None
            if parent_sid:
                why = self._ref_state(otype, parent_sid, records, file=file)
                if why is None and parent_sid not in records:
                    why = f"refers to academicSession '{parent_sid}', which was not imported"
                if why:
                    self.reject(file, line, "parentSourcedId", sid, "reference.unresolved", f"parentSourcedId {why}.")
                    continue
                parent = AcademicSession.objects.filter(district=self.district, pk=records[parent_sid].object_id).first()
            kind = SESSION_TYPE.get(values["type"], SessionType.TERM)
            if kind == SessionType.SCHOOL_YEAR and parent_sid:
                self.reject(file, line, "parentSourcedId", sid, "semantic.year_has_parent", "A schoolYear session cannot have a parent.")
                continue
            # our roster nests terms and grading periods in a year or semester: a grading period inside a
            # term hangs from the term's own parent here, and keeps its OneRoster parent in the record
            while parent is not None and parent.type not in (SessionType.SCHOOL_YEAR, SessionType.SEMESTER):
                parent = parent.parent
            start, end = dt.date.fromisoformat(values["startDate"]), dt.date.fromisoformat(values["endDate"])
            data = self._data(values, meta)
            if not self._bounded(file, line, sid, data):
                continue
            obj = AcademicSession.objects.filter(district=self.district, pk=rec.object_id).first() if rec and rec.object_id else None
            if obj is not None and rec.data == data and rec.status == RecordStatus.ACTIVE:
                self.report.count(file, "unchanged")
                continue
            created = obj is None
            obj = obj or AcademicSession(district=self.district)
            obj.name, obj.type, obj.start_date, obj.end_date, obj.parent = values["title"], kind, start, end, parent
            obj.state = (SessionState.UPCOMING if today < start else SessionState.COMPLETED if today > end else SessionState.ACTIVE)
            if end == start:
                self.reject(file, line, "endDate", sid, "semantic.invalid", "The end date must be after the start date.")
                continue
            if not self._full_save(file, line, sid, obj):
                continue
            records[sid] = self._save_record(rec, otype, sid, values, data, obj.pk)
            self.report.count(file, "created" if created else "updated")

    # --- courses (kept as OneRoster data: our roster has no course) ------------------------------------

    def _apply_courses(self, package: Package) -> None:
        file, otype = "courses", ObjectType.COURSE
        for batch in _batched(self._rows_to_apply(package, file), BATCH):
            records = self._records(otype, [v["sourcedId"] for _, v, _ in batch])
            orgs = self._refs(ObjectType.ORG, [v["orgSourcedId"] for _, v, _ in batch])
            years = self._refs(ObjectType.ACADEMIC_SESSION, [v["schoolYearSourcedId"] for _, v, _ in batch if v["schoolYearSourcedId"]])
            for line, values, meta in batch:
                sid = values["sourcedId"]
                rec = records.get(sid)
                if values.get("status") == "tobedeleted":
                    self._delete(file, line, otype, sid, rec, None)
                    continue
                why = self._ref_state(ObjectType.ORG, values["orgSourcedId"], orgs, file=file)
                if why:
                    self.reject(file, line, "orgSourcedId", sid, "reference.unresolved", f"orgSourcedId {why}.")
                    continue
                year = values.get("schoolYearSourcedId")
                if year:
                    why = self._ref_state(ObjectType.ACADEMIC_SESSION, year, years, file=file)
                    if why:
                        self.reject(file, line, "schoolYearSourcedId", sid, "reference.unresolved", f"schoolYearSourcedId {why}.")
                        continue
                    kind = self.ids[ObjectType.ACADEMIC_SESSION].get(year) or (years[year].data.get("type") if year in years else None)
                    if kind != "schoolYear":
                        self.reject(file, line, "schoolYearSourcedId", sid, "semantic.academic_session_type_mismatch",
                                    f"schoolYearSourcedId '{year}' is a {kind} session, not a schoolYear.")
                        continue
                data = self._data(values, meta)
                if not self._bounded(file, line, sid, data):
                    continue
                if rec is not None and rec.data == data and rec.status == RecordStatus.ACTIVE:
                    self.report.count(file, "unchanged")
                    continue
                self._save_record(rec, otype, sid, values, data, None)
                self.report.count(file, "updated" if rec else "created")

    # --- grades --------------------------------------------------------------------------------------

    _grades: dict | None = None

    def _grade(self, code: str, name: str | None = None) -> GradeLevel:
        """The district's grade level of a CEDS code, made when missing (named as our own export names it)."""
        if self._grades is None:
            self._grades = {g.code: g for g in GradeLevel.objects.filter(district=self.district, school__isnull=True)}
        grade = self._grades.get(code)
        if grade is None:
            grade = GradeLevel.objects.create(district=self.district, code=code, name=(name or GradeLevelCode(code).label)[:100],
                                              rank=GRADE_RANK.get(code, 99))
            self._grades[code] = grade
        return grade

    # --- classes -------------------------------------------------------------------------------------

    def _apply_classes(self, package: Package) -> None:
        file, otype = "classes", ObjectType.CLASS
        self._class_names = {(s, a, n): pk for pk, s, a, n in ClassDivision.objects.filter(district=self.district).values_list(
            "pk", "school_id", "academic_session_id", "name")}
        self._session_schools = dict(AcademicSession.objects.filter(district=self.district).values_list("pk", "school_id"))
        for batch in _batched(self._rows_to_apply(package, file), BATCH):
            now = timezone.now()
            creates, updates, new, changed = [], [], [], []
            records = self._records(otype, [v["sourcedId"] for _, v, _ in batch])
            existing = {c.pk: c for c in ClassDivision.objects.filter(
                district=self.district, pk__in=[r.object_id for r in records.values() if r.object_id])}
            orgs = self._refs(ObjectType.ORG, [v["schoolSourcedId"] for _, v, _ in batch])
            courses = self._refs(ObjectType.COURSE, [v["courseSourcedId"] for _, v, _ in batch])
            terms = self._refs(ObjectType.ACADEMIC_SESSION, [t for _, v, _ in batch for t in v["termSourcedIds"]])
            for line, values, meta in batch:
                sid = values["sourcedId"]
                rec = records.get(sid)
                if values.get("status") == "tobedeleted":
                    self._delete(file, line, otype, sid, rec, ClassDivision)
                    continue
                problem = None
                for column, target, recs in (("courseSourcedId", ObjectType.COURSE, courses), ("schoolSourcedId", ObjectType.ORG, orgs)):
                    why = self._ref_state(target, values[column], recs, file=file)
                    if why:
                        problem = (column, "reference.unresolved", f"{column} {why}.")
                        break
                if problem is None:
                    for term in values["termSourcedIds"]:
                        why = self._ref_state(ObjectType.ACADEMIC_SESSION, term, terms, file=file)
                        if why:
                            problem = ("termSourcedIds", "reference.unresolved", f"termSourcedIds {why}.")
                            break
                school_rec = orgs.get(values["schoolSourcedId"])
                if problem is None and (school_rec is None or school_rec.data.get("type") != "school" or not school_rec.object_id):
                    problem = ("schoolSourcedId", "semantic.org_type_mismatch", f"schoolSourcedId '{values['schoolSourcedId']}' is not a school.")
                if problem is None and self.school is not None and school_rec.object_id != self.school.pk:
                    problem = ("schoolSourcedId", "scope.outside_school", f"Only {self.school.name}'s classes can be imported here.")
                if problem:
                    self.reject(file, line, problem[0], sid, problem[1], problem[2])
                    continue
                grade_name = meta.pop(GRADE_NAME, None)
                course = courses.get(values["courseSourcedId"])
                grades = values["grades"] or (course.data.get("grades") if course else None) or ["UG"]
                term_rec = terms.get(values["termSourcedIds"][0])
                data = self._data(values, meta, grade=grades[0])
                if not self._bounded(file, line, sid, data):
                    continue
                obj = existing.get(rec.object_id) if rec and rec.object_id else None
                if obj is not None and rec.data == data and rec.status == RecordStatus.ACTIVE:
                    self.report.count(file, "unchanged")
                    continue
                session_id = term_rec.object_id if term_rec else None
                if session_id and self._session_schools.get(session_id) not in (None, school_rec.object_id):
                    self.reject(file, line, "termSourcedIds", sid, "semantic.invalid", "This academic session does not belong to the class's school.")
                    continue
                created = obj is None
                obj = obj or ClassDivision(district_id=self.district.pk, created_date=now)
                if not created:
                    self._class_names.pop((obj.school_id, obj.academic_session_id, obj.name), None)
                obj.school_id = school_rec.object_id
                obj.grade_level = self._grade(grades[0], grade_name)
                obj.academic_session_id = session_id
                obj.name = self._class_name(obj, values)
                obj.updated_date = now
                self._class_names[(obj.school_id, obj.academic_session_id, obj.name)] = obj.pk
                (creates if created else updates).append(obj)
                if rec is None:
                    rec = SourcedRecord(district_id=self.district.pk, type=otype, sourced_id=sid, created_at=now)
                (new if rec.pk is None else changed).append(rec)
                rec.object_id, rec.data, rec.status, rec.updated_at = obj.pk, data, RecordStatus.ACTIVE, now
                rec.date_last_modified = spec.parse_datetime(values.get("dateLastModified")) or now
                self.report.count(file, "created" if created else "updated")
            self._insert(ClassDivision, creates)
            ClassDivision.objects.bulk_update(updates, ["school", "grade_level", "academic_session", "name", "updated_date"], batch_size=BATCH)
            self._insert(SourcedRecord, new)
            SourcedRecord.objects.bulk_update(changed, ["object_id", "data", "status", "date_last_modified", "updated_at"], batch_size=BATCH)

    _class_names: dict
    _session_schools: dict

    def _class_name(self, obj: ClassDivision, values: dict) -> str:
        """The title; made unique in its school and term (OneRoster titles need not be) with the class code."""
        title = values["title"][:100]
        holder = self._class_names.get((obj.school_id, obj.academic_session_id, title))
        if holder is None or holder == obj.pk:
            return title
        suffix = f" ({values.get('classCode') or values['sourcedId']})"
        return title[: 100 - len(suffix)] + suffix

    # --- users ---------------------------------------------------------------------------------------

    def _user_placement(self, values: dict, orgs: dict[str, SourcedRecord]) -> tuple[str | None, str | None]:
        """(OneRoster role, school org sourcedId) of a user, from roles.csv (1.2) or the user row (1.1)."""
        roles = self.user_roles.get(values["sourcedId"], [])
        if not roles:
            return None, None
        primary_org = values.get("primaryOrgSourcedId")
        ordered = sorted(roles, key=lambda r: (r[1] != primary_org, r[2] != "primary"))
        role = ordered[0][0]
        school = None
        for _role, org, _type in ordered:
            rec = orgs.get(org)
            kind = self.ids[ObjectType.ORG].get(org) or (rec.data.get("type") if rec else None)
            if kind == "school":
                school = org
                break
        return role, school

    def _apply_users(self, package: Package) -> None:
        file, otype = "users", ObjectType.USER
        for batch in _batched(self._rows_to_apply(package, file), BATCH):
            sids = [v["sourcedId"] for _, v, _ in batch]
            records = self._records(otype, sids)
            org_sids = {v.get("primaryOrgSourcedId") for _, v, _ in batch} | {
                r[1] for s in sids for r in self.user_roles.get(s, [])} | {o for _, v, _ in batch for o in v.get("orgSourcedIds") or []}
            orgs = self._refs(ObjectType.ORG, [o for o in org_sids if o])
            agents = self._refs(otype, [a for _, v, _ in batch for a in v.get("agentSourcedIds") or []])
            people = {p.pk: p for p in Person.objects.filter(district=self.district, pk__in=[r.object_id for r in records.values() if r.object_id])}
            identifiers = [v["identifier"] for _, v, _ in batch if v.get("identifier")]
            holders = dict(Person.objects.filter(district=self.district, sis_id__in=identifiers).values_list("sis_id", "pk"))
            creates, updates, recs_new, recs_changed = [], [], [], []
            now = timezone.now()
            for line, values, meta in batch:
                sid = values["sourcedId"]
                rec = records.get(sid)
                if values.get("status") == "tobedeleted":
                    self._delete(file, line, otype, sid, rec, Person)
                    continue
                problem = None
                for org in [values.get("primaryOrgSourcedId"), *(values.get("orgSourcedIds") or [])]:
                    if org and (why := self._ref_state(ObjectType.ORG, org, orgs, file=file)):
                        problem = ("primaryOrgSourcedId" if org == values.get("primaryOrgSourcedId") else "orgSourcedIds",
                                   "reference.unresolved", why)
                        break
                if problem is None:
                    for agent in values.get("agentSourcedIds") or []:
                        if agent not in self.ids[otype] and agent not in agents:
                            problem = ("agentSourcedIds", "reference.unresolved", f"agentSourcedIds refers to user '{agent}', which is not in the package or this district")
                            break
                role, school_sid = self._user_placement(values, orgs)
                primary = values.get("primaryOrgSourcedId")
                if problem is None and primary and self.version != "1.1" and primary not in {r[1] for r in self.user_roles.get(sid, [])}:
                    problem = ("primaryOrgSourcedId", "semantic.primary_org_without_role", f"primaryOrgSourcedId '{primary}' has no matching row in roles.csv.")
                obj = people.get(rec.object_id) if rec and rec.object_id else None
                if problem is None and role is None and obj is None:
                    problem = ("sourcedId", "semantic.user_without_role", "The user has no role (roles.csv names none for it).")
                holder = holders.get(values.get("identifier") or "")
                if problem is None and holder and (obj is None or holder != obj.pk):
                    problem = ("identifier", "semantic.duplicate_identifier", f"Another person in the district already has the number '{values['identifier']}'.")
                school_id = orgs[school_sid].object_id if school_sid and school_sid in orgs else None
                if problem is None and self.school is not None and school_id != self.school.pk:
                    problem = ("primaryOrgSourcedId", "scope.outside_school", f"Only people of {self.school.name} can be imported here.")
                if problem:
                    self.reject(file, line, problem[0], sid, problem[1], problem[2] if problem[2].endswith(".") else problem[2] + ".")
                    continue
                grade_name = meta.pop(GRADE_NAME, None)
                data = self._data(values, meta, role=role, school=school_sid)
                if not self._bounded(file, line, sid, data):
                    continue
                if obj is not None and rec.data == data and rec.status == RecordStatus.ACTIVE:
                    self.report.count(file, "unchanged")
                    continue
                created = obj is None
                obj = obj or Person(district_id=self.district.pk, created_date=now)
                obj.role = USER_ROLE.get(role, obj.role if not created else PersonRole.STAFF) if role else obj.role
                obj.given_name, obj.family_name = values["givenName"], values["familyName"]
                obj.middle_name = values.get("middleName") or ""
                obj.sis_id = values.get("identifier") or ""
                obj.email = values.get("email") or ""
                obj.phone = values.get("phone") or values.get("sms") or ""
                obj.school_id = school_id
                grades = values.get("grades") or []
                obj.grade_level = self._grade(grades[0], grade_name) if grades else None
                obj.updated_date = now
                if values.get("identifier"):
                    holders[values["identifier"]] = obj.pk
                (creates if created else updates).append(obj)
                if rec is None:
                    rec = SourcedRecord(district_id=self.district.pk, type=otype, sourced_id=sid)
                (recs_new if rec.pk is None else recs_changed).append(rec)
                rec.object_id, rec.data, rec.status = obj.pk, data, RecordStatus.ACTIVE
                rec.date_last_modified = spec.parse_datetime(values.get("dateLastModified")) or now
                rec.updated_at = now
                records[sid] = rec
                self.report.count(file, "created" if created else "updated")
            self._insert(Person, creates)
            Person.objects.bulk_update(updates, ["role", "given_name", "family_name", "middle_name", "sis_id", "email", "phone",
                                                 "school", "grade_level", "updated_date"], batch_size=BATCH)
            self._insert(SourcedRecord, recs_new)
            SourcedRecord.objects.bulk_update(recs_changed, ["object_id", "data", "status", "date_last_modified", "updated_at"], batch_size=BATCH)

    # --- roles (1.2): kept as records; they placed the user (role, school) above ------------------------

    def _apply_roles(self, package: Package) -> None:
        file, otype = "roles", ObjectType.ROLE
        primaries: set[tuple[str, str]] = set()
        for batch in _batched(self._rows_to_apply(package, file), BATCH):
            records = self._records(otype, [v["sourcedId"] for _, v, _ in batch])
            users = self._refs(ObjectType.USER, [v["userSourcedId"] for _, v, _ in batch])
            orgs = self._refs(ObjectType.ORG, [v["orgSourcedId"] for _, v, _ in batch])
            new, changed = [], []
            now = timezone.now()
            for line, values, meta in batch:
                sid = values["sourcedId"]
                rec = records.get(sid)
                if values.get("status") == "tobedeleted":
                    self._delete(file, line, otype, sid, rec, None)
                    continue
                problem = None
                for column, target, recs in (("userSourcedId", ObjectType.USER, users), ("orgSourcedId", ObjectType.ORG, orgs)):
                    why = self._ref_state(target, values[column], recs, file=file)
                    if why is None and target == ObjectType.USER and values[column] not in recs:
                        why = f"refers to user '{values[column]}', which was not imported"
                    if why:
                        problem = (column, "reference.unresolved", f"{column} {why}.")
                        break
                key = (values["userSourcedId"], values["orgSourcedId"])
                if problem is None and values["roleType"] == "primary":
                    if key in primaries:
                        problem = ("roleType", "semantic.duplicate_primary_role", "The user already has a primary role at this org.")
                    primaries.add(key)
                if problem:
                    self.reject(file, line, problem[0], sid, problem[1], problem[2])
                    continue
                data = self._data(values, meta)
                if not self._bounded(file, line, sid, data):
                    continue
                user = users[values["userSourcedId"]]
                if rec is not None and rec.data == data and rec.status == RecordStatus.ACTIVE and rec.object_id == user.object_id:
                    self.report.count(file, "unchanged")
                    continue
                if rec is None:
                    rec = SourcedRecord(district_id=self.district.pk, type=otype, sourced_id=sid)
                (new if rec.pk is None else changed).append(rec)
                rec.object_id, rec.data, rec.status, rec.updated_at = user.object_id, data, RecordStatus.ACTIVE, now
                rec.date_last_modified = spec.parse_datetime(values.get("dateLastModified")) or now
                self.report.count(file, "updated" if rec.pk else "created")
            self._insert(SourcedRecord, new)
            SourcedRecord.objects.bulk_update(changed, ["object_id", "data", "status", "date_last_modified", "updated_at"], batch_size=BATCH)

    # --- demographics --------------------------------------------------------------------------------

    def _apply_demographics(self, package: Package) -> None:
        file, otype = "demographics", ObjectType.DEMOGRAPHICS
        today = timezone.localdate()
        for batch in _batched(self._rows_to_apply(package, file), BATCH):
            sids = [v["sourcedId"] for _, v, _ in batch]
            records = self._records(otype, sids)
            users = self._refs(ObjectType.USER, sids)
            people = {p.pk: p for p in Person.objects.filter(district=self.district, pk__in=[u.object_id for u in users.values() if u.object_id])}
            new, changed, touched = [], [], []
            now = timezone.now()
            for line, values, meta in batch:
                sid = values["sourcedId"]
                rec = records.get(sid)
                if values.get("status") == "tobedeleted":
                    if rec is not None and rec.status == RecordStatus.ACTIVE and rec.object_id in people:
                        person = people[rec.object_id]
                        person.date_of_birth, person.gender, person.updated_date = None, "", now
                        touched.append(person)
                    self._delete(file, line, otype, sid, rec, None)
                    continue
                user = users.get(sid)
                person = people.get(user.object_id) if user and user.object_id else None
                if person is None:
                    self.reject(file, line, "sourcedId", sid, "reference.unresolved",
                                f"sourcedId must be a user's sourcedId; user '{sid}' was not imported.")
                    continue
                birth = dt.date.fromisoformat(values["birthDate"]) if values.get("birthDate") else None
                if birth and birth > today:
                    self.reject(file, line, "birthDate", sid, "semantic.invalid", "The date of birth is in the future.")
                    continue
                data = self._data(values, meta)
                if not self._bounded(file, line, sid, data):
                    continue
                if rec is not None and rec.data == data and rec.status == RecordStatus.ACTIVE and rec.object_id == person.pk:
                    self.report.count(file, "unchanged")
                    continue
                person.date_of_birth = birth
                sex = values.get("sex") or ""
                person.gender = SEX.get(sex, "other" if sex.startswith("ext:") else "")
                person.updated_date = now
                touched.append(person)
                if rec is None:
                    rec = SourcedRecord(district_id=self.district.pk, type=otype, sourced_id=sid)
                (new if rec.pk is None else changed).append(rec)
                rec.object_id, rec.data, rec.status, rec.updated_at = person.pk, data, RecordStatus.ACTIVE, now
                rec.date_last_modified = spec.parse_datetime(values.get("dateLastModified")) or now
                self.report.count(file, "updated" if rec.pk else "created")
            Person.objects.bulk_update(touched, ["date_of_birth", "gender", "updated_date"], batch_size=BATCH)
            self._insert(SourcedRecord, new)
            SourcedRecord.objects.bulk_update(changed, ["object_id", "data", "status", "date_last_modified", "updated_at"], batch_size=BATCH)

    # --- enrollments ---------------------------------------------------------------------------------

    def _apply_enrollments(self, package: Package) -> None:
        file, otype = "enrollments", ObjectType.ENROLLMENT
        for batch in _batched(self._rows_to_apply(package, file), BATCH):
            records = self._records(otype, [v["sourcedId"] for _, v, _ in batch])
            classes_r = self._refs(ObjectType.CLASS, [v["classSourcedId"] for _, v, _ in batch])
            users = self._refs(ObjectType.USER, [v["userSourcedId"] for _, v, _ in batch])
            orgs = self._refs(ObjectType.ORG, [v["schoolSourcedId"] for _, v, _ in batch])
            classes = {c["pk"]: c for c in ClassDivision.objects.filter(
                district=self.district, pk__in=[r.object_id for r in classes_r.values() if r.object_id]
            ).values("pk", "school_id", "academic_session_id")}
            existing = {e.pk: e for e in Enrollment.objects.filter(
                district=self.district, pk__in=[r.object_id for r in records.values() if r.object_id])}
            person_ids = [u.object_id for u in users.values() if u.object_id]
            taken = {(p, c, r): pk for pk, p, c, r in Enrollment.objects.filter(
                district=self.district, person_id__in=person_ids, subject__isnull=True,
                class_division_id__in=list(classes)).values_list("pk", "person_id", "class_division_id", "role")}
            creates, updates, new, changed = [], [], [], []
            now = timezone.now()
            for line, values, meta in batch:
                sid = values["sourcedId"]
                rec = records.get(sid)
                if values.get("status") == "tobedeleted":
                    gone = rec.object_id if rec else None
                    self._delete(file, line, otype, sid, rec, Enrollment)
                    taken = {k: v for k, v in taken.items() if v != gone}
                    continue
                problem = None
                for column, target, recs in (("classSourcedId", ObjectType.CLASS, classes_r), ("schoolSourcedId", ObjectType.ORG, orgs),
                                             ("userSourcedId", ObjectType.USER, users)):
                    why = self._ref_state(target, values[column], recs, file=file)
                    if why is None and target != ObjectType.ORG and not (values[column] in recs and recs[values[column]].object_id):
                        why = f"refers to {target} '{values[column]}', which was not imported"
                    if why:
                        problem = (column, "reference.unresolved", f"{column} {why}.")
                        break
                klass = classes.get(classes_r[values["classSourcedId"]].object_id) if problem is None else None
                if problem is None and klass is None:
                    problem = ("classSourcedId", "reference.unresolved", f"classSourcedId refers to class '{values['classSourcedId']}', which was not imported.")
                school_rec = orgs.get(values["schoolSourcedId"])
                school_kind = self.ids[ObjectType.ORG].get(values["schoolSourcedId"]) or (school_rec.data.get("type") if school_rec else None)
                if problem is None and school_kind != "school":
                    problem = ("schoolSourcedId", "semantic.org_type_mismatch", f"schoolSourcedId '{values['schoolSourcedId']}' is not a school.")
                if problem is None and school_rec is not None and school_rec.object_id != klass["school_id"]:
                    problem = ("schoolSourcedId", "semantic.school_mismatch", f"The class '{values['classSourcedId']}' is not taught at '{values['schoolSourcedId']}'.")
                if problem is None and values.get("primary") and values["role"] != "teacher":
                    problem = ("primary", "semantic.primary_not_teacher", "primary applies only to teachers.")
                role = ENROLLMENT_ROLE.get(values["role"], EnrollmentRole.AIDE) if problem is None else None
                person_id = users[values["userSourcedId"]].object_id if problem is None else None
                obj = existing.get(rec.object_id) if rec and rec.object_id else None
                if problem is None:
                    holder = taken.get((person_id, klass["pk"], role))
                    if holder and (obj is None or holder != obj.pk):
                        problem = ("userSourcedId", "semantic.duplicate_enrollment",
                                   f"User '{values['userSourcedId']}' is already enrolled in this class as {values['role']}.")
                if problem:
                    self.reject(file, line, problem[0], sid, problem[1], problem[2])
                    continue
                data = self._data(values, meta)
                if not self._bounded(file, line, sid, data):
                    continue
                if obj is not None and rec.data == data and rec.status == RecordStatus.ACTIVE:
                    self.report.count(file, "unchanged")
                    continue
                created = obj is None
                obj = obj or Enrollment(district_id=self.district.pk, created_date=now)
                obj.person_id, obj.class_division_id, obj.role = person_id, klass["pk"], role
                obj.primary = bool(values.get("primary"))
                obj.start_date = dt.date.fromisoformat(values["beginDate"]) if values.get("beginDate") else None
                obj.end_date = dt.date.fromisoformat(values["endDate"]) if values.get("endDate") else None
                obj.updated_date = now
                taken[(person_id, klass["pk"], role)] = obj.pk
                (creates if created else updates).append(obj)
                if rec is None:
                    rec = SourcedRecord(district_id=self.district.pk, type=otype, sourced_id=sid)
                (new if rec.pk is None else changed).append(rec)
                rec.object_id, rec.data, rec.status, rec.updated_at = obj.pk, data, RecordStatus.ACTIVE, now
                rec.date_last_modified = spec.parse_datetime(values.get("dateLastModified")) or now
                self.report.count(file, "created" if created else "updated")
            self._insert(Enrollment, creates)
            Enrollment.objects.bulk_update(updates, ["person", "class_division", "role", "academic_session", "primary",
                                                     "start_date", "end_date", "updated_date"], batch_size=BATCH)
            self._insert(SourcedRecord, new)
            SourcedRecord.objects.bulk_update(changed, ["object_id", "data", "status", "date_last_modified", "updated_at"], batch_size=BATCH)


def _first_error(exc: ValidationError) -> tuple[str, str]:
    if hasattr(exc, "error_dict"):
        field_name, errors = next(iter(exc.error_dict.items()))
        return ("" if field_name == "__all__" else field_name), errors[0].messages[0]
    return "", exc.messages[0]
