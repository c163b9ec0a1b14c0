"""Edlink's ``$filter`` compiled into one ``Q`` (never filtered in Python).

Grammar (``specs/edlink.md`` §8)::

    {"field": [{"operator": "starts with", "value": "Fall"}, {"operator": "is known"}], "other": [...]}

Every clause of every field must hold (AND). A resource declares, per Edlink field, the ORM lookup, the kind of
value and the operators allowed (``FilterField``); anything else — an unknown field, an operator not allowed on
that field, a value of the wrong shape, a date that does not parse, an id that is not a UUID — is a
``FilterError`` (the API's 400 with ``$errors``), raised before any query runs.

Semantics:

- ``equals``, ``in``, ``not in``: exact and case-sensitive; ``in``/``not in`` take a comma-separated list
  (``"a,b,c"``; blanks around each value are dropped) or, as an extension, a JSON array of strings.
- ``starts with``, ``contains``: case-insensitive (``LIKE`` with ``%``/``_`` escaped by Django).
- ``is known`` / ``is unknown``: the field has a value / has none (an empty text is no value: we store "" where
  Edlink says ``null``).
- ``gt``, ``gte``, ``lt``, ``lte``, ``equals`` on dates compare **instants**: the value is parsed as ISO 8601
  (no zone means UTC). A timestamp is shown with milliseconds, so ``equals`` matches the millisecond shown and
  the ranges round the same way. A calendar date (``start_date``) is the instant of its midnight UTC.

The compiler is generic: the Graph API's resources and the OneRoster service declare their own fields.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from rostering.common.jsonio import JSONInputError, decode

EQUALS, IN, NOT_IN = "equals", "in", "not in"
GT, LT, GTE, LTE = "gt", "lt", "gte", "lte"
STARTS_WITH, CONTAINS = "starts with", "contains"
IS_KNOWN, IS_UNKNOWN = "is known", "is unknown"
OPERATORS = (EQUALS, IN, NOT_IN, GT, LT, GTE, LTE, STARTS_WITH, CONTAINS, IS_KNOWN, IS_UNKNOWN)
NO_VALUE = frozenset({IS_KNOWN, IS_UNKNOWN})

ID_OPS = frozenset({EQUALS, IN, NOT_IN})
DATE_OPS = frozenset({EQUALS, GT, LT, GTE, LTE})
STRING_OPS = frozenset({EQUALS, STARTS_WITH, CONTAINS, IN, NOT_IN, IS_KNOWN, IS_UNKNOWN})
ID_KNOWN_OPS = ID_OPS | NO_VALUE

MAX_FILTER_BYTES = 8 * 1024
MAX_CLAUSES = 50
MAX_LIST_VALUES = 1000
MAX_VALUE_LENGTH = 1000
_MS = datetime.timedelta(milliseconds=1)

UUID_KIND, TEXT, DATETIME, DATE, CHOICE = "uuid", "text", "datetime", "date", "choice"


class FilterError(ValueError):
    """A ``$filter`` we refuse. ``code`` is Edlink's error code (``INVALID_FILTER``, ``INVALID_UUID``)."""

    def __init__(self, message: str, *, code: str = "INVALID_FILTER"):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class FilterField:
    """One filterable Edlink field: its ORM ``lookup``, value ``kind`` and allowed ``operators``.

    ``nullable``: the column may be NULL (and text may be ""), so "is unknown" can hold.
    ``compile``: for fields that are not a column (a derived state), ``(operator, values) -> Q``.
    """

    lookup: str
    kind: str
    operators: frozenset
    nullable: bool = False
    compile: Callable[[str, list[str]], Q] | None = None


def id_field(lookup: str = "pk", *, nullable: bool = False, operators: frozenset = ID_OPS) -> FilterField:
    return FilterField(lookup=lookup, kind=UUID_KIND, operators=operators, nullable=nullable)


def text_field(lookup: str, *, operators: frozenset = STRING_OPS, nullable: bool = True) -> FilterField:
    return FilterField(lookup=lookup, kind=TEXT, operators=operators, nullable=nullable)


def datetime_field(lookup: str = "updated_date") -> FilterField:
    return FilterField(lookup=lookup, kind=DATETIME, operators=DATE_OPS)


