"""Application errors: raised by services, mapped to HTTP by the API handler and the pages."""

from __future__ import annotations


class ApplicationError(Exception):
    """A business rule refused the request. ``status_code`` is what the API answers."""

    status_code = 400
    default_code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.extra = extra or {}


class NotFound(ApplicationError):
    status_code = 404
    default_code = "not_found"


class Conflict(ApplicationError):
    status_code = 409
    default_code = "conflict"


class InvalidTransition(Conflict):
    default_code = "invalid_transition"

    def __init__(self, *, current: str, target: str, allowed, noun: str = "session"):
        allowed = sorted(str(a) for a in allowed)
        allowed_text = ", ".join(allowed) if allowed else "none (final status)"
        super().__init__(
            f"Cannot move this {noun} from '{current}' to '{target}'. From '{current}' the allowed targets are: "
            f"{allowed_text}.",
            extra={"currentStatus": str(current), "allowedTargets": allowed},
        )


class ChangedMeanwhile(Conflict):
    """A compare-and-set write found the row no longer as it was read: another writer got there first."""

    default_code = "changed_meanwhile"

    def __init__(self, *, noun: str):
        super().__init__(f"This {noun} was changed meanwhile. Reload it and try again.")


class RateLimited(ApplicationError):
    status_code = 429
    default_code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message, extra={"retryAfter": retry_after})
        self.retry_after = retry_after


class Unauthorized(ApplicationError):
    status_code = 401
    default_code = "not_authenticated"
