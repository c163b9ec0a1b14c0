"""The public /register pages: code → form (autosaved) → review → submit → status.

No account: a participant proves who they are with an access code. ``access_code_validate`` (rate-limited,
one generic error) returns a signed registration token bound to the code; the pages keep it in the Django
session (the key is rotated at that moment) and every later page turns it back into the code with
``access_code_from_token``. While the participant is active the pages renew the token every few minutes,
so only an hour of inactivity ends the visit. Everything else is the participant services:
``submission_save_draft`` (optimistic ``version``, placement lock), ``submission_submit``,
``participant_status``. The JSON API (``api.py``) calls the same ones.

htmx: the form autosaves to ``register:save``; the answer is a small status fragment plus out-of-band
updates of the hidden ``version`` and of each field's messages. htmx only swaps 2xx answers, so for an
htmx request a refused save (stale tab, closed session, bad answer) is a 200 fragment that says so; the
same refusal without htmx is a full page with its 4xx status.
"""

from __future__ import annotations

import time
from functools import wraps

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from registrations.choices import SessionStatus, SubmissionStatus
from registrations.models import AccessCode, Submission
from registrations.public.common import client_ip, device_name, prefill_for
from registrations.public.forms import CodeEntryForm, field_views, grouped, payload_from_post
from registrations.selectors import form_fields, selection_context
from registrations.services.participation import (
    EDITABLE,
    NextStep,
    SessionNotOpen,
    access_code_from_token,
    access_code_validate,
    make_token,
    participant_status,
    submission_of,
    submission_save_draft,
    submission_submit,
)
from rostering.common.errors import ApplicationError, Conflict, RateLimited, Unauthorized
from rostering.common.http import wants_partial
from rostering.middleware import remember_district_zone

SESSION_TOKEN = "register.token"
SESSION_CODE = "register.code_id"
SESSION_TOKEN_AT = "register.token_at"
TOKEN_REFRESH_AFTER = 300  # seconds; the token itself lives an hour (participation.TOKEN_MAX_AGE)

STEP_LABELS = ("Code", "Details", "Review", "Done")
STALE_MESSAGE = (
    "Not saved: these answers were changed in another tab or on another device since this page was opened. "
    "Reload to see the latest answers, then make your change again."
)


# --- helpers ------------------------------------------------------------------------------------------


def _steps(current: int) -> list[dict]:
    return [
        {"number": i, "label": label, "current": i == current, "done": i < current}
        for i, label in enumerate(STEP_LABELS, start=1)
    ]


def _remember(request, validation) -> None:
    request.session.cycle_key()
    request.session[SESSION_TOKEN] = validation.token
    request.session[SESSION_CODE] = str(validation.access_code.pk)
    request.session[SESSION_TOKEN_AT] = time.time()
    remember_district_zone(request, validation.access_code.session.district)  # times in the school's zone


def _forget(request) -> None:
    for key in (SESSION_TOKEN, SESSION_CODE, SESSION_TOKEN_AT):
        request.session.pop(key, None)


def _current_code(request) -> AccessCode:
    """The access code this browser session holds a token for (Unauthorized if none, expired or revoked)."""
    access = access_code_from_token(request.session.get(SESSION_TOKEN, ""))
    if str(access.pk) != request.session.get(SESSION_CODE):
        raise Unauthorized("This registration link is not valid. Enter your code again.", code="token_invalid")
    if time.time() - float(request.session.get(SESSION_TOKEN_AT, 0)) > TOKEN_REFRESH_AFTER:
        request.session[SESSION_TOKEN] = make_token(access)
        request.session[SESSION_TOKEN_AT] = time.time()
    return access


