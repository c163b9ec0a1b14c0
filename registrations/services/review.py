"""Staff review of submissions: approve (and import, when the session says so), reject, request a correction,
bulk approve; and the session's approval policy applied after a participant's submit."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from registrations.choices import SUBMISSION_TRANSITIONS, RegistrationMode, SubmissionStatus
from registrations.filtersets import REVIEWABLE
from registrations.models import Submission
from registrations.selectors import can_review, form_fields, submissions_for_user
from registrations.services.roster_import import submission_import
from registrations.services.submissions import lock_submission, submission_transition
from registrations.validators import default_approval_policy
from rostering.common.errors import Conflict, InvalidTransition
from rostering.common.transitions import acting_user

S = SubmissionStatus
MAX_BULK = 200  # submissions approved in one bulk action


def _require_review(actor, submission: Submission) -> None:
    if not can_review(actor, submission):
        raise PermissionDenied("Your role does not allow reviewing this submission.")


def _check_expected_version(submission: Submission, expected_version) -> None:
    if expected_version is None:
        return
    if int(expected_version) != submission.version:
        raise Conflict(
            "This submission changed since you opened it (another reviewer or the participant acted). Reload it.",
            code="stale_version", extra={"currentVersion": submission.version, "status": submission.status},
        )



def _policy(submission: Submission) -> dict[str, Any]:
    return {**default_approval_policy(submission.session.mode), **(submission.session.approval_policy or {})}


def apply_approval_policy(*, submission: Submission) -> Submission:
    """After a submit: auto-approve when the session's policy says so (in the submit's transaction)."""
    policy = _policy(submission)
    reason = ""
    if policy["review"] == "auto_approve":
        reason = "Approved automatically (session policy)."
    elif (
        policy["autoApproveUnchangedVerifications"]
        and submission.session.mode == RegistrationMode.STUDENT_VERIFICATION
        and submission.access_code.roster_snapshot
        and not (submission.validation_summary or {}).get("changedFields")
    ):
        reason = "Approved automatically: the participant confirmed the roster details unchanged."
    if not reason:
        return submission
    return _approve(submission=submission, actor=None, reason=reason, policy=policy)


def _approve(*, submission: Submission, actor, reason: str, policy: dict[str, Any]) -> Submission:
    """``submission`` is locked (with its code) by the caller."""
    submission = submission_transition(
        submission=submission, to=S.APPROVED, actor=actor, reason=reason, code=submission.access_code,
        updates={"reviewed_by": acting_user(actor), "reviewed_at": timezone.now(), "review_reason": reason},
    )
    if policy["importOnApproval"]:
        submission = submission_import(submission=submission, actor=actor, locked=True)
    return submission


@transaction.atomic
def submission_approve(*, submission: Submission, actor, expected_version=None, note: str = "") -> Submission:
    _require_review(actor, submission)
    locked = lock_submission(submission.pk, "session")
    _check_expected_version(locked, expected_version)
    if locked.status not in REVIEWABLE:
        raise InvalidTransition(current=locked.status, target=S.APPROVED,
                                allowed=SUBMISSION_TRANSITIONS[locked.status], noun="submission")
    return _approve(submission=locked, actor=actor, reason=note, policy=_policy(locked))


@transaction.atomic
def submission_reject(*, submission: Submission, actor, reason: str = "", expected_version=None) -> Submission:
    _require_review(actor, submission)
    locked = lock_submission(submission.pk, "session")
    _check_expected_version(locked, expected_version)
    reason = (reason or "").strip()
    if _policy(locked)["requireRejectReason"] and not reason:
        raise ValidationError({"reason": "Give a reason for the rejection."})
    return submission_transition(
        submission=locked, to=S.REJECTED, actor=actor, reason=reason, code=locked.access_code,
        updates={"reviewed_by": actor, "reviewed_at": timezone.now(), "review_reason": reason},
    )


@transaction.atomic
def submission_request_correction(*, submission: Submission, actor, message: str = "",
                                  flagged_fields: list[str] | None = None, expected_version=None) -> Submission:
    """Send the form back to the participant with a message and the fields to fix."""
    _require_review(actor, submission)
    locked = lock_submission(submission.pk, "session")
    _check_expected_version(locked, expected_version)
    message = (message or "").strip()
    if _policy(locked)["requireCorrectionMessage"] and not message:
        raise ValidationError({"message": "Tell the participant what to correct."})
    if len(message) > 2000:
        raise ValidationError({"message": "At most 2,000 characters."})
    flagged = list(dict.fromkeys(flagged_fields or []))
    known = {f.key for f in form_fields(locked.session)}
    unknown = [f for f in flagged if f not in known]
    if unknown:
        raise ValidationError({"flagged_fields": f"Not fields of this form: {', '.join(map(str, unknown[:5]))}."})
    return submission_transition(
        submission=locked, to=S.NEEDS_CORRECTION, actor=actor, reason=message, code=locked.access_code,
        updates={"correction_message": message, "flagged_fields": flagged, "reviewed_by": actor,
                 "reviewed_at": timezone.now()},
    )


def submissions_bulk_approve(*, submission_ids: list, actor) -> dict[str, Any]:
    """Approve many; each on its own (one refusal doesn't undo the others)."""
    approved, failed = [], {}
    visible = {s.pk: s for s in submissions_for_user(actor).filter(pk__in=submission_ids).select_related("session")}
    for sid in submission_ids:
        submission = visible.get(sid)
        if submission is None:
            failed[str(sid)] = "Not found."
            continue
        try:
            approved.append(submission_approve(submission=submission, actor=actor))
        except (Conflict, ValidationError, PermissionDenied) as exc:
            failed[str(sid)] = getattr(exc, "message", None) or "; ".join(getattr(exc, "messages", [str(exc)]))
    return {"approved": approved, "failed": failed}


# --- import into the roster ---------------------------------------------------------------------------