def date_field(lookup: str, *, nullable: bool = False) -> FilterField:
    return FilterField(lookup=lookup, kind=DATE, operators=DATE_OPS, nullable=nullable)


@dataclass(frozen=True)
class CompiledFilter:
    q: Q
    canonical: dict  # the filter as validated, to carry in a cursor

    @property
    def empty(self) -> bool:
        return not self.canonical


def parse(raw: str | None, fields: Mapping[str, FilterField], *, noun: str = "objects") -> CompiledFilter:
    """Decode (with the bounded decoder) and compile a ``$filter`` query parameter."""
    if raw is None or raw.strip() == "":
        return CompiledFilter(q=Q(), canonical={})
    try:
        document = decode(raw, max_bytes=MAX_FILTER_BYTES, field="$filter")
    except JSONInputError as exc:
        raise FilterError(exc.message) from None
    return compile_filter(document, fields, noun=noun)


def compile_filter(document: Any, fields: Mapping[str, FilterField], *, noun: str = "objects") -> CompiledFilter:
    """The ``Q`` of an already-decoded filter document (a cursor's carried filter goes through here again)."""
    if not isinstance(document, dict):
        raise FilterError('$filter must be a JSON object: {"field": [{"operator": "…", "value": "…"}]}.')
    q = Q()
    canonical: dict[str, list[dict]] = {}
    count = 0
    for name, clauses in document.items():
        spec = fields.get(name)
        if spec is None:
            allowed = ", ".join(fields) or "none"
            raise FilterError(f"$filter: {noun} cannot be filtered by '{_short(name)}' (filterable fields: {allowed}).")
        if isinstance(clauses, dict):
            clauses = [clauses]
        if not isinstance(clauses, list):
            raise FilterError(f"$filter.{name} must be an array of {{\"operator\", \"value\"}} clauses.")
        for i, clause in enumerate(clauses):
            count += 1
            if count > MAX_CLAUSES:
                raise FilterError(f"$filter: at most {MAX_CLAUSES} clauses are accepted.")
            operator, value = _clause(name, i, clause, spec)
            q &= _compile(name, spec, operator, value)
            canonical.setdefault(name, []).append(
                {"operator": operator} if operator in NO_VALUE else {"operator": operator, "value": value}
            )
    return CompiledFilter(q=q, canonical=canonical)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _clause(name: str, i: int, clause: Any, spec: FilterField) -> tuple[str, Any]:
    where = f"$filter.{name}[{i}]"
    if not isinstance(clause, dict):
        raise FilterError(f'{where} must be an object such as {{"operator": "equals", "value": "…"}}.')
    unexpected = set(clause) - {"operator", "value"}
    if unexpected:
        raise FilterError(f"{where}: unexpected key '{_short(sorted(unexpected)[0])}' (use operator and value).")
    operator = clause.get("operator")
    if not isinstance(operator, str) or operator not in OPERATORS:
        shown = _short(operator) if isinstance(operator, str) else operator
        raise FilterError(f"{where}: unknown operator {shown!r} (operators: {', '.join(OPERATORS)}).")
    if operator not in spec.operators:
        allowed = ", ".join(op for op in OPERATORS if op in spec.operators)
        raise FilterError(f"{where}: the operator '{operator}' is not allowed on '{name}' (allowed: {allowed}).")
    if operator in NO_VALUE:
        return operator, None
    if "value" not in clause:
        raise FilterError(f"{where}: the operator '{operator}' needs a value.")
    value = clause["value"]
    if operator in (IN, NOT_IN) and isinstance(value, list):
        if not value or not all(isinstance(v, str) for v in value):
            raise FilterError(f"{where}: '{operator}' takes a comma-separated string or an array of strings.")
        return operator, list(value)
    if not isinstance(value, str):
        raise FilterError(f"{where}: the value must be a string.")
    if len(value) > MAX_VALUE_LENGTH * (MAX_LIST_VALUES if operator in (IN, NOT_IN) else 1):
        raise FilterError(f"{where}: the value is too long.")
    return operator, value


