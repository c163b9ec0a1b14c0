"""Staff pages of registration sessions: the list, New Session and edit forms, the detail page with its tabs
(settings, access codes, submissions), the live progress panel and the lifecycle buttons.

Views parse input and call one service or selector. Sessions come from ``selectors.registration_session_detail_queryset``
(another district's or school's session is a 404); a role that may look but not manage gets a 403 (and the
buttons are not shown to it).
"""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from registrations.choices import SESSION_TRANSITIONS, SessionStatus, SubmissionStatus
from registrations.forms import (
    GROUP_LABELS,
    CodeFilterForm,
    CodeGenerateForm,
    SessionFilterForm,
    SessionForm,
    apply_service_errors,
)
from registrations.models import RegistrationSession
from registrations.selectors import (
    access_code_batches,
    access_code_list,
    active_code_generations,
    attach_progress,
    can_manage,
    people_without_code,
    progress_from_annotated,
    registration_progress,
    registration_session_detail_queryset,
    registration_session_list,
    session_history,
    submission_list,
)
from registrations.services.sessions import (
    registration_session_create,
    registration_session_transition,
    registration_session_update,
)
from registrations.validators import CATALOGUE, CATALOGUE_BY_KEY
from rostering.common.errors import ApplicationError
from rostering.common.http import safe_next, wants_partial
from rostering.context_processors import SESSION_SCHOOL_KEY
from rostering.permissions import Perm, has_any_perm

REGISTER_PATH = "/register"
SESSIONS_PER_PAGE = 25
CODES_PER_PAGE = 50
SUBMISSIONS_PER_PAGE = 50
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



def get_session(request: HttpRequest, pk) -> RegistrationSession:
    return get_object_or_404(registration_session_detail_queryset(user=request.user), pk=pk)


def require_manage(user, session: RegistrationSession) -> None:
    if not can_manage(user, session):
        raise PermissionDenied("Your role can look at this session but not change it.")


def register_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(REGISTER_PATH)


def detail_url(session: RegistrationSession, tab: str = "", **params) -> str:
    url = reverse("registrations:session_detail", args=[session.pk])
    query = {"tab": tab, **params} if tab else params
    if query:
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
                return redirect(detail_url(session, "codes"))
    else:
        initial = {k: request.GET[k] for k in ("mode", "school") if request.GET.get(k)}
        if "school" not in initial and request.session.get(SESSION_SCHOOL_KEY):
            initial["school"] = request.session[SESSION_SCHOOL_KEY]
        form = SessionForm(user=request.user, initial=initial, refresh_url=refresh_url)
    return render(request, "registrations/session_form.html", {"form": form, "creating": True})


@login_required
@require_http_methods(["GET", "POST"])
def session_edit(request: HttpRequest, pk) -> HttpResponse:
    session = get_session(request, pk)
    require_manage(request.user, session)
    form = SessionForm(request.POST or None, user=request.user, instance=session)
    if request.method == "POST":
        if form.read_only:
            messages.error(request, f"A {session.get_status_display().lower()} session cannot be edited.")
            return redirect(detail_url(session))
        if form.is_valid():
            try:
                registration_session_update(actor=request.user, session=session, data=form.service_data())
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, "Session settings saved.")
                return redirect(detail_url(session, "settings"))
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
    history = session_history(session)
    return {
        "required_rows": rows,
        "required_counts": Counter(r["state"] for r in rows),
        "custom_questions": (session.required_fields or {}).get("custom", []),
        "unknown_fields": unknown,
        "approval": session.approval_policy or {},
        "history": history,
    }



