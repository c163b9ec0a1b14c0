"""Access codes: easy to type on a phone, impossible to guess.

The alphabet has 32 symbols and no 0/O/1/I, so each random character carries exactly 5 bits.
The default format has 10 random characters (50 bits): with 100,000 live codes and the rate
limits of the public page, finding one by guessing takes many years. The product's 4- and
6-character formats are offered for convenience, with a visible warning.

Codes are stored normalised (upper case, no separators) and shown grouped: ``SCH1-ABCDE-FGHJK``.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_TABLE = ALPHABET.encode("ascii")
_PREFIX_RE = re.compile(r"^[A-Za-z0-9]{0,8}\Z")
_SEPARATORS = re.compile(r"[^A-Z0-9]+")


def random_codes(count: int, length: int) -> list[str]:
    """``count`` uniformly random strings of ``length`` symbols (256 is a multiple of 32: no bias)."""
    raw = secrets.token_bytes(count * length).translate(bytes(_TABLE[b & 31] for b in range(256)))
    text = raw.decode("ascii")
    return [text[i : i + length] for i in range(0, count * length, length)]


def normalize_code(value: str) -> str:
    """What a participant typed → the stored form: upper case, spaces and dashes dropped."""
    return _SEPARATORS.sub("", (value or "").upper())[:40]


def validate_prefix(prefix: str) -> str:
    """The prefix as stored: letters A–Z and digits 0–9 only, at most 8. Lower case is taken as capitals
    (codes are case-insensitive); anything else is refused, never silently dropped."""
    prefix = prefix or ""
    if not _PREFIX_RE.match(prefix):
        if len(prefix) > 8:
            raise ValueError(f"The prefix may have at most 8 characters; '{prefix[:20]}' has {len(prefix)}.")
        raise ValueError(
            f"The prefix '{prefix}' has characters codes can't hold: use only letters A–Z and digits 0–9 "
            "(at most 8), without spaces, dashes or accents."
        )
    return prefix.upper()


def format_code(code: str, prefix_length: int = 0) -> str:
    """Group a stored code for printing and reading aloud: PREFIX-ABCDE-FGHJK (short codes: PREFIX-ABCD)."""
    prefix, body = code[:prefix_length], code[prefix_length:]
    groups = [body[i : i + 5] for i in range(0, len(body), 5)] if len(body) > 6 else [body]
    return "-".join([prefix, *groups] if prefix else groups)
