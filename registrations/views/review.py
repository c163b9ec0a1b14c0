"""Staff pages of the review queue (namespace "review", mounted at /registrations/submissions/).

Thin on purpose: reads go through ``registrations.selectors`` (another district's submission, or a
class the class teacher doesn't teach, is a 404); every action calls one service of
``registrations.services.review`` (or ``roster_import``) (a role too low is a 403; a stale version or an action the status doesn't
allow comes back as a message with a 409; a missing reason as a form error with a 400).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from registrations.choices import SubmissionStatus
from registrations.filtersets import AWAITING_REVIEW, REVIEWABLE
from registrations.forms import (
    ApproveForm,
    BulkApproveForm,
    CodeAttemptFilterForm,
    CorrectionForm,
    RejectForm,
    SubmissionFilterForm,
)
from registrations.models import RegistrationSession, Submission
from registrations.selectors import (
    can_manage,
    can_review,
    can_see_code_attempts,
    class_teacher_division_ids,
    code_attempt_hotspots,
    code_attempt_list,
    form_fields,
    match_person,
    possible_duplicates,
    review_filter_options,
    submission_detail_queryset,
    submission_list,
    submissions_awaiting_import,
)
from registrations.services.review import (
    submission_approve,
    submission_reject,
    submission_request_correction,
    submissions_bulk_approve,
)
from registrations.services.roster_import import submission_import, submissions_import_approved
from registrations.validators import GROUP_TITLES, FormField, default_approval_policy
from rostering.common.errors import ApplicationError
from rostering.common.http import safe_next, wants_partial
from rostering.permissions import Perm, has_any_perm

LIST_TEMPLATE = "registrations/review/submission_list.html"
DETAIL_TEMPLATE = "registrations/review/submission_detail.html"
ATTEMPTS_TEMPLATE = "registrations/review/attempt_list.html"
PER_PAGE = 25
ATTEMPTS_PER_PAGE = 50


def _require_view(user) -> None:
    if not has_any_perm(user, Perm.REGISTRATIONS_VIEW):
        raise PermissionDenied("Your role does not give access to registrations.")


# --- the queue ------------------------------------------------------------------------------------------


@login_required
@require_GET
@vary_on_headers("HX-Request")
def submission_list_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_view(user)
    options = review_filter_options(user=user)
    sessions = list(options["sessions"])
    form = SubmissionFilterForm(request.GET or None, sessions=sessions, classes=options["classes"])
    filters = form.selector_filters()
    page = Paginator(submission_list(user=user, filters=filters), PER_PAGE).get_page(request.GET.get("page"))
    division_ids = class_teacher_division_ids(user) if not user.is_superuser else set()
    rows = [
        {"submission": s, "can_review": s.status in REVIEWABLE and can_review(user, s, division_ids=division_ids)}
        for s in page.object_list
    ]
    session = next((s for s in sessions if str(s.pk) == str(filters["session_id"])), None)
    import_panel = None
    if session is not None and can_manage(user, session):
        import_panel = {
            "session": session,
            "approved": submissions_awaiting_import(session).count(),
        }
    context = {
        "form": form,
        "page_obj": page,
        "rows": rows,
        "any_reviewable": any(r["can_review"] for r in rows),
        "filtered": any(v for k, v in request.GET.items() if k != "page"),
        "awaiting": filters["status"] == AWAITING_REVIEW,
        "import_panel": import_panel,
        "can_see_attempts": can_see_code_attempts(user),
        "current_url": request.get_full_path(),
    }
    template = f"{LIST_TEMPLATE}#results" if wants_partial(request) else LIST_TEMPLATE
    return render(request, template, context)


@login_required
@require_POST
def submission_bulk_approve_view(request: HttpRequest) -> HttpResponse:
    _require_view(request.user)
    back = safe_next(request, reverse("review:submission_list"))
    form = BulkApproveForm(request.POST)
    if not form.is_valid():
        for error in form.non_field_errors():
            messages.error(request, error)
        return HttpResponseRedirect(back)
    if not has_any_perm(request.user, Perm.REGISTRATIONS_REVIEW):
        raise PermissionDenied("Your role does not allow reviewing submissions.")
    result = submissions_bulk_approve(submission_ids=form.cleaned_data["ids"], actor=request.user)
    approved, failed = result["approved"], result["failed"]
    if approved:
        imported = sum(1 for s in approved if s.status == SubmissionStatus.IMPORTED)
        text = f"Approved {len(approved)} submission{'s' if len(approved) != 1 else ''}"
        if imported:
            text += f"; {imported} written to the roster"
        messages.success(request, text + ".")
        failures = [s for s in approved if s.import_error]
        if failures:
            messages.warning(request, f"{len(failures)} could not be imported: open them to see why.")
    for sid, reason in failed.items():
        messages.error(request, f"Not approved ({sid[:8]}…): {reason}")
    return HttpResponseRedirect(back)


@login_required
@require_POST
def session_import_approved_view(request: HttpRequest, session_pk) -> HttpResponse:
    session = get_object_or_404(
        RegistrationSession.objects.for_user(request.user, perm=Perm.REGISTRATIONS_VIEW), pk=session_pk
    )
    result = submissions_import_approved(session=session, actor=request.user)  # 403 below manage
    back = safe_next(request, reverse("review:submission_list") + f"?session={session.pk}&status=approved")
    if result["imported"]:
        messages.success(request, f"Imported {result['imported']} approved submission"
                                  f"{'s' if result['imported'] != 1 else ''} into the roster.")
    if result["failed"]:
        messages.error(request, f"{result['failed']} could not be imported: they stay approved with the reason "
                                "shown on each.")
    if not result["imported"] and not result["failed"]:
        messages.info(request, "There were no approved submissions waiting to be imported.")
    return HttpResponseRedirect(back)


# --- the detail page ------------------------------------------------------------------------------------


@dataclass
class AnswerRow:
    key: str
    label: str
    value: str
    roster: str = ""
    changed: bool = False
    flagged: bool = False
    missing: bool = False
    errors: list[str] = field(default_factory=list)


@dataclass
class AnswerGroup:
    title: str
    rows: list[AnswerRow]


def _display(f: FormField | None, value: Any) -> str:
    if value in (None, "", []):
        return ""
    labels = dict(f.choices) if f is not None else {}
    if isinstance(value, list):
        return ", ".join(labels.get(str(v), str(v)) for v in value)
    if isinstance(value, bool) or (f is not None and f.type == "boolean"):
        return "Yes" if value in (True, "true", "True") else "No"
    if f is not None and f.type == "date":
        try:
            return dt.date.fromisoformat(str(value)).strftime("%-d %b %Y")
        except ValueError:
            return str(value)
    if f is not None and f.type in {"grade_level", "class_division"} and str(value) not in labels:
        return "(no longer on the school's list)"
    return labels.get(str(value), str(value))


def answer_groups(submission: Submission, fields: list[FormField]) -> list[AnswerGroup]:
    """The submitted answers by form group, with the roster snapshot's value beside them (verifications)."""
    payload = submission.payload or {}
    snapshot = submission.access_code.roster_snapshot or {}
    summary = submission.validation_summary or {}
    changed = set(summary.get("changedFields") or [])
    missing = set(summary.get("missing") or [])
    errors = summary.get("errors") or {}
    flagged = set(submission.flagged_fields or [])
    groups: dict[str, list[AnswerRow]] = {}
    for f in fields:
        groups.setdefault(f.group, []).append(AnswerRow(
            key=f.key, label=f.label, value=_display(f, payload.get(f.key)),
            roster=_display(f, snapshot.get(f.key)) if f.key in snapshot else "",
            changed=f.key in changed, flagged=f.key in flagged, missing=f.key in missing,
            errors=list(errors.get(f.key) or []),
        ))
    known = {f.key for f in fields}
    extra = [AnswerRow(key=k, label=k.replace("_", " ").capitalize(), value=_display(None, v))
             for k, v in payload.items() if k not in known]
    if extra:
        groups["other"] = extra
    titles = {**GROUP_TITLES, "other": "Other answers (no longer on the form)"}
    return [AnswerGroup(title=titles.get(key, key.capitalize()), rows=rows) for key, rows in groups.items()]


