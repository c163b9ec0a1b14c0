"""Signed keyset cursors: the opaque ``next`` tokens of every paged API (Learnosity ``next``, Edlink ``$next``).

A cursor carries

- a **position**: the sort key of the last row a page returned (for example ``(updated_at, id)``), so the
  next page starts strictly after it with an indexed range condition (``WHERE (t, id) > (%s, %s)``) — pages
  stay correct while rows are inserted or updated, and the cost of a page never grows with its depth;
- a **digest of the query** it belongs to (filters, sort order, the caller's tenant): a token presented with
  other filters, by another tenant or to another endpoint is refused;
- optional **state** the API needs to carry between pages (a snapshot time, a phase), as a small dict.

It is signed with Django's signing (HMAC with ``SECRET_KEY`` and a per-API ``salt``), so a token that was
edited by hand, truncated or minted for another API is refused with ``CursorError``; callers map that to their
own "invalid parameter" error. Tokens are URL-safe ASCII.

Position values may be ``None``, ``bool``, ``int``, ``float``, ``str``, ``datetime`` (aware), ``date``,
``UUID`` or ``Decimal``; they come back as the same types.
"""

from __future__ import annotations

import datetime
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson
from django.core import signing

MAX_TOKEN_LENGTH = 2048
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


class CursorError(ValueError):
    """The token is not one we issued for this query (edited, truncated, another query, another API)."""


@dataclass(frozen=True)
class Cursor:
    position: tuple | None
    state: dict = field(default_factory=dict)


def query_digest(query: Mapping[str, Any]) -> str:
    """A short, stable digest of a query description (key order and list order of ids do not matter
    only if the caller normalises them; this function hashes exactly what it is given, canonically)."""
    canonical = orjson.dumps(query, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=_plain)
    return hashlib.sha256(canonical).hexdigest()[:32]


def encode(position: Sequence[Any] | None, *, query: Mapping[str, Any], salt: str, state: Mapping | None = None) -> str:
    """The token for ``position`` (``None``: before the first row) of ``query``."""
    payload: dict[str, Any] = {"q": query_digest(query), "p": None if position is None else [_tag(v) for v in position]}
    if state:
        payload["s"] = {k: _tag(v) for k, v in state.items()}
    return signing.dumps(payload, salt=f"cursor:{salt}", compress=True, serializer=_Serializer)


def decode(
    token: str,
    *,
    query: Mapping[str, Any],
    salt: str,
    size: int | None = None,
    max_age: float | None = None,
    max_length: int = MAX_TOKEN_LENGTH,
) -> Cursor:
    """The cursor in ``token``, if it was issued by us for this very query; else ``CursorError``.

    ``size`` is the number of values the position must have (checked when given). ``max_age`` (seconds) refuses
    a token issued longer ago than that. ``max_length`` is the longest token accepted (an API whose cursors
    carry their query in ``state`` may need more than the default)."""
    if not isinstance(token, str) or not token or len(token) > max_length or not token.isascii():
        raise CursorError("The token is not a valid cursor.")
    try:
        payload = signing.loads(token, salt=f"cursor:{salt}", serializer=_Serializer, max_age=max_age)
    except signing.SignatureExpired:
        raise CursorError("The token has expired: start again from the first page.") from None
    except (signing.BadSignature, ValueError, TypeError, orjson.JSONDecodeError):
        raise CursorError("The token is not a valid cursor.") from None
    if not isinstance(payload, dict) or payload.get("q") != query_digest(query):
        raise CursorError("The token belongs to another query.")
    raw = payload.get("p")
    state_raw = payload.get("s") or {}
    try:
        position = None if raw is None else tuple(_untag(v) for v in raw)
        state = {str(k): _untag(v) for k, v in state_raw.items()}
    except (TypeError, ValueError, KeyError, AttributeError):
        raise CursorError("The token is not a valid cursor.") from None
    if position is not None and size is not None and len(position) != size:
        raise CursorError("The token is not a valid cursor.")
    return Cursor(position=position, state=state)


# --- value tagging (JSON has no datetime, UUID or Decimal) --------------------------------------------------


def _tag(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise TypeError("Cursor datetimes must be aware.")
        delta = value - _EPOCH
        return {"t": (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds}
    if isinstance(value, datetime.date):
        return {"d": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"u": value.hex}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    raise TypeError(f"A cursor cannot hold a {type(value).__name__}.")


def _untag(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (kind, raw), = value.items()
        if kind == "t" and isinstance(raw, int) and not isinstance(raw, bool):
            return _EPOCH + datetime.timedelta(microseconds=raw)
        if kind == "d" and isinstance(raw, str):
            return datetime.date.fromisoformat(raw)
        if kind == "u" and isinstance(raw, str):
            return uuid.UUID(hex=raw)
        if kind == "n" and isinstance(raw, str):
            return Decimal(raw)
    raise ValueError("Unknown cursor value.")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError


class _Serializer:
    def dumps(self, obj: Any) -> bytes:
        return orjson.dumps(obj)

    def loads(self, data: bytes) -> Any:
        return orjson.loads(data)
