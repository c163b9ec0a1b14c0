"""The participant's side: code validation (rate-limited), the registration token, drafts and submits.

The public /register pages and the public JSON API call exactly these functions.

Locking: every write to a submission first locks its access code (``SELECT … FOR UPDATE``): the participant
services here and the review services alike. The code lock serialises every writer of the submission, so
the submission itself is then read with a plain query. A submit costs what it must: the code lock, the
submission, the lists its form needs, one ``UPDATE`` of the submission, one of the code and their two history
rows — the answers are checked once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from registrations import ratelimit
from registrations.choices import CODE_STATUS_FOR_SUBMISSION, CodeStatus, SessionStatus, SubmissionStatus
from registrations.codes import normalize_code
from registrations.models import AccessCode, CodeAttempt, Submission, SubmissionStatusChange
from registrations.selectors import SelectionContext, form_fields, selection_context
from registrations.services.codes import access_code_transition
from registrations.services.review import apply_approval_policy, submission_transition
from registrations.validators import changed_fields, check_payload, enforce_placement
from rostering.common.errors import ApplicationError, ChangedMeanwhile, Conflict, RateLimited, Unauthorized
from rostering.common.jsonio import clean_json_fields
from rostering.common.prepared import PreparedGet
from rostering.common.transitions import compare_and_set, record

TOKEN_SALT = "registrations.participant-token.v1"
TOKEN_MAX_AGE = 3600
GENERIC_CODE_ERROR = (
    "We could not accept that code. Check that you typed it exactly as printed (and your school code, if you "
    "gave one), or ask your school for help."
)
EDITABLE = (SubmissionStatus.DRAFT, SubmissionStatus.NEEDS_CORRECTION)


class NextStep:
    COMPLETE_FORM = "complete_form"
    CORRECTIONS_REQUIRED = "corrections_required"
    READ_ONLY_STATUS = "read_only_status"


def session_closed_message(session) -> str:
    title = session.title
    if session.status == SessionStatus.DRAFT:
        return f"Registration for “{title}” has not opened yet. Your code will work as soon as the school opens it."
    if session.status == SessionStatus.PAUSED:
        return (
            f"Registration for “{title}” is paused for now. Nothing you entered is lost: come back later with "
            "the same code."
        )
    return f"Registration for “{title}” has closed. Please contact the school if you still need to register."


class SessionNotOpen(Conflict):
    default_code = "session_not_open"

    def __init__(self, session):
        super().__init__(session_closed_message(session), extra={"sessionStatus": session.status})


def next_step_for(code: AccessCode, submission: Submission | None) -> str:
    if submission is None or submission.status == SubmissionStatus.DRAFT:
        return NextStep.COMPLETE_FORM
    if submission.status == SubmissionStatus.NEEDS_CORRECTION:
        return NextStep.CORRECTIONS_REQUIRED
    return NextStep.READ_ONLY_STATUS


@dataclass
class Validation:
    access_code: AccessCode
    token: str
    expires_in: int
    next_step: str
    context: SelectionContext


def make_token(code: AccessCode) -> str:
    return signing.dumps({"c": str(code.pk), "s": str(code.session_id)}, salt=TOKEN_SALT, compress=True)


def _log_attempt(outcome: str, *, ip: str, code: str, school_code: str, access: AccessCode | None = None) -> None:
    """Log a failed attempt for staff: tied to the code's district when the code exists (revoked, expired,
    wrong school), else to the district of the typed school code when only one district has it."""
    district_id = access.district_id if access else None
    if district_id is None and school_code:
        from rostering.models import School

        districts = list(School.objects.filter(code=school_code).values_list("district_id", flat=True)[:2])
        district_id = districts[0] if len(districts) == 1 else None
    CodeAttempt.objects.create(
        outcome=outcome, ip_address=ip or None, code_hint=(code[:3] + "…") if code else "",
        school_code=school_code[:32], district_id=district_id,
        session_id=access.session_id if access else None,
    )


def access_code_validate(*, code: str, school_code: str = "", ip: str, device_name: str = "") -> Validation:
    """Check a typed code; on success return a token bound to it and where the participant goes next.

    Unknown, revoked and expired codes, and a school code that doesn't match, all get the same answer.
    """
    normalized = normalize_code(code)
    school_code = (school_code or "").strip().upper()[:32]
    try:
        ratelimit.check(ip=ip, code=normalized, school_code=school_code)
    except ApplicationError:
        _log_attempt(CodeAttempt.Outcome.THROTTLED, ip=ip, code=normalized, school_code=school_code)
        raise
    access = None
    if 4 <= len(normalized) <= 40:
        access = (
            AccessCode.objects.select_related("session__school", "school")
            .filter(code=normalized)
            .first()
        )
    if access is None or not access.is_live or (school_code and access.school.code.upper() != school_code):
        _log_attempt(CodeAttempt.Outcome.INVALID, ip=ip, code=normalized, school_code=school_code, access=access)
        lock = ratelimit.record_failure(ip=ip, code=normalized, school_code=school_code)
        if lock:
            raise RateLimited(
                "Too many wrong codes. Please wait a while and try again, or ask your school for help.",
                retry_after=lock,
            )
        raise ApplicationError(GENERIC_CODE_ERROR, code="invalid_code")
    session = access.session
    if session.status != SessionStatus.OPEN:
        _log_attempt(CodeAttempt.Outcome.SESSION_NOT_OPEN, ip=ip, code=normalized, school_code=school_code,
                     access=access)
        raise SessionNotOpen(session)
    ratelimit.record_success(ip=ip)
    submission = submission_of(access)
    if device_name and submission is not None and not submission.device_name:
        Submission.objects.filter(pk=submission.pk).update(device_name=device_name[:200])
    return Validation(
        access_code=access, token=make_token(access), expires_in=TOKEN_MAX_AGE,
        next_step=next_step_for(access, submission), context=selection_context(session),
    )



@dataclass(frozen=True)
class RegistrationToken:
    """What a valid token says: the access code (and its session) it is bound to. Not yet checked against the
    database: the services do that under their lock (a revoked code is refused there)."""

    access_code_id: str
    session_id: str


def read_token(token: str) -> RegistrationToken:
    """The code a registration token is bound to, if the signature is ours and it has not expired (else 401)."""
    if not token:
        raise Unauthorized("Enter your access code first.", code="token_missing")
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        raise Unauthorized("Your registration session has expired. Enter your code again.", code="token_expired") from None
    except signing.BadSignature:
        raise Unauthorized("This registration link is not valid. Enter your code again.", code="token_invalid") from None
    if not isinstance(data, dict) or not isinstance(data.get("c"), str) or not isinstance(data.get("s"), str):
        raise Unauthorized(GENERIC_CODE_ERROR, code="token_invalid")
    return RegistrationToken(access_code_id=data["c"], session_id=data["s"])


def access_code_from_token(token: str | RegistrationToken) -> AccessCode:
    """The live access code a registration token is bound to (401 if expired, forged or revoked)."""
    bound = token if isinstance(token, RegistrationToken) else read_token(token)
    try:
        access = (
            AccessCode.objects.select_related("session__school", "session__class_division__grade_level",
                                              "session__grade_level", "school")
            .filter(pk=bound.access_code_id, session_id=bound.session_id)
            .first()
        )
    except ValidationError:  # not a UUID
        access = None
    if access is None or not access.is_live:
        raise Unauthorized(GENERIC_CODE_ERROR, code="token_invalid")
    return access


# Columns no participant write reads (staff hints, audit and import fields): the locking read leaves them out.
_NOT_READ_BY_PARTICIPANTS = (
    "display_name_hint", "number_hint", "include_hint_on_printout", "print_batch", "created_by", "created_at",
    "assigned_person", "revoked_by",
    "session__description", "session__expected_count", "session__created_by", "session__created_at",
    "submission__device_name", "submission__reviewed_by", "submission__reviewed_at", "submission__imported_person",
    "submission__imported_at", "submission__import_error", "submission__created_at",
)


# Every participant write runs this statement first; compiling it cost as much as running it, so it is
# compiled once per connection (the same SQL, the same instances as ``.get(pk=…)`` would give).
_LOCK_CODE = PreparedGet(lambda: AccessCode.objects.select_for_update(of=("self",))
                         .select_related("session", "submission").defer(*_NOT_READ_BY_PARTICIPANTS))


def _lock_usable_code(access_code_id, session_id=None) -> tuple[AccessCode, Submission | None]:
    """Lock the code for a write and read its session and its submission with it (one statement); refuse a
    revoked or expired code, a code of another session than the token's, and a session that is not open.

    Only the code's row is locked (``of``): the submission is only ever written under its code's lock. The
    session's locked grade or class is read when a form needs it (most sessions lock neither)."""
    try:
        access = _LOCK_CODE.get(access_code_id)
    except (AccessCode.DoesNotExist, ValidationError):
        access = None
    if access is None or not access.is_live or (session_id is not None and str(access.session_id) != str(session_id)):
        raise Unauthorized(GENERIC_CODE_ERROR, code="token_invalid")
    if access.session.status != SessionStatus.OPEN:
        raise SessionNotOpen(access.session)
    return access, _submission_loaded(access)


