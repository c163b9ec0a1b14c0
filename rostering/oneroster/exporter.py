"""Export of a district's (or one school's) roster as a OneRoster 1.2.1 bulk CSV package.

What our roster models comes from our rows; what it does not (course data, usernames, userIds, agents,
class codes, periods, race flags…) comes from the ``SourcedRecord`` the object was imported with.
Objects we created ourselves get stable sourcedIds: their id without dashes (``native_sid``).
Every reference points at a row of the same package (§4.4: bulk references resolve inside it).
Rows stream from the database in chunks and are written straight into the zip.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.db.models import Q

from rostering.choices import EnrollmentRole, PersonRole, SessionType
from rostering.models import AcademicSession, ClassDivision, District, Enrollment, Person, School
from rostering.oneroster import csvspec as spec
from rostering.oneroster.importer import ENROLLMENT_ROLE, GRADE_NAME, SEX, USER_ROLE
from rostering.oneroster.models import ObjectType, RecordStatus, SourcedRecord

CHUNK = 2000
SESSION_OUT = {SessionType.SCHOOL_YEAR: "schoolYear", SessionType.SEMESTER: "semester", SessionType.TERM: "term",
               SessionType.GRADING_PERIOD: "gradingPeriod"}
PERSON_ROLE_OUT = {PersonRole.STUDENT: "student", PersonRole.TEACHER: "teacher", PersonRole.GUARDIAN: "guardian",
                   PersonRole.STAFF: "aide"}
ENROLLMENT_ROLE_OUT = {EnrollmentRole.STUDENT: "student", EnrollmentRole.TEACHER: "teacher", EnrollmentRole.TA: "ext:ta",
                       EnrollmentRole.AIDE: "ext:aide"}


def _chunks(items: list, n: int = CHUNK) -> Iterator[list]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


class Exporter:
    def __init__(self, *, district: District, school: School | None = None):
        self.district = district
        self.school = school
        self.counts: dict[str, int] = {}
        self.skipped: list[str] = []

    # --- lookups ---------------------------------------------------------------------------------

    def _records(self, otype: str, object_ids: Iterable) -> dict:
        out = {}
        ids = list(object_ids)
        for chunk in _chunks(ids, 900):
            for rec in SourcedRecord.objects.filter(district=self.district, type=otype, object_id__in=chunk,
                                                    status=RecordStatus.ACTIVE):
                out[rec.object_id] = rec
        return out

    def _sid(self, recs: dict, obj_id) -> str:
        rec = recs.get(obj_id)
        return rec.sourced_id if rec else obj_id.hex

    # --- the package -----------------------------------------------------------------------------

    def write(self, path: str | Path) -> dict[str, int]:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            self._zip = zf
            self._orgs()
            self._sessions()
            self._classes_and_courses()
            self._users()
            self._enrollments()
            self._manifest()
        return dict(self.counts)

    def _file(self, name: str, rows: Iterable[dict], metadata: tuple[str, ...] = ()) -> None:
        columns = [c.name for c in spec.EXPORT_COLUMNS[name]] + [f"metadata.{m}" for m in metadata]
        n = 0
        with self._zip.open(f"{name}.csv", "w") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            writer = csv.writer(text, lineterminator="\r\n")
            writer.writerow(columns)
            for row in rows:
                writer.writerow([spec.format_value(row.get(c)) for c in columns])
                n += 1
            text.flush()
            text.detach()
        self.counts[name] = n

    def _manifest(self) -> None:
        written = set(self.counts)
        with self._zip.open("manifest.csv", "w") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            writer = csv.writer(text, lineterminator="\r\n")
            writer.writerow(["propertyName", "value"])
            writer.writerow(["manifest.version", spec.MANIFEST_VERSION])
            writer.writerow(["oneroster.version", spec.EXPORT_VERSION])
            for name in spec.MANIFEST_FILES_12:
                writer.writerow([f"file.{name}", "bulk" if name in written else "absent"])
            writer.writerow(["source.systemName", "School Sessions"])
            writer.writerow(["source.systemCode", "school-sessions"])
            text.flush()
            text.detach()

    # --- orgs ------------------------------------------------------------------------------------

    def _orgs(self) -> None:
        district = self.district
        schools = School.objects.filter(district=district).order_by("name", "pk")
        if self.school is not None:
            schools = schools.filter(pk=self.school.pk)
        schools = list(schools)
        recs = self._records(ObjectType.ORG, [district.pk, *[s.pk for s in schools]])
        self.district_sid = self._sid(recs, district.pk)
        self.school_sids = {s.pk: self._sid(recs, s.pk) for s in schools}
        others = [] if self.school is not None else list(
            SourcedRecord.objects.filter(district=district, type=ObjectType.ORG, object_id__isnull=True,
                                         status=RecordStatus.ACTIVE).order_by("sourced_id"))
        self.org_sids = {self.district_sid, *self.school_sids.values(), *(o.sourced_id for o in others)}
        self.org_types = {self.district_sid: "district", **dict.fromkeys(self.school_sids.values(), "school"),
                          **{o.sourced_id: o.data.get("type") for o in others}}

        def parent_of(rec, default):
            parent = rec.data.get("parentSourcedId") if rec else None
            return parent if parent in self.org_sids and parent != (rec.sourced_id if rec else None) else default

        def rows():
            drec = recs.get(district.pk)
            yield {"sourcedId": self.district_sid, "name": district.name, "type": "district",
                   "identifier": drec.data.get("identifier") if drec else "", "parentSourcedId": parent_of(drec, "")}
            for school in schools:
                rec = recs.get(school.pk)
                yield {"sourcedId": self.school_sids[school.pk], "name": school.name, "type": "school",
                       "identifier": rec.data.get("identifier") if rec else school.code,
                       "parentSourcedId": parent_of(rec, self.district_sid)}
            for other in others:
                yield {**other.data, "sourcedId": other.sourced_id, "parentSourcedId": parent_of(other, "")}

        self._file("orgs", rows())

    # --- academic sessions ----------------------------------------------------------------------------

    def _sessions(self) -> None:
        sessions = AcademicSession.objects.filter(district=self.district).select_related("parent").order_by("start_date", "name", "pk")
        if self.school is not None:
            sessions = sessions.filter(Q(school__isnull=True) | Q(school=self.school))
        sessions = list(sessions)
        recs = self._records(ObjectType.ACADEMIC_SESSION, [s.pk for s in sessions])
        self.session_sids = {s.pk: self._sid(recs, s.pk) for s in sessions}
        by_pk = {s.pk: s for s in sessions}
        exported = set(self.session_sids.values())
        self.session_types = {}

        def root(s):
            seen = set()
            while s.parent_id and s.parent_id in by_pk and s.pk not in seen:
                seen.add(s.pk)
                s = by_pk[s.parent_id]
            return s

        def rows():
            for s in sessions:
                rec = recs.get(s.pk)
                data = rec.data if rec else {}
                kind = data.get("type") if data.get("type") and _session_type_in(data["type"]) == s.type else SESSION_OUT[s.type]
                parent = data.get("parentSourcedId")
                if not (parent in exported and parent != self.session_sids[s.pk]):
                    parent = self.session_sids.get(s.parent_id) if s.parent_id else ""
                if kind == "schoolYear":
                    parent = ""
                year = data.get("schoolYear") or str(root(s).end_date.year)
                sid = self.session_sids[s.pk]
                self.session_types[sid] = kind
                yield {"sourcedId": sid, "title": s.name, "type": kind, "startDate": s.start_date.isoformat(),
                       "endDate": s.end_date.isoformat(), "parentSourcedId": parent, "schoolYear": year}

        self._file("academicSessions", rows())
        self.sessions = sessions
        years = [s for s in sessions if s.type == SessionType.SCHOOL_YEAR]
        self.fallback_term = max(years, key=lambda s: s.start_date) if years else (sessions[-1] if sessions else None)
        self.session_roots = {s.pk: root(s) for s in sessions}

    # --- classes and courses ---------------------------------------------------------------------------

    def _classes_and_courses(self) -> None:
        classes = ClassDivision.objects.filter(district=self.district, school_id__in=list(self.school_sids)).select_related(
            "grade_level").order_by("school__name", "name", "pk")
        classes = list(classes)
        recs = self._records(ObjectType.CLASS, [c.pk for c in classes])
        course_recs = {r.sourced_id: r for r in SourcedRecord.objects.filter(
            district=self.district, type=ObjectType.COURSE, status=RecordStatus.ACTIVE)}
        exported_sessions = set(self.session_sids.values())
        class_rows, used_courses, synth_courses = [], {}, []
        self.class_sids, self.class_school = {}, {}
        for c in classes:
            rec = recs.get(c.pk)
            data = rec.data if rec else {}
            term_pk = c.academic_session_id if c.academic_session_id in self.session_sids else None
            if term_pk is None and self.fallback_term is not None:
                term_pk = self.fallback_term.pk
            if term_pk is None:
                self.skipped.append(f"class {c.name}: the district has no academic session for it")
                continue
            terms = [t for t in data.get("termSourcedIds") or [] if t in exported_sessions]
            if not terms or terms[0] != self.session_sids.get(c.academic_session_id):
                terms = [self.session_sids[term_pk]]
            code = c.grade_level.code
            grades = (data.get("grades") or []) if rec and data.get("_grade") == code else [code]
            sid = self._sid(recs, c.pk)
            school_sid = self.school_sids[c.school_id]
            course_sid = data.get("courseSourcedId")
            if course_sid in course_recs:
                used_courses[course_sid] = course_recs[course_sid]
            else:
                course_sid = f"crs-{c.pk.hex}"
                year = self.session_roots.get(term_pk)
                synth_courses.append({
                    "sourcedId": course_sid, "title": c.name, "courseCode": "", "grades": [code], "orgSourcedId": school_sid,
                    "schoolYearSourcedId": self.session_sids[year.pk] if year is not None and year.type == SessionType.SCHOOL_YEAR else "",
                })
            title = data["title"] if rec and data.get("title") and c.name.startswith(data["title"][:90]) else c.name
            self.class_sids[c.pk] = sid
            self.class_school[c.pk] = school_sid
            class_rows.append({
                f"metadata.{GRADE_NAME}": c.grade_level.name,
                "sourcedId": sid, "title": title, "grades": grades, "courseSourcedId": course_sid,
                "classCode": data.get("classCode"), "classType": data.get("classType") or "homeroom",
                "location": data.get("location"), "schoolSourcedId": school_sid, "termSourcedIds": terms,
                "subjects": data.get("subjects"), "subjectCodes": data.get("subjectCodes"), "periods": data.get("periods"),
            })

        def course_rows():
            rows = []
            for sid, rec in sorted(used_courses.items()) if self.school is not None else sorted(course_recs.items()):
                row = {**rec.data, "sourcedId": sid}
                if row.get("orgSourcedId") not in self.org_sids:
                    row["orgSourcedId"] = next(iter(self.school_sids.values()), self.district_sid)
                year = row.get("schoolYearSourcedId")
                if year and self.session_types.get(year) != "schoolYear":
                    row["schoolYearSourcedId"] = ""
                rows.append(row)
            yield from sorted([*rows, *synth_courses], key=lambda row: row["sourcedId"])

        self._file("courses", course_rows())
        self._file("classes", class_rows, metadata=(GRADE_NAME,))

    # --- users, roles, demographics ----------------------------------------------------------------------

    def _people(self) -> list:
        people = Person.objects.filter(district=self.district)
        if self.school is not None:
            people = people.filter(Q(school=self.school) | Q(enrollments__class_division__school=self.school)).distinct()
        return list(people.order_by("family_name", "given_name", "pk").values_list("pk", flat=True))

    def _users(self) -> None:
        person_ids = self._people()
        user_recs = {}
        for chunk in _chunks(person_ids):
            user_recs.update(self._records(ObjectType.USER, chunk))
        self.user_sids = {pk: self._sid(user_recs, pk) for pk in person_ids}
        exported_users = set(self.user_sids.values())
        role_rows_by_person: dict = {}
        demo_rows: list = []

        def user_rows():
            for chunk in _chunks(person_ids):
                people = Person.objects.filter(pk__in=chunk).select_related("grade_level").in_bulk()
                roles = defaultdict(list)
                for rec in SourcedRecord.objects.filter(district=self.district, type=ObjectType.ROLE, object_id__in=chunk,
                                                        status=RecordStatus.ACTIVE).order_by("sourced_id"):
                    roles[rec.object_id].append(rec)
                demos = self._records(ObjectType.DEMOGRAPHICS, chunk)
                for pk in chunk:
                    p = people[pk]
                    rec = user_recs.get(pk)
                    data = rec.data if rec else {}
                    sid = self.user_sids[pk]
                    role_rows = self._role_rows(p, sid, roles.get(pk, []), data)
                    role_rows_by_person[pk] = role_rows
                    role_orgs = [r["orgSourcedId"] for r in role_rows]
                    primary_org = data.get("primaryOrgSourcedId")
                    if primary_org not in role_orgs:
                        primary_org = role_orgs[0] if role_orgs else ""
                    code = p.grade_level.code if p.grade_level_id else None
                    data_grades = data.get("grades") or []
                    grades = data_grades if code and data_grades and data_grades[0] == code else ([code] if code else [])
                    phone, sms = p.phone, ""
                    if rec and (data.get("phone") or data.get("sms") or "") == p.phone:
                        phone, sms = data.get("phone") or "", data.get("sms") or ""
                    yield {
                        f"metadata.{GRADE_NAME}": p.grade_level.name if p.grade_level_id else "",
                        "sourcedId": sid, "enabledUser": data.get("enabledUser", True),
                        "username": data.get("username") or p.email or p.sis_id or sid, "userIds": data.get("userIds") or [],
                        "givenName": p.given_name, "familyName": p.family_name, "middleName": p.middle_name,
                        "identifier": p.sis_id, "email": p.email, "sms": sms, "phone": phone,
                        "agentSourcedIds": [a for a in data.get("agentSourcedIds") or [] if a in exported_users],
                        "grades": grades, "password": "", "userMasterIdentifier": data.get("userMasterIdentifier"),
                        "preferredGivenName": data.get("preferredGivenName"), "preferredMiddleName": data.get("preferredMiddleName"),
                        "preferredFamilyName": data.get("preferredFamilyName"), "primaryOrgSourcedId": primary_org,
                        "pronouns": data.get("pronouns"),
                    }
                    demo = demos.get(pk)
                    if demo is not None or p.date_of_birth or p.gender:
                        ddata = demo.data if demo else {}
                        sex = ddata.get("sex") if ddata.get("sex") and SEX.get(ddata["sex"], "other") == p.gender else (p.gender or "")
                        if not p.gender and ddata.get("sex") == "unspecified":
                            sex = "unspecified"
                        demo_rows.append({**{k: v for k, v in ddata.items() if not k.startswith("_") and k != "metadata"},
                                          "sourcedId": sid, "birthDate": p.date_of_birth.isoformat() if p.date_of_birth else "",
                                          "sex": sex})

        self._file("users", user_rows(), metadata=(GRADE_NAME,))

        def role_rows():
            for pk in person_ids:
                yield from role_rows_by_person.get(pk, [])

        self._file("roles", role_rows())
        self._file("demographics", demo_rows)

    def _role_rows(self, person: Person, user_sid: str, records: list, data: dict) -> list[dict]:
        rows = []
        for rec in records:
            if rec.data.get("orgSourcedId") in self.org_sids:
                rows.append({**{k: v for k, v in rec.data.items() if k != "metadata"}, "sourcedId": rec.sourced_id,
                             "userSourcedId": user_sid})
        primaries = [r for r in rows if r.get("roleType") == "primary"]
        consistent = primaries and USER_ROLE.get(primaries[0].get("role")) == person.role
        if rows and consistent:
            return rows
        if data.get("_role") and USER_ROLE.get(data["_role"]) == person.role:  # 1.1 users: their role and orgs
            role = data["_role"]
        elif person.role == PersonRole.ADMINISTRATOR:
            role = "siteAdministrator" if person.school_id else "districtAdministrator"
        else:
            role = PERSON_ROLE_OUT[person.role]
        org = self.school_sids.get(person.school_id) or self.district_sid
        return [{"sourcedId": f"rol-{person.pk.hex}", "userSourcedId": user_sid, "roleType": "primary", "role": role,
                 "orgSourcedId": org}]

    # --- enrollments -----------------------------------------------------------------------------------

    def _enrollments(self) -> None:
        ids = list(Enrollment.objects.filter(district=self.district, class_division_id__in=list(self.class_sids),
                                             person_id__in=list(self.user_sids))
                   .order_by("class_division__name", "person__family_name", "pk").values_list("pk", flat=True))

        def rows():
            for chunk in _chunks(ids):
                recs = self._records(ObjectType.ENROLLMENT, chunk)
                for e in Enrollment.objects.filter(pk__in=chunk).values(
                        "pk", "person_id", "class_division_id", "role", "primary", "start_date", "end_date"):
                    rec = recs.get(e["pk"])
                    data = rec.data if rec else {}
                    role = data.get("role") if data.get("role") and ENROLLMENT_ROLE.get(data["role"], EnrollmentRole.AIDE) == e["role"] \
                        else ENROLLMENT_ROLE_OUT[e["role"]]
                    yield {"sourcedId": rec.sourced_id if rec else e["pk"].hex, "classSourcedId": self.class_sids[e["class_division_id"]],
                           "schoolSourcedId": self.class_school[e["class_division_id"]], "userSourcedId": self.user_sids[e["person_id"]],
                           "role": role, "primary": bool(e["primary"]) if role == "teacher" else False,
                           "beginDate": e["start_date"].isoformat() if e["start_date"] else "",
                           "endDate": e["end_date"].isoformat() if e["end_date"] else ""}

        self._order_key = None
        self._file("enrollments", rows())


def _session_type_in(kind: str) -> str:
    from rostering.oneroster.importer import SESSION_TYPE

    return SESSION_TYPE.get(kind, SessionType.TERM)
