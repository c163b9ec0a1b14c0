"""The OneRoster CSV binding (1.1, 1.2 and the corrected 1.2.1): files, exact column orders, value formats.

``check_row`` turns one CSV row into clean values or a list of (column, code, reason) problems; it knows
nothing of the database. Column orders follow the 1.2.1 binding (docs: ../shared/specs/oneroster.md §4).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

MANIFEST_VERSION = "1.0"
EXPORT_VERSION = "1.2"  # 1.2.1 is an errata level: packages still declare 1.2
IMPORT_VERSIONS = {"1.1", "1.2", "1.2.1"}

MANIFEST_FILES_12 = [
    "academicSessions", "categories", "classes", "classResources", "courseResources", "courses", "demographics",
    "enrollments", "lineItemLearningObjectiveIds", "lineItems", "lineItemScoreScales", "orgs", "resources",
    "resultLearningObjectiveIds", "results", "resultScoreScales", "roles", "scoreScales", "userProfiles",
    "userResources", "users",
]
MANIFEST_FILES_11 = [
    "academicSessions", "categories", "classes", "classResources", "courses", "courseResources", "demographics",
    "enrollments", "lineItems", "orgs", "resources", "results", "users",
]
# The files this service reads; the others (gradebook, resources, profiles) are reported as not imported.
ROSTER_FILES = ["orgs", "academicSessions", "courses", "classes", "users", "roles", "demographics", "enrollments"]

SOURCED_ID_RE = re.compile(r"^[0-9A-Za-z./@_-]{1,255}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
YEAR_RE = re.compile(r"^\d{4}$")
EXT_RE = re.compile(r"^ext:[a-zA-Z0-9.\-_]+$")
USER_ID_RE = re.compile(r"^\{([^:}]+):([^}]+)\}$")

STATUS = {"active", "tobedeleted"}
SESSION_TYPES = {"gradingPeriod", "semester", "schoolYear", "term"}
ORG_TYPES = {"department", "school", "district", "local", "state", "national"}
CLASS_TYPES = {"homeroom", "scheduled"}
ENROLLMENT_ROLES = {"administrator", "proctor", "student", "teacher"}
ROLE_TYPES = {"primary", "secondary"}
USER_ROLES_12 = {
    "aide", "counselor", "districtAdministrator", "guardian", "parent", "principal", "proctor", "relative",
    "siteAdministrator", "student", "systemAdministrator", "teacher",
}
USER_ROLES_11 = {"administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher"}
SEX_12 = {"male", "female", "unspecified", "other"}
SEX_11 = {"male", "female"}
GRADES = [
    "IT", "PR", "PK", "TK", "KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13",
    "PS", "UG", "Other",
]
GRADE_SET = set(GRADES)

# kind: str | date | datetime | year | bool | list | enum | userIds ; ref: the OneRoster type it names
@dataclass(frozen=True)
class Col:
    name: str
    required: bool = False
    kind: str = "str"
    enum: frozenset[str] | None = None
    extensible: bool = False
    ref: str | None = None
    max_length: int | None = None


def _c(name, **kw) -> Col:
    if "enum" in kw and kw["enum"] is not None:
        kw["enum"] = frozenset(kw["enum"])
    return Col(name, **kw)


BASE = [_c("sourcedId", required=True, kind="sid"), _c("status", kind="enum", enum=STATUS), _c("dateLastModified", kind="datetime")]

ACADEMIC_SESSIONS = [
    *BASE, _c("title", required=True, max_length=200), _c("type", required=True, kind="enum", enum=SESSION_TYPES, extensible=True),
    _c("startDate", required=True, kind="date"), _c("endDate", required=True, kind="date"),
    _c("parentSourcedId", kind="sid", ref="academicSession"), _c("schoolYear", required=True, kind="year"),
]
ORGS = [
    *BASE, _c("name", required=True, max_length=200), _c("type", required=True, kind="enum", enum=ORG_TYPES, extensible=True),
    _c("identifier", max_length=255), _c("parentSourcedId", kind="sid", ref="org"),
]
COURSES = [
    *BASE, _c("schoolYearSourcedId", kind="sid", ref="academicSession"), _c("title", required=True, max_length=255),
    _c("courseCode", max_length=255), _c("grades", kind="list", enum=GRADE_SET), _c("orgSourcedId", required=True, kind="sid", ref="org"),
    _c("subjects", kind="list"), _c("subjectCodes", kind="list"),
]
CLASSES = [
    *BASE, _c("title", required=True, max_length=200), _c("grades", kind="list", enum=GRADE_SET),
    _c("courseSourcedId", required=True, kind="sid", ref="course"), _c("classCode", max_length=255),
    _c("classType", required=True, kind="enum", enum=CLASS_TYPES, extensible=True), _c("location", max_length=255),
    _c("schoolSourcedId", required=True, kind="sid", ref="org"),
    _c("termSourcedIds", required=True, kind="sidlist", ref="academicSession"),
    _c("subjects", kind="list"), _c("subjectCodes", kind="list"), _c("periods", kind="list"),
]
ENROLLMENTS = [
    *BASE, _c("classSourcedId", required=True, kind="sid", ref="class"), _c("schoolSourcedId", required=True, kind="sid", ref="org"),
    _c("userSourcedId", required=True, kind="sid", ref="user"),
    _c("role", required=True, kind="enum", enum=ENROLLMENT_ROLES, extensible=True), _c("primary", kind="bool"),
    _c("beginDate", kind="date"), _c("endDate", kind="date"),
]
_RACE = ["americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican", "nativeHawaiianOrOtherPacificIslander", "white",
         "demographicRaceTwoOrMoreRaces", "hispanicOrLatinoEthnicity"]
DEMOGRAPHICS = [
    *BASE, _c("birthDate", kind="date"), _c("sex", kind="enum", enum=SEX_12, extensible=True), *[_c(n, kind="bool") for n in _RACE],
    _c("countryOfBirthCode", max_length=16), _c("stateOfBirthAbbreviation", max_length=16), _c("cityOfBirth", max_length=255),
    _c("publicSchoolResidenceStatus", max_length=255),
]
DEMOGRAPHICS_11 = [*DEMOGRAPHICS[:4], _c("sex", kind="enum", enum=SEX_11), *DEMOGRAPHICS[5:]]
_USER_HEAD = [*BASE, _c("enabledUser", required=True, kind="bool")]
_NAMES = [_c("givenName", required=True, max_length=100), _c("familyName", required=True, max_length=100), _c("middleName", max_length=100)]
_CONTACT = [_c("identifier", max_length=64), _c("email", kind="email", max_length=254), _c("sms", max_length=40), _c("phone", max_length=40)]
USERS_121 = [
    *_USER_HEAD, _c("username", required=True, max_length=255), _c("userIds", kind="userIds"), *_NAMES, *_CONTACT,
    _c("agentSourcedIds", kind="sidlist", ref="user"), _c("grades", kind="list", enum=GRADE_SET), _c("password", max_length=255),
    _c("userMasterIdentifier", max_length=255), _c("preferredGivenName", max_length=100), _c("preferredMiddleName", max_length=100),
    _c("preferredFamilyName", max_length=100), _c("primaryOrgSourcedId", kind="sid", ref="org"), _c("pronouns", max_length=100),
]
USERS_12 = [*USERS_121[:17], _c("resourceSourcedIds", kind="sidlist"), *USERS_121[17:]]
USERS_11 = [
    *_USER_HEAD, _c("orgSourcedIds", required=True, kind="sidlist", ref="org"),
    _c("role", required=True, kind="enum", enum=USER_ROLES_11), _c("username", required=True, max_length=255),
    _c("userIds", kind="userIds"), *_NAMES, *_CONTACT, _c("agentSourcedIds", kind="sidlist", ref="user"),
    _c("grades", kind="list", enum=GRADE_SET), _c("password", max_length=255),
]
ROLES = [
    *BASE, _c("userSourcedId", required=True, kind="sid", ref="user"), _c("roleType", required=True, kind="enum", enum=ROLE_TYPES),
    _c("role", required=True, kind="enum", enum=USER_ROLES_12, extensible=True), _c("beginDate", kind="date"), _c("endDate", kind="date"),
    _c("orgSourcedId", required=True, kind="sid", ref="org"), _c("userProfileSourcedId", kind="sid"),
]

EXPORT_COLUMNS = {
    "orgs": ORGS, "academicSessions": ACADEMIC_SESSIONS, "courses": COURSES, "classes": CLASSES, "users": USERS_121,
    "roles": ROLES, "enrollments": ENROLLMENTS, "demographics": DEMOGRAPHICS,
}
OBJECT_TYPE = {
    "orgs": "org", "academicSessions": "academicSession", "courses": "course", "classes": "class", "users": "user",
    "roles": "role", "enrollments": "enrollment", "demographics": "demographics",
}


def layouts(file: str, version: str) -> list[list[Col]]:
    """The column layouts accepted for ``file`` in a package of ``version`` (first: the preferred one)."""
    if file == "users":
        return [USERS_11] if version == "1.1" else [USERS_121, USERS_12]
    if file == "demographics":
        return [DEMOGRAPHICS_11] if version == "1.1" else [DEMOGRAPHICS]
    return [EXPORT_COLUMNS[file]]


@dataclass
class Problem:
    column: str
    code: str
    reason: str


@dataclass
class Header:
    columns: list[Col]
    metadata: list[tuple[int, str]] = field(default_factory=list)  # (index, "metadata.x")


def check_header(names: list[str], file: str, version: str) -> tuple[Header | None, Problem | None]:
    """Exact names, exact order; ``metadata.*`` columns only after every spec column."""
    if names and names[0].startswith("\ufeff"):
        names = [names[0][1:], *names[1:]]
    candidates = layouts(file, version)
    for cols in candidates:
        expected = [c.name for c in cols]
        if names[: len(expected)] == expected:
            extra = names[len(expected):]
            meta = []
            for offset, name in enumerate(extra):
                if not name.startswith("metadata.") or len(name) == len("metadata."):
                    return None, Problem(name, "schema.unknown_column",
                                         f"Unknown column '{name}': extension columns are named metadata.<name>.")
                meta.append((len(expected) + offset, name))
            return Header(cols, meta), None
    expected = [c.name for c in candidates[0]]
    for i, name in enumerate(expected):
        got = names[i] if i < len(names) else None
        if got != name:
            if got and got.startswith("metadata."):
                return None, Problem(got, "schema.metadata_column_position",
                                     f"Column '{got}' must come after the standard columns.")
            found = f"'{got}'" if got is not None else "nothing"
            return None, Problem(name, "schema.header_order_mismatch",
                                 f"Header column {i + 1} must be '{name}', found {found} "
                                 f"(expected order: {','.join(expected)}).")
    return None, Problem("", "schema.header_order_mismatch", "The header does not match the standard columns.")


def split_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",")] if value else []


def _enum_ok(col: Col, value: str) -> bool:
    return value in (col.enum or ()) or (col.extensible and bool(EXT_RE.match(value)))


def check_row(header: Header, cells: list[str], *, delta: bool) -> tuple[dict, dict, list[Problem]]:
    """Values by column name (``None`` for empty), the metadata object, and the problems found."""
    problems: list[Problem] = []
    values: dict = {}
    cols = header.columns
    width = len(cols) + len(header.metadata)
    if len(cells) != width:
        problems.append(Problem("", "row.column_count", f"The row has {len(cells)} values; the header has {width}."))
        return values, {}, problems
    for col, raw in zip(cols, cells, strict=False):
        value = raw.strip() if raw is not None else ""
        if "\x00" in value:
            problems.append(Problem(col.name, "row.invalid_character", "The value contains a NUL character."))
            continue
        if value == "" or value == "NULL":
            values[col.name] = [] if col.kind in {"list", "sidlist", "userIds"} else None
            if col.required:
                problems.append(Problem(col.name, "row.required_value_missing", f"A value for {col.name} is required."))
            continue
        if col.max_length and len(value) > col.max_length:
            problems.append(Problem(col.name, "row.value_too_long", f"{col.name} is longer than {col.max_length} characters."))
            continue
        kind = col.kind
        if kind == "sid":
            if not SOURCED_ID_RE.match(value):
                problems.append(Problem(col.name, "row.invalid_sourced_id",
                                        f"'{value[:60]}' is not a valid sourcedId (1–255 of A–Z a–z 0–9 . / @ _ -)."))
                continue
        elif kind == "sidlist":
            items = split_list(value)
            bad = [i for i in items if not SOURCED_ID_RE.match(i)]
            if bad:
                problems.append(Problem(col.name, "row.invalid_sourced_id", f"'{bad[0][:60]}' is not a valid sourcedId."))
                continue
            value = items
        elif kind == "date":
            if not DATE_RE.match(value) or _date(value) is None:
                problems.append(Problem(col.name, "row.invalid_date", f"'{value[:40]}' is not a date in the form YYYY-MM-DD."))
                continue
        elif kind == "datetime":
            if not DATETIME_RE.match(value) or _datetime(value) is None:
                problems.append(Problem(col.name, "row.invalid_datetime",
                                        f"'{value[:40]}' is not a datetime in the form YYYY-MM-DDTHH:MM:SS.sssZ."))
                continue
        elif kind == "year":
            if not YEAR_RE.match(value):
                problems.append(Problem(col.name, "row.invalid_year", f"'{value[:40]}' is not a year (YYYY)."))
                continue
        elif kind == "bool":
            if value not in {"true", "false"}:
                problems.append(Problem(col.name, "row.invalid_boolean", f"{col.name} must be true or false (lowercase), not '{value[:20]}'."))
                continue
            value = value == "true"
        elif kind == "enum":
            if not _enum_ok(col, value):
                allowed = ", ".join(sorted(col.enum or ()))
                problems.append(Problem(col.name, "row.invalid_enum",
                                        f"'{value[:40]}' is not a valid {col.name} (one of {allowed}{' or ext:…' if col.extensible else ''})."))
                continue
        elif kind == "list":
            items = split_list(value)
            if col.enum is not None:
                bad = [i for i in items if i not in col.enum]
                if bad:
                    problems.append(Problem(col.name, "row.invalid_enum", f"'{bad[0][:20]}' is not a CEDS grade code."))
                    continue
            value = items
        elif kind == "userIds":
            items = _user_ids(value)
            if items is None:
                problems.append(Problem(col.name, "row.invalid_user_ids", "userIds must look like {type:identifier},{type:identifier}."))
                continue
            value = items
        elif kind == "email" and not _EMAIL_RE.match(value):
            problems.append(Problem(col.name, "row.invalid_email", f"'{value[:60]}' is not an e-mail address."))
            continue
        values[col.name] = value
    metadata = {}
    for index, name in header.metadata:
        value = (cells[index] or "").strip()
        if value:
            metadata[name.removeprefix("metadata.")] = value
    # bulk: status and dateLastModified blank; delta: both given
    status, modified = values.get("status"), values.get("dateLastModified")
    bad_lifecycle = {p.column for p in problems} & {"status", "dateLastModified"}
    if not bad_lifecycle:
        if not delta and (status or modified):
            column = "status" if status else "dateLastModified"
            problems.append(Problem(column, "row.field_forbidden_in_bulk", f"{column} must be blank in a bulk file."))
        if delta and not (status and modified):
            column = "status" if not status else "dateLastModified"
            problems.append(Problem(column, "row.field_required_in_delta", f"{column} is required in a delta file."))
    if not problems:
        problems.extend(_row_rules(values))
    return values, metadata, problems


def convert_row(header: Header, cells: list[str]) -> tuple[dict, dict]:
    """The values of a row that ``check_row`` already passed: conversions only, no checks (the apply pass)."""
    values: dict = {}
    for col, raw in zip(header.columns, cells, strict=False):
        value = raw.strip()
        kind = col.kind
        if value == "" or value == "NULL":
            values[col.name] = [] if kind in _LISTS else None
        elif kind in _LISTS:
            values[col.name] = _user_ids(value) if kind == "userIds" else split_list(value)
        elif kind == "bool":
            values[col.name] = value == "true"
        else:
            values[col.name] = value
    metadata = {}
    for index, name in header.metadata:
        value = cells[index].strip()
        if value:
            metadata[name.removeprefix("metadata.")] = value
    return values, metadata


_LISTS = frozenset({"list", "sidlist", "userIds"})
_EMAIL_RE = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")


def _row_rules(values: dict) -> list[Problem]:
    out = []
    if "subjects" in values and "subjectCodes" in values:
        subjects, codes = values["subjects"] or [], values["subjectCodes"] or []
        if subjects and codes and len(subjects) != len(codes):
            out.append(Problem("subjectCodes", "row.subject_codes_length", "subjects and subjectCodes must list as many items."))
    for start, end in (("startDate", "endDate"), ("beginDate", "endDate")):
        if values.get(start) and values.get(end) and values[end] < values[start]:
            out.append(Problem(end, "row.end_before_start", f"{end} is before {start}."))
    return out


def _user_ids(value: str) -> list[dict] | None:
    parts = re.findall(r"\{[^}]*\}", value)
    rest = re.sub(r"\{[^}]*\}", "", value).replace(",", "").strip()
    if rest or not parts:
        return None
    out = []
    for part in parts:
        m = USER_ID_RE.match(part)
        if not m:
            return None
        out.append({"type": m.group(1).strip(), "identifier": m.group(2).strip()})
    return out


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _datetime(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def parse_datetime(value: str | None) -> dt.datetime | None:
    return _datetime(value) if value else None


def format_datetime(value: dt.datetime | None) -> str:
    """``YYYY-MM-DDTHH:MM:SS.sssZ`` in UTC."""
    if value is None:
        return ""
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def format_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            return ",".join(f"{{{v['type']}:{v['identifier']}}}" for v in value)
        return ",".join(str(v) for v in value)
    return str(value)
