"""Ids that come from outside (a URL, a query string, a form, a JSON answer): is this a UUID at all?

Asked before a lookup by primary key, so that a malformed id is "not found" or a form message, never a
database error (PostgreSQL refuses to compare a uuid column with text that is not one).
"""

from __future__ import annotations

import uuid


def is_uuid(value) -> bool:
    """Whether ``value`` (a UUID, or anything whose ``str`` is one) names a UUID."""
    if isinstance(value, uuid.UUID):
        return True
    try:
        uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return False
    return True
