"""The Graph API's objects: which of our rows each Edlink object is, its JSON, and its filterable fields.

| Edlink       | ours                                                                                    |
|--------------|-----------------------------------------------------------------------------------------|
| District     | ``District`` (the token's own)                                                          |
| School       | ``School``                                                                              |
| Session      | ``AcademicSession`` (type and state are Edlink's enums already)                         |
| Course       | ``GradeLevel``: a class division belongs to exactly one grade level, the way an Edlink  |
|              | class belongs to one course; subjects are taught per enrollment, not per class, so a    |
|              | course's ``subjects`` is ``[]`` and its ``code`` is the grade's CEDS code               |
| Class        | ``ClassDivision`` (``course_id`` = its grade level, ``session_ids`` = its session)     |
| Person       | ``Person``                                                                              |
| Enrollment   | ``Enrollment`` (``class_id`` = its class division)                                      |

Every list and fetch reads ``.values()`` of the columns below (joins included) in one query and builds the
JSON from the row, so an object is the same from a list and from a fetch, and a page costs one query whatever
its size. Dates are ISO 8601 UTC with milliseconds; ``identifiers`` is always an array, ``properties`` always
an object; text we store as "" is ``null``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Concat
from django.utils import timezone

from rostering.choices import PersonRole, SessionState
from rostering.graph import filters as f
from rostering.models import AcademicSession, ClassDivision, District, Enrollment, GradeLevel, Person, School


def iso(value) -> str | None:
    """``2024-08-01T00:00:00.000Z``: a datetime in UTC to the millisecond; a date is its midnight UTC."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        value = value.astimezone(datetime.UTC)
        return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"
    return f"{value.isoformat()}T00:00:00.000Z"


def _id(value) -> str | None:
    return None if value is None else str(value)


def _text(value) -> str | None:
    return value or None


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _obj(value) -> dict:
    return value if isinstance(value, dict) else {}


_BASE_COLUMNS = ("id", "created_date", "updated_date", "identifiers", "properties")


def _base(row: dict) -> dict:
    return {
        "id": str(row["id"]),
        "created_date": iso(row["created_date"]),
        "updated_date": iso(row["updated_date"]),
        "properties": _obj(row["properties"]),
        "identifiers": _list(row["identifiers"]),
    }


@dataclass(frozen=True)
class Resource:
    name: str  # the path segment: "sessions"
    noun: str  # for messages: "Session"
    model: type
    columns: tuple[str, ...]
    to_json: Callable[[dict], dict]
    filters: dict[str, f.FilterField]
    fields: tuple[str, ...]  # the object's keys, for $fields
    annotations: dict = field(default_factory=dict)  # expressions some filters compare (added only then)
    district_lookup: str = "district_id"

    def queryset(self, district_id, *, filtered_by=()) -> QuerySet:
        qs = self.model.objects.filter(**{self.district_lookup: district_id})
        needed = {name: expr for name, expr in self.annotations.items() if name in filtered_by}
        return qs.annotate(**needed) if needed else qs

    def rows(self, qs: QuerySet) -> QuerySet:
        return qs.values(*self.columns)


# --- District ----------------------------------------------------------------------------------------------------


def district_json(row: dict) -> dict:
    return {
        **_base(row),
        "name": row["name"],
        "picture_url": None,
        "locale": _text(row["locale"]),
        "time_zone": _text(row["time_zone"]),
        "address": None,
    }


DISTRICTS = Resource(
    name="districts", noun="District", model=District,
    columns=(*_BASE_COLUMNS, "name", "locale", "time_zone"),
    to_json=district_json, filters={}, district_lookup="pk",
    fields=("id", "created_date", "updated_date", "properties", "identifiers", "name", "picture_url", "locale",
            "time_zone", "address"),
)


# --- School ------------------------------------------------------------------------------------------------------


def _address(street: str, phone: str) -> dict | None:
    if not street and not phone:
        return None
    return {"street": street or None, "unit": None, "postal_code": None, "city": None, "state": None,
            "country": None, "phone": phone or None, "latitude": None, "longitude": None}


