"""The OneRoster 1.2 rostering service (read-only) at ``/ims/oneroster/rostering/v1p2/``.

Authentication is OAuth 2 client credentials through django-oauth-toolkit: the token names an
``ApiClient``, which names one district; nothing of another district is ever in a query.
Errors are the spec's ``imsx_StatusInfo`` object (unwrapped): 400 ``invalid_filter_field`` /
``invalid_selection_field`` / ``invaliddata``, 401 ``unauthorisedrequest``, 403 ``forbidden``,
404 ``unknownobject``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET
from oauth2_provider.oauth2_backends import get_oauthlib_core

from rostering.choices import PersonRole, SessionType
from rostering.models import AcademicSession, ClassDivision, Enrollment, Person, School
from rostering.oneroster.api import resources as r
from rostering.oneroster.api.filters import OneRosterFilterError, compile_filter
from rostering.oneroster.models import ApiClient, ObjectType, RecordStatus, SourcedRecord

SCOPE = settings.ONEROSTER_SCOPE_PREFIX
CORE_SCOPES = [SCOPE + "roster-core.readonly", SCOPE + "roster.readonly"]
DEMOGRAPHICS_SCOPE = SCOPE + "roster-demographics.readonly"
DEFAULT_LIMIT = 100


class OneRosterError(Exception):
    def __init__(self, status: int, code_minor: str, description: str):
        super().__init__(description)
        self.status, self.code_minor, self.description = status, code_minor, description


def status_info(status: int, code_minor: str, description: str) -> JsonResponse:
    body = {
        "imsx_codeMajor": "failure", "imsx_severity": "error", "imsx_description": description,
        "imsx_CodeMinor": {"imsx_codeMinorField": [{"imsx_codeMinorFieldName": "TargetEndSystem",
                                                    "imsx_codeMinorFieldValue": code_minor}]},
    }
    response = JsonResponse(body, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="oneroster"'
    return response


def unknown(noun: str, sid: str) -> OneRosterError:
    return OneRosterError(404, "unknownobject", f"No {noun} with sourcedId '{sid[:100]}'.")


# --- authentication ----------------------------------------------------------------------------------------


def authenticate(request: HttpRequest, *, demographics: bool) -> ApiClient:
    if not request.META.get("HTTP_AUTHORIZATION", "").lower().startswith("bearer "):
        raise OneRosterError(401, "unauthorisedrequest", "Send an OAuth 2 access token: Authorization: Bearer <token>.")
    valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[])
    token = getattr(oauth_request, "access_token", None)
    if not valid or token is None:
        raise OneRosterError(401, "unauthorisedrequest", "The access token is unknown or has expired.")
    client = ApiClient.objects.select_related("district").filter(application_id=token.application_id).first()
    if client is None or not client.is_active:
        raise OneRosterError(401, "unauthorisedrequest", "This client is not a OneRoster client (or has been revoked).")
    scopes = set(token.scope.split())
    if demographics:
        if DEMOGRAPHICS_SCOPE not in scopes or not client.demographics:
            raise OneRosterError(403, "forbidden", "Demographics need the roster-demographics.readonly scope and a client allowed to read them.")
    elif not scopes & set(CORE_SCOPES):
        raise OneRosterError(403, "forbidden", "This token has neither the roster-core.readonly nor the roster.readonly scope.")
    return client


# --- resources -----------------------------------------------------------------------------------------------


def _resolve_model(ctx: r.Ctx, otype: str, qs: QuerySet, sid: str, noun: str):
    rec = SourcedRecord.objects.filter(district=ctx.district, type=otype, sourced_id=sid, status=RecordStatus.ACTIVE).first()
    obj = None
    if rec is not None and rec.object_id:
        obj = qs.filter(pk=rec.object_id).first()
    elif rec is None and len(sid) == 32:
        try:
            pk = uuid.UUID(hex=sid)
        except ValueError:
            pk = None
        if pk is not None and not SourcedRecord.objects.filter(district=ctx.district, type=otype, object_id=pk,
                                                               status=RecordStatus.ACTIVE).exists():
            obj = qs.filter(pk=pk).first()
    if obj is None:
        raise unknown(noun, sid)
    return obj


def school(ctx, sid):
    return _resolve_model(ctx, ObjectType.ORG, School.objects.filter(district=ctx.district), sid, "school")


def klass(ctx, sid, qs=None):
    return _resolve_model(ctx, ObjectType.CLASS, qs if qs is not None else ClassDivision.objects.filter(district=ctx.district), sid, "class")


def person(ctx, sid, role=None):
    qs = Person.objects.filter(district=ctx.district)
    if role:
        qs = qs.filter(role=role)
    return _resolve_model(ctx, ObjectType.USER, qs, sid, {None: "user", PersonRole.STUDENT: "student", PersonRole.TEACHER: "teacher"}[role])


def session(ctx, sid, types=None, noun="academicSession"):
    qs = AcademicSession.objects.filter(district=ctx.district)
    if types:
        qs = qs.filter(type__in=types)
    return _resolve_model(ctx, ObjectType.ACADEMIC_SESSION, qs, sid, noun)


def _people_at(school_obj, role):
    enrolled = Enrollment.objects.filter(class_division__school=school_obj).values("person_id")
    return Person.objects.filter(district_id=school_obj.district_id, role=role).filter(Q(school=school_obj) | Q(pk__in=enrolled))


def _people_in(class_obj, role):
    return Person.objects.filter(district_id=class_obj.district_id, role=role, pk__in=Enrollment.objects.filter(
        class_division=class_obj).values("person_id"))


def _classes_of(person_obj):
    return ClassDivision.objects.filter(district_id=person_obj.district_id, pk__in=Enrollment.objects.filter(
        person=person_obj).values("class_division_id"))


def _course_classes(ctx, sid):
    by_record = SourcedRecord.objects.filter(district=ctx.district, type=ObjectType.CLASS, status=RecordStatus.ACTIVE)
    by_record = by_record.filter(data__courseSourcedId=sid).values("object_id")
    qs = ClassDivision.objects.filter(district=ctx.district)
    if sid.startswith("crs-") and len(sid) == 36:
        try:
            return qs.filter(Q(pk__in=by_record) | Q(pk=uuid.UUID(hex=sid[4:])))
        except ValueError:
            pass
    if not SourcedRecord.objects.filter(district=ctx.district, type=ObjectType.COURSE, sourced_id=sid, status=RecordStatus.ACTIVE).exists():
        raise unknown("course", sid)
    return qs.filter(pk__in=by_record)


def _grading_periods_of(ctx, term):
    term_sid = r._sids(ctx, ObjectType.ACADEMIC_SESSION, [term.pk])[term.pk]
    by_record = SourcedRecord.objects.filter(district=ctx.district, type=ObjectType.ACADEMIC_SESSION, status=RecordStatus.ACTIVE)
    by_record = by_record.filter(data__parentSourcedId=term_sid).values("object_id")
    return AcademicSession.objects.filter(district=ctx.district, type=SessionType.GRADING_PERIOD).filter(Q(parent=term) | Q(pk__in=by_record))


SESSIONS = dict(envelope="academicSessions", single="academicSession", fields=r.SESSION_FIELDS, hydrate=r.hydrate_sessions, output=r.SESSION_OUTPUT)
ORGS = dict(envelope="orgs", single="org", fields=r.ORG_FIELDS, hydrate=r.hydrate_orgs, output=r.ORG_OUTPUT)
COURSES = dict(envelope="courses", single="course", fields=r.COURSE_FIELDS, hydrate=r.hydrate_courses, output=r.COURSE_OUTPUT)
CLASSES = dict(envelope="classes", single="class", fields=r.CLASS_FIELDS, hydrate=r.hydrate_classes, output=r.CLASS_OUTPUT)
USERS = dict(envelope="users", single="user", fields=r.USER_FIELDS, hydrate=r.hydrate_users, output=r.USER_OUTPUT)
ENROLLMENTS = dict(envelope="enrollments", single="enrollment", fields=r.ENROLLMENT_FIELDS, hydrate=r.hydrate_enrollments,
                   output=r.ENROLLMENT_OUTPUT)
DEMOGRAPHICS = dict(envelope="demographics", single="demographics", fields=r.DEMOGRAPHICS_FIELDS, hydrate=r.hydrate_demographics,
                    output=r.DEMOGRAPHICS_OUTPUT)

ST, TE = PersonRole.STUDENT, PersonRole.TEACHER
TERM_TYPES = [SessionType.TERM]
GP_TYPES = [SessionType.GRADING_PERIOD]
YEAR_TYPES = [SessionType.SCHOOL_YEAR]


def _orgs_one(ctx, sid, schools_only=False):
    parts = [p.filter(o_sourcedId=sid) for p in r.org_parts(ctx, schools_only=schools_only)]
    if not any(p.exists() for p in parts):
        raise unknown("school" if schools_only else "org", sid)
    return parts


def _courses_one(ctx, sid):
    parts = [p.filter(o_sourcedId=sid) for p in r.course_parts(ctx)]
    if not any(p.exists() for p in parts):
        raise unknown("course", sid)
    return parts


# name -> (resource, parts(ctx, **kwargs), single?)
ROUTES: dict[str, tuple[dict, Callable, bool]] = {
    "academicSessions": (SESSIONS, lambda ctx: r.session_parts(ctx), False),
    "academicSession": (SESSIONS, lambda ctx, sid: r.session_parts(ctx, qs=AcademicSession.objects.filter(pk=session(ctx, sid).pk)), True),
    "schoolYears": (SESSIONS, lambda ctx: r.session_parts(ctx, YEAR_TYPES), False),
    "schoolYear": (SESSIONS, lambda ctx, sid: r.session_parts(ctx, qs=AcademicSession.objects.filter(pk=session(ctx, sid, YEAR_TYPES, "schoolYear").pk)), True),
    "terms": (SESSIONS, lambda ctx: r.session_parts(ctx, TERM_TYPES), False),
    "term": (SESSIONS, lambda ctx, sid: r.session_parts(ctx, qs=AcademicSession.objects.filter(pk=session(ctx, sid, TERM_TYPES, "term").pk)), True),
    "gradingPeriods": (SESSIONS, lambda ctx: r.session_parts(ctx, GP_TYPES), False),
    "gradingPeriod": (SESSIONS, lambda ctx, sid: r.session_parts(ctx, qs=AcademicSession.objects.filter(pk=session(ctx, sid, GP_TYPES, "gradingPeriod").pk)), True),
    "orgs": (ORGS, lambda ctx: r.org_parts(ctx), False),
    "org": (ORGS, lambda ctx, sid: _orgs_one(ctx, sid), True),
    "schools": (ORGS, lambda ctx: r.org_parts(ctx, schools_only=True), False),
    "school": (ORGS, lambda ctx, sid: _orgs_one(ctx, sid, schools_only=True), True),
    "courses": (COURSES, lambda ctx: r.course_parts(ctx), False),
    "course": (COURSES, lambda ctx, sid: _courses_one(ctx, sid), True),
    "classes": (CLASSES, lambda ctx: r.class_parts(ctx), False),
    "class": (CLASSES, lambda ctx, sid: r.class_parts(ctx, ClassDivision.objects.filter(pk=klass(ctx, sid).pk)), True),
    "users": (USERS, lambda ctx: r.user_parts(ctx), False),
    "user": (USERS, lambda ctx, sid: r.user_parts(ctx, Person.objects.filter(pk=person(ctx, sid).pk)), True),
    "students": (USERS, lambda ctx: r.user_parts(ctx, roles=[ST]), False),
    "student": (USERS, lambda ctx, sid: r.user_parts(ctx, Person.objects.filter(pk=person(ctx, sid, ST).pk)), True),
    "teachers": (USERS, lambda ctx: r.user_parts(ctx, roles=[TE]), False),
    "teacher": (USERS, lambda ctx, sid: r.user_parts(ctx, Person.objects.filter(pk=person(ctx, sid, TE).pk)), True),
    "enrollments": (ENROLLMENTS, lambda ctx: r.enrollment_parts(ctx), False),
    "enrollment": (ENROLLMENTS, lambda ctx, sid: r.enrollment_parts(ctx, Enrollment.objects.filter(pk=_resolve_model(
        ctx, ObjectType.ENROLLMENT, Enrollment.objects.filter(district=ctx.district), sid, "enrollment").pk)), True),
    "demographics": (DEMOGRAPHICS, lambda ctx: r.demographics_parts(ctx), False),
    "demographic": (DEMOGRAPHICS, lambda ctx, sid: r.demographics_parts(ctx, Person.objects.filter(pk=person(ctx, sid).pk)), True),
    # relationships
    "school_classes": (CLASSES, lambda ctx, s: r.class_parts(ctx, ClassDivision.objects.filter(school=school(ctx, s))), False),
    "school_courses": (COURSES, lambda ctx, s: r.course_parts(ctx, classes=ClassDivision.objects.filter(school=school(ctx, s))), False),
    "school_enrollments": (ENROLLMENTS, lambda ctx, s: r.enrollment_parts(ctx, Enrollment.objects.filter(
        class_division__school=school(ctx, s))), False),
    "school_students": (USERS, lambda ctx, s: r.user_parts(ctx, _people_at(school(ctx, s), ST)), False),
    "school_teachers": (USERS, lambda ctx, s: r.user_parts(ctx, _people_at(school(ctx, s), TE)), False),
    "school_terms": (SESSIONS, lambda ctx, s: r.session_parts(ctx, TERM_TYPES, AcademicSession.objects.filter(
        district=ctx.district).filter(Q(school__isnull=True) | Q(school=school(ctx, s)))), False),
    "school_class_enrollments": (ENROLLMENTS, lambda ctx, s, c: r.enrollment_parts(ctx, Enrollment.objects.filter(
        class_division=klass(ctx, c, ClassDivision.objects.filter(school=school(ctx, s))))), False),
    "school_class_students": (USERS, lambda ctx, s, c: r.user_parts(ctx, _people_in(klass(ctx, c, ClassDivision.objects.filter(
        school=school(ctx, s))), ST)), False),
    "school_class_teachers": (USERS, lambda ctx, s, c: r.user_parts(ctx, _people_in(klass(ctx, c, ClassDivision.objects.filter(
        school=school(ctx, s))), TE)), False),
    "term_classes": (CLASSES, lambda ctx, t: r.class_parts(ctx, ClassDivision.objects.filter(
        academic_session=session(ctx, t, TERM_TYPES, "term"))), False),
    "term_gradingPeriods": (SESSIONS, lambda ctx, t: r.session_parts(ctx, qs=_grading_periods_of(ctx, session(ctx, t, TERM_TYPES, "term"))), False),
    "course_classes": (CLASSES, lambda ctx, c: r.class_parts(ctx, _course_classes(ctx, c)), False),
    "class_students": (USERS, lambda ctx, c: r.user_parts(ctx, _people_in(klass(ctx, c), ST)), False),
    "class_teachers": (USERS, lambda ctx, c: r.user_parts(ctx, _people_in(klass(ctx, c), TE)), False),
    "student_classes": (CLASSES, lambda ctx, u: r.class_parts(ctx, _classes_of(person(ctx, u, ST))), False),
    "teacher_classes": (CLASSES, lambda ctx, u: r.class_parts(ctx, _classes_of(person(ctx, u, TE))), False),
    "user_classes": (CLASSES, lambda ctx, u: r.class_parts(ctx, _classes_of(person(ctx, u))), False),
}


# --- query parameters ----------------------------------------------------------------------------------------


def _int(request, name: str, default: int, minimum: int) -> int:
    values = request.GET.getlist(name)
    if not values:
        return default
    if len(values) > 1:
        raise OneRosterError(400, "invaliddata", f"Give {name} once.")
    raw = values[0].strip()
    if not raw.isdigit() or len(raw) > 9:
        raise OneRosterError(400, "invaliddata", f"{name} must be a whole number (at least {minimum}), not '{raw[:20]}'.")
    value = int(raw)
    if value < minimum:
        raise OneRosterError(400, "invaliddata", f"{name} must be at least {minimum}.")
    return value


def _fields(request, output: list[str]) -> list[str] | None:
    raw = [part.strip() for value in request.GET.getlist("fields") for part in value.split(",") if part.strip()]
    if not raw:
        return None
    unknown_fields = [f for f in raw if f not in output]
    if unknown_fields:
        raise OneRosterError(400, "invalid_selection_field",
                             f"Unknown field '{unknown_fields[0][:60]}' in fields (fields: {', '.join(output)}).")
    return [f for f in output if f in raw]


def _order(request, fields: dict) -> list[str]:
    sort = request.GET.get("sort", "").strip()
    order_by = request.GET.get("orderBy", "asc").strip().lower()
    if order_by not in {"asc", "desc"}:
        raise OneRosterError(400, "invaliddata", "orderBy must be asc or desc.")
    columns = []
    for name in [s.strip() for s in sort.split(",") if s.strip()]:
        spec = fields.get(name)
        if spec is None or (spec.compile is not None and name != "type"):
            continue  # an unknown sort field is ignored (1.2 has no error code for it)
        columns.append(("-" if order_by == "desc" else "") + spec.lookup)
    return [*columns, "o_sourcedId", "o_pk"]


# --- the view ----------------------------------------------------------------------------------------------


@require_GET
def endpoint(request: HttpRequest, route: str, **kwargs) -> JsonResponse:
    resource, build, single = ROUTES[route]
    try:
        client = authenticate(request, demographics=resource is DEMOGRAPHICS)
        ctx = r.Ctx(district=client.district, base_url=request.build_absolute_uri(reverse("oneroster:root")).rstrip("/"))
        selected = _fields(request, resource["output"])
        if single:
            parts = build(ctx, kwargs["sid"])
            rows = _page(parts, Q(), ["o_sourcedId", "o_pk"], 0, 1)
            if not rows:
                raise unknown(resource["single"], kwargs["sid"])
            item = resource["hydrate"](ctx, rows)[0]
            return JsonResponse({resource["single"]: _select(item, selected)})
        limit = _int(request, "limit", DEFAULT_LIMIT, 1)
        limit = min(limit, settings.ONEROSTER["PAGE_MAX"])
        offset = _int(request, "offset", 0, 0)
        try:
            q = compile_filter(request.GET.get("filter"), resource["fields"])
        except OneRosterFilterError as exc:
            raise OneRosterError(400, "invalid_filter_field", exc.message) from None
        order = _order(request, resource["fields"])
        parts = build(ctx, **kwargs)
        total = _count(parts, q)
        rows = _page(parts, q, order, offset, limit) if offset < total else []
        items = resource["hydrate"](ctx, rows) if rows else []
        response = JsonResponse({resource["envelope"]: [_select(i, selected) for i in items]})
        response["X-Total-Count"] = str(total)
        response["Link"] = _links(request, total, offset, limit)
        return response
    except OneRosterError as exc:
        return status_info(exc.status, exc.code_minor, exc.description)


def _combined(parts: list[QuerySet], q: Q) -> QuerySet:
    filtered = [p.filter(q).order_by() for p in parts]
    if len(filtered) == 1:
        return filtered[0]
    return filtered[0].union(*filtered[1:], all=True)


def _count(parts, q) -> int:
    return _combined(parts, q).count()


def _page(parts, q, order, offset, limit) -> list[dict]:
    return list(_combined(parts, q).order_by(*order)[offset:offset + limit])


def _select(item: dict, selected: list[str] | None) -> dict:
    return item if selected is None else {k: item[k] for k in selected}


def _links(request, total: int, offset: int, limit: int) -> str:
    base = request.build_absolute_uri(request.path)
    params = {k: v for k, v in request.GET.items() if k not in {"limit", "offset"}}

    def url(off):
        return f"{base}?{urlencode({**params, 'limit': limit, 'offset': off})}"

    links = []
    if offset + limit < total:
        links.append(f'<{url(offset + limit)}>; rel="next"')
    if offset > 0:
        links.append(f'<{url(max(0, offset - limit))}>; rel="prev"')
    links.append(f'<{url(0)}>; rel="first"')
    last = ((max(total, 1) - 1) // limit) * limit
    links.append(f'<{url(last)}>; rel="last"')
    return ", ".join(links)


@require_GET
def root(request: HttpRequest) -> JsonResponse:
    """The service's entry point lists its collections (no data: no token needed)."""
    base = request.build_absolute_uri(request.path).rstrip("/")
    names = ["academicSessions", "schoolYears", "terms", "gradingPeriods", "orgs", "schools", "classes", "courses", "users",
             "students", "teachers", "enrollments", "demographics"]
    return JsonResponse({"service": "OneRoster 1.2 rostering", "collections": {n: f"{base}/{n}" for n in names},
                         "tokenUrl": request.build_absolute_uri(reverse("oneroster_token"))})
