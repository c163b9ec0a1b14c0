"""The ground floor's way in for outside input: the bounded JSON decoder, the JSON size validator and RE2 patterns."""

from __future__ import annotations

import time

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from rostering.common.jsonio import (
    DEFAULT_MAX_DEPTH,
    JSONBoundsValidator,
    JSONInputError,
    check_value,
    decode,
)
from rostering.common.patterns import PatternError, compile_pattern, fullmatch


def nested(depth: int, *, open_="[", close="]", inner="1") -> str:
    return open_ * depth + inner + close * depth


# --- decode --------------------------------------------------------------------------------------


def test_plain_documents_decode():
    assert decode(b'{"a": [1, 2.5, "x", true, null]}') == {"a": [1, 2.5, "x", True, None]}
    assert decode('{"name": "Tendai Mhlanga", "emoji": "\\ud83d\\ude00"}')["emoji"] == "😀"


@pytest.mark.parametrize("depth", [DEFAULT_MAX_DEPTH - 1, DEFAULT_MAX_DEPTH])
def test_nesting_up_to_the_limit_is_fine(depth):
    # depth counts containers: [[1]] is 2 levels
    assert decode(nested(depth)) is not None


@pytest.mark.parametrize("depth", [DEFAULT_MAX_DEPTH + 1, 1_000, 10_000, 200_000])
def test_deeper_nesting_is_refused_and_never_a_recursion_error(depth):
    with pytest.raises(JSONInputError) as exc_info:
        decode(nested(depth), max_bytes=10_000_000)
    assert "nested more than 64 levels" in exc_info.value.message
    assert exc_info.value.status == 400


def test_deep_objects_name_their_path():
    document = '{"requiredFields": ' + nested(80, open_='{"x": ', close="}") + "}"
    with pytest.raises(JSONInputError) as exc_info:
        decode(document)
    assert exc_info.value.field == "requiredFields"
    assert exc_info.value.message == "requiredFields.x: nested more than 64 levels deep."
    assert exc_info.value.path.startswith("requiredFields.x.x")


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ('{"requiredFields": {"fields": {"given_name": {"label": "First\\u0000name"}}}}',
         "requiredFields.fields.given_name.label"),
        ('{"payload": {"custom": ["ok", "bad\\u0000"]}}', "payload.custom[1]"),
        ('"\\u0000"', "The value"),
    ],
)
def test_nul_in_a_string_is_refused_naming_where(document, path):
    with pytest.raises(JSONInputError) as exc_info:
        decode(document)
    assert exc_info.value.message.startswith(path)
    assert "NUL" in exc_info.value.message


def test_nul_in_a_key_is_refused():
    with pytest.raises(JSONInputError, match="key holds a NUL"):
        decode('{"payload": {"given\\u0000name": "x"}}')


@pytest.mark.parametrize(
    "document",
    [
        b'{"a": "\\ud800"}',  # a lone surrogate cannot be stored as UTF-8
        b'"\xff\xfe"',  # not UTF-8
        b"[NaN]",
        b"[Infinity]",
        b"[1e400]",  # overflows a double; PostgreSQL's jsonb can't hold infinity
        b'{"a": 1,}',
        b"",
        b"{'a': 1}",
    ],
)
def test_what_cannot_be_stored_or_is_not_json_is_refused(document):
    with pytest.raises(JSONInputError) as exc_info:
        decode(document)
    assert exc_info.value.status == 400


def test_size_is_checked_before_parsing():
    with pytest.raises(JSONInputError) as exc_info:
        decode(b'"' + b"a" * 2_000 + b'"', max_bytes=1_000, field="request")
    assert exc_info.value.status == 413 and exc_info.value.field == "request"
    assert "at most 1,000" in exc_info.value.message


def test_check_value_walks_any_depth_without_recursion():
    value: list = []
    for _ in range(100_000):
        value = [value]
    with pytest.raises(JSONInputError):
        check_value(value)


@settings(max_examples=200, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=30,
))
def test_any_json_value_either_decodes_to_itself_or_is_refused_cleanly(value):
    import json

    text = json.dumps(value)
    try:
        decoded = decode(text)
    except JSONInputError as exc:
        assert "NUL" in exc.message or "nested" in exc.message or "surrogate" in exc.message
    else:
        assert json.dumps(decoded) == text


# --- the model-field validator ----------------------------------------------------------------------


def test_json_bounds_validator_caps_size_depth_and_nul():
    validator = JSONBoundsValidator(1_000)
    validator({"fields": {"given_name": {"state": "required"}}})
    with pytest.raises(ValidationError, match="at most 1,000 can be stored"):
        validator({"x": "a" * 2_000})
    with pytest.raises(ValidationError, match="NUL"):
        validator({"label": "a\x00b"})
    deep: list = []
    for _ in range(70):
        deep = [deep]
    with pytest.raises(ValidationError, match="nested more than 64"):
        validator(deep)
    assert JSONBoundsValidator(1_000) == validator and JSONBoundsValidator(2_000) != validator


def test_every_json_model_field_has_a_size_cap():
    from django.apps import apps
    from django.db.models import JSONField

    missing = [
        f"{model._meta.label}.{f.name}"
        for model in apps.get_models()
        if model._meta.app_label in {"rostering", "registrations", "assessments", "session_setup", "oneroster"}
        for f in model._meta.concrete_fields
        if isinstance(f, JSONField) and not any(isinstance(v, JSONBoundsValidator) for v in f.validators)
    ]
    assert missing == []


# --- RE2 patterns ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("pattern", [r"^(a+)+$", r"^([A-Za-z]+\s?)+$", r"(x+x+)+y", r"^(\w+\s?)*$"])
def test_catastrophic_patterns_match_in_linear_time(pattern):
    started = time.perf_counter()
    for n in (30, 5_000):
        assert not fullmatch(pattern, "a" * n + "!")
    # the backtracking engine needs ~40 s at n=30 and never finishes at 5,000; RE2 needs microseconds
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [(r"(?=a)b", "invalid perl operator"), (r"(a)\1", "invalid escape"), (r"[a-", "missing ]"), ("a" * 301, "300")],
)
def test_patterns_re2_cannot_run_are_refused_with_a_reason(pattern, reason):
    with pytest.raises(PatternError) as exc_info:
        compile_pattern(pattern)
    assert reason in str(exc_info.value)


def test_ordinary_patterns_work():
    assert fullmatch(r"^[0-9]{7,15}$", "0771234567")
    assert not fullmatch(r"^[0-9]{7,15}$", "07712")
    assert fullmatch(r"[A-Z]{2}\d{6}", "AB123456")
