"""The OneRoster 1.2 rostering resources over our roster: one annotated queryset (or a union) per collection.

Every collection is a list of querysets whose rows carry the same ``o_*`` columns (the OneRoster names
that can be filtered and sorted). Filters compile to one ``Q`` on those columns, the page is one SQL
query (a UNION where a collection spans tables, such as orgs), and ``hydrate`` builds the page's JSON with
a fixed number of further queries (references, roles, records), whatever the page size.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Case, CharField, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, Concat, Replace

from rostering.choices import EnrollmentRole, PersonRole, SessionType
from rostering.graph import filters as graph
from rostering.models import AcademicSession, ClassDivision, District, Enrollment, Person, School
from rostering.oneroster import csvspec as spec
from rostering.oneroster.exporter import ENROLLMENT_ROLE_OUT, PERSON_ROLE_OUT, SESSION_OUT
from rostering.oneroster.importer import ENROLLMENT_ROLE, SESSION_TYPE, SEX, USER_ROLE
from rostering.oneroster.models import ObjectType, RecordStatus, SourcedRecord

ACTIVE = RecordStatus.ACTIVE


@dataclass
class Ctx:
    district: District
    base_url: str  # …/ims/oneroster/rostering/v1p2

    def href(self, collection: str, sid: str) -> str:
        return f"{self.base_url}/{collection}/{sid}"

    def ref(self, collection: str, otype: str, sid: str) -> dict:
        return {"href": self.href(collection, sid), "sourcedId": sid, "type": otype}


def _text(key: str):
    """A key of a record's JSON data as text ("" when missing)."""
    return Coalesce(KT(key), Value(""), output_field=CharField())


def _hex(field_name: str = "pk"):
    return Replace(Cast(field_name, CharField()), Value("-"), Value(""))


def sid_expr(otype: str, *, pk: str = "pk", district: str = "district_id"):
    rec = SourcedRecord.objects.filter(district_id=OuterRef(district), type=otype, object_id=OuterRef(pk), status=ACTIVE)
    return Coalesce(Subquery(rec.values("sourced_id")[:1]), _hex(pk), output_field=CharField())


def _status_compile(operator: str, values: list[str]) -> Q:
    hit = "active" in values
    if operator == graph.EQUALS:
        return Q() if hit else Q(o_pk__in=[])
    return Q(o_pk__in=[]) if hit else Q()


STATUS = graph.FilterField(lookup="o_status", kind=graph.TEXT, operators=frozenset({graph.EQUALS, graph.NOT_IN}),
                           compile=_status_compile)
SID = graph.text_field("o_sourcedId", nullable=False)
MODIFIED = graph.datetime_field("o_dateLastModified")


def mapped(lookup: str, to_ours: Callable[[str], list]) -> graph.FilterField:
    """A vocabulary field: OneRoster values are translated to ours before they reach SQL."""

    def compile_(operator: str, values: list[str]) -> Q:
        ours = [v for value in values for v in to_ours(value)]
        q = Q(**{f"{lookup}__in": ours})
        return q if operator == graph.EQUALS else ~q

    return graph.FilterField(lookup=lookup, kind=graph.TEXT, operators=frozenset({graph.EQUALS, graph.NOT_IN}), compile=compile_)


def _inverse(mapping: dict) -> Callable[[str], list]:
    return lambda value: [ours for theirs, ours in mapping.items() if theirs == value]


@dataclass
class Resource:
    name: str
    singular: str
    otype: str
    parts: Callable[[Ctx], list[QuerySet]]
    fields: dict[str, graph.FilterField]
    hydrate: Callable[[Ctx, list[dict]], list[dict]]
    output: list[str]
    default_sort: str = "o_sourcedId"
    href_collection: str = ""
    filters: list = field(default_factory=list)


def _base(qs: QuerySet, **extra) -> QuerySet:
    names = ["o_pk", "o_sourcedId", "o_status", "o_dateLastModified", *extra]
    return qs.annotate(**extra).values(*names)


# --- academic sessions ---------------------------------------------------------------------------------------


