"""The Data API's errors: Learnosity's numeric codes, HTTP statuses and messages (specs/learnosity.md §6)."""

from __future__ import annotations

CODES: dict[int, tuple[int, str]] = {
    10000: (500, "An error has occurred"),
    20000: (400, "Missing mandatory parameter(s)"),
    20001: (400, "Invalid parameter length"),
    20002: (400, "Too many parameters passed"),
    20003: (400, "Invalid parameter type"),
    20004: (400, "Invalid parameter value"),
    20009: (400, "JSON failed to validate against schema"),
    20012: (404, "Not Found"),
    40001: (405, "Method not allowed"),
    41000: (400, "Missing security parameters"),
    41001: (403, "Invalid parameter length"),
    41002: (403, "Not a valid consumer"),
    41003: (403, "Signatures do not match"),
    41004: (403, "Timestamp out of valid range"),
    41005: (403, "Invalid domain"),
    41006: (400, "Expired parameter must be a GMT date of format YYYYMMDD-HHMM"),
    41007: (400, "Request after the expire timestamp"),
    41008: (403, "Service is disabled"),
    41009: (403, "Consumer exists but is no longer active"),
    42000: (429, "Too many requests"),
}


class DataApiError(Exception):
    """Answered as ``{"meta": {"status": false, "code", "message", "timestamp"}, "data": []}``."""

    def __init__(self, code: int, detail: str = ""):
        self.code = code
        self.http_status, title = CODES[code]
        self.message = f"{title}: {detail}" if detail else title
        super().__init__(self.message)