def school_json(row: dict) -> dict:
    return {
        **_base(row),
        "name": row["name"],
        "picture_url": None,
        "locale": None,
        "time_zone": None,
        "address": _address(row["address"], row["phone"]),
        "grade_levels": _list(row["grade_codes"]),
        "district_id": str(row["district_id"]),
        "product_ids": [],
    }


SCHOOLS = Resource(
    name="schools", noun="School", model=School,
    columns=(*_BASE_COLUMNS, "name", "address", "phone", "grade_codes", "district_id"),
    to_json=school_json,
    filters={"id": f.id_field(), "updated_date": f.datetime_field(), "name": f.text_field("name")},
    fields=("id", "created_date", "updated_date", "properties", "identifiers", "name", "picture_url", "locale",
            "time_zone", "address", "grade_levels", "district_id", "product_ids"),
)


# --- Session -----------------------------------------------------------------------------------------------------


def session_json(row: dict) -> dict:
    return {
        **_base(row),
        "name": row["name"],
        "start_date": iso(row["start_date"]),
        "end_date": iso(row["end_date"]),
        "state": row["state"],
        "type": row["type"],
        "school_id": _id(row["school_id"]),
        "district_id": str(row["district_id"]),
    }


# The seed's Session: exactly these fields and operators.
SESSION_FILTERS = {
    "id": f.id_field(),
    "updated_date": f.datetime_field(),
    "name": f.text_field("name"),
    "start_date": f.date_field("start_date"),
    "end_date": f.date_field("end_date"),
}

SESSIONS = Resource(
    name="sessions", noun="Session", model=AcademicSession,
    columns=(*_BASE_COLUMNS, "name", "start_date", "end_date", "state", "type", "school_id", "district_id"),
    to_json=session_json, filters=SESSION_FILTERS,
    fields=("id", "created_date", "updated_date", "properties", "identifiers", "name", "start_date", "end_date",
            "state", "type", "school_id", "district_id"),
)


# --- Course (a grade level) --------------------------------------------------------------------------------------


def course_json(row: dict) -> dict:
    return {
        **_base(row),
        "name": row["name"],
        "code": row["code"] or None,
        "subjects": [],
        "grade_levels": [row["code"]] if row["code"] else [],
        "district_id": str(row["district_id"]),
        "school_id": _id(row["school_id"]),
        "session_id": None,
    }


COURSES = Resource(
    name="courses", noun="Course", model=GradeLevel,
    columns=(*_BASE_COLUMNS, "name", "code", "district_id", "school_id"),
    to_json=course_json,
    filters={
        "id": f.id_field(),
        "updated_date": f.datetime_field(),
        "code": f.text_field("code", operators=f.ID_KNOWN_OPS),
        "school_id": f.id_field("school_id", nullable=True),
    },
    fields=("id", "created_date", "updated_date", "properties", "identifiers", "name", "code", "subjects",
            "grade_levels", "district_id", "school_id", "session_id"),
)


# --- Class (a class division) ------------------------------------------------------------------------------------

# Edlink's ClassState from the class's academic session: a class without one is active.
_CLASS_STATE_OF_SESSION = {SessionState.UPCOMING: "upcoming", SessionState.ACTIVE: "active",
                           SessionState.COMPLETED: "completed"}
CLASS_STATES = ("template", "upcoming", "inactive", "active", "completed", "archived")


def class_state(session_state: str | None) -> str:
    return _CLASS_STATE_OF_SESSION.get(session_state, "active") if session_state else "active"


def _class_state_q(operator: str, values: list[str]) -> Q:
    def one(state: str) -> Q:
        if state == "active":
            return Q(academic_session__isnull=True) | Q(academic_session__state=SessionState.ACTIVE)
        if state in ("upcoming", "completed"):
            return Q(academic_session__state=state)
        return Q(pk__in=[])  # template, inactive, archived, or not a ClassState: no class has it

    q = Q(pk__in=[])
    for state in values:
        q |= one(state)
    return ~q if operator == f.NOT_IN else q