def _detail_context(request: HttpRequest, submission: Submission, **forms: Any) -> dict[str, Any]:
    user = request.user
    session = submission.session
    fields = form_fields(session)
    labels = {f.key: f.label for f in fields}
    summary = submission.validation_summary or {}
    reviewer = can_review(user, submission)
    reviewable = submission.status in REVIEWABLE
    initial = {"expected_version": submission.version}
    policy = {**default_approval_policy(session.mode), **(session.approval_policy or {})}
    duplicates = possible_duplicates(submission)
    match = None
    if submission.status not in (SubmissionStatus.IMPORTED, SubmissionStatus.REJECTED, SubmissionStatus.CANCELLED):
        match = match_person(submission)
    next_in_queue = (
        submission_list(user=user, filters={"status": AWAITING_REVIEW}).exclude(pk=submission.pk)
        .values_list("pk", flat=True).first()
    )
    return {
        "submission": submission,
        "session": session,
        "groups": answer_groups(submission, fields),
        "show_roster": bool(submission.access_code.roster_snapshot),
        "summary": {
            "missing": [labels.get(k, k) for k in summary.get("missing") or []],
            "errors": [(labels.get(k, k), msgs) for k, msgs in (summary.get("errors") or {}).items()],
            "warnings": summary.get("warnings") or [],
            "changed": [labels.get(k, k) for k in summary.get("changedFields") or []],
        },
        "flagged_labels": [labels.get(k, k) for k in submission.flagged_fields or []],
        "duplicates": duplicates,
        "match": match,
        "history": list(submission.status_changes.all()),
        "can_review": reviewer,
        "show_actions": reviewer and reviewable,
        "can_import": submission.status == SubmissionStatus.APPROVED and can_manage(user, session),
        "policy": policy,
        "approve_form": forms.get("approve_form") or ApproveForm(initial=initial),
        "reject_form": forms.get("reject_form") or RejectForm(initial=initial),
        "correction_form": forms.get("correction_form") or CorrectionForm(initial=initial, fields=fields),
        "open_form": forms.get("open_form", ""),
        "next_in_queue": next_in_queue,
        "queue_url": reverse("review:submission_list"),
    }


