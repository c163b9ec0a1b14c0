"""``$filter``: every operator on every allowed field of every object, against the unfiltered list.

For each (object, field, operator) the filtered list from the API must equal the unfiltered list filtered here
by Edlink's documented semantics (an oracle over the JSON objects) — and must not be empty or everything when
the data allows better, so the comparison is not vacuous. The seed's Sessions also get hand-computed answers.
"""

import datetime
import itertools
import json
from urllib.parse import quote

import pytest

from rostering.graph import filters as f
from rostering.graph.resources import RESOURCES, SESSION_FILTERS
from tests.rostering.graph.conftest import Graph

BASE = "/api/v2/graph"


def get_all(graph: Graph, resource: str, filter_doc: dict | None = None) -> list[dict]:
    url = f"{BASE}/{resource}?$first=2"
    if filter_doc is not None:
        url += "&%24filter=" + quote(json.dumps(filter_doc, separators=(",", ":")))
    client = graph.client()
    items = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        items += body["$data"]
        url = body.get("$next")
    return items


def instant(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def holds(obj: dict, field: str, operator: str, value) -> bool:
    """Edlink's semantics of one clause on one JSON object (filtering-results guide, spec §8)."""
    v = obj[field]
    if operator == f.IS_KNOWN:
        return v is not None and v != []
    if operator == f.IS_UNKNOWN:
        return v is None or v == []
    values = [x.strip() for x in value.split(",")] if operator in (f.IN, f.NOT_IN) else [value]
    candidates = v if isinstance(v, list) else [v]
    if operator in (f.GT, f.LT, f.GTE, f.LTE) or field.endswith("_date"):
        if v is None:
            return False
        a, b = instant(v), instant(values[0])
        return {"equals": a == b, "gt": a > b, "lt": a < b, "gte": a >= b, "lte": a <= b}[operator]
    if operator == f.EQUALS:
        return values[0] in candidates
    if operator == f.IN:
        return any(c in values for c in candidates)
    if operator == f.NOT_IN:
        return not any(c in values for c in candidates)
    if operator == f.STARTS_WITH:
        return any(c is not None and c.lower().startswith(values[0].lower()) for c in candidates)
    if operator == f.CONTAINS:
        return any(c is not None and values[0].lower() in c.lower() for c in candidates)
    raise AssertionError(operator)


NOWHERE = "00000000-0000-4000-8000-000000000000"


def sample_values(items: list[dict], field: str, operator: str, kind: str) -> list:
    """Values worth trying for this clause, taken from the data (plus one that matches nothing)."""
    present = []
    for item in items:
        v = item[field]
        for x in v if isinstance(v, list) else [v]:
            if x is not None and x not in present:
                present.append(x)
    if operator in f.NO_VALUE:
        return [None]
    if not present:
        return [NOWHERE if kind == f.UUID_KIND else "zz"]
    first, last = present[0], present[-1]
    if operator == f.STARTS_WITH:
        return [first[:3].swapcase(), "zzz"]
    if operator == f.CONTAINS:
        middle = first[1:4] if len(first) > 3 else first
        return [middle.upper(), "@EXAMPLE.", "qqq"]
    if operator in (f.IN, f.NOT_IN):
        other = NOWHERE if kind == f.UUID_KIND else "nothing-like-this"
        return [f"{first},{last}", f"{first}, {other}"]
    return [first, last]


PAIRS = [
    (name, field, operator)
    for name, resource in RESOURCES.items()
    for field, spec in resource.filters.items()
    for operator in f.OPERATORS
    if operator in spec.operators
]


def test_every_operator_of_the_seed_is_somewhere():
    assert {op for _n, _f, op in PAIRS} == set(f.OPERATORS)
    session_pairs = {(field, op) for name, field, op in PAIRS if name == "sessions"}
    assert session_pairs == {
        ("id", "equals"), ("id", "in"), ("id", "not in"),
        *(("updated_date", op) for op in ("equals", "gt", "lt", "gte", "lte")),
        *(("name", op) for op in ("equals", "starts with", "contains", "in", "not in", "is known", "is unknown")),
        *(("start_date", op) for op in ("equals", "gt", "lt", "gte", "lte")),
        *(("end_date", op) for op in ("equals", "gt", "lt", "gte", "lte")),
    }


@pytest.mark.parametrize(("resource", "field", "operator"), PAIRS, ids=[f"{r}.{fl}.{op}" for r, fl, op in PAIRS])
def test_operator_on_field_matches_the_unfiltered_list(graph, resource, field, operator):
    everything = get_all(graph, resource)
    assert everything, resource
    tried_selective = False
    kind = RESOURCES[resource].filters[field].kind
    for value in sample_values(everything, field, operator, kind):
        clause = {"operator": operator} if value is None else {"operator": operator, "value": value}
        got = get_all(graph, resource, {field: [clause]})
        expected = [o for o in everything if holds(o, field, operator, value)]
        assert [o["id"] for o in got] == [o["id"] for o in expected], (field, operator, value)
        assert got == expected  # the same objects, whole
        tried_selective |= 0 < len(expected) < len(everything)
    # Where the data can tell a working filter from "all" or "none", at least one value did.
    distinct = {json.dumps(o[field]) for o in everything}
    if operator in f.NO_VALUE:
        could = {"null", "[]"} & distinct and distinct - {"null", "[]"}
    else:
        could = len(distinct) > 1
    if could:
        assert tried_selective, (field, operator)


# --- the seed's Sessions, by hand -----------------------------------------------------------------------------


def names(graph, filter_doc) -> list[str]:
    return sorted(o["name"] for o in get_all(graph, "sessions", filter_doc))


SESSION_CASES = [
    ({"start_date": [{"operator": "gte", "value": "2024-08-01T00:00:00.000Z"}],
      "name": [{"operator": "starts with", "value": "Fall"}]}, ["Fall 2024"]),
    ({"end_date": [{"operator": "lt", "value": "2025-06-01T00:00:00.000Z"}],
      "start_date": [{"operator": "gte", "value": "2024-08-01T00:00:00.000Z"}]}, ["Fall 2024", "Spring 2025"]),
    ({"name": [{"operator": "contains", "value": "SUMMER"}, {"operator": "is known"}]}, ["summer school"]),
    ({"name": [{"operator": "not in", "value": "Summer 2024,summer school"}]}, ["2026", "Fall 2024", "Spring 2025"]),
    ({"name": [{"operator": "in", "value": "Fall 2024,2026"}]}, ["2026", "Fall 2024"]),
    ({"name": [{"operator": "equals", "value": "fall 2024"}]}, []),  # equals is case-sensitive
    ({"name": [{"operator": "is unknown"}]}, []),
    ({"start_date": [{"operator": "equals", "value": "2024-08-01T00:00:00.000Z"}]}, ["Fall 2024"]),
    ({"start_date": [{"operator": "equals", "value": "2024-08-01T00:00:00.001Z"}]}, []),
    # instants, not strings: 02:00 in Harare is midnight UTC; a date without a zone is UTC
    ({"start_date": [{"operator": "equals", "value": "2024-08-01T02:00:00+02:00"}]}, ["Fall 2024"]),
    ({"start_date": [{"operator": "gt", "value": "2024-08-01"}]}, ["2026", "Spring 2025", "summer school"]),
    ({"start_date": [{"operator": "gte", "value": "2024-08-01T00:00:00.001Z"}]}, ["2026", "Spring 2025", "summer school"]),
    ({"start_date": [{"operator": "lte", "value": "2024-08-01T23:59:59Z"}]}, ["Fall 2024"]),
    ({"start_date": [{"operator": "lt", "value": "2024-08-01T00:00:00.001Z"}]}, ["Fall 2024"]),
    ({"end_date": [{"operator": "gt", "value": "2025-08-01T00:00:00.000Z"}]}, ["2026"]),
    ({"end_date": [{"operator": "lte", "value": "2025-05-30T00:00:00.000Z"}]}, ["Fall 2024", "Spring 2025"]),
]


@pytest.mark.parametrize(("filter_doc", "expected"), SESSION_CASES)
def test_session_filters_by_hand(graph, filter_doc, expected):
    assert names(graph, filter_doc) == expected


def test_id_filters_and_updated_date_to_the_millisecond(graph):
    fall, spring = graph.sessions[1], graph.sessions[2]
    assert names(graph, {"id": [{"operator": "in", "value": f"{fall.pk},{spring.pk}"}]}) == ["Fall 2024", "Spring 2025"]
    assert names(graph, {"id": [{"operator": "equals", "value": str(fall.pk)}]}) == ["Fall 2024"]
    assert "Fall 2024" not in names(graph, {"id": [{"operator": "not in", "value": str(fall.pk)}]})
    shown = next(o for o in get_all(graph, "sessions") if o["id"] == str(fall.pk))["updated_date"]
    assert "Fall 2024" in names(graph, {"updated_date": [{"operator": "equals", "value": shown}]})
    assert "Fall 2024" not in names(graph, {"updated_date": [{"operator": "gt", "value": shown}]})
    assert "Fall 2024" in names(graph, {"updated_date": [{"operator": "lte", "value": shown}]})


def test_the_clauses_of_one_field_and_of_several_fields_are_anded(graph):
    both = {"name": [{"operator": "starts with", "value": "s"}, {"operator": "contains", "value": "2025"}]}
    assert names(graph, both) == ["Spring 2025"]
    several = {"name": [{"operator": "starts with", "value": "s"}],
               "end_date": [{"operator": "lt", "value": "2025-06-01"}]}
    assert names(graph, several) == ["Spring 2025"]


def test_like_wildcards_are_literal(graph):
    assert names(graph, {"name": [{"operator": "contains", "value": "%"}]}) == []
    assert names(graph, {"name": [{"operator": "starts with", "value": "_all"}]}) == []


def test_compiler_unit_allowlist():
    for field, spec in SESSION_FILTERS.items():
        for operator in set(f.OPERATORS) - spec.operators:
            with pytest.raises(f.FilterError, match="not allowed"):
                f.compile_filter({field: [{"operator": operator, "value": "x"}]}, SESSION_FILTERS)
    for forbidden in ("created_date", "state", "type", "school_id", "district_id", "properties", "identifiers"):
        with pytest.raises(f.FilterError, match="cannot be filtered"):
            f.compile_filter({forbidden: [{"operator": "equals", "value": "x"}]}, SESSION_FILTERS)


def test_compiled_filter_is_one_sql_query(graph, django_assert_num_queries):
    from rostering.graph.resources import SESSIONS

    compiled = f.parse(json.dumps({"name": [{"operator": "contains", "value": "a"}],
                                   "start_date": [{"operator": "gte", "value": "2024-01-01"}]}), SESSION_FILTERS)
    with django_assert_num_queries(1) as captured:
        rows = list(SESSIONS.rows(SESSIONS.queryset(graph.world.district.pk).filter(compiled.q)))
    assert rows and "LIKE" in captured.captured_queries[0]["sql"].upper()


def test_every_pair_is_listed_once():
    assert len(PAIRS) == len(set(PAIRS)) and len(list(itertools.chain(PAIRS))) > 60