def _submission_loaded(access: AccessCode) -> Submission | None:
    """The code's submission as the locking statement read it (``None`` when there is none).

    After waiting for the lock, PostgreSQL re-reads the locked row (the code) but not the rows joined to it:
    a submission another request changed meanwhile can be read as it was. Every change of status moves the
    code's status too, so a code whose status does not mirror its submission's means a stale read, and the
    submission is read again. A change that keeps the status (an autosave) bumps the version, and the write
    that follows is a compare-and-set on it (``_write_draft``, ``transition``)."""
    try:
        submission = access.submission
    except Submission.DoesNotExist:
        submission = None
    mirrored = CODE_STATUS_FOR_SUBMISSION[submission.status] if submission else CodeStatus.UNUSED
    if mirrored != access.status:
        return submission_of(access)  # a stale read: read it again, under the lock now held
    if submission is not None:
        submission.access_code, submission.session = access, access.session
    return submission


def submission_of(access: AccessCode) -> Submission | None:
    """The code's submission (read under the code's lock when the caller holds it)."""
    try:
        submission = Submission.objects.get(access_code_id=access.pk)
    except Submission.DoesNotExist:
        return None
    submission.access_code, submission.session = access, access.session  # loaded with the code already
    return submission


def _apply_answers(access: AccessCode, payload: dict[str, Any], submission: Submission | None = None):
    """Check the answers once: the form's rules, then the placement lock. Returns what to store.

    ``submission``: the draft these answers replace; the grade and class stored with it were checked when it
    was saved and are not looked up again."""
    session = access.session
    context = selection_context(session)
    if submission is not None:
        context.trust(submission)
    fields = form_fields(session, context, checking=True)
    checked = check_payload(fields, payload)
    placement = enforce_placement(
        session=session, context=context,
        grade_level_id=checked.data.get("grade_level_id"),
        class_division_id=checked.data.get("class_division_id"),
    )
    data = dict(checked.data)
    # A placement the session locks replaces whatever was sent, so what was sent can't be an error either.
    locked_keys = {"grade_level_id", "class_division_id"} if context.class_locked else (
        {"grade_level_id"} if context.grade_locked else set())
    for key in locked_keys:
        checked.errors.pop(key, None)
    for key, obj in (("grade_level_id", placement.grade_level), ("class_division_id", placement.class_division)):
        if obj is not None:
            data[key] = str(obj.pk)
            checked.missing = [m for m in checked.missing if m != key]
        else:
            data.pop(key, None)
    changes = changed_fields(access.roster_snapshot, data, fields) if access.roster_snapshot else []
    summary = {
        "errors": checked.errors,
        "missing": checked.missing,
        "changedFields": changes,
        "warnings": [f"{f.label} is required." for f in fields if f.key in checked.missing]
        + [f"{f.label}: {' '.join(checked.errors[f.key])}" for f in fields if f.key in checked.errors],
    }
    identity = {
        "givenName": data.get("given_name", ""),
        "familyName": data.get("family_name", ""),
        "dateOfBirth": data.get("date_of_birth", ""),
        "phone": data.get("phone", ""),
        "guardianName": data.get("guardian_name", ""),
        "guardianPhone": data.get("guardian_phone", ""),
        "number": data.get("student_number") or data.get("teacher_number", ""),
        "gradeLevelId": data.get("grade_level_id", ""),
        "classDivisionId": data.get("class_division_id", ""),
    }
    return data, summary, identity, placement, fields


