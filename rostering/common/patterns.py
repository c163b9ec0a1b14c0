"""Regular expressions that users write (staff-defined field patterns, filters) run on RE2.

RE2 matches in time linear in the input, so no pattern can hang a worker (``^(a+)+$`` against
``aaaa…!`` is as fast as any other). It has no backreferences or look-arounds: such a pattern is
refused when staff save it, with RE2's own reason.
"""

from __future__ import annotations

from functools import lru_cache

import re2

MAX_PATTERN_LENGTH = 300
_MAX_PROGRAM_MEMORY = 1 << 20  # 1 MiB per compiled pattern: refuses patterns like (a{1000}){1000}


class PatternError(ValueError):
    pass


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False
    options.max_mem = _MAX_PROGRAM_MEMORY
    return options


@lru_cache(maxsize=512)
def compile_pattern(pattern: str):
    """Compile a user's pattern with RE2; ``PatternError`` with a readable reason if it can't be."""
    if not isinstance(pattern, str) or len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(f"must be a regular expression of at most {MAX_PATTERN_LENGTH} characters")
    if "\x00" in pattern:
        raise PatternError("must not contain a NUL character")
    try:
        return re2.compile(pattern, _options())
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(
            f"not a valid regular expression ({reason}); patterns run on RE2, which has no look-arounds or "
            "backreferences"
        ) from None


def fullmatch(pattern: str, value: str) -> bool:
    """Whether the whole of ``value`` matches ``pattern`` (linear time)."""
    return compile_pattern(pattern).fullmatch(value) is not None