def class_json(row: dict) -> dict:
    return {
        **_base(row),
        "name": row["name"],
        "description": None,
        "picture_url": None,
        "locale": None,
        "time_zone": None,
        "subjects": [],
        "grade_levels": [row["grade_level__code"]],
        "periods": [],
        "state": class_state(row["academic_session__state"]),
        "session_ids": [str(row["academic_session_id"])] if row["academic_session_id"] else [],
        "course_id": str(row["grade_level_id"]),
        "school_id": str(row["school_id"]),
        "district_id": str(row["district_id"]),
        "product_ids": [],
    }


CLASSES = Resource(
    name="classes", noun="Class", model=ClassDivision,
    columns=(*_BASE_COLUMNS, "name", "grade_level_id", "grade_level__code", "academic_session_id",
             "academic_session__state", "school_id", "district_id"),
    to_json=class_json,
    filters={
        "id": f.id_field(),
        "updated_date": f.datetime_field(),
        "name": f.text_field("name"),
        "state": f.FilterField(lookup="state", kind=f.CHOICE, operators=f.ID_OPS, compile=_class_state_q),
        "session_ids": f.id_field("academic_session_id", nullable=True),
        "course_id": f.id_field("grade_level_id"),
    },
    fields=("id", "created_date", "updated_date", "properties", "identifiers", "name", "description",
            "picture_url", "locale", "time_zone", "subjects", "grade_levels", "periods", "state", "session_ids",
            "course_id", "school_id", "district_id", "product_ids"),
)


# --- Person ------------------------------------------------------------------------------------------------------

DISPLAY_NAME = Concat(
    "given_name",
    Case(When(middle_name="", then=Value("")), default=Concat(Value(" "), "middle_name")),
    Value(" "),
    "family_name",
)


def person_json(row: dict) -> dict:
    given, middle, family = row["given_name"], row["middle_name"], row["family_name"]
    return {
        **_base(row),
        "first_name": given or None,
        "middle_name": middle or None,
        "last_name": family or None,
        "display_name": " ".join(p for p in (given, middle, family) if p) or None,
        "picture_url": None,
        "roles": [row["role"]],
        "email": row["email"] or None,
        "phone": row["phone"] or None,
        "locale": None,
        "time_zone": None,
        "graduation_year": None,
        "grade_levels": [row["grade_level__code"]] if row["grade_level__code"] else [],
        "demographics": {
            "birthday": iso(row["date_of_birth"]),
            "gender": row["gender"] or None,
        },
        "district_id": str(row["district_id"]),
        "school_ids": [str(row["school_id"])] if row["school_id"] else [],
        "product_ids": [],
    }


PEOPLE = Resource(
    name="people", noun="Person", model=Person,
    columns=(*_BASE_COLUMNS, "given_name", "middle_name", "family_name", "role", "email", "phone",
             "grade_level__code", "date_of_birth", "gender", "district_id", "school_id"),
    to_json=person_json,
    filters={
        "id": f.id_field(),
        "updated_date": f.datetime_field(),
        "first_name": f.text_field("given_name"),
        "last_name": f.text_field("family_name"),
        "display_name": f.text_field("display_name", nullable=False),
        "email": f.text_field("email", operators=frozenset({f.EQUALS, f.STARTS_WITH, f.CONTAINS})),
    },
    annotations={"display_name": DISPLAY_NAME},
    fields=("id", "created_date", "updated_date", "properties", "identifiers", "first_name", "middle_name",
            "last_name", "display_name", "picture_url", "roles", "email", "phone", "locale", "time_zone",
            "graduation_year", "grade_levels", "demographics", "district_id", "school_ids", "product_ids"),
)

# --- Enrollment --------------------------------------------------------------------------------------------------


def enrollment_state(start: datetime.date | None, end: datetime.date | None, today: datetime.date) -> str:
    if end is not None and end < today:
        return "completed"
    if start is not None and start > today:
        return "upcoming"
    return "active"


def enrollment_json(row: dict) -> dict:
    return {
        **_base(row),
        "state": enrollment_state(row["start_date"], row["end_date"], timezone.localdate()),
        "role": row["role"],
        "start_date": iso(row["start_date"]),
        "end_date": iso(row["end_date"]),
        "primary": row["primary"],
        "person_id": str(row["person_id"]),
        "class_id": str(row["class_division_id"]),
        "section_id": None,
    }