def session_parts(ctx: Ctx, types: list[str] | None = None, qs: QuerySet | None = None) -> list[QuerySet]:
    qs = qs if qs is not None else AcademicSession.objects.filter(district=ctx.district)
    if types:
        qs = qs.filter(type__in=types)
    qs = qs.annotate(o_pk=Cast("pk", CharField()), o_sourcedId=sid_expr(ObjectType.ACADEMIC_SESSION), o_status=Value("active"),
                     o_dateLastModified=F("updated_date"))
    return [_base(qs, o_title=F("name"), o_type=F("type"), o_startDate=F("start_date"), o_endDate=F("end_date"))]


SESSION_FIELDS = {
    "sourcedId": SID, "status": STATUS, "dateLastModified": MODIFIED, "title": graph.text_field("o_title", nullable=False),
    "type": mapped("o_type", _inverse(SESSION_TYPE)), "startDate": graph.date_field("o_startDate"),
    "endDate": graph.date_field("o_endDate"),
}


def _records(ctx: Ctx, otype: str, object_ids) -> dict:
    return {r.object_id: r for r in SourcedRecord.objects.filter(district=ctx.district, type=otype, object_id__in=list(object_ids), status=ACTIVE)}


def _sids(ctx: Ctx, otype: str, object_ids) -> dict:
    ids = [i for i in set(object_ids) if i]
    found = dict(SourcedRecord.objects.filter(district=ctx.district, type=otype, object_id__in=ids, status=ACTIVE)
                 .values_list("object_id", "sourced_id"))
    return {i: found.get(i, i.hex) for i in ids}