def _check_version(submission: Submission, version) -> None:
    if version is None:
        raise ValidationError({"version": "Send the version you last saw (optimistic lock)."})
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise ValidationError({"version": "The version must be a whole number."}) from None
    if version != submission.version:
        raise Conflict(
            "This form was changed in another tab or on another device since you opened it. Reload to see the "
            "latest answers, then make your change again.",
            code="stale_version",
            extra={"currentVersion": submission.version},
        )


def _editable(submission: Submission) -> None:
    if submission.status not in EDITABLE:
        raise Conflict("This registration has already been submitted and can no longer be changed.",
                       code="not_editable", extra={"status": submission.status})


def _write_draft(access: AccessCode, submission: Submission | None, answers, *, device_name: str = "") -> Submission:
    """Store checked answers as the draft: the first one creates the submission (its first history row, and
    the code moves to ``started``); later ones bump the version."""
    data, summary, identity, placement, _fields = answers
    if submission is None:
        session = access.session
        submission = Submission(
            district_id=access.district_id, session=session, access_code=access, person_type=session.person_type,
            status=SubmissionStatus.DRAFT, version=1, device_name=(device_name or "")[:200],
        )
    created = submission._state.adding
    submission.payload = data
    submission.validation_summary = summary
    submission.normalized_identity = identity
    submission.grade_level = placement.grade_level
    submission.class_division = placement.class_division
    clean_json_fields(submission)  # stored means valid: every JSON document within its cap
    if created:
        submission.save(force_insert=True)
        record(SubmissionStatusChange, obj=submission, from_status="", to_status=SubmissionStatus.DRAFT)
        access_code_transition(code=access, to=CodeStatus.STARTED, locked=True,
                               updates={"first_used_at": timezone.now()})
    else:
        seen = submission.version
        submission.version += 1
        compare_and_set(submission, expected={"version": seen, "status__in": EDITABLE}, noun="registration",
                        fields=["payload", "validation_summary", "normalized_identity", "grade_level",
                                "class_division", "version"])
    return submission


