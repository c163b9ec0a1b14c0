"""Edlink's error envelope: a non-2xx status with ``{"$request": uuid, "$errors": [{"code", "message"}]}``.

The official client throws its ``EdlinkError`` (``code``, ``message``, ``status``) only for that shape.
"""

from __future__ import annotations


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str, *, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def invalid_token() -> GraphError:
    return GraphError(401, "INVALID_TOKEN", "You must supply a valid access token to access this endpoint.",
                      headers={"WWW-Authenticate": 'Bearer realm="graph"'})


def not_found(noun: str, pk) -> GraphError:
    return GraphError(404, "NOT_FOUND", f"{noun} with id {pk} not found for this integration.")


def invalid_uuid(parameter: str) -> GraphError:
    return GraphError(400, "INVALID_UUID", f"A valid v4 or v5 UUID or Alias is expected for parameter '{parameter}'.")
