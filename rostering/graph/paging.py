"""Edlink paging: ``$first`` and the absolute ``$next`` URL whose ``$cursor`` carries the whole query.

- Pages are keyset pages on the primary key (``ORDER BY id``, ``WHERE id > last``): one indexed range per page at
  any depth, and correct under concurrent writes — every row that exists for the whole walk is returned exactly
  once, whatever is inserted, changed or deleted meanwhile (an insert behind the position is met by the next walk).
- Each page reads ``first + 1`` rows in its one query, so the last page is known without a count: it has no
  ``$next``.
- The cursor is ``rostering.common.cursor``: signed (an edited token is refused), bound to the request path (so
  to the resource and the parent of a sub-list) and the token's district, and it carries the filter, the page
  size and ``$fields`` in its state: page 2 of a filtered list is ``GET …?$cursor=…`` with nothing else, exactly
  what Edlink's client sends. ``$filter``/``$first``/``limit`` sent again next to it are ignored (warning
  ``PAGING_IGNORED``). A cursor older than ``CURSOR_MAX_AGE`` is refused (start again from the first page).

Bad input is a ``GraphError`` (400 ``INVALID_PAGE_SIZE``, ``INVALID_CURSOR``, ``INVALID_FILTER``, ``INVALID_UUID``).
Reused by every paged list that speaks this dialect.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

import orjson
from django.db.models import QuerySet

from rostering.common import cursor
from rostering.graph import filters
from rostering.graph.errors import GraphError

SALT = "edlink-graph"
DEFAULT_FIRST = 100
MAX_FIRST = 10_000
CURSOR_MAX_AGE = 24 * 3600
CURSOR_MAX_LENGTH = 16 * 1024


@dataclass
class ListQuery:
    filter: filters.CompiledFilter
    first: int
    fields: tuple[str, ...] | None
    position: tuple | None
    warnings: list[dict] = field(default_factory=list)


def warning(code: str, message: str) -> dict:
    return {"code": code, "message": message}


def parse_first(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_FIRST
    text = raw.strip()
    if not text.isdigit() or len(text) > 6 or not 1 <= int(text) <= MAX_FIRST:
        raise GraphError(400, "INVALID_PAGE_SIZE", f"$first must be a whole number from 1 to {MAX_FIRST:,}.")
    return int(text)


def parse_fields(raw: str | None, known: tuple[str, ...], warnings: list[dict]) -> tuple[str, ...] | None:
    if raw is None or not raw.strip():
        return None
    asked = [name.strip() for name in raw.split(",") if name.strip()][:100]
    valid = tuple(dict.fromkeys(name for name in asked if name in known))
    for name in asked:
        if name not in known:
            warnings.append(warning("INVALID_FIELD_REQUESTED", f"'{name[:60]}' is not a field of this object."))
    return valid or None


def scope_of(*, path: str, district_id) -> dict:
    return {"path": path, "district": str(district_id)}


def parse_list_query(params: Mapping[str, str], *, fields_known: tuple[str, ...],
                     filter_fields: Mapping[str, filters.FilterField], scope: dict, noun: str) -> ListQuery:
    """The list query of a request: from its ``$cursor`` when it has one, else from ``$filter``/``$first``/``$fields``."""
    warnings: list[dict] = []
    token = params.get("$cursor")
    if token is not None:
        try:
            carried = cursor.decode(token, query=scope, salt=SALT, size=1, max_age=CURSOR_MAX_AGE,
                                    max_length=CURSOR_MAX_LENGTH)
        except cursor.CursorError as exc:
            raise GraphError(400, "INVALID_CURSOR", f"$cursor: {exc}") from None
        state = carried.state
        try:
            document = orjson.loads(state["f"]) if state.get("f") else {}
            compiled = filters.compile_filter(document, filter_fields, noun=noun)
            first = int(state["n"])
            fields = tuple(state["fl"].split(",")) if state.get("fl") else None
        except (KeyError, ValueError, TypeError, orjson.JSONDecodeError, filters.FilterError):
            raise GraphError(400, "INVALID_CURSOR", "$cursor: The token is not a valid cursor.") from None
        if any(params.get(k) is not None for k in ("$filter", "$first", "$fields", "limit")):
            warnings.append(warning("PAGING_IGNORED", "$cursor holds the query: $filter, $first, $fields and limit "
                                                      "next to it are ignored."))
        return ListQuery(filter=compiled, first=first, fields=fields, position=carried.position, warnings=warnings)
    first = parse_first(params.get("$first"))
    try:
        compiled = filters.parse(params.get("$filter"), filter_fields, noun=noun)
    except filters.FilterError as exc:
        raise GraphError(400, exc.code, exc.message) from None
    fields = parse_fields(params.get("$fields"), fields_known, warnings)
    return ListQuery(filter=compiled, first=first, fields=fields, position=None, warnings=warnings)


def page_rows(qs: QuerySet, query: ListQuery) -> tuple[list[dict], tuple | None]:
    """One page of ``qs`` (already ``.values()``): its rows and the position after them (``None``: last page).
    One query."""
    if query.position is not None:
        qs = qs.filter(pk__gt=query.position[0])
    rows = list(qs.order_by("pk")[: query.first + 1])
    if len(rows) > query.first:
        rows = rows[: query.first]
        return rows, (rows[-1]["id"],)
    return rows, None


def next_token(query: ListQuery, position: tuple, scope: dict) -> str:
    state = {"n": query.first}
    if query.filter.canonical:
        state["f"] = orjson.dumps(query.filter.canonical).decode()
    if query.fields:
        state["fl"] = ",".join(query.fields)
    return cursor.encode(position, query=scope, salt=SALT, state=state)


def next_url(base_url: str, token: str) -> str:
    """The absolute ``$next`` (Edlink's client follows it verbatim and needs it to start with ``http``)."""
    return f"{base_url}?$cursor={quote(token, safe=':-_.')}"