def _get_submission(request: HttpRequest, pk) -> Submission:
    return get_object_or_404(submission_detail_queryset(user=request.user), pk=pk)


@login_required
@require_GET
def submission_detail_view(request: HttpRequest, pk) -> HttpResponse:
    submission = _get_submission(request, pk)
    return render(request, DETAIL_TEMPLATE, _detail_context(request, submission))


def _run_action(request: HttpRequest, pk, *, form_name: str, form: Any, run, success: str) -> HttpResponse:
    """Validate the form, call the service; a refusal re-renders the page with the latest state."""
    submission = _get_submission(request, pk)
    if not can_review(request.user, submission):
        raise PermissionDenied("Your role does not allow reviewing this submission.")
    form = form(submission)
    status = 400
    if form.is_valid():
        try:
            result = run(submission, form.cleaned_data)
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
            for key, msgs in errors.items():
                for msg in msgs:
                    form.add_error(key if key in form.fields else None, msg)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            fresh = _get_submission(request, pk)
            return render(request, DETAIL_TEMPLATE, _detail_context(request, fresh), status=exc.status_code)
        else:
            messages.success(request, success.format(name=result.display_name))
            if result.import_error:
                messages.warning(request, f"Approved, but not written to the roster: {result.import_error}")
            return HttpResponseRedirect(safe_next(request, reverse("review:submission_detail", args=[result.pk])))
    if form.errors.get("expected_version"):
        messages.error(request, "The form was missing the version you reviewed. Reload the page and try again.")
    context = _detail_context(request, submission, **{form_name: form, "open_form": form_name})
    return render(request, DETAIL_TEMPLATE, context, status=status)


@login_required
@require_POST
def submission_approve_view(request: HttpRequest, pk) -> HttpResponse:
    return _run_action(
        request, pk, form_name="approve_form", form=lambda s: ApproveForm(request.POST),
        run=lambda s, data: submission_approve(
            submission=s, actor=request.user, expected_version=data["expected_version"], note=data["note"]
        ),
        success="Approved {name}.",
    )


@login_required
@require_POST
def submission_reject_view(request: HttpRequest, pk) -> HttpResponse:
    return _run_action(
        request, pk, form_name="reject_form", form=lambda s: RejectForm(request.POST),
        run=lambda s, data: submission_reject(
            submission=s, actor=request.user, reason=data["reason"], expected_version=data["expected_version"]
        ),
        success="Rejected {name}.",
    )


@login_required
@require_POST
def submission_request_correction_view(request: HttpRequest, pk) -> HttpResponse:
    return _run_action(
        request, pk, form_name="correction_form",
        form=lambda s: CorrectionForm(request.POST, fields=form_fields(s.session)),
        run=lambda s, data: submission_request_correction(
            submission=s, actor=request.user, message=data["message"], flagged_fields=data["flagged_fields"],
            expected_version=data["expected_version"],
        ),
        success="Sent {name}’s form back for correction.",
    )


@login_required
@require_POST
def submission_import_view(request: HttpRequest, pk) -> HttpResponse:
    submission = _get_submission(request, pk)
    if not can_manage(request.user, submission.session):
        raise PermissionDenied("Only staff who manage registrations can import into the roster.")
    try:
        result = submission_import(submission=submission, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return render(request, DETAIL_TEMPLATE, _detail_context(request, _get_submission(request, pk)),
                      status=exc.status_code)
    if result.status == SubmissionStatus.IMPORTED:
        messages.success(request, f"{result.display_name} is now on the roster.")
    else:
        messages.error(request, f"Not imported: {result.import_error}")
    return HttpResponseRedirect(reverse("review:submission_detail", args=[result.pk]))


# --- failed code attempts -------------------------------------------------------------------------------


@login_required
@require_GET
@vary_on_headers("HX-Request")
def attempt_list_view(request: HttpRequest) -> HttpResponse:
    form = CodeAttemptFilterForm(request.GET or None)
    outcome = form.cleaned_data.get("outcome", "") if form.is_bound and form.is_valid() else ""
    attempts = code_attempt_list(user=request.user, outcome=outcome)  # 403 below manage
    page = Paginator(attempts, ATTEMPTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"form": form, "page_obj": page, "filtered": bool(outcome), "queue_url": reverse("review:submission_list")}
    if not wants_partial(request):
        since = timezone.now() - dt.timedelta(hours=24)
        context["hotspots"] = code_attempt_hotspots(code_attempt_list(user=request.user), since=since)
    template = f"{ATTEMPTS_TEMPLATE}#results" if wants_partial(request) else ATTEMPTS_TEMPLATE
    return render(request, template, context)