def _refused_as_now(submission: Submission, version) -> None:
    """A compare-and-set found ``submission`` changed since the locking statement read it: say why, as the
    participant's checks would have on the fresh row (already submitted, or another tab saved first)."""
    fresh = Submission.objects.get(pk=submission.pk)
    _editable(fresh)
    _check_version(fresh, version)


@transaction.atomic
def submission_save_draft(*, access_code_id, payload: dict[str, Any], version=None, device_name: str = "",
                          session_id=None) -> Submission:
    """Autosave: store what the participant has typed so far (placement locks applied)."""
    access, submission = _lock_usable_code(access_code_id, session_id)
    if submission is not None:
        _editable(submission)
        _check_version(submission, version)
    try:
        return _write_draft(access, submission, _apply_answers(access, payload, submission), device_name=device_name)
    except ChangedMeanwhile:
        _refused_as_now(submission, version)
        raise


@transaction.atomic
def submission_submit(*, access_code_id, version, payload: dict[str, Any] | None = None,
                      session_id=None) -> Submission:
    """Send the answers for review (or back for review after a correction). Everything must be valid.

    With ``payload`` those answers are what is sent (and stored); without, the saved draft. Either way they
    are checked once, under the code's lock, and written with the status change in one ``UPDATE``.
    """
    access, submission = _lock_usable_code(access_code_id, session_id)
    if submission is None and payload is None:
        raise ValidationError({"payload": "Nothing to submit yet: fill in the form first."})
    if submission is not None:
        _editable(submission)
        _check_version(submission, version)
    answers = _apply_answers(access, payload if payload is not None else submission.payload, submission)
    data, summary, identity, placement, _fields = answers
    errors = {key: list(messages) for key, messages in summary["errors"].items()}
    for key in summary["missing"]:
        errors.setdefault(key, ["This field is required."])  # an answer refused already says why
    if errors:
        raise ValidationError(errors)
    if submission is None:  # a submit with the answers and no draft before it: the draft is its first state
        submission = _write_draft(access, None, answers)
    to = SubmissionStatus.SUBMITTED if submission.status == SubmissionStatus.DRAFT else SubmissionStatus.RESUBMITTED
    answered = {"payload": data, "validation_summary": summary, "normalized_identity": identity,
                "grade_level_id": placement.grade_level and placement.grade_level.pk,
                "class_division_id": placement.class_division and placement.class_division.pk, "flagged_fields": []}
    updates = {name: value for name, value in answered.items() if getattr(submission, name) != value}  # what changed
    try:
        submission = submission_transition(submission=submission, to=to, actor=None, code=access,
                                           updates={**updates, "submitted_at": timezone.now()})
    except ChangedMeanwhile:
        _refused_as_now(submission, version)
        raise
    return apply_approval_policy(submission=submission)



_LOAD = object()


def participant_status(access: AccessCode | None, submission: Submission | object | None = _LOAD) -> dict[str, Any]:
    """Where the participant stands; ``submission``: the code's submission when the caller has it (or None)."""
    if submission is _LOAD:
        submission = submission_of(access)
    return {
        "status": submission.status if submission else "not_started",
        "nextStep": next_step_for(access, submission),
        "version": submission.version if submission else 0,
        "submittedAt": submission.submitted_at.isoformat() if submission and submission.submitted_at else None,
        "correctionMessage": submission.correction_message if submission else "",
        "flaggedFields": submission.flagged_fields if submission else [],
    }