ENROLLMENTS = Resource(
    name="enrollments", noun="Enrollment", model=Enrollment,
    columns=(*_BASE_COLUMNS, "role", "start_date", "end_date", "primary", "person_id", "class_division_id"),
    to_json=enrollment_json,
    filters={
        "id": f.id_field(),
        "updated_date": f.datetime_field(),
        "role": f.text_field("role", operators=f.ID_KNOWN_OPS, nullable=False),
        "person_id": f.id_field("person_id"),
        "class_id": f.id_field("class_division_id"),
        # Always null here (we have no sections): "equals"/"in" match nothing, "not in" everything.
        "section_id": f.FilterField(
            lookup="section_id", kind=f.UUID_KIND, operators=f.ID_OPS,
            compile=lambda op, _values: Q() if op == f.NOT_IN else Q(pk__in=[]),
        ),
    },
    fields=("id", "created_date", "updated_date", "properties", "identifiers", "state", "role", "start_date",
            "end_date", "primary", "person_id", "class_id", "section_id"),
)

RESOURCES = {r.name: r for r in (DISTRICTS, SCHOOLS, SESSIONS, COURSES, CLASSES, PEOPLE, ENROLLMENTS)}


# --- sub-lists: /{parent}/{id}/{child} ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SubList:
    parent: Resource
    child: Resource
    name: str  # the last path segment
    scope: Callable[[object, object], Q]  # (parent id, district id) -> Q on the child


def _enrolled(role: str | None = None) -> Callable[[object, object], Q]:
    def scope(class_id, _district_id) -> Q:
        enrollments = Enrollment.objects.filter(person=OuterRef("pk"), class_division_id=class_id)
        if role:
            enrollments = enrollments.filter(role=role)
        return Q(Exists(enrollments))

    return scope


def _school_people(role: str | None = None) -> Callable[[object, object], Q]:
    def scope(school_id, _district_id) -> Q:
        q = Q(school_id=school_id)
        return q & Q(role=role) if role else q

    return scope


def _person_schools(person_id, _district_id) -> Q:
    own = Person.objects.filter(pk=person_id, school=OuterRef("pk"))
    taught = Enrollment.objects.filter(person_id=person_id, class_division__school=OuterRef("pk"))
    return Q(Exists(own)) | Q(Exists(taught))


SUBLISTS = [
    SubList(DISTRICTS, PEOPLE, "administrators",
            lambda _pk, _d: Q(role=PersonRole.ADMINISTRATOR, school__isnull=True)),
    SubList(SCHOOLS, CLASSES, "classes", lambda pk, _d: Q(school_id=pk)),
    SubList(SCHOOLS, COURSES, "courses", lambda pk, _d: Q(school_id=pk) | Q(school__isnull=True)),
    SubList(SCHOOLS, SESSIONS, "sessions", lambda pk, _d: Q(school_id=pk) | Q(school__isnull=True)),
    SubList(SCHOOLS, PEOPLE, "people", _school_people()),
    SubList(SCHOOLS, PEOPLE, "administrators", _school_people(PersonRole.ADMINISTRATOR)),
    SubList(SCHOOLS, PEOPLE, "teachers", _school_people(PersonRole.TEACHER)),
    SubList(SCHOOLS, PEOPLE, "students", _school_people(PersonRole.STUDENT)),
    SubList(CLASSES, ENROLLMENTS, "enrollments", lambda pk, _d: Q(class_division_id=pk)),
    SubList(CLASSES, PEOPLE, "people", _enrolled()),
    SubList(CLASSES, PEOPLE, "teachers", _enrolled("teacher")),
    SubList(CLASSES, PEOPLE, "students", _enrolled("student")),
    SubList(COURSES, CLASSES, "classes", lambda pk, _d: Q(grade_level_id=pk)),
    SubList(PEOPLE, ENROLLMENTS, "enrollments", lambda pk, _d: Q(person_id=pk)),
    SubList(PEOPLE, DISTRICTS, "districts", lambda _pk, d: Q(pk=d)),
    SubList(PEOPLE, SCHOOLS, "schools", _person_schools),
    SubList(PEOPLE, CLASSES, "classes",
            lambda pk, _d: Q(Exists(Enrollment.objects.filter(person_id=pk, class_division=OuterRef("pk"))))),
]
