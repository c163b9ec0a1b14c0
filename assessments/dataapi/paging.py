"""Keyset pages of a district's assessment sessions, and their ``next`` tokens.

Rows are ordered by ``(updated_at, id)`` — the tail of every index on the table — and a page continues
strictly after the last row of the previous one, so a page is one index range scan at any depth and pages
stay correct while sessions are written:

- ``sort: asc``: the token holds the last position. A session updated while a client pages moves to the end
  (its new ``updated_at`` is later than any position already handed out), so the same loop meets it again
  with its new state; nothing is skipped. Coming back later with the last token returns exactly what
  changed since.
- ``sort: desc`` (the default) walks back in time in *passes*. The first page fixes the pass's top (the time
  of that request); the token holds the position, the top, and the floor (the previous pass's top). When a
  pass runs out, the same request starts the next pass — the sessions written since the top, newest first —
  so a session changed while the client paged is delivered once more, with its new state, in the same loop;
  when nothing changed, the page is empty (the SDKs stop there) and the token waits for newer rows.

The token is ``rostering.common.cursor`` (signed; carries a digest of the filters, the sort, the endpoint
and the district), so a token from another query, another district or edited by hand is refused (20004).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from assessments.dataapi import pgjson
from assessments.dataapi.errors import DataApiError
from assessments.dataapi.params import SessionQuery
from assessments.models import AssessmentSession
from rostering.common import cursor

SALT = "learnosity-data-api"


@dataclass
class Page:
    rows: list
    next_token: str


def filtered(base: QuerySet, query: SessionQuery) -> QuerySet:
    qs = base
    if query.activity_id is not None:
        qs = qs.filter(activity_id__in=query.activity_id)
    if query.session_id is not None:
        qs = qs.filter(session_id__in=query.session_id)
    if query.user_id is not None:
        qs = qs.filter(user_id__in=query.user_id)
    if query.status is not None:
        qs = qs.filter(status__in=query.status)
    if query.mintime is not None:
        qs = qs.filter(updated_at__gte=query.mintime)
    if query.maxtime is not None:
        qs = qs.filter(updated_at__lte=query.maxtime)
    return qs


def _after(t: datetime.datetime, pk: int) -> Q:
    # Written so that the leading range (updated_at >= t) is an index condition: the OR only filters the
    # handful of rows that share the timestamp.
    return Q(updated_at__gte=t) & (Q(updated_at__gt=t) | Q(id__gt=pk))


def _before(t: datetime.datetime, pk: int) -> Q:
    return Q(updated_at__lte=t) & (Q(updated_at__lt=t) | Q(id__lt=pk))


def _digest(*, endpoint: str, district_id, query: SessionQuery) -> dict:
    return {"endpoint": endpoint, "district": str(district_id), **query.digest_fields()}


def _decode(token: str | None, digest: dict) -> cursor.Cursor:
    if token is None:
        return cursor.Cursor(position=None, state={})
    try:
        return cursor.decode(token, query=digest, salt=SALT, size=2)
    except cursor.CursorError as exc:
        raise DataApiError(20004, f"next: {exc}") from None


def sessions_page(*, base: QuerySet, endpoint: str, district_id, query: SessionQuery, fields: tuple[str, ...] = (),
                  document=None) -> Page:
    """One page of ``base`` (already scoped to the district) under ``query``: a list of dicts of ``fields``
    (plus ``id`` and ``updated_at``), read with ``.values()`` — no model instances, one query.

    With ``document`` (a ``pgjson.Document``: PostgreSQL only, and ``base`` the district's sessions), the page is
    one prepared SQL statement and each row holds its finished JSON as ``doc``."""
    digest = _digest(endpoint=endpoint, district_id=district_id, query=query)
    current = _decode(query.next, digest)
    columns = tuple(dict.fromkeys(("id", "updated_at", *fields)))
    qs = filtered(base, query) if document is None else None

    def fetch(*, asc: bool, position, top=None, floor=None) -> list:
        if document is not None:
            return pgjson.fetch_page(document, district_id=district_id, query=query, asc=asc, position=position,
                                     top=top, floor=floor)
        page_qs = qs
        if top is not None:
            page_qs = page_qs.filter(updated_at__lte=top)
        if floor is not None:
            page_qs = page_qs.filter(updated_at__gt=floor)
        if position is not None:
            page_qs = page_qs.filter(_after(*position) if asc else _before(*position))
        order = ("updated_at", "id") if asc else ("-updated_at", "-id")
        return list(page_qs.order_by(*order).values(*columns)[: query.limit])

    if query.sort == "asc":
        rows = fetch(asc=True, position=current.position)
        position = (rows[-1]["updated_at"], rows[-1]["id"]) if rows else current.position
        return Page(rows=rows, next_token=cursor.encode(position, query=digest, salt=SALT))

    top = current.state.get("top")
    floor = current.state.get("floor")
    position = current.position
    for _pass in range(2):  # the current pass, then (if it has run out) the next one
        if top is None:
            top = timezone.now()
        rows = fetch(asc=False, position=position, top=top, floor=floor)
        if rows:
            last = rows[-1]
            if len(rows) < query.limit:  # this pass is done: the next page starts the next one
                state, next_position = {"floor": top}, None
            else:
                state, next_position = {"top": top, "floor": floor}, (last["updated_at"], last["id"])
            return Page(rows=rows, next_token=cursor.encode(next_position, query=digest, salt=SALT, state=state))
        # The pass is exhausted: move on to what was written since its top.
        floor, top, position = top, None, None
    return Page(rows=[], next_token=cursor.encode(None, query=digest, salt=SALT, state={"floor": floor}))


def district_sessions(district_id) -> QuerySet:
    return AssessmentSession.objects.filter(district_id=district_id)
