"""OneRoster's ``filter`` grammar compiled into one ``Q`` (never filtered in Python).

    filter=<field><op>'<value>'  [ (AND|OR) <field><op>'<value>' ]…

Operators ``=``, ``!=``, ``>``, ``>=``, ``<``, ``<=``, ``~`` (contains). Values are single-quoted, a quote
inside doubled (``''``). Clauses are joined by one kind of logical operator: mixing AND and OR is refused.
Each clause is compiled by the Graph API's compiler (``rostering.graph.filters``) with the resource's own
field whitelist, so the Q-building (dates as instants, case rules, value maps) is shared.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.db.models import Q

from rostering.graph import filters as graph

MAX_CLAUSES = 20
MAX_FILTER_LENGTH = 4000
OPERATORS = {"=": graph.EQUALS, "!=": graph.NOT_IN, ">": graph.GT, ">=": graph.GTE, "<": graph.LT, "<=": graph.LTE,
             "~": graph.CONTAINS}
_CLAUSE = re.compile(r"\s*([A-Za-z][A-Za-z0-9_.]*)\s*(>=|<=|!=|=|>|<|~)\s*'((?:''|[^'])*)'\s*")
_JOIN = re.compile(r"(AND|OR)(?=[\s])", re.IGNORECASE)


class OneRosterFilterError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def compile_filter(raw: str | None, fields: Mapping[str, graph.FilterField]) -> Q:
    if raw is None or raw.strip() == "":
        return Q()
    if len(raw) > MAX_FILTER_LENGTH or "\x00" in raw:
        raise OneRosterFilterError("The filter is too long or holds a NUL character.")
    pos, clauses, joins = 0, [], set()
    while True:
        m = _CLAUSE.match(raw, pos)
        if not m:
            shown = raw[pos:pos + 40]
            raise OneRosterFilterError(
                f"Bad filter near '{shown}': use field<op>'value' (ops = != > >= < <= ~), joined by AND or OR.")
        clauses.append((m.group(1), m.group(2), m.group(3).replace("''", "'")))
        if len(clauses) > MAX_CLAUSES:
            raise OneRosterFilterError(f"At most {MAX_CLAUSES} filter clauses are accepted.")
        pos = m.end()
        if pos == len(raw):
            break
        j = _JOIN.match(raw, pos)
        if not j:
            raise OneRosterFilterError(f"Expected AND or OR near '{raw[pos:pos + 40]}'.")
        joins.add(j.group(1).upper())
        pos = j.end()
    if len(joins) > 1:
        raise OneRosterFilterError("A filter joins its clauses with AND or with OR, not both.")
    q = None
    for name, op, value in clauses:
        if name not in fields:
            allowed = ", ".join(sorted(fields))
            raise OneRosterFilterError(f"'{name[:60]}' cannot be filtered on here (filterable fields: {allowed}).")
        operator = OPERATORS[op]
        clause_value = [value] if operator == graph.NOT_IN else value
        try:
            part = graph.compile_filter({name: [{"operator": operator, "value": clause_value}]}, fields).q
        except graph.FilterError as exc:
            raise OneRosterFilterError(exc.message.replace("$filter.", "filter ").replace("$filter", "filter")) from None
        q = part if q is None else (q | part if joins == {"OR"} else q & part)
    return q or Q()
