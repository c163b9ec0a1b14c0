"""Staff pages for registration sessions: list, New Session form, detail (settings, access codes,
submissions), the live progress panel, printable code slips, CSV export and the district-wide progress page.

Views parse input and call one service or selector. Sessions come from ``RegistrationSession.objects.for_user``
(another district's or school's session is a 404); a role that may look but not manage gets a 403 from the
services (and the buttons are not shown to it).
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, FloatField, Max, Min, Q, Sum, Value
from django.db.models.functions import Cast, Coalesce, NullIf
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from registrations.choices import (
    SESSION_TRANSITIONS,
    CodeStatus,
    RegistrationMode,
    SessionStatus,
    SubmissionStatus,
)
from registrations.exports import access_codes_csv_response
from registrations.forms import (
    GROUP_LABELS,
    CodeFilterForm,
    CodeGenerateForm,
    SessionFilterForm,
    SessionForm,
    apply_service_errors,
)
from registrations.models import AccessCode, RegistrationSession, Submission
from registrations.selectors import (
    attach_progress,
    build_progress,
    progress_annotations,
    progress_from_annotated,
    registration_progress,
    registration_session_list,
)
from registrations.services import (
    access_code_revoke,
    access_codes_generate,
    registration_session_create,
    registration_session_transition,
    registration_session_update,
    roster_people_in_scope,
)
from registrations.validators import CATALOGUE, CATALOGUE_BY_KEY
from rostering.common.errors import ApplicationError
from rostering.common.http import safe_next, wants_partial
from rostering.context_processors import SESSION_SCHOOL_KEY
from rostering.permissions import Perm, has_any_perm, has_perm

REGISTER_PATH = "/register"
SESSIONS_PER_PAGE = 25
CODES_PER_PAGE = 50
SUBMISSIONS_PER_PAGE = 50
OVERVIEW_PER_PAGE = 100
SLIPS_PER_SHEET = 8
SLIPS_PER_PAGE = 400  # 50 A4 sheets per print page
TABS = ("settings", "codes", "submissions")
POLL_SECONDS = 5

TRANSITION_BUTTONS = {
    # target: (label, css class, confirm text or "")
    SessionStatus.OPEN: ("Open", "btn-primary", ""),
    SessionStatus.PAUSED: ("Pause", "btn-warn", ""),
    SessionStatus.CLOSED: (
        "Close", "btn-danger",
        "Close this session? Participants can no longer submit, and it cannot be reopened.",
    ),
    SessionStatus.ARCHIVED: ("Archive", "btn", "Archive this session? It becomes read-only and leaves the lists."),
}
TRANSITION_DONE = {
    SessionStatus.OPEN: "is open: participants can now register at /register",
    SessionStatus.PAUSED: "is paused",
    SessionStatus.CLOSED: "is closed",
    SessionStatus.ARCHIVED: "is archived",
}


def _sessions(user):
    return RegistrationSession.objects.for_user(user, perm=Perm.REGISTRATIONS_VIEW)


def _get_session(request: HttpRequest, pk) -> RegistrationSession:
    return get_object_or_404(
        _sessions(request.user).select_related(
            "school", "district", "class_division__grade_level", "grade_level", "academic_year", "term", "created_by"
        ),
        pk=pk,
    )


def _can_manage(user, session: RegistrationSession) -> bool:
    return has_perm(user, Perm.REGISTRATIONS_MANAGE, district_id=session.district_id, school_id=session.school_id)


def _require_manage(user, session: RegistrationSession) -> None:
    if not _can_manage(user, session):
        raise PermissionDenied("Your role can look at this session but not change it.")


def _register_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(REGISTER_PATH)


def _detail_url(session: RegistrationSession, tab: str = "", **params) -> str:
    url = reverse("registrations:session_detail", args=[session.pk])
    query = {"tab": tab, **params} if tab else params
    if query:
        from urllib.parse import urlencode

        url += "?" + urlencode({k: v for k, v in query.items() if v not in (None, "")})
    return url


# --- sessions list -------------------------------------------------------------------------------------


@login_required
@require_GET
@vary_on_headers("HX-Request")
def session_list(request: HttpRequest) -> HttpResponse:
    if not has_any_perm(request.user, Perm.REGISTRATIONS_VIEW):
        raise PermissionDenied("Registration sessions need a staff role.")
    params = request.GET.copy()
    if "school" not in params and request.session.get(SESSION_SCHOOL_KEY):
        params["school"] = request.session[SESSION_SCHOOL_KEY]  # the school switcher's focus
    filter_form = SessionFilterForm(params, user=request.user)
    filters = filter_form.filters()
    sessions = registration_session_list(user=request.user, filters=filters, with_progress=False).order_by(
        "-created_at", "pk"
    )
    if filters.get("q"):
        sessions = sessions.filter(Q(title__icontains=filters["q"]) | Q(school__name__icontains=filters["q"]))
    page = Paginator(sessions, SESSIONS_PER_PAGE).get_page(request.GET.get("page"))
    # Count the codes of this page's sessions only (one grouped query), not of every session in reach.
    attach_progress(page.object_list)
    context = {
        "filter_form": filter_form,
        "page": page,
        "rows": [(s, progress_from_annotated(s)) for s in page.object_list],
        "filtered": any(filters.values()),
    }
    template = "registrations/session_list.html"
    if wants_partial(request):
        template += "#session-table"
    return render(request, template, context)


# --- New Session / edit -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def session_create(request: HttpRequest) -> HttpResponse:
    if not has_any_perm(request.user, Perm.REGISTRATIONS_MANAGE):
        raise PermissionDenied("Your role cannot create registration sessions.")
    refresh_url = reverse("registrations:session_create")
    if request.method == "POST" and request.POST.get("_refresh"):
        # mode or school changed: re-render the form for it (htmx), without errors.
        form = SessionForm.for_refresh(
            request.POST, user=request.user, trigger=request.POST["_refresh"], refresh_url=refresh_url
        )
        template = "registrations/session_form.html"
        if wants_partial(request):
            template += "#form-body"
        return render(request, template, {"form": form, "creating": True})
    if request.method == "POST":
        form = SessionForm(request.POST, user=request.user, refresh_url=refresh_url)
        if form.is_valid():
            data = form.service_data()
            try:
                session = registration_session_create(
                    actor=request.user, school=data.pop("school"), mode=data.pop("mode"), title=data.pop("title"),
                    **data,
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(
                    request, f"Session “{session.title}” created as a draft. Generate codes, then open it."
                )
                return redirect(_detail_url(session, "codes"))
    else:
        initial = {k: request.GET[k] for k in ("mode", "school") if request.GET.get(k)}
        if "school" not in initial and request.session.get(SESSION_SCHOOL_KEY):
            initial["school"] = request.session[SESSION_SCHOOL_KEY]
        form = SessionForm(user=request.user, initial=initial, refresh_url=refresh_url)
    return render(request, "registrations/session_form.html", {"form": form, "creating": True})


@login_required
@require_http_methods(["GET", "POST"])
def session_edit(request: HttpRequest, pk) -> HttpResponse:
    session = _get_session(request, pk)
    _require_manage(request.user, session)
    form = SessionForm(request.POST or None, user=request.user, instance=session)
    if request.method == "POST":
        if form.read_only:
            messages.error(request, f"A {session.get_status_display().lower()} session cannot be edited.")
            return redirect(_detail_url(session))
        if form.is_valid():
            try:
                registration_session_update(actor=request.user, session=session, data=form.service_data())
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, "Session settings saved.")
                return redirect(_detail_url(session, "settings"))
    return render(request, "registrations/session_form.html", {"form": form, "session": session, "creating": False})


# --- detail and its tabs -----------------------------------------------------------------------------------


def _transition_buttons(session: RegistrationSession) -> list[dict]:
    allowed = SESSION_TRANSITIONS.get(session.status, frozenset())
    buttons = []
    for target, (label, css, confirm) in TRANSITION_BUTTONS.items():
        if target in allowed:
            if target == SessionStatus.OPEN and session.status == SessionStatus.PAUSED:
                label = "Reopen"
            buttons.append({"to": target.value, "label": label, "css": css, "confirm": confirm})
    return buttons


def _settings_context(session: RegistrationSession) -> dict:
    stored = (session.required_fields or {}).get("fields", {})
    rows = []
    for spec in CATALOGUE:
        rules = stored.get(spec.key) or {}
        state = rules.get("state") or spec.default_state(session.mode)
        extras = {k: v for k, v in rules.items() if k not in {"state", "label"}}
        # The session's placement lock fills these in for the participant, whatever the setting says.
        if (spec.key == "class_division_id" and session.class_division_id) or (
            spec.key == "grade_level_id" and (session.grade_level_id or session.class_division_id)
        ):
            state, extras = "required", {"locked": "set by the session"}
        rows.append({
            "label": rules.get("label") or spec.label, "key": spec.key, "state": state,
            "group": GROUP_LABELS.get(spec.group, spec.group), "extras": extras,
        })
    unknown = [k for k in stored if k not in CATALOGUE_BY_KEY]
    history = session.status_changes.select_related("actor")[:50]
    return {
        "required_rows": rows,
        "required_counts": Counter(r["state"] for r in rows),
        "custom_questions": (session.required_fields or {}).get("custom", []),
        "unknown_fields": unknown,
        "approval": session.approval_policy or {},
        "history": history,
    }


def _codes_queryset(session: RegistrationSession, filters: dict):
    codes = AccessCode.objects.filter(session=session)
    status = filters.get("status")
    if status == "revoked":
        codes = codes.filter(revoked_at__isnull=False)
    elif status == "live":
        codes = codes.filter(revoked_at__isnull=True)
    elif status in CodeStatus.values:
        codes = codes.filter(status=status)
        if status == CodeStatus.UNUSED:
            codes = codes.filter(revoked_at__isnull=True)
    if filters.get("batch"):
        codes = codes.filter(print_batch=filters["batch"])
    q = (filters.get("q") or "").strip()
    if q:
        from registrations.codes import normalize_code

        term = normalize_code(q)
        match = Q(display_name_hint__icontains=q) | Q(number_hint__icontains=q)
        if term:
            match |= Q(code__icontains=term)
        codes = codes.filter(match)
    return codes.order_by(
        "-created_at", F("display_name_hint").asc(), "code"
    )


def _codes_context(request: HttpRequest, session: RegistrationSession, *, generate_form=None) -> dict:
    filter_form = CodeFilterForm(request.GET)
    filters = filter_form.cleaned_data if filter_form.is_valid() else {}
    page = Paginator(_codes_queryset(session, filters), CODES_PER_PAGE).get_page(request.GET.get("page"))
    batches = list(
        AccessCode.objects.filter(session=session)
        .values("print_batch")
        .annotate(
            total=Count("pk"),
            live_unused=Count("pk", filter=Q(status=CodeStatus.UNUSED, revoked_at__isnull=True)),
            assigned=Count("pk", filter=Q(assigned_person__isnull=False)),
            created=Min("created_at"),
            expires=Max("expires_at"),
        )
        .order_by("-created")[:20]
    )
    can_manage = _can_manage(request.user, session)
    context = {
        "code_filter_form": filter_form,
        "code_filters": filters,
        "codes_page": page,
        "batches": batches,
        "new_batch": str(filters.get("batch") or "") if request.GET.get("new") else "",
        "generate_form": generate_form or CodeGenerateForm(session=session),
        "generation_allowed": session.status not in (SessionStatus.CLOSED, SessionStatus.ARCHIVED),
    }
    if can_manage and session.roster_policy != "open_with_code" and context["generation_allowed"]:
        live = AccessCode.objects.filter(session=session, assigned_person__isnull=False, revoked_at__isnull=True)
        context["people_without_code"] = (
            roster_people_in_scope(session).exclude(pk__in=live.values("assigned_person_id")).count()
        )
    return context


def _submissions_context(request: HttpRequest, session: RegistrationSession) -> dict:
    status = request.GET.get("status", "")
    submissions = (
        Submission.objects.for_user(request.user, perm=Perm.REGISTRATIONS_VIEW)
        .filter(session=session)
        .select_related("access_code", "class_division", "grade_level", "reviewed_by")
        .order_by(F("submitted_at").desc(nulls_last=True), "-created_at")
    )
    if status in SubmissionStatus.values:
        submissions = submissions.filter(status=status)
    else:
        status = ""
    page = Paginator(submissions, SUBMISSIONS_PER_PAGE).get_page(request.GET.get("page"))
    return {
        "submission_status": status,
        "submission_statuses": SubmissionStatus.choices,
        "submissions_page": page,
    }


def _detail_context(request: HttpRequest, session: RegistrationSession, tab: str, **extra) -> dict:
    can_manage = _can_manage(request.user, session)
    context = {
        "session": session,
        "tab": tab,
        "tabs": [("settings", "Settings"), ("codes", "Access codes"), ("submissions", "Submissions")],
        "progress": registration_progress(session=session),
        "submission_count": Submission.objects.filter(session=session).count(),
        "can_manage": can_manage,
        "transition_buttons": _transition_buttons(session) if can_manage else [],
        "poll_seconds": POLL_SECONDS,
        "register_url": _register_url(request),
    }
    if tab == "settings":
        context.update(_settings_context(session))
    elif tab == "codes":
        context.update(_codes_context(request, session, generate_form=extra.get("generate_form")))
    else:
        context.update(_submissions_context(request, session))
    return context


@login_required
@require_GET
@vary_on_headers("HX-Request")
def session_detail(request: HttpRequest, pk) -> HttpResponse:
    session = _get_session(request, pk)
    tab = request.GET.get("tab") or "settings"
    if tab not in TABS:
        tab = "settings"
    template = "registrations/session_detail.html"
    if wants_partial(request):
        template += "#tab-content"
    return render(request, template, _detail_context(request, session, tab))


@require_GET
@vary_on_headers("HX-Request")
def session_progress(request: HttpRequest, pk) -> HttpResponse:
    """The progress panel: polled by htmx every few seconds; a small full page without htmx."""
    if not request.user.is_authenticated:
        if wants_partial(request):
            # The login expired while the page was open: stop polling (htmx's 286) and leave the panel alone,
            # rather than swapping the login page into it.
            return HttpResponse(status=286, headers={"HX-Reswap": "none"})
        return redirect_to_login(request.get_full_path())
    session = _get_session(request, pk)
    context = {"session": session, "progress": registration_progress(session=session), "poll_seconds": POLL_SECONDS}
    if wants_partial(request):
        return render(request, "registrations/includes/progress_panel.html", context)
    return render(request, "registrations/session_progress.html", context)


@login_required
@require_POST
def session_transition(request: HttpRequest, pk, to: str) -> HttpResponse:
    session = _get_session(request, pk)
    try:
        session = registration_session_transition(
            session=session, to=to, actor=request.user, reason=request.POST.get("reason", "")[:1000]
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"“{session.title}” {TRANSITION_DONE.get(session.status, session.status)}.")
    return redirect(safe_next(request, _detail_url(session)))


# --- access codes ---------------------------------------------------------------------------------------


@login_required
@require_POST
def code_generate(request: HttpRequest, pk) -> HttpResponse:
    session = _get_session(request, pk)
    _require_manage(request.user, session)
    form = CodeGenerateForm(request.POST, session=session)
    if form.is_valid():
        try:
            result = access_codes_generate(session=session, actor=request.user, **form.service_kwargs())
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect(_detail_url(session, "codes"))
        else:
            count = len(result.codes)
            kind = "roster-assigned" if form.cleaned_data["assign_from_class_roster"] else "open"
            messages.success(request, f"Generated {count:,} {kind} code{'s' if count != 1 else ''}.")
            for warning in result.warnings:
                messages.warning(request, warning)
            return redirect(_detail_url(session, "codes", batch=result.print_batch_id, new=1))
    context = _detail_context(request, session, "codes", generate_form=form)
    return render(request, "registrations/session_detail.html", context, status=400)


@login_required
@require_POST
def code_revoke(request: HttpRequest, pk, code_pk) -> HttpResponse:
    session = _get_session(request, pk)
    code = get_object_or_404(AccessCode.objects.filter(session=session), pk=code_pk)
    try:
        code = access_code_revoke(code=code, actor=request.user, reason=request.POST.get("reason", "")[:1000])
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Code {code.display_code} revoked: it can no longer be used.")
    return redirect(safe_next(request, _detail_url(session, "codes")))


@dataclass
class Slip:
    code: AccessCode
    qr_svg: str
    url: str


def _qr_svg(url: str, label: str) -> str:
    qr = segno.make(url, error="m", micro=False)
    return mark_safe(qr.svg_inline(scale=1, border=2, omitsize=True, svgclass="qr", title=label))


def _print_codes(session: RegistrationSession, batch):
    codes = AccessCode.objects.filter(session=session, revoked_at__isnull=True)
    if batch is not None:
        return codes.filter(print_batch=batch)
    now = timezone.now()
    return codes.filter(status=CodeStatus.UNUSED).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


@login_required
@require_GET
def codes_print(request: HttpRequest, pk) -> HttpResponse:
    """Printable slips, 8 per A4 sheet: school, session, code, hint, the /register address and a QR code."""
    session = _get_session(request, pk)
    _require_manage(request.user, session)
    batch = None
    if request.GET.get("batch"):
        try:
            batch = uuid.UUID(request.GET["batch"])
        except ValueError:
            raise Http404("No such print batch.") from None
    codes = _print_codes(session, batch).order_by(F("display_name_hint").asc(), "code")
    page = Paginator(codes, SLIPS_PER_PAGE).get_page(request.GET.get("page"))
    register_url = _register_url(request)
    slips = []
    for code in page.object_list:
        url = f"{register_url}?code={code.code}"
        slips.append(Slip(code=code, qr_svg=_qr_svg(url, f"QR code for {code.display_code}"), url=url))
    sheets = [slips[i : i + SLIPS_PER_SHEET] for i in range(0, len(slips), SLIPS_PER_SHEET)]
    return render(request, "registrations/codes_print.html", {
        "session": session,
        "sheets": sheets,
        "page": page,
        "batch": batch,
        "register_url": register_url,
        "register_display": register_url.split("://", 1)[-1],
    })


@login_required
@require_GET
def codes_export(request: HttpRequest, pk) -> HttpResponse:
    session = _get_session(request, pk)
    _require_manage(request.user, session)
    filter_form = CodeFilterForm(request.GET)
    filters = filter_form.cleaned_data if filter_form.is_valid() else {}
    return access_codes_csv_response(
        session=session, codes=_codes_queryset(session, filters), register_url=_register_url(request)
    )


# --- district-wide progress ------------------------------------------------------------------------------

_DONE = F("progress_submitted") + F("progress_approved") + F("progress_imported")
_REVIEWED = (
    F("progress_submitted") + F("progress_needs_correction") + F("progress_approved") + F("progress_rejected")
    + F("progress_imported")
)
OVERVIEW_SORTS = {
    "school": ("school__name", "title"),
    "session": ("title", "school__name"),
    "mode": ("mode", "school__name"),
    "status": ("status", "school__name"),
    "expected": ("expected_count", "school__name"),
    "codes": ("progress_codes_generated", "school__name"),
    "submitted": ("progress_submitted", "school__name"),
    "corrections": ("progress_needs_correction", "school__name"),
    "approved": ("approved_total", "school__name"),
    "completion": ("completion", "school__name"),
    "approval": ("approval", "school__name"),
}
OVERVIEW_COLUMNS = [
    ("school", "School", ""), ("session", "Session", ""), ("status", "Status", ""),
    ("expected", "Expected", "num"), ("codes", "Codes", "num"),
    ("submitted", "Submitted", "num"), ("corrections", "Corrections", "num"), ("approved", "Approved", "num"),
    ("completion", "Completion", ""), ("approval", "Approval", ""),
]


def _overview_order(sort: str) -> tuple[str, list]:
    key = sort.lstrip("-")
    if key not in OVERVIEW_SORTS:
        key, sort = "school", "school"
    descending = sort.startswith("-")
    order = []
    for i, field in enumerate(OVERVIEW_SORTS[key]):
        expr = F(field)
        order.append(expr.desc(nulls_last=True) if (descending and i == 0) else expr.asc(nulls_last=True))
    return sort, order


def _overview_base(user, filters: dict):
    """The sessions on the progress page: what the user can see, archived ones only when asked for."""
    sessions = _sessions(user)
    if filters.get("status"):
        sessions = sessions.filter(status=filters["status"])
    else:
        sessions = sessions.exclude(status=SessionStatus.ARCHIVED)
    if filters.get("mode"):
        sessions = sessions.filter(mode=filters["mode"])
    if filters.get("school_id"):
        sessions = sessions.filter(school_id=filters["school_id"])
    if filters.get("q"):
        sessions = sessions.filter(Q(title__icontains=filters["q"]) | Q(school__name__icontains=filters["q"]))
    return sessions


@login_required
@require_GET
@vary_on_headers("HX-Request")
def progress_overview(request: HttpRequest) -> HttpResponse:
    """One row per school and session across everything the user can see, sortable by every column."""
    if not has_any_perm(request.user, Perm.REGISTRATIONS_VIEW):
        raise PermissionDenied("Registration progress needs a staff role.")
    filter_form = SessionFilterForm(request.GET, user=request.user)
    filters = filter_form.filters()
    sessions = (
        _overview_base(request.user, filters)
        .select_related("school", "class_division", "grade_level")
        .annotate(**progress_annotations())
    )
    sessions = sessions.annotate(
        approved_total=F("progress_approved") + F("progress_imported"),
        completion=Coalesce(
            Cast(_DONE, FloatField()) * Value(100.0) / NullIf(Cast(F("expected_count"), FloatField()), Value(0.0)),
            Value(0.0),
        ),
        approval=Coalesce(
            Cast(F("progress_approved") + F("progress_imported"), FloatField()) * Value(100.0)
            / NullIf(Cast(_REVIEWED, FloatField()), Value(0.0)),
            Value(0.0),
        ),
    )
    sort, order = _overview_order(request.GET.get("sort", "school"))
    page = Paginator(sessions.order_by(*order), OVERVIEW_PER_PAGE).get_page(request.GET.get("page"))
    # Totals over every matching session, not only this page: one grouped query and one sum.
    counts: Counter = Counter()
    grouped = _overview_base(request.user, filters).order_by().values("district").annotate(**progress_annotations())
    for row in grouped:
        counts.update({k.removeprefix("progress_"): v for k, v in row.items() if k.startswith("progress_")})
    expected = _overview_base(request.user, filters).aggregate(total=Sum("expected_count"))["total"]
    totals = build_progress(expected, counts)
    columns = []
    for key, label, css in OVERVIEW_COLUMNS:
        current = sort.lstrip("-") == key
        descending = current and sort.startswith("-")
        columns.append({
            "key": key, "label": label, "css": css, "current": current, "descending": descending,
            "next_sort": key if (current and descending) or not current else f"-{key}",
            "aria_sort": ("descending" if descending else "ascending") if current else "",
        })
    context = {
        "filter_form": filter_form,
        "page": page,
        "rows": [(s, progress_from_annotated(s)) for s in page.object_list],
        "columns": columns,
        "sort": sort,
        "totals": totals,
        "session_count": page.paginator.count,
        "modes": dict(RegistrationMode.choices),
    }
    template = "registrations/progress_overview.html"
    if wants_partial(request):
        template += "#overview-table"
    return render(request, template, context)