def _uuid(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _dtz(value: dt.datetime) -> str:
    return spec.format_datetime(value)


def hydrate_sessions(ctx: Ctx, rows: list[dict]) -> list[dict]:
    all_sessions = {s["pk"]: s for s in AcademicSession.objects.filter(district=ctx.district).values("pk", "parent_id", "end_date", "type")}
    ids = [_uuid(r["o_pk"]) for r in rows]
    recs = _records(ctx, ObjectType.ACADEMIC_SESSION, ids)
    children = defaultdict(list)
    for pk, s in all_sessions.items():
        if s["parent_id"]:
            children[s["parent_id"]].append(pk)
    sids = _sids(ctx, ObjectType.ACADEMIC_SESSION, list(all_sessions))
    out = []
    for row, pk in zip(rows, ids, strict=True):
        data = recs[pk].data if pk in recs else {}
        root = all_sessions[pk]
        while root["parent_id"] and root["parent_id"] in all_sessions:
            root = all_sessions[root["parent_id"]]
        kind = data.get("type") if data.get("type") and SESSION_TYPE.get(data["type"], SessionType.TERM) == row["o_type"] else SESSION_OUT[row["o_type"]]
        parent_sid = data.get("parentSourcedId") if data.get("parentSourcedId") in sids.values() else None
        parent_id = all_sessions[pk]["parent_id"]
        if parent_sid is None and parent_id:
            parent_sid = sids.get(parent_id)
        item = {
            "sourcedId": row["o_sourcedId"], "status": "active", "dateLastModified": _dtz(row["o_dateLastModified"]),
            "metadata": data.get("metadata") or {}, "title": row["o_title"], "type": kind,
            "startDate": row["o_startDate"].isoformat(), "endDate": row["o_endDate"].isoformat(),
            "parent": ctx.ref("academicSessions", "academicSession", parent_sid) if parent_sid and kind != "schoolYear" else None,
            "children": [ctx.ref("academicSessions", "academicSession", sids[c]) for c in children.get(pk, [])],
            "schoolYear": data.get("schoolYear") or str(root["end_date"].year),
        }
        out.append(item)
    return out


SESSION_OUTPUT = ["sourcedId", "status", "dateLastModified", "metadata", "title", "type", "startDate", "endDate", "parent",
                  "children", "schoolYear"]

# --- orgs ------------------------------------------------------------------------------------------------


def org_parts(ctx: Ctx, *, schools_only: bool = False, schools: QuerySet | None = None) -> list[QuerySet]:
    school_qs = schools if schools is not None else School.objects.filter(district=ctx.district)
    parts = [_base(
        school_qs.annotate(o_pk=Cast("pk", CharField()), o_sourcedId=sid_expr(ObjectType.ORG), o_status=Value("active"),
                           o_dateLastModified=F("updated_date")),
        o_name=F("name"), o_type=Value("school", output_field=CharField()), o_identifier=F("code"),
    )]
    if schools_only or schools is not None:
        return parts
    district_qs = District.objects.filter(pk=ctx.district.pk).annotate(
        o_pk=Cast("pk", CharField()), o_sourcedId=sid_expr(ObjectType.ORG, district="pk"), o_status=Value("active"),
        o_dateLastModified=F("updated_date"))
    parts.insert(0, _base(district_qs, o_name=F("name"), o_type=Value("district", output_field=CharField()),
                          o_identifier=Value("", output_field=CharField())))
    others = SourcedRecord.objects.filter(district=ctx.district, type=ObjectType.ORG, object_id__isnull=True, status=ACTIVE).annotate(
        o_pk=Cast("pk", CharField()), o_sourcedId=F("sourced_id"), o_status=Value("active"), o_dateLastModified=F("date_last_modified"))
    parts.append(_base(others, o_name=_text("data__name"), o_type=_text("data__type"), o_identifier=_text("data__identifier")))
    return parts


ORG_FIELDS = {
    "sourcedId": SID, "status": STATUS, "dateLastModified": MODIFIED, "name": graph.text_field("o_name", nullable=False),
    "type": graph.text_field("o_type", nullable=False, operators=frozenset({graph.EQUALS, graph.NOT_IN})),
    "identifier": graph.text_field("o_identifier"),
}
ORG_OUTPUT = ["sourcedId", "status", "dateLastModified", "metadata", "name", "type", "identifier", "parent", "children"]


def hydrate_orgs(ctx: Ctx, rows: list[dict]) -> list[dict]:
    district_sid = _sids(ctx, ObjectType.ORG, [ctx.district.pk])[ctx.district.pk]
    school_ids = list(School.objects.filter(district=ctx.district).values_list("pk", flat=True))
    school_sids = _sids(ctx, ObjectType.ORG, school_ids)
    recs = {r.sourced_id: r for r in SourcedRecord.objects.filter(
        district=ctx.district, type=ObjectType.ORG, status=ACTIVE, sourced_id__in=[r["o_sourcedId"] for r in rows])}
    out = []
    for row in rows:
        rec = recs.get(row["o_sourcedId"])
        data = rec.data if rec else {}
        if row["o_type"] == "district" and row["o_sourcedId"] == district_sid:
            parent, children = None, [ctx.ref("orgs", "org", s) for s in school_sids.values()]
            identifier = data.get("identifier") or ""
        elif rec is None or rec.object_id is not None:  # a school
            parent, children = ctx.ref("orgs", "org", data.get("parentSourcedId") or district_sid), []
            identifier = data.get("identifier") if rec else row["o_identifier"]
        else:
            parent = ctx.ref("orgs", "org", data["parentSourcedId"]) if data.get("parentSourcedId") else None
            children, identifier = [], data.get("identifier") or ""
        out.append({"sourcedId": row["o_sourcedId"], "status": "active", "dateLastModified": _dtz(row["o_dateLastModified"]),
                    "metadata": data.get("metadata") or {}, "name": row["o_name"], "type": row["o_type"],
                    "identifier": identifier or "", "parent": parent, "children": children})
    return out


# --- courses (our course records, and one per class that came without one) ------------------------------------


def course_parts(ctx: Ctx, *, classes: QuerySet | None = None) -> list[QuerySet]:
    records = SourcedRecord.objects.filter(district=ctx.district, type=ObjectType.COURSE, status=ACTIVE)
    if classes is not None:
        wanted = SourcedRecord.objects.filter(district=ctx.district, type=ObjectType.CLASS, status=ACTIVE,
                                              object_id__in=classes.values("pk")).values(v=KT("data__courseSourcedId"))
        records = records.filter(sourced_id__in=wanted)
    recorded = SourcedRecord.objects.filter(district=ctx.district, type=ObjectType.CLASS, status=ACTIVE, object_id=OuterRef("pk"))
    lone = (classes if classes is not None else ClassDivision.objects.filter(district=ctx.district)).filter(~Exists(recorded))
    return [
        _base(records.annotate(o_pk=Cast("pk", CharField()), o_sourcedId=F("sourced_id"), o_status=Value("active"),
                               o_dateLastModified=F("date_last_modified")),
              o_title=_text("data__title"), o_courseCode=_text("data__courseCode"), o_class=Value("", output_field=CharField())),
        # a course of our own for a class that came without one: "crs-" + the class's id (as in the CSV export)
        _base(lone.annotate(o_pk=Cast("pk", CharField()), o_sourcedId=Concat(Value("crs-"), _hex("pk"), output_field=CharField()),
                            o_status=Value("active"), o_dateLastModified=F("updated_date")),
              o_title=F("name"), o_courseCode=Value("", output_field=CharField()), o_class=Cast("pk", CharField())),
    ]


COURSE_FIELDS = {"sourcedId": SID, "status": STATUS, "dateLastModified": MODIFIED, "title": graph.text_field("o_title", nullable=False),
                 "courseCode": graph.text_field("o_courseCode")}
COURSE_OUTPUT = ["sourcedId", "status", "dateLastModified", "metadata", "title", "schoolYear", "courseCode", "grades", "subjects",
                 "org", "subjectCodes"]


def hydrate_courses(ctx: Ctx, rows: list[dict]) -> list[dict]:
    recs = {str(r.pk): r for r in SourcedRecord.objects.filter(pk__in=[int(r["o_pk"]) for r in rows if not r["o_class"]])}
    class_ids = [_uuid(r["o_class"]) for r in rows if r["o_class"]]
    classes = {c.pk: c for c in ClassDivision.objects.filter(pk__in=class_ids).select_related("grade_level", "academic_session")}
    school_sids = _sids(ctx, ObjectType.ORG, [c.school_id for c in classes.values()])
    out = []
    for row in rows:
        if row["o_class"]:
            c = classes[_uuid(row["o_class"])]
            data = {"grades": [c.grade_level.code], "orgSourcedId": school_sids[c.school_id]}
        else:
            data = recs[row["o_pk"]].data
        out.append({
            "sourcedId": row["o_sourcedId"], "status": "active", "dateLastModified": _dtz(row["o_dateLastModified"]),
            "metadata": data.get("metadata") or {}, "title": row["o_title"],
            "schoolYear": ctx.ref("academicSessions", "academicSession", data["schoolYearSourcedId"]) if data.get("schoolYearSourcedId") else None,
            "courseCode": row["o_courseCode"] or "", "grades": data.get("grades") or [], "subjects": data.get("subjects") or [],
            "org": ctx.ref("orgs", "org", data["orgSourcedId"]), "subjectCodes": data.get("subjectCodes") or [],
        })
    return out


# --- classes -------------------------------------------------------------------------------------------------


def class_parts(ctx: Ctx, qs: QuerySet | None = None) -> list[QuerySet]:
    qs = qs if qs is not None else ClassDivision.objects.filter(district=ctx.district)
    qs = qs.annotate(o_pk=Cast("pk", CharField()), o_sourcedId=sid_expr(ObjectType.CLASS), o_status=Value("active"),
                     o_dateLastModified=F("updated_date"))
    return [_base(qs, o_title=F("name"))]


CLASS_FIELDS = {"sourcedId": SID, "status": STATUS, "dateLastModified": MODIFIED, "title": graph.text_field("o_title", nullable=False)}
CLASS_OUTPUT = ["sourcedId", "status", "dateLastModified", "metadata", "title", "classCode", "classType", "location", "grades",
                "subjects", "course", "school", "terms", "subjectCodes", "periods"]


def hydrate_classes(ctx: Ctx, rows: list[dict]) -> list[dict]:
    ids = [_uuid(r["o_pk"]) for r in rows]
    classes = {c.pk: c for c in ClassDivision.objects.filter(pk__in=ids).select_related("grade_level")}
    recs = _records(ctx, ObjectType.CLASS, ids)
    school_sids = _sids(ctx, ObjectType.ORG, [c.school_id for c in classes.values()])
    session_sids = _sids(ctx, ObjectType.ACADEMIC_SESSION, [c.academic_session_id for c in classes.values()])
    out = []
    for row, pk in zip(rows, ids, strict=True):
        c = classes[pk]
        data = recs[pk].data if pk in recs else {}
        code = c.grade_level.code
        terms = data.get("termSourcedIds") or []
        if not terms or (c.academic_session_id and terms[0] != session_sids.get(c.academic_session_id)):
            terms = [session_sids[c.academic_session_id]] if c.academic_session_id else []
        title = data["title"] if data.get("title") and c.name.startswith(data["title"][:90]) else c.name
        out.append({
            "sourcedId": row["o_sourcedId"], "status": "active", "dateLastModified": _dtz(row["o_dateLastModified"]),
            "metadata": data.get("metadata") or {}, "title": title, "classCode": data.get("classCode") or "",
            "classType": data.get("classType") or "homeroom", "location": data.get("location") or "",
            "grades": (data.get("grades") or []) if data.get("_grade") == code else [code], "subjects": data.get("subjects") or [],
            "course": ctx.ref("courses", "course", data.get("courseSourcedId") or f"crs-{pk.hex}"),
            "school": ctx.ref("orgs", "org", school_sids[c.school_id]),
            "terms": [ctx.ref("academicSessions", "academicSession", t) for t in terms],
            "subjectCodes": data.get("subjectCodes") or [], "periods": data.get("periods") or [],
        })
    return out


# --- users ---------------------------------------------------------------------------------------------------


def user_parts(ctx: Ctx, qs: QuerySet | None = None, roles: list[str] | None = None) -> list[QuerySet]:
    qs = qs if qs is not None else Person.objects.filter(district=ctx.district)
    if roles:
        qs = qs.filter(role__in=roles)
    qs = qs.annotate(o_pk=Cast("pk", CharField()), o_sourcedId=sid_expr(ObjectType.USER), o_status=Value("active"),
                     o_dateLastModified=F("updated_date"))
    return [_base(qs, o_givenName=F("given_name"), o_familyName=F("family_name"), o_middleName=F("middle_name"),
                  o_email=F("email"), o_identifier=F("sis_id"), o_phone=F("phone"), o_role=F("role"))]


USER_FIELDS = {
    "sourcedId": SID, "status": STATUS, "dateLastModified": MODIFIED, "givenName": graph.text_field("o_givenName", nullable=False),
    "familyName": graph.text_field("o_familyName", nullable=False), "middleName": graph.text_field("o_middleName"),
    "email": graph.text_field("o_email"), "identifier": graph.text_field("o_identifier"), "phone": graph.text_field("o_phone"),
    "role": mapped("o_role", _inverse(USER_ROLE)),
}
USER_OUTPUT = ["sourcedId", "status", "dateLastModified", "metadata", "userMasterIdentifier", "username", "userIds", "enabledUser",
               "givenName", "familyName", "middleName", "preferredFirstName", "preferredMiddleName", "preferredLastName", "pronouns",
               "roles", "userProfiles", "primaryOrg", "identifier", "email", "sms", "phone", "agents", "grades"]


def hydrate_users(ctx: Ctx, rows: list[dict]) -> list[dict]:
    ids = [_uuid(r["o_pk"]) for r in rows]
    people = {p.pk: p for p in Person.objects.filter(pk__in=ids).select_related("grade_level")}
    recs = _records(ctx, ObjectType.USER, ids)
    role_recs = defaultdict(list)
    for rec in SourcedRecord.objects.filter(district=ctx.district, type=ObjectType.ROLE, object_id__in=ids, status=ACTIVE).order_by("sourced_id"):
        role_recs[rec.object_id].append(rec)
    district_sid = _sids(ctx, ObjectType.ORG, [ctx.district.pk])[ctx.district.pk]
    school_sids = _sids(ctx, ObjectType.ORG, [p.school_id for p in people.values()])
    out = []
    for row, pk in zip(rows, ids, strict=True):
        p = people[pk]
        data = recs[pk].data if pk in recs else {}
        roles = [r.data for r in role_recs.get(pk, [])]
        primaries = [r for r in roles if r.get("roleType") == "primary"]
        if not (primaries and USER_ROLE.get(primaries[0].get("role")) == p.role):
            if data.get("_role") and USER_ROLE.get(data["_role"]) == p.role:
                role = data["_role"]
            elif p.role == PersonRole.ADMINISTRATOR:
                role = "siteAdministrator" if p.school_id else "districtAdministrator"
            else:
                role = PERSON_ROLE_OUT[p.role]
            roles = [{"roleType": "primary", "role": role, "orgSourcedId": school_sids.get(p.school_id) or district_sid}]
        role_items = []
        for r in roles:
            item = {"roleType": r["roleType"], "role": r["role"], "org": ctx.ref("orgs", "org", r["orgSourcedId"])}
            if r.get("beginDate"):
                item["beginDate"] = r["beginDate"]
            if r.get("endDate"):
                item["endDate"] = r["endDate"]
            role_items.append(item)
        primary_org = data.get("primaryOrgSourcedId") or (roles[0]["orgSourcedId"] if roles else None)
        code = p.grade_level.code if p.grade_level_id else None
        grades = data.get("grades") or []
        grades = grades if code and grades and grades[0] == code else ([code] if code else [])
        out.append({
            "sourcedId": row["o_sourcedId"], "status": "active", "dateLastModified": _dtz(row["o_dateLastModified"]),
            "metadata": data.get("metadata") or {}, "userMasterIdentifier": data.get("userMasterIdentifier") or "",
            "username": data.get("username") or p.email or p.sis_id or row["o_sourcedId"], "userIds": data.get("userIds") or [],
            "enabledUser": "false" if data.get("enabledUser") is False else "true", "givenName": p.given_name,
            "familyName": p.family_name, "middleName": p.middle_name, "preferredFirstName": data.get("preferredGivenName") or "",
            "preferredMiddleName": data.get("preferredMiddleName") or "", "preferredLastName": data.get("preferredFamilyName") or "",
            "pronouns": data.get("pronouns") or "", "roles": role_items, "userProfiles": [],
            "primaryOrg": ctx.ref("orgs", "org", primary_org) if primary_org else None, "identifier": p.sis_id, "email": p.email,
            "sms": data.get("sms") or "", "phone": p.phone,
            "agents": [ctx.ref("users", "user", a) for a in data.get("agentSourcedIds") or []], "grades": grades,
        })
    return out


# --- enrollments ------------------------------------------------------------------------------------------------


def enrollment_parts(ctx: Ctx, qs: QuerySet | None = None) -> list[QuerySet]:
    qs = qs if qs is not None else Enrollment.objects.filter(district=ctx.district)
    qs = qs.annotate(o_pk=Cast("pk", CharField()), o_sourcedId=sid_expr(ObjectType.ENROLLMENT), o_status=Value("active"),
                     o_dateLastModified=F("updated_date"))
    return [_base(qs, o_role=F("role"), o_primary=Case(When(primary=True, then=Value("true")), default=Value("false"),
                                                        output_field=CharField()),
                  o_beginDate=F("start_date"), o_endDate=F("end_date"))]


ENROLLMENT_FIELDS = {
    "sourcedId": SID, "status": STATUS, "dateLastModified": MODIFIED,
    "role": mapped("o_role", lambda v: [ENROLLMENT_ROLE.get(v)] if v in ENROLLMENT_ROLE or v.startswith("ext:") else []),
    "primary": graph.text_field("o_primary", nullable=False, operators=frozenset({graph.EQUALS, graph.NOT_IN})),
    "beginDate": graph.date_field("o_beginDate", nullable=True), "endDate": graph.date_field("o_endDate", nullable=True),
}
ENROLLMENT_OUTPUT = ["sourcedId", "status", "dateLastModified", "metadata", "user", "class", "school", "role", "primary",
                     "beginDate", "endDate"]


def hydrate_enrollments(ctx: Ctx, rows: list[dict]) -> list[dict]:
    ids = [_uuid(r["o_pk"]) for r in rows]
    enrollments = {e["pk"]: e for e in Enrollment.objects.filter(pk__in=ids).values("pk", "person_id", "class_division_id",
                                                                                     "class_division__school_id", "role")}
    recs = _records(ctx, ObjectType.ENROLLMENT, ids)
    users = _sids(ctx, ObjectType.USER, [e["person_id"] for e in enrollments.values()])
    classes = _sids(ctx, ObjectType.CLASS, [e["class_division_id"] for e in enrollments.values()])
    schools = _sids(ctx, ObjectType.ORG, [e["class_division__school_id"] for e in enrollments.values()])
    out = []
    for row, pk in zip(rows, ids, strict=True):
        e = enrollments[pk]
        data = recs[pk].data if pk in recs else {}
        role = data.get("role") if data.get("role") and ENROLLMENT_ROLE.get(data["role"], EnrollmentRole.AIDE) == e["role"] \
            else ENROLLMENT_ROLE_OUT[e["role"]]
        item = {
            "sourcedId": row["o_sourcedId"], "status": "active", "dateLastModified": _dtz(row["o_dateLastModified"]),
            "metadata": data.get("metadata") or {}, "user": ctx.ref("users", "user", users[e["person_id"]]),
            "class": ctx.ref("classes", "class", classes[e["class_division_id"]]),
            "school": ctx.ref("orgs", "org", schools[e["class_division__school_id"]]), "role": role,
            "primary": row["o_primary"] if role == "teacher" else "false",
        }
        if row["o_beginDate"]:
            item["beginDate"] = row["o_beginDate"].isoformat()
        if row["o_endDate"]:
            item["endDate"] = row["o_endDate"].isoformat()
        out.append(item)
    return out


# --- demographics --------------------------------------------------------------------------------------------


def demographics_parts(ctx: Ctx, qs: QuerySet | None = None) -> list[QuerySet]:
    has_record = SourcedRecord.objects.filter(district=ctx.district, type=ObjectType.DEMOGRAPHICS, status=ACTIVE, object_id=OuterRef("pk"))
    qs = (qs if qs is not None else Person.objects.filter(district=ctx.district)).filter(Q(date_of_birth__isnull=False) | ~Q(gender="") | Exists(has_record))
    qs = qs.annotate(o_pk=Cast("pk", CharField()), o_sourcedId=sid_expr(ObjectType.USER), o_status=Value("active"),
                     o_dateLastModified=F("updated_date"))
    return [_base(qs, o_birthDate=F("date_of_birth"), o_sex=F("gender"))]


DEMOGRAPHICS_FIELDS = {
    "sourcedId": SID, "status": STATUS, "dateLastModified": MODIFIED, "birthDate": graph.date_field("o_birthDate", nullable=True),
    "sex": mapped("o_sex", lambda v: [SEX[v]] if v in SEX else []),
}
_RACE = ["americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican", "nativeHawaiianOrOtherPacificIslander", "white",
         "demographicRaceTwoOrMoreRaces", "hispanicOrLatinoEthnicity"]
DEMOGRAPHICS_OUTPUT = ["sourcedId", "status", "dateLastModified", "metadata", "birthDate", "sex", *_RACE, "countryOfBirthCode",
                       "stateOfBirthAbbreviation", "cityOfBirth", "publicSchoolResidenceStatus"]


def hydrate_demographics(ctx: Ctx, rows: list[dict]) -> list[dict]:
    ids = [_uuid(r["o_pk"]) for r in rows]
    recs = _records(ctx, ObjectType.DEMOGRAPHICS, ids)
    out = []
    for row, pk in zip(rows, ids, strict=True):
        data = recs[pk].data if pk in recs else {}
        sex = data.get("sex") if data.get("sex") and SEX.get(data["sex"], "other") == row["o_sex"] else (row["o_sex"] or "unspecified")
        item = {"sourcedId": row["o_sourcedId"], "status": "active", "dateLastModified": _dtz(row["o_dateLastModified"]),
                "metadata": data.get("metadata") or {}, "birthDate": row["o_birthDate"].isoformat() if row["o_birthDate"] else "",
                "sex": sex}
        for name in _RACE:
            item[name] = "" if data.get(name) is None else ("true" if data[name] else "false")
        for name in ("countryOfBirthCode", "stateOfBirthAbbreviation", "cityOfBirth", "publicSchoolResidenceStatus"):
            item[name] = data.get(name) or ""
        out.append(item)
    return out

