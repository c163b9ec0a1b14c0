"""A submission's status: the one place it changes, with its access code following it."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from django.db import transaction

from registrations.choices import CODE_STATUS_FOR_SUBMISSION, SUBMISSION_TRANSITIONS
from registrations.models import AccessCode, Submission, SubmissionStatusChange
from registrations.services.codes import access_code_transition
from rostering.common.transitions import transition


def lock_submission(pk, *related: str) -> Submission:
    """Lock a submission for a change: its access code first, then the row itself.

    Every writer locks in this order (the participant services lock the code too), so a reviewer and a
    participant acting at once queue up instead of deadlocking. ``of=("self",)``: PostgreSQL refuses
    FOR UPDATE on the nullable side of an outer join (``class_division``), and related rows need no lock.
    The locked code is set as ``submission.access_code``.
    """
    code = AccessCode.objects.select_for_update(of=("self",)).get(submission__pk=pk)
    qs = Submission.objects.select_for_update(of=("self",))
    submission = (qs.select_related(*related) if related else qs).get(pk=pk)
    submission.access_code = code
    return submission


def submission_transition(*, submission: Submission, to: str, actor, reason: str = "",
                          updates: dict[str, Any] | None = None, code: AccessCode | None = None) -> Submission:
    """The one place a submission's status changes: the generic transition (allowed check, ``update_fields``
    save with the version bumped, history row), then its access code's own transition to the mirrored status.

    ``code``: the submission's access code when the caller holds its lock (and read ``submission`` under it);
    otherwise both are locked here.
    """
    with nullcontext() if transaction.get_connection().in_atomic_block else transaction.atomic():
        if code is None:
            submission = lock_submission(submission.pk)
            code = submission.access_code
        submission = transition(
            obj=submission, to=to, actor=actor, allowed=SUBMISSION_TRANSITIONS, history=SubmissionStatusChange,
            reason=reason, updates=updates, locked=True, noun="submission", version_field="version",
        )
        mirror = CODE_STATUS_FOR_SUBMISSION[to]
        if code.status != mirror:
            access_code_transition(code=code, to=mirror, actor=actor, reason=reason, locked=True)
        submission.access_code = code
    return submission
