"""The signed keyset cursor of the ground floor (rostering/common/cursor.py)."""

import datetime
import uuid
from decimal import Decimal

import pytest

from rostering.common import cursor

QUERY = {"district": "d1", "user_id": ["a", "b"], "sort": "asc"}


def test_round_trip_of_every_position_type():
    when = datetime.datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=datetime.UTC)
    position = (when, 42, "x", None, uuid.UUID(int=7), Decimal("1.50"), datetime.date(2026, 1, 2), 2.5, True)
    token = cursor.encode(position, query=QUERY, salt="test", state={"top": when, "phase": 2})
    assert token.isascii() and "/" not in token and "+" not in token
    decoded = cursor.decode(token, query=QUERY, salt="test", size=len(position))
    assert decoded.position == position and decoded.state == {"top": when, "phase": 2}
    assert cursor.decode(cursor.encode(None, query=QUERY, salt="test"), query=QUERY, salt="test").position is None


def test_another_query_salt_or_edit_is_refused():
    token = cursor.encode((1, 2), query=QUERY, salt="test")
    with pytest.raises(cursor.CursorError, match="another query"):
        cursor.decode(token, query={**QUERY, "sort": "desc"}, salt="test")
    for bad_salt in ("other", ""):
        with pytest.raises(cursor.CursorError):
            cursor.decode(token, query=QUERY, salt=bad_salt)
    for edited in (token[:-2] + "xy", token[1:], token + "a", "", "a" * 5000, 17, "ünïcode"):
        with pytest.raises(cursor.CursorError):
            cursor.decode(edited, query=QUERY, salt="test")
    with pytest.raises(cursor.CursorError):
        cursor.decode(token, query=QUERY, salt="test", size=3)


def test_digest_is_canonical():
    assert cursor.query_digest({"a": 1, "b": [1, 2]}) == cursor.query_digest({"b": [1, 2], "a": 1})
    assert cursor.query_digest({"a": 1}) != cursor.query_digest({"a": 2})


def test_naive_datetimes_and_unknown_types_cannot_be_encoded():
    with pytest.raises(TypeError):
        cursor.encode((datetime.datetime(2026, 1, 1),), query=QUERY, salt="t")
    with pytest.raises(TypeError):
        cursor.encode((object(),), query=QUERY, salt="t")