def codes_context(request: HttpRequest, session: RegistrationSession, *, generate_form=None) -> dict:
    filter_form = CodeFilterForm(request.GET)
    filters = filter_form.filters()
    codes = access_code_list(session=session, filters=filters).order_by(
        "-created_at", F("display_name_hint").asc(), "code"
    )
    page = Paginator(codes, CODES_PER_PAGE).get_page(request.GET.get("page"))
    manage = can_manage(request.user, session)
    context = {
        "code_filter_form": filter_form,
        "code_filters": filter_form.cleaned_data if filter_form.is_valid() else {},
        "codes_page": page,
        "batches": access_code_batches(session=session),
        "new_batch": str(filters.get("print_batch") or "") if request.GET.get("new") else "",
        "generate_form": generate_form or CodeGenerateForm(session=session),
        "generation_allowed": session.status not in (SessionStatus.CLOSED, SessionStatus.ARCHIVED),
    }
    if manage and session.roster_policy != "open_with_code" and context["generation_allowed"]:
        context["people_without_code"] = people_without_code(session).count()
    return context


def _submissions_context(request: HttpRequest, session: RegistrationSession) -> dict:
    # The review queue's scope (class teachers: their own classes), so every row listed here opens.
    status = request.GET.get("status", "")
    if status not in SubmissionStatus.values:
        status = ""
    submissions = submission_list(user=request.user, filters={"session_id": session.pk, "status": status})
    page = Paginator(submissions, SUBMISSIONS_PER_PAGE).get_page(request.GET.get("page"))
    return {
        "submission_status": status,
        "submission_statuses": SubmissionStatus.choices,
        "submissions_page": page,
    }


def _counters_context(request: HttpRequest, session: RegistrationSession) -> dict:
    """What the progress panel shows (and refreshes every few seconds): the counters, the tab counters and
    the background code generations under way."""
    return {
        "session": session,
        "progress": registration_progress(session=session),
        "submission_count": submission_list(user=request.user, filters={"session_id": session.pk}).count(),
        "generations": active_code_generations(session=session),
        "poll_seconds": POLL_SECONDS,
    }


def detail_context(request: HttpRequest, session: RegistrationSession, tab: str, **extra) -> dict:
    manage = can_manage(request.user, session)
    context = {
        **_counters_context(request, session),
        "tab": tab,
        "tabs": [("settings", "Settings"), ("codes", "Access codes"), ("submissions", "Submissions")],
        "can_manage": manage,
        "transition_buttons": _transition_buttons(session) if manage else [],
        "register_url": register_url(request),
    }
    if tab == "settings":
        context.update(_settings_context(session))
    elif tab == "codes":
        context.update(codes_context(request, session, generate_form=extra.get("generate_form")))
    else:
        context.update(_submissions_context(request, session))
    return context


@login_required
@require_GET
@vary_on_headers("HX-Request")
def session_detail(request: HttpRequest, pk) -> HttpResponse:
    session = get_session(request, pk)
    tab = request.GET.get("tab") or "settings"
    if tab not in TABS:
        tab = "settings"
    template = "registrations/session_detail.html"
    if wants_partial(request):
        template += "#tab-content"
    return render(request, template, detail_context(request, session, tab))


@require_GET
@vary_on_headers("HX-Request")
def session_progress(request: HttpRequest, pk) -> HttpResponse:
    """The progress panel: polled by htmx every few seconds (with the tab counters, out of band); a small full
    page without htmx."""
    if not request.user.is_authenticated:
        if wants_partial(request):
            # The login expired while the page was open: stop polling (htmx's 286) and leave the panel alone,
            # rather than swapping the login page into it.
            return HttpResponse(status=286, headers={"HX-Reswap": "none"})
        return redirect_to_login(request.get_full_path())
    session = get_session(request, pk)
    context = _counters_context(request, session)
    if wants_partial(request):
        # On the session's own page the answer also refreshes the tab counters (out of band).
        on_detail = reverse("registrations:session_detail", args=[session.pk]) in request.headers.get("HX-Current-URL", "")
        return render(request, "registrations/includes/progress_panel.html", {**context, "oob_counters": on_detail})
    return render(request, "registrations/session_progress.html", context)


@login_required
@require_POST
def session_transition(request: HttpRequest, pk, to: str) -> HttpResponse:
    session = get_session(request, pk)
    try:
        session = registration_session_transition(
            session=session, to=to, actor=request.user, reason=request.POST.get("reason", "")[:1000]
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"“{session.title}” {TRANSITION_DONE.get(session.status, session.status)}.")
    return redirect(safe_next(request, detail_url(session)))