def _values(name: str, operator: str, value: Any) -> list[str]:
    if operator in (IN, NOT_IN):
        items = value if isinstance(value, list) else value.split(",")
        items = [v.strip() for v in items]
        items = [v for v in items if v]
        if not items:
            raise FilterError(f"$filter.{name}: '{operator}' needs at least one value.")
        if len(items) > MAX_LIST_VALUES:
            raise FilterError(f"$filter.{name}: '{operator}' takes at most {MAX_LIST_VALUES} values.")
        if any(len(v) > MAX_VALUE_LENGTH for v in items):
            raise FilterError(f"$filter.{name}: a value is too long.")
        return items
    return [value]


def _compile(name: str, spec: FilterField, operator: str, value: Any) -> Q:
    lookup = spec.lookup
    if operator in NO_VALUE:
        if spec.compile is not None:
            return spec.compile(operator, [])
        if spec.kind == TEXT:
            known = Q(**{f"{lookup}__isnull": False}) & ~Q(**{lookup: ""})
        else:
            known = Q(**{f"{lookup}__isnull": False})
        if not spec.nullable:
            return Q() if operator == IS_KNOWN else Q(pk__in=[])
        return known if operator == IS_KNOWN else ~known
    values = _values(name, operator, value)
    if spec.kind == UUID_KIND:
        values = [_uuid(name, v) for v in values]
    if spec.compile is not None:
        return spec.compile(operator, values)
    if spec.kind == DATETIME:
        return _datetime_q(lookup, operator, _instant(name, values[0]))
    if spec.kind == DATE:
        return _date_q(lookup, operator, _instant(name, values[0]))
    if operator == EQUALS:
        return Q(**{lookup: values[0]})
    if operator == IN:
        return Q(**{f"{lookup}__in": values})
    if operator == NOT_IN:
        return ~Q(**{f"{lookup}__in": values})
    if operator == STARTS_WITH:
        return Q(**{f"{lookup}__istartswith": values[0]})
    if operator == CONTAINS:
        return Q(**{f"{lookup}__icontains": values[0]})
    raise FilterError(f"$filter.{name}: the operator '{operator}' does not apply to this field.")


def _uuid(name: str, raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise FilterError(
            f"A valid UUID is expected for $filter.{name} ({_short(raw)!r} is not one).", code="INVALID_UUID"
        ) from None


def parse_instant(raw: str) -> datetime.datetime | None:
    """An ISO 8601 date or date-time as an aware UTC datetime (no zone: UTC), or ``None`` if it does not parse."""
    text = raw.strip()
    if not 10 <= len(text) <= 40:
        return None
    try:
        value = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value.astimezone(datetime.UTC)


def _instant(name: str, raw: str) -> datetime.datetime:
    value = parse_instant(raw)
    if value is None:
        raise FilterError(
            f"$filter.{name}: {_short(raw)!r} is not a date; use ISO 8601 such as 2024-08-01T00:00:00.000Z."
        )
    return value


def _datetime_q(lookup: str, operator: str, at: datetime.datetime) -> Q:
    """Timestamps are shown to the millisecond: compare with the millisecond the client saw."""
    start = at.replace(microsecond=at.microsecond // 1000 * 1000)
    end = start + _MS
    if operator == EQUALS:
        return Q(**{f"{lookup}__gte": start, f"{lookup}__lt": end})
    if operator == GT:
        return Q(**{f"{lookup}__gte": end})
    if operator == GTE:
        return Q(**{f"{lookup}__gte": start})
    if operator == LT:
        return Q(**{f"{lookup}__lt": start})
    return Q(**{f"{lookup}__lt": end})  # lte


def _date_q(lookup: str, operator: str, at: datetime.datetime) -> Q:
    """A calendar date ``d`` stands for the instant ``d`` 00:00 UTC; compare those instants."""
    day = at.date()
    midnight = at == datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)
    if operator == EQUALS:
        return Q(**{lookup: day}) if midnight else Q(pk__in=[])
    if operator == GT:
        return Q(**{f"{lookup}__gt": day})
    if operator == GTE:
        return Q(**{f"{lookup}__gte": day}) if midnight else Q(**{f"{lookup}__gt": day})
    if operator == LT:
        return Q(**{f"{lookup}__lt": day}) if midnight else Q(**{f"{lookup}__lte": day})
    return Q(**{f"{lookup}__lte": day})  # lte
