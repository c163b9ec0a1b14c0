"""The CSV export of a session's access codes: one writer for the staff page and the API (streamed: a session
can hold 100,000 codes)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.text import slugify

from registrations.choices import CodeStatus
from registrations.codes import format_code
from registrations.models import AccessCode, RegistrationSession

CSV_COLUMNS = (
    "code", "status", "assigned_person_id", "assigned_person_name", "display_name_hint", "number_hint",
    "expires_at", "revoked_at", "print_batch_id", "created_at", "register_url",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """Text for a spreadsheet cell; a leading = + - @ would be run as a formula by Excel, so it is escaped."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def effective_code_status(code: AccessCode, now=None) -> str:
    """The participant status, or ``revoked``, or ``expired`` (a live code past its expiry, never used in time)."""
    if code.revoked_at is not None:
        return "revoked"
    if code.expires_at is not None and code.expires_at <= (now or timezone.now()) and code.status in (
        CodeStatus.UNUSED, CodeStatus.STARTED,
    ):
        return "expired"
    return code.status


class _Echo:
    def write(self, value):
        return value


def code_rows(codes, *, register_url: str, now=None) -> Iterator[list[str]]:
    now = now or timezone.now()
    for code in codes:
        person = code.assigned_person
        yield [
            format_code(code.code, code.prefix_length),
            effective_code_status(code, now),
            str(code.assigned_person_id or ""),
            safe_cell(person.full_name if person else ""),
            safe_cell(code.display_name_hint),
            safe_cell(code.number_hint),
            safe_cell(code.expires_at),
            safe_cell(code.revoked_at),
            str(code.print_batch),
            safe_cell(code.created_at),
            f"{register_url}?code={code.code}",
        ]


def access_codes_csv_response(*, session: RegistrationSession, codes, register_url: str) -> StreamingHttpResponse:
    """``codes``: the filtered queryset (``selectors.access_code_list``)."""
    writer = csv.writer(_Echo())
    now = timezone.now()

    def stream():
        yield "\ufeff" + writer.writerow(CSV_COLUMNS)
        rows = codes.select_related("assigned_person").order_by("created_at", "code", "id").iterator(chunk_size=2000)
        for row in code_rows(rows, register_url=register_url, now=now):
            yield writer.writerow(row)

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    filename = f"access-codes-{slugify(session.title)[:40] or session.pk}-{now:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