def _submission(access: AccessCode) -> Submission | None:
    return submission_of(access)


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {key: [str(m) for m in msgs] for key, msgs in exc.message_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


def _code_page(request, *, form=None, alert=None, status=200, current=None) -> HttpResponse:
    return render(
        request,
        "registration/code.html",
        {"form": form or CodeEntryForm(), "alert": alert, "current": current, "steps": _steps(1)},
        status=status,
    )


def _token_problem(request, exc: Unauthorized) -> HttpResponse:
    """The token is missing, expired, forged or its code was revoked: back to code entry, kindly."""
    _forget(request)
    if wants_partial(request):
        return render(request, "registration/form.html#save-status",
                      {"save_error": exc.message, "save_relogin": True})
    if exc.code == "token_missing":
        messages.info(request, "Enter your access code to continue.")
        return redirect("register:code")
    return _code_page(request, alert={"level": "warning", "text": exc.message}, status=exc.status_code)


def participant_page(view):
    """Resolve the participant's access code from the session token, or answer with code entry."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            access = _current_code(request)
        except Unauthorized as exc:
            return _token_problem(request, exc)
        try:
            return view(request, access, *args, **kwargs)
        except Unauthorized as exc:  # the code was revoked or expired while the participant was busy
            return _token_problem(request, exc)

    return never_cache(wrapper)


def _not_open(request, *, message: str, session=None, session_status: str = "", has_answers=False):
    return render(
        request,
        "registration/not_open.html",
        {
            "message": message,
            "session": session,
            "session_status": session_status or (session.status if session else ""),
            "has_answers": has_answers,
            "steps": _steps(1),
        },
        status=409,
    )


def _page_context(access: AccessCode, submission: Submission | None, *, values=None, errors=None,
                  use_summary_errors=True) -> dict:
    session = access.session
    context = selection_context(session)
    fields = form_fields(session, context)
    summary = (submission.validation_summary or {}) if submission else {}
    if values is None:
        values = dict(submission.payload) if submission else prefill_for(access, fields, context)
    if errors is None:
        errors = summary.get("errors", {}) if use_summary_errors else {}
    flagged = (submission.flagged_fields or []) if submission and submission.status == SubmissionStatus.NEEDS_CORRECTION else []
    views = field_views(
        fields, context, values, errors=errors, changed=summary.get("changedFields", []), flagged=flagged,
        snapshot=access.roster_snapshot,
    )
    return {
        "access": access,
        "session": session,
        "submission": submission,
        "fields": views,
        "groups": grouped(views),
        "flagged": [v for v in views if v.flagged],
        "summary": summary,
    }


def _render_form(request, access, submission, *, values=None, errors=None, alert=None, status=200,
                 version=None):
    ctx = _page_context(access, submission, values=values, errors=errors)
    problems = []
    if errors:
        labels = {v.key: v.label for v in ctx["fields"]}
        problems = [
            {"key": key if key in labels else "", "label": labels.get(key, ""), "text": " ".join(msgs)}
            for key, msgs in errors.items()
        ]
    ctx.update({
        "alert": alert,
        "problems": problems,
        "version": version if version is not None else (submission.version if submission else ""),
        "steps": _steps(2),
        "verification": access.session.mode == "student_verification",
    })
    return render(request, "registration/form.html", ctx, status=status)


# --- code entry ---------------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def code_entry(request):
    """Step 1: the access code (from the slip, or prefilled from the QR code's ?code=) and a school code."""
    current = None
    if request.session.get(SESSION_TOKEN):
        try:
            current = _current_code(request)
        except Unauthorized:
            _forget(request)
    if request.method == "GET":
        form = CodeEntryForm(initial={
            "code": request.GET.get("code", "")[:60], "school_code": request.GET.get("school", "")[:32],
        })
        return _code_page(request, form=form, current=current)

    form = CodeEntryForm(request.POST)
    if not form.is_valid():
        return _code_page(request, form=form, status=400, current=current)
    try:
        validation = access_code_validate(
            code=form.cleaned_data["code"], school_code=form.cleaned_data["school_code"], ip=client_ip(request),
            device_name=device_name(request),
        )
    except RateLimited as exc:
        minutes = max(1, -(-exc.retry_after // 60))
        alert = {"level": "error", "text": f"{exc.message} You can try again in about {minutes} minute{'s' if minutes > 1 else ''}."}
        response = _code_page(request, form=form, alert=alert, status=429, current=current)
        response["Retry-After"] = str(exc.retry_after)
        return response
    except SessionNotOpen as exc:
        return _not_open(request, message=exc.message, session_status=exc.extra.get("sessionStatus", ""))
    except ApplicationError as exc:
        return _code_page(request, form=form, alert={"level": "error", "text": exc.message}, status=400,
                          current=current)
    _remember(request, validation)
    if validation.next_step == NextStep.COMPLETE_FORM:
        if Submission.objects.filter(access_code=validation.access_code).exists():
            messages.info(request, "Welcome back: your saved answers are below.")
        return redirect("register:form")
    return redirect("register:status")


# --- the form, autosave -------------------------------------------------------------------------------


@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
@participant_page
def form_page(request, access):
    """Step 2: the questions of the session's mode. GET shows them; POST saves (no-JS buttons, htmx)."""
    submission = _submission(access)
    if submission is not None and submission.status not in EDITABLE:
        return redirect("register:status")
    if request.method == "POST":
        return _save(request, access, submission)
    session = access.session
    if session.status != SessionStatus.OPEN:
        return _not_open(request, message=SessionNotOpen(session).message, session=session,
                         has_answers=submission is not None)
    return _render_form(request, access, submission)


@vary_on_headers("HX-Request")
@require_http_methods(["POST"])
@participant_page
def save(request, access):
    """The autosave endpoint (htmx, on every change); without JavaScript it saves and shows the form."""
    return _save(request, access, _submission(access))


def _save(request, access: AccessCode, submission: Submission | None) -> HttpResponse:
    htmx = wants_partial(request)
    if submission is not None and submission.status not in EDITABLE:
        return HttpResponseClientRedirect(reverse("register:status")) if htmx else redirect("register:status")
    action = request.POST.get("action", "save")
    fields = form_fields(access.session)
    payload = payload_from_post(fields, request.POST)
    posted_version = request.POST.get("version") or None
    try:
        saved = submission_save_draft(
            access_code_id=access.pk, payload=payload, version=posted_version, device_name=device_name(request),
        )
    except SessionNotOpen as exc:
        if htmx:
            return render(request, "registration/form.html#save-status", {"save_error": f"Not saved. {exc.message}"})
        return _not_open(request, message=exc.message, session=access.session, has_answers=submission is not None)
    except Conflict as exc:
        if exc.code != "stale_version":  # submitted meanwhile (another tab): nothing left to edit here
            return HttpResponseClientRedirect(reverse("register:status")) if htmx else redirect("register:status")
        return _stale(request, access, submission, payload, posted_version)
    except ValidationError as exc:
        errors = _errors(exc)
        if "version" in errors:  # a tab that never saw the draft another tab started
            return _stale(request, access, submission, payload, posted_version)
        if htmx:
            ctx = _page_context(access, submission, values=payload, errors=errors)
            return render(request, "registration/form.html#autosave-response", {
                "save_error": "Not saved: " + " ".join(m for msgs in errors.values() for m in msgs),
                "oob": True,
                "oob_fields": [v for v in ctx["fields"] if v.key in errors],
            })
        return _render_form(request, access, submission, values=payload, errors=errors, status=400,
                            alert={"level": "error", "text": "Not saved: please correct the answers marked below."},
                            version=posted_version or "")
    if action == "review":
        return HttpResponseClientRedirect(reverse("register:review")) if htmx else redirect("register:review")
    if htmx:
        ctx = _page_context(access, saved)
        return render(request, "registration/form.html#autosave-response", {
            "saved_at": timezone.now(), "version": saved.version, "oob": True, "oob_fields": ctx["fields"],
        })
    messages.success(request, "Your answers are saved. You can come back with the same code until the deadline.")
    return redirect("register:form")


def _stale(request, access, submission, payload, posted_version) -> HttpResponse:
    if wants_partial(request):
        return render(request, "registration/form.html#save-status", {"save_error": STALE_MESSAGE, "save_reload": True})
    return _render_form(
        request, access, submission, values=payload, status=409, version=posted_version or "",
        alert={"level": "error", "text": STALE_MESSAGE, "reload": True},
    )


# --- review and submit ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@participant_page
def review(request, access):
    """Step 3: everything that will be sent, grouped, with what is still missing; then submit."""
    submission = _submission(access)
    if submission is None:
        messages.info(request, "Fill in the form first: your answers are saved as you go.")
        return redirect("register:form")
    if submission.status not in EDITABLE:
        return redirect("register:status")
    session = access.session
    if session.status != SessionStatus.OPEN:
        return _not_open(request, message=SessionNotOpen(session).message, session=session, has_answers=True)
    if request.method == "POST":
        try:
            submission_submit(access_code_id=access.pk, version=request.POST.get("version") or None)
        except SessionNotOpen as exc:
            return _not_open(request, message=exc.message, session=session, has_answers=True)
        except Conflict as exc:
            if exc.code == "stale_version":
                return _render_review(request, access, _submission(access), status=409,
                                      alert={"level": "error", "reload": True, "text": (
                                          "Not sent: your answers were changed in another tab or on another device "
                                          "since this page was opened. Reload to check them, then submit again.")})
            return redirect("register:status")
        except ValidationError as exc:
            errors = _errors(exc)
            if "version" in errors:
                return _render_review(request, access, submission, status=409, alert={
                    "level": "error", "reload": True, "text": "Not sent: reload this page and submit again."})
            return _render_form(request, access, submission, errors=errors, status=400, alert={
                "level": "error", "text": "Not sent yet: some answers are missing or need a correction."})
        messages.success(request, "Thank you! Your registration has been sent to the school.")
        return redirect("register:status")
    return _render_review(request, access, submission)


def _render_review(request, access, submission, *, alert=None, status=200) -> HttpResponse:
    ctx = _page_context(access, submission)
    summary = ctx["summary"]
    by_key = {v.key: v for v in ctx["fields"]}
    warnings = [
        {"key": key, "text": f"{by_key[key].label} is required."} for key in summary.get("missing", []) if key in by_key
    ] + [
        {"key": key, "text": f"{by_key[key].label}: {' '.join(msgs)}"}
        for key, msgs in summary.get("errors", {}).items() if key in by_key
    ]
    ctx.update({"warnings": warnings, "alert": alert, "steps": _steps(3)})
    return render(request, "registration/review.html", ctx, status=status)


# --- status, leave -----------------------------------------------------------------------------------


@require_http_methods(["GET"])
@participant_page
def status(request, access):
    """Step 4: where the registration stands (read-only once sent), corrections, the reason of a rejection."""
    info = participant_status(access)
    submission = _submission(access)
    ctx = _page_context(access, submission, use_summary_errors=False) if submission else {
        "access": access, "session": access.session, "submission": None, "groups": [], "flagged": [],
    }
    sent = submission is not None and submission.status not in (SubmissionStatus.DRAFT,)
    ctx.update({"info": info, "steps": _steps(4 if sent else 2), "sent": sent})
    return render(request, "registration/status.html", ctx)


@never_cache
@require_http_methods(["GET", "POST"])
def leave(request):
    """Forget the code on this device (shared phones); the answers stay saved. GET only goes back."""
    if request.method == "GET":
        return redirect("register:code")
    had_code = bool(request.session.get(SESSION_TOKEN))
    _forget(request)
    request.session.cycle_key()
    if had_code:
        messages.info(request, "You have left. Your answers are kept: enter your code again to come back.")
    return redirect("register:code")
