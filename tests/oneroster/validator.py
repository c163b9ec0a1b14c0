"""A OneRoster 1.2.1 CSV package checker for tests, written from the spec notes (§4.1–4.5), not from our code.

It shares nothing with ``rostering.oneroster``: its column lists are copied from the binding tables, so a
mistake in our column orders or formats shows up here.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import defaultdict

MANIFEST_21 = [
    "academicSessions", "categories", "classes", "classResources", "courseResources", "courses", "demographics",
    "enrollments", "lineItemLearningObjectiveIds", "lineItems", "lineItemScoreScales", "orgs", "resources",
    "resultLearningObjectiveIds", "results", "resultScoreScales", "roles", "scoreScales", "userProfiles",
    "userResources", "users",
]
COLUMNS = {
    "academicSessions": "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear",
    "orgs": "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
    "courses": "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,subjectCodes",
    "classes": "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,"
               "termSourcedIds,subjects,subjectCodes,periods",
    "enrollments": "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate",
    "demographics": "sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,asian,blackOrAfricanAmerican,"
                    "nativeHawaiianOrOtherPacificIslander,white,demographicRaceTwoOrMoreRaces,hispanicOrLatinoEthnicity,"
                    "countryOfBirthCode,stateOfBirthAbbreviation,cityOfBirth,publicSchoolResidenceStatus",
    "users": "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,identifier,email,"
             "sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,preferredGivenName,preferredMiddleName,"
             "preferredFamilyName,primaryOrgSourcedId,pronouns",
    "roles": "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId",
}
REQUIRED = {
    "academicSessions": ["sourcedId", "title", "type", "startDate", "endDate", "schoolYear"],
    "orgs": ["sourcedId", "name", "type"],
    "courses": ["sourcedId", "title", "orgSourcedId"],
    "classes": ["sourcedId", "title", "courseSourcedId", "classType", "schoolSourcedId", "termSourcedIds"],
    "enrollments": ["sourcedId", "classSourcedId", "schoolSourcedId", "userSourcedId", "role"],
    "demographics": ["sourcedId"],
    "users": ["sourcedId", "enabledUser", "username", "givenName", "familyName"],
    "roles": ["sourcedId", "userSourcedId", "roleType", "role", "orgSourcedId"],
}
EXT = r"ext:[a-zA-Z0-9.\-_]+"
ENUMS = {
    ("academicSessions", "type"): rf"^(gradingPeriod|semester|schoolYear|term|{EXT})$",
    ("orgs", "type"): rf"^(department|school|district|local|state|national|{EXT})$",
    ("classes", "classType"): rf"^(homeroom|scheduled|{EXT})$",
    ("enrollments", "role"): rf"^(administrator|proctor|student|teacher|{EXT})$",
    ("roles", "roleType"): r"^(primary|secondary)$",
    ("roles", "role"): rf"^(aide|counselor|districtAdministrator|guardian|parent|principal|proctor|relative|siteAdministrator|"
                       rf"student|systemAdministrator|teacher|{EXT})$",
    ("demographics", "sex"): rf"^(male|female|unspecified|other|{EXT})$",
}
DATES = {"startDate", "endDate", "beginDate", "birthDate"}
BOOLS = {"enabledUser", "primary", "americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican",
         "nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces", "hispanicOrLatinoEthnicity"}
CEDS = {"IT", "PR", "PK", "TK", "KG", *(f"{n:02d}" for n in range(1, 14)), "PS", "UG", "Other"}
SID = re.compile(r"^[0-9A-Za-z./@_-]{1,255}$")
REFS = {  # (file, column) -> (target file, list?)
    ("academicSessions", "parentSourcedId"): ("academicSessions", False),
    ("orgs", "parentSourcedId"): ("orgs", False),
    ("courses", "schoolYearSourcedId"): ("academicSessions", False),
    ("courses", "orgSourcedId"): ("orgs", False),
    ("classes", "courseSourcedId"): ("courses", False),
    ("classes", "schoolSourcedId"): ("orgs", False),
    ("classes", "termSourcedIds"): ("academicSessions", True),
    ("enrollments", "classSourcedId"): ("classes", False),
    ("enrollments", "schoolSourcedId"): ("orgs", False),
    ("enrollments", "userSourcedId"): ("users", False),
    ("users", "agentSourcedIds"): ("users", True),
    ("users", "primaryOrgSourcedId"): ("orgs", False),
    ("roles", "userSourcedId"): ("users", False),
    ("roles", "orgSourcedId"): ("orgs", False),
    ("demographics", "sourcedId"): ("users", False),
}


def validate(path) -> list[str]:
    """Every problem found, as ``file:line: message``; an empty list means valid."""
    errors: list[str] = []
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        if any("/" in n for n in names):
            errors.append("package: files must sit at the zip root")
        files = {n[:-4]: zf.read(n).decode("utf-8") for n in names if n.endswith(".csv")}
    if "manifest" not in files:
        return ["package: no manifest.csv"]
    manifest = list(csv.reader(io.StringIO(files["manifest"])))
    if manifest[0] != ["propertyName", "value"]:
        errors.append("manifest.csv:1: header must be propertyName,value")
    props = dict(manifest[1:])
    if props.get("manifest.version") != "1.0":
        errors.append("manifest.csv: manifest.version must be 1.0")
    if props.get("oneroster.version") not in {"1.2", "1.2.1"}:
        errors.append("manifest.csv: oneroster.version must be 1.2")
    for name in MANIFEST_21:
        mode = props.get(f"file.{name}")
        if mode not in {"absent", "bulk", "delta"}:
            errors.append(f"manifest.csv: file.{name} missing or invalid ({mode!r})")
        elif mode != "absent" and name not in files:
            errors.append(f"manifest.csv: file.{name} is {mode} but {name}.csv is missing")
        elif mode == "absent" and name in files:
            errors.append(f"manifest.csv: {name}.csv is present but file.{name} is absent")
    rows: dict[str, list[dict]] = {}
    for name, text in files.items():
        if name == "manifest":
            continue
        if name not in COLUMNS:
            errors.append(f"{name}.csv: not a rostering file")
            continue
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader)
        standard = COLUMNS[name].split(",")
        extension = header[len(standard):]
        if header[: len(standard)] != standard or not all(c.startswith("metadata.") and len(c) > 9 for c in extension):
            errors.append(f"{name}.csv:1: header order mismatch: {','.join(header)}")
            continue
        rows[name] = []
        for line, cells in enumerate(reader, start=2):
            if len(cells) != len(header):
                errors.append(f"{name}.csv:{line}: {len(cells)} cells for {len(header)} columns")
                continue
            row = dict(zip(header, cells, strict=True))
            for column in extension:
                row.pop(column)
            row["_line"] = line
            rows[name].append(row)
            errors.extend(_row(name, line, row, props.get(f"file.{name}")))
    ids = {name: {r["sourcedId"] for r in rs} for name, rs in rows.items()}
    for name, rs in rows.items():
        seen = set()
        for r in rs:
            if r["sourcedId"] in seen:
                errors.append(f"{name}.csv:{r['_line']}: duplicate sourcedId {r['sourcedId']}")
            seen.add(r["sourcedId"])
    errors.extend(_references(rows, ids))
    errors.extend(_semantics(rows))
    return errors


def _row(name: str, line: int, row: dict, mode: str | None) -> list[str]:
    out = []
    where = f"{name}.csv:{line}"
    if mode == "bulk" and (row["status"] or row["dateLastModified"]):
        out.append(f"{where}: status/dateLastModified must be blank in bulk")
    if mode == "delta":
        if row["status"] not in {"active", "tobedeleted"}:
            out.append(f"{where}: bad status")
        if not re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", row["dateLastModified"]):
            out.append(f"{where}: dateLastModified not YYYY-MM-DDTHH:MM:SS.sssZ")
    for column in REQUIRED[name]:
        if not row[column]:
            out.append(f"{where}: {column} is required")
    for column, value in row.items():
        if column.startswith("_") or not value:
            continue
        if (name, column) in ENUMS and not re.match(ENUMS[(name, column)], value):
            out.append(f"{where}: {column} {value!r} not in its vocabulary")
        if (column in DATES or (column == "endDate")) and not re.match(r"^\d{4}-\d{2}-\d{2}$", value):
            out.append(f"{where}: {column} {value!r} is not YYYY-MM-DD")
        if column in BOOLS and value not in {"true", "false"}:
            out.append(f"{where}: {column} {value!r} is not a lowercase boolean")
        if column == "schoolYear" and not re.match(r"^\d{4}$", value):
            out.append(f"{where}: schoolYear {value!r} is not YYYY")
        if column == "grades" and any(g not in CEDS for g in value.split(",")):
            out.append(f"{where}: grades {value!r} has a code outside CEDS")
        if column == "userIds" and not all(re.match(r"^\{[^:}]+:[^}]+\}$", p) for p in re.findall(r"\{[^}]*\}|[^,{}]+", value)):
            out.append(f"{where}: userIds {value!r} is not {{type:identifier}},…")
        if column == "sourcedId" or column.endswith("SourcedId") or column.endswith("SourcedIds"):
            for part in value.split(","):
                if not SID.match(part):
                    out.append(f"{where}: {column} {part!r} has characters outside [0-9A-Za-z./@_-]")
    if row.get("subjects") and row.get("subjectCodes") and len(row["subjects"].split(",")) != len(row["subjectCodes"].split(",")):
        out.append(f"{where}: subjects and subjectCodes differ in length")
    if row.get("startDate") and row.get("endDate") and row["endDate"] < row["startDate"]:
        out.append(f"{where}: endDate before startDate")
    return out


def _references(rows, ids) -> list[str]:
    out = []
    for (name, column), (target, many) in REFS.items():
        for r in rows.get(name, []):
            value = r[column]
            for sid in (value.split(",") if many else [value]) if value else []:
                if sid not in ids.get(target, set()):
                    out.append(f"{name}.csv:{r['_line']}: {column} {sid} not found in {target}.csv")
    return out


def _semantics(rows) -> list[str]:
    out = []
    org_type = {r["sourcedId"]: r["type"] for r in rows.get("orgs", [])}
    session_type = {r["sourcedId"]: r["type"] for r in rows.get("academicSessions", [])}
    for r in rows.get("courses", []):
        if r["schoolYearSourcedId"] and session_type.get(r["schoolYearSourcedId"]) != "schoolYear":
            out.append(f"courses.csv:{r['_line']}: schoolYearSourcedId is not a schoolYear")
    for name in ("classes", "enrollments"):
        for r in rows.get(name, []):
            kind = org_type.get(r["schoolSourcedId"], "")
            if kind != "school" and not kind.startswith("ext:"):
                out.append(f"{name}.csv:{r['_line']}: schoolSourcedId is not a school")
    role_orgs = defaultdict(set)
    primaries = defaultdict(int)
    for r in rows.get("roles", []):
        role_orgs[r["userSourcedId"]].add(r["orgSourcedId"])
        if r["roleType"] == "primary":
            primaries[(r["userSourcedId"], r["orgSourcedId"])] += 1
    for key, n in primaries.items():
        if n > 1:
            out.append(f"roles.csv: {key[0]} has {n} primary roles at {key[1]}")
    for r in rows.get("users", []):
        if r["primaryOrgSourcedId"] and r["primaryOrgSourcedId"] not in role_orgs.get(r["sourcedId"], set()):
            out.append(f"users.csv:{r['_line']}: primaryOrgSourcedId has no matching roles.csv row")
    for r in rows.get("enrollments", []):
        if r["primary"] == "true" and r["role"] != "teacher":
            out.append(f"enrollments.csv:{r['_line']}: primary is for teachers only")
    return out
