"""CSV export of a session's access codes for the staff pages (streamed: a session can hold 100,000 codes)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse
from django.utils.text import slugify

from registrations.codes import format_code
from registrations.models import AccessCode, RegistrationSession

CODE_CSV_HEADER = (
    "code", "display_code", "status", "assigned_to", "number", "print_hint", "expires_at", "revoked_at",
    "print_batch", "created_at", "register_url",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """Text for a spreadsheet cell; a leading = + - @ would be run as a formula by Excel, so it is escaped."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


class _Echo:
    def write(self, value):
        return value


def code_rows(codes: Iterable[AccessCode], *, register_url: str) -> Iterator[list[str]]:
    for c in codes:
        yield [
            c.code,
            format_code(c.code, c.prefix_length),
            "revoked" if c.revoked_at else c.status,
            safe_cell(c.display_name_hint),
            safe_cell(c.number_hint),
            "yes" if c.include_hint_on_printout else "no",
            c.expires_at.isoformat() if c.expires_at else "",
            c.revoked_at.isoformat() if c.revoked_at else "",
            str(c.print_batch),
            c.created_at.isoformat(),
            f"{register_url}?code={c.code}",
        ]


def access_codes_csv_response(*, session: RegistrationSession, codes, register_url: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    fields = ("code", "prefix_length", "status", "display_name_hint", "number_hint", "include_hint_on_printout",
              "expires_at", "revoked_at", "print_batch", "created_at")

    def stream():
        yield writer.writerow(CODE_CSV_HEADER)
        for row in code_rows(codes.only(*fields).iterator(chunk_size=2000), register_url=register_url):
            yield writer.writerow(row)

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    name = slugify(f"{session.school.code}-{session.title}")[:60] or "session"
    response["Content-Disposition"] = f'attachment; filename="access-codes-{name}.csv"'
    return response
