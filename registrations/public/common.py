"""What the public /register pages and the public JSON API share: the client address and the JSON
shapes of a session, its form and a participant's submission.

Business rules stay in ``registrations.services.participation`` and ``registrations.validators``.
"""

from __future__ import annotations

from typing import Any

from registrations.choices import SubmissionStatus
from registrations.models import AccessCode, RegistrationSession, Submission
from registrations.selectors import SelectionContext
from registrations.validators import FormField
from rostering.security import forwarded_client_address


def client_ip(request) -> str:
    """The address the rate limits count against: ``REMOTE_ADDR``, or with ``TRUSTED_PROXY_COUNT`` set the
    entry of ``X-Forwarded-For`` that the trusted proxies wrote (see ``rostering.security``)."""
    return forwarded_client_address(request)


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("SamsungBrowser", "Samsung Internet"), ("Firefox/", "Firefox"),
             ("CriOS", "Chrome"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
            ("Mac OS X", "Mac"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def summarize_user_agent(user_agent: str) -> str:
    """"Chrome on Android" rather than a raw User-Agent string (staff read it beside a submission)."""
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), "")
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or user_agent[:60]


def device_name(request, given: str = "") -> str:
    """What the participant used (shown to staff next to a submission): their own words, or a short
    summary of the browser's User-Agent."""
    given = (given or "").replace("\x00", "").strip()
    if given:
        return given[:200]
    return summarize_user_agent((request.META.get("HTTP_USER_AGENT", "") or "").replace("\x00", ""))[:200]


def session_json(session: RegistrationSession) -> dict[str, Any]:
    return {
        "id": str(session.pk),
        "mode": session.mode,
        "title": session.title,
        "description": session.description,
        "schoolId": str(session.school_id),
        "schoolName": session.school.name,
        "classDivisionId": str(session.class_division_id) if session.class_division_id else None,
        "gradeLevelId": str(session.grade_level_id) if session.grade_level_id else None,
        "academicYearId": str(session.academic_year_id) if session.academic_year_id else None,
        "termId": str(session.term_id) if session.term_id else None,
        "endsAt": session.ends_at.isoformat() if session.ends_at else None,
        "rosterPolicy": session.roster_policy,
    }


def prefill_for(access: AccessCode, fields: list[FormField], context: SelectionContext | None = None) -> dict[str, Any]:
    """The roster snapshot's answers for this form's fields (student verification), the locks applied."""
    snapshot = access.roster_snapshot or {}
    keys = {f.key for f in fields}
    data = {k: v for k, v in snapshot.items() if k in keys and v not in (None, "", [])}
    if context is not None:
        if context.locked_class_division_id and "class_division_id" in keys:
            data["class_division_id"] = context.locked_class_division_id
        if context.locked_grade_level_id and "grade_level_id" in keys:
            data["grade_level_id"] = context.locked_grade_level_id
    return data


def submission_json(submission: Submission | None) -> dict[str, Any] | None:
    if submission is None:
        return None
    return {
        "status": submission.status,
        "version": submission.version,
        "payload": submission.payload,
        "validationSummary": submission.validation_summary or {},
        "correctionMessage": submission.correction_message,
        "flaggedFields": submission.flagged_fields or [],
        "submittedAt": submission.submitted_at.isoformat() if submission.submitted_at else None,
        # Staff notes stay internal; a rejection's reason is the participant's to read.
        "reviewReason": submission.review_reason if submission.status == SubmissionStatus.REJECTED else "",
    }
