"""Hypothesis strategies for hostile input: what a careless or malicious client sends to a JSON field.

Deep nesting (past the decoder's 64 levels), control characters and NUL, huge strings, wrong types and
odd Unicode (bidi overrides, zero-width characters, combining marks, lone surrogates).
"""

from __future__ import annotations

from hypothesis import strategies as st

CONTROL = st.characters(min_codepoint=0, max_codepoint=31)
ODD_UNICODE = st.sampled_from([
    "\u202e", "\u200b", "\ufeff", "\u0301" * 50, "\U0001f600", "\ud800", "\udfff", "\uffff", "\U0010ffff",
])


def deep(depth: int, kind: str):
    value: object = "x"
    for _ in range(depth):
        value = [value] if kind == "list" else {"k": value}
    return value


HOSTILE = st.one_of(
    st.integers(65, 3_000).flatmap(lambda d: st.sampled_from(["list", "dict"]).map(lambda k: deep(d, k))),
    st.text(CONTROL, min_size=1, max_size=20),
    st.lists(ODD_UNICODE, min_size=1, max_size=5).map("".join),
    st.integers(20_000, 200_000).map(lambda n: "A" * n),
    st.none(), st.booleans(), st.integers(-(2**63), 2**63), st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
