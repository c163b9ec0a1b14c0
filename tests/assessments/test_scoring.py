"""The scoring engine, type × rule, with the spec's examples; and a property: a score always lies between the
floor its rules allow and its max score."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessments import scoring
from assessments.scoring import rules, totals, values
from assessments.scoring.totals import ResponseScore


def q(qtype: str, value, *, score=2, rule="exactMatch", **extra) -> dict:
    validation = {"scoring_type": rule, "valid_response": {"score": score, "value": value}}
    for name in ("penalty", "alt_responses", "min_score_if_attempted", "allow_negative_scores", "unscored", "automarkable"):
        if name in extra:
            validation[name] = extra.pop(name)
    return {"type": qtype, "validation": validation, **extra}


def scored(question, value):
    return scoring.score_response(question, {"value": value})


# --- every multi-area type × exactMatch, partialMatch, partialMatchV2, with and without a penalty ---------------

# (type, right answer, a response with 2 of 3 areas right and 1 wrong, extra question fields)
TWO_OF_THREE = [
    ("mcq", ["0", "1", "2"], ["0", "1", "3"], {"multiple_responses": True,
                                             "options": [{"label": x, "value": str(i)} for i, x in enumerate("abcde")]}),
    ("clozetext", ["4", "7", "walked"], ["4", "7", "ran"], {}),
    ("clozeinlinetext", ["is", "are", "was"], ["is", "are", "were"], {}),
    ("association", ["3", "5", "6"], ["3", "5", "8"], {"stimulus_list": ["Triangle", "Pentagon", "Hexagon"],
                                                       "possible_responses": ["3", "5", "6", "8"]}),
    ("choicematrix", [[0], [1], [0]], [[0], [1], [1]], {"stems": ["a", "b", "c"], "options": ["True", "False"]}),
    ("clozeformula", ["1/2", "3", "0.25"], ["0.5", "3", "1"], {}),
]

# score 2, penalty 0.5. exactMatch: nothing (less 0.5, normalised to 0 unless negatives are allowed);
# partialMatch: 2 per right area, −0.5 per wrong one, out of 6; partialMatchV2: that divided between the 3 areas, of 2.
EXPECTED_TWO_OF_THREE = {
    ("exactMatch", 0): (0.0, 2.0), ("exactMatch", 0.5): (0.0, 2.0),
    ("partialMatch", 0): (4.0, 6.0), ("partialMatch", 0.5): (3.5, 6.0),
    ("partialMatchV2", 0): (1.3333, 2.0), ("partialMatchV2", 0.5): (1.1667, 2.0),
}


@pytest.mark.parametrize(("qtype", "right", "given", "extra"), TWO_OF_THREE, ids=[t[0] for t in TWO_OF_THREE])
@pytest.mark.parametrize(("rule", "penalty"), list(EXPECTED_TWO_OF_THREE), ids=lambda v: str(v))
def test_multi_area_types_under_each_rule(qtype, right, given, extra, rule, penalty):
    question = q(qtype, right, rule=rule, penalty=penalty, **extra)
    result = scored(question, given)
    assert (result.score, result.max_score) == EXPECTED_TWO_OF_THREE[(rule, penalty)]
    assert result.attempted and result.automarkable
    full = scored(question, right)
    assert full.score == full.max_score == EXPECTED_TWO_OF_THREE[(rule, penalty)][1]


@pytest.mark.parametrize(("qtype", "right", "given", "extra"), TWO_OF_THREE, ids=[t[0] for t in TWO_OF_THREE])
def test_exact_match_penalty_goes_negative_only_when_allowed(qtype, right, given, extra):
    question = q(qtype, right, penalty=0.5, allow_negative_scores=True, **extra)
    assert scored(question, given).score == -0.5
    assert scored(question, right).score == 2
    assert scored(question, None).score == 0  # not attempted: no penalty


@pytest.mark.parametrize(("qtype", "right", "given", "extra"), TWO_OF_THREE, ids=[t[0] for t in TWO_OF_THREE])
def test_partial_match_penalty_can_go_below_zero_when_allowed(qtype, right, given, extra):
    wrong_everywhere = {"mcq": ["3", "4"], "clozetext": ["x", "y", "z"], "clozeinlinetext": ["x", "y", "z"],
                        "association": ["8", "8", "8"], "choicematrix": [[1], [0], [1]], "clozeformula": ["9", "9", "9"]}[qtype]
    allowed = q(qtype, right, rule="partialMatch", penalty=0.5, allow_negative_scores=True, **extra)
    normalised = q(qtype, right, rule="partialMatch", penalty=0.5, **extra)
    wrong = 2 if qtype == "mcq" else 3
    assert scored(allowed, wrong_everywhere).score == -0.5 * wrong
    assert scored(normalised, wrong_everywhere).score == 0


# --- orderlist: positions, and pairwise ---------------------------------------------------------------------------


ORDER = {"list": ["0.5", "-2", "3/4", "1.2"]}


@pytest.mark.parametrize(("rule", "expected"), [
    ("exactMatch", (0.0, 2.0)),
    ("partialMatch", (4.0, 8.0)),  # a, b swapped: 2 of 4 positions right, 2 each, of 4 × 2
    ("partialMatchV2", (1.0, 2.0)),  # 2 of 4 positions: half of 2
    ("partialMatchPairwise", (1.6667, 2.0)),  # 5 of the 6 pairs in the right order
])
def test_orderlist_under_each_rule(rule, expected):
    question = q("orderlist", [1, 0, 2, 3], rule=rule, **ORDER)
    result = scored(question, [0, 1, 2, 3])
    assert (result.score, result.max_score) == expected
    assert scored(question, [1, 0, 2, 3]).score == expected[1]


def test_pairwise_example_of_the_docstring_and_reversed_list():
    question = q("orderlist", ["a", "b", "c", "d"], score=3, rule="partialMatchPairwise")
    assert scored(question, ["b", "a", "c", "d"]).score == 2.5
    assert scored(question, ["d", "c", "b", "a"]).score == 0
    with_penalty = q("orderlist", ["a", "b", "c", "d"], score=3, rule="partialMatchPairwise", penalty=3,
                     allow_negative_scores=True)
    assert scored(with_penalty, ["b", "a", "c", "d"]).score == 2  # 5/6 × 3 − 1/6 × 3


# --- single-area types × every rule ---------------------------------------------------------------------------------

SINGLE = [
    ("shorttext", "Harare", "harare ", "Bulawayo", {}),
    ("gridded", "1234.5", "1234.50", "1234.6", {}),
    ("formulaV2", [{"method": "equivValue", "value": "3/4"}], "\\frac{6}{8}", "0.7", {}),
    ("mcq", ["1"], ["1"], ["2"], {"options": [{"label": x, "value": str(i)} for i, x in enumerate("abc")]}),
]


@pytest.mark.parametrize(("qtype", "right", "same", "wrong", "extra"), SINGLE, ids=[t[0] for t in SINGLE])
@pytest.mark.parametrize("rule", ["exactMatch", "partialMatch", "partialMatchV2"])
def test_single_area_types_under_each_rule(qtype, right, same, wrong, extra, rule):
    question = q(qtype, right, rule=rule, penalty=0.5, **extra)
    assert scored(question, same).score == 2
    assert scored(question, wrong).score == 0
    assert scored(question, wrong).max_score == 2
    negative = q(qtype, right, rule=rule, penalty=0.5, allow_negative_scores=True, **extra)
    assert scored(negative, wrong).score == -0.5
    minimum = q(qtype, right, rule=rule, min_score_if_attempted=0.5, **extra)
    assert scored(minimum, wrong).score == 0.5
    assert scoring.score_response(minimum, None).score == 0  # unattempted: no minimum


# --- alt_responses, case_sensitive, min_score_if_attempted, unscored, manual types, rounding --------------------


def test_alt_responses_the_best_matching_answer_wins():
    question = q("shorttext", "Harare", score=2, alt_responses=[{"score": 1, "value": "Salisbury"}])
    assert scored(question, "Salisbury").score == 1
    assert scored(question, "Harare").score == 2
    assert scored(question, "Gweru").score == 0
    cloze = q("clozetext", ["4", "7"], score=2, rule="partialMatchV2", alt_responses=[{"score": 3, "value": ["four", "seven"]}])
    assert scored(cloze, ["four", "7"]).score == 1.5  # alt: half of 3 beats valid: half of 2
    assert scored(cloze, ["four", "7"]).max_score == 3


def test_case_sensitive_shorttext_and_cloze():
    blind = q("shorttext", "Harare")
    exact = q("shorttext", "Harare", case_sensitive=True)
    assert scored(blind, "HARARE").score == 2 and scored(exact, "HARARE").score == 0 and scored(exact, " Harare ").score == 2
    cloze = q("clozetext", ["Went", "Met"], rule="partialMatch", score=1, case_sensitive=True)
    assert scored(cloze, ["went", "Met"]).score == 1


def test_min_score_if_attempted_never_above_the_max():
    question = q("mcq", ["0"], score=1, min_score_if_attempted=5, options=[{"value": "0"}, {"value": "1"}])
    assert scored(question, ["1"]).score == 1


def test_unscored_questions_score_nothing_out_of_nothing():
    result = scored(q("mcq", ["0"], unscored=True), ["0"])
    assert (result.score, result.max_score, result.attempted) == (0, 0, True)


@pytest.mark.parametrize("qtype", ["longtext", "longtextV2", "plaintext"])
def test_essays_are_manually_scored(qtype):
    question = {"type": qtype, "validation": {"max_score": 4}}
    result = scoring.score_response(question, {"value": "<p>An answer</p>", "wordCount": 2})
    assert (result.score, result.max_score, result.attempted, result.automarkable) == (None, 4, True, False)
    assert scoring.score_response(question, None).attempted is False


def test_automarkable_false_and_undecidable_formula_go_to_manual_scoring():
    assert scored(q("shorttext", "x", automarkable=False), "x").automarkable is False
    symbolic = q("formulaV2", [{"method": "equivSymbolic", "value": "2x+1"}])
    result = scored(symbolic, "1+2x")
    assert result.score is None and result.automarkable is False
    literal = q("formulaV2", [{"method": "equivLiteral", "value": "2x + 1"}])
    assert scored(literal, "2x+1").score == 2 and scored(literal, "1+2x").score == 0


def test_rounding_to_four_decimals():
    question = q("clozetext", ["a", "b", "c"], score=1, rule="partialMatchV2")
    assert scored(question, ["a", "x", "y"]).score == 0.3333


def test_the_seeds_template_mcq_example():
    """sessions/templates' example question, answered as SET sessions' example packet answers it."""
    question = {"options": [{"label": "Cow", "value": "0"}, {"label": "Ox", "value": "1"},
                            {"label": "Chicken", "value": "2"}, {"label": "Kangaroo", "value": "3"}],
                "type": "mcq", "multiple_responses": True,
                "validation": {"scoring_type": "exactMatch", "valid_response": {"score": 1, "value": ["0", "1"]}}}
    assert scored(question, ["0", "1"]).score == 1
    assert scored(question, ["1", "0"]).score == 1
    assert scored(question, ["0"]).score == 0


def test_formula_values():
    assert values.evaluate("2^3") == 8 and values.evaluate("\\frac{1}{4}") == 0.25 and values.evaluate("2(3)") == 6
    assert values.evaluate("x + 1") is None and values.evaluate("1/0") is None
    assert values.evaluate("((9^64)^64)^64") is None  # bounded: no huge integers
    assert values.evaluate("1" * 300) is None


def test_session_totals_and_subscores():
    rows = [ResponseScore("i1", 2, 2, True, True), ResponseScore("i1", 0, 3, False, True),
            ResponseScore("i2", None, 4, True, False)]
    t = scoring.session_totals(rows, [{"id": "s1", "title": "Facts", "items": ["i1"]}, {"id": "s2", "items": ["i2"]}])
    assert (t.score, t.max_score, t.num_questions, t.num_attempted, t.pending_manual) == (2, 9, 3, 2, True)
    assert t.subscores == [
        {"id": "s1", "title": "Facts", "num_questions": 2, "num_attempted": 1, "score": 2, "max_score": 5,
         "attempted_max_score": 2, "items": ["i1"]},
        {"id": "s2", "title": "s2", "num_questions": 1, "num_attempted": 1, "score": 0, "max_score": 4,
         "attempted_max_score": 4, "items": ["i2"]},
    ]
    marked = scoring.session_totals([*rows[:2], ResponseScore("i2", 3.5, 4, True, False)])
    assert (marked.score, marked.pending_manual, marked.subscores) == (5.5, False, None)


@pytest.mark.parametrize("module", [rules, totals])
def test_docstring_examples(module):
    failures, tried = doctest.testmod(module)
    assert tried > 0 and failures == 0


# --- the property ------------------------------------------------------------------------------------------------

AREA_TYPES = ["mcq", "clozetext", "clozeinlinetext", "association", "choicematrix", "orderlist", "clozeformula"]
tokens = st.sampled_from(["0", "1", "2", "3", "a", "b", "1/2", "0.5", ""])


@st.composite
def questions_and_responses(draw):
    qtype = draw(st.sampled_from([*AREA_TYPES, "shorttext", "gridded", "formulaV2"]))
    n = draw(st.integers(1, 5))
    if qtype == "choicematrix":
        value = [[draw(st.integers(0, 2))] for _ in range(n)]
        given = draw(st.one_of(st.none(), st.lists(st.lists(st.integers(0, 2), max_size=2), max_size=n + 1)))
    elif qtype in AREA_TYPES:
        value = [draw(tokens) or "x" for _ in range(n)]
        given = draw(st.one_of(st.none(), st.lists(st.one_of(st.none(), tokens), max_size=n + 2)))
    else:
        value = draw(tokens) or "1"
        given = draw(st.one_of(st.none(), tokens, st.text(max_size=8)))
    alts = draw(st.lists(st.fixed_dictionaries({"score": st.integers(0, 5), "value": st.just(value)}), max_size=2))
    validation = {
        "scoring_type": draw(st.sampled_from(rules.RULES)),
        "valid_response": {"score": draw(st.one_of(st.integers(0, 10), st.floats(0, 10))), "value": value},
        "alt_responses": alts,
        "penalty": draw(st.one_of(st.just(0), st.floats(0, 5))),
        "min_score_if_attempted": draw(st.one_of(st.just(0), st.floats(0, 5))),
        "allow_negative_scores": draw(st.booleans()),
    }
    return {"type": qtype, "validation": validation, "case_sensitive": draw(st.booleans())}, given


@settings(max_examples=600, deadline=None)
@given(questions_and_responses())
def test_a_score_lies_between_the_floor_its_rules_allow_and_the_max(case):
    question, given = case
    result = scoring.score_response(question, {"value": given})
    validation = question["validation"]
    if result.score is None:
        assert not result.automarkable
        return
    assert result.score <= result.max_score + 1e-9
    if not result.attempted:
        assert result.score == 0
        return
    if validation["allow_negative_scores"]:
        areas = max(len(given) if isinstance(given, list) else 1, len(values.as_list(validation["valid_response"]["value"])))
        floor = -validation["penalty"] * max(areas, 1)
    else:
        floor = 0.0
    if validation["min_score_if_attempted"] > 0:
        floor = max(floor, min(validation["min_score_if_attempted"], result.max_score))
    assert result.score >= round(floor, 4) - 1e-9
