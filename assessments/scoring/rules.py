"""How one response is scored: the question type says how a response is cut into *response areas* and which
areas are right; the scoring rule (``validation.scoring_type``) turns that into a score (specs/learnosity.md §9).

A question is the JSON ``sessions/templates`` sends: ``type``, ``options``, ``validation`` (``scoring_type``,
``valid_response {score, value}``, ``alt_responses``, ``penalty``, ``min_score_if_attempted``,
``allow_negative_scores``, ``unscored``, ``automarkable``, ``rounding``) and the type's own fields
(``multiple_responses``, ``case_sensitive``, ``stimulus_list``, ``list``, …). A response is the stored object
``{"value": …, "type": …}`` (or ``None``: not answered).

The order of the arithmetic, for each correct answer (``valid_response`` and every ``alt_responses`` entry):

1. the rule's raw score and max score from the areas (``exact_match``, ``partial_match``, ``partial_match_v2``,
   ``partial_match_pairwise`` below), the penalty taken off as the rule says;
2. the best answer wins: the highest score over all answers, and the highest max score;
3. negative scores become 0 unless ``allow_negative_scores``;
4. an attempted response scores at least ``min_score_if_attempted`` (never more than the max);
5. rounded to 4 decimal places (Learnosity's rounding of partial scores), as is the max score.

An unattempted response scores 0 (no penalty, no minimum); an ``unscored`` question scores 0 out of 0; the
essay types (longtext, longtextV2, plaintext), a question with ``automarkable: false`` and a formula whose
equivalence cannot be decided by value are manually scored: ``score`` is ``None`` until a marker gives one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assessments.scoring import values as v

MANUAL_TYPES = frozenset({"longtext", "longtextV2", "plaintext"})
SUPPORTED_TYPES = frozenset({
    "association", "choicematrix", "clozeinlinetext", "clozetext", "clozeformula", "formulaV2", "gridded", "mcq",
    "orderlist", "shorttext", *MANUAL_TYPES,
})
RULES = ("exactMatch", "partialMatch", "partialMatchV2", "partialMatchPairwise")
DECIMALS = 4


@dataclass(frozen=True)
class Score:
    score: float | None  # None: waiting for a manual score
    max_score: float
    attempted: bool
    automarkable: bool


@dataclass(frozen=True)
class Areas:
    """How a response compares with one correct answer: ``correct`` of ``total`` areas right, ``wrong`` areas
    answered but not right (blank areas are neither); ``pairs``/``pairs_right`` for pairwise order scoring."""

    total: int
    correct: int
    wrong: int
    pairs: int = 0
    pairs_right: int = 0

    @property
    def all_right(self) -> bool:
        return self.total > 0 and self.correct == self.total and self.wrong == 0


class Undecidable(Exception):
    """The response cannot be compared by value (a symbolic formula): it goes to manual scoring."""


def _number(value: Any, default: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return default
    return float(value)


def _flag(question: dict, name: str, default: bool = False) -> bool:
    validation = question.get("validation") or {}
    for source in (validation, question):
        if isinstance(source.get(name), bool):
            return source[name]
    return default


# --- the rules ----------------------------------------------------------------------------------------------------


def exact_match(areas: Areas, score: float, penalty: float) -> tuple[float, float]:
    """All or nothing: ``score`` when every area is right, otherwise 0 less the penalty (once).

    >>> exact_match(Areas(total=2, correct=2, wrong=0), 2, 0.5)
    (2.0, 2.0)
    >>> exact_match(Areas(total=2, correct=1, wrong=1), 2, 0.5)  # one area wrong: nothing, less the penalty
    (-0.5, 2.0)
    """
    if areas.all_right:
        return float(score), float(score)
    return -float(penalty) if (areas.correct or areas.wrong) else 0.0, float(score)


def partial_match(areas: Areas, score: float, penalty: float) -> tuple[float, float]:
    """"Partial match per response", cumulative: ``score`` for each right area, the penalty for each wrong one;
    the max is ``score`` × the number of areas.

    >>> partial_match(Areas(total=3, correct=2, wrong=1), 1, 0.5)  # 2 × 1 − 1 × 0.5 of 3
    (1.5, 3.0)
    """
    return score * areas.correct - penalty * areas.wrong, float(score) * areas.total


def partial_match_v2(areas: Areas, score: float, penalty: float) -> tuple[float, float]:
    """"Partial match": ``score`` divided between the areas; each right area earns its share, each wrong one
    loses its share of the penalty; the max is ``score``.

    >>> partial_match_v2(Areas(total=4, correct=3, wrong=1), 2, 1)  # 3/4 × 2 − 1/4 × 1
    (1.25, 2.0)
    """
    if areas.total == 0:
        return 0.0, float(score)
    return (score * areas.correct - penalty * areas.wrong) / areas.total, float(score)


def partial_match_pairwise(areas: Areas, score: float, penalty: float) -> tuple[float, float]:
    """orderlist's "partial pairwise": every pair of list entries whose relative order the learner got right
    earns its share of ``score``; the penalty is shared over the pairs the same way; the max is ``score``.

    Correct order a, b, c, d, answered b, a, c, d: of the 6 pairs only (a, b) is reversed, so 5/6 of the score.

    >>> partial_match_pairwise(Areas(total=4, correct=2, wrong=2, pairs=6, pairs_right=5), 3, 0)
    (2.5, 3.0)
    """
    if areas.pairs == 0:
        return exact_match(areas, score, penalty)
    wrong_pairs = areas.pairs - areas.pairs_right
    return (score * areas.pairs_right - penalty * wrong_pairs) / areas.pairs, float(score)


RULE_FUNCTIONS: dict[str, Callable[[Areas, float, float], tuple[float, float]]] = {
    "exactMatch": exact_match,
    "partialMatch": partial_match,
    "partialMatchV2": partial_match_v2,
    "partialMatchPairwise": partial_match_pairwise,
}


# --- the types: areas of a response against one answer -----------------------------------------------------------


def _positional(expected: list, given: list, same: Callable[[Any, Any], bool]) -> Areas:
    correct = wrong = 0
    for i, want in enumerate(expected):
        got = given[i] if i < len(given) else None
        if v.blank(got):
            continue
        if same(want, got):
            correct += 1
        else:
            wrong += 1
    wrong += sum(1 for extra in given[len(expected):] if not v.blank(extra))
    return Areas(total=len(expected), correct=correct, wrong=wrong)


def _text_equal(question: dict) -> Callable[[Any, Any], bool]:
    case_sensitive = _flag(question, "case_sensitive")

    def same(want, got) -> bool:
        return v.text(want, case_sensitive) == v.text(got, case_sensitive)

    return same


def areas_mcq(question: dict, expected: Any, given: Any) -> Areas:
    """mcq, single or multiple responses: one area per right option; a chosen option that is not right is wrong.

    Right ["0", "2"], chosen ["0", "1"]: 1 of 2 areas right, 1 wrong."""
    want = {str(x) for x in v.as_list(expected)}
    got = {str(x) for x in v.as_list(given) if not v.blank(x)}
    return Areas(total=len(want), correct=len(want & got), wrong=len(got - want))


def areas_cloze_text(question: dict, expected: Any, given: Any) -> Areas:
    """clozetext and clozeinlinetext: one area per ``{{response}}``, compared in position, trimmed, case-blind
    unless ``case_sensitive``."""
    return _positional(v.as_list(expected), v.as_list(given), _text_equal(question))


def areas_association(question: dict, expected: Any, given: Any) -> Areas:
    """association: the i-th answer belongs to ``stimulus_list[i]``; compared in position."""
    return _positional(v.as_list(expected), v.as_list(given), lambda a, b: str(a) == str(b))


def areas_choicematrix(question: dict, expected: Any, given: Any) -> Areas:
    """choicematrix: one area per stem (row); a row is right when its chosen options are exactly the right ones."""
    want_rows, got_rows = v.as_list(expected), v.as_list(given)

    def row(value) -> frozenset:
        return frozenset(str(x) for x in v.as_list(value) if not v.blank(x))

    return _positional(want_rows, got_rows, lambda a, b: row(a) == row(b) and bool(row(b)))


def areas_orderlist(question: dict, expected: Any, given: Any) -> Areas:
    """orderlist: one area per position (list indexes in the chosen order), and the pairs for pairwise scoring."""
    want = [str(x) for x in v.as_list(expected)]
    got = [str(x) for x in v.as_list(given)]
    base = _positional(want, got, lambda a, b: a == b)
    where = {x: i for i, x in enumerate(got)}
    pairs = pairs_right = 0
    for i in range(len(want)):
        for j in range(i + 1, len(want)):
            pairs += 1
            a, b = where.get(want[i]), where.get(want[j])
            if a is not None and b is not None and a < b:
                pairs_right += 1
    return Areas(total=base.total, correct=base.correct, wrong=base.wrong, pairs=pairs, pairs_right=pairs_right)


def areas_shorttext(question: dict, expected: Any, given: Any) -> Areas:
    """shorttext: one area, the whole text, trimmed, case-blind unless ``case_sensitive``."""
    if v.blank(given):
        return Areas(total=1, correct=0, wrong=0)
    right = _text_equal(question)(expected, given)
    return Areas(total=1, correct=int(right), wrong=int(not right))


def areas_gridded(question: dict, expected: Any, given: Any) -> Areas:
    """gridded: one area, the number entered, compared by value ("1234.50" is 1234.5)."""
    if v.blank(given):
        return Areas(total=1, correct=0, wrong=0)
    a, b = v.decimal(expected), v.decimal(given)
    right = a is not None and b is not None and a == b
    return Areas(total=1, correct=int(right), wrong=int(not right))


def _formula_equal(want: Any, got: Any) -> bool:
    """A formula answer: a string or Learnosity's ``[{"method": "equivValue"|"equivLiteral"|…, "value"}]``;
    every method listed must hold."""
    specs = want if isinstance(want, list) else [{"method": "equivValue", "value": want}]
    for spec in specs:
        if not isinstance(spec, dict):
            spec = {"method": "equivValue", "value": spec}
        method, target = spec.get("method", "equivValue"), spec.get("value", "")
        if method == "equivLiteral":
            if v.literal(target) != v.literal(got):
                return False
            continue
        # equivValue, equivSymbolic, …: decided by value when both sides are numbers; otherwise undecidable.
        a, b = v.evaluate(str(target)), v.evaluate(str(got))
        if a is None or b is None:
            raise Undecidable(f"{target!r} and {got!r} cannot be compared by value")
        if not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12):
            return False
    return True


def areas_formula(question: dict, expected: Any, given: Any) -> Areas:
    """formulaV2: one area, equivalent by value (``3/4`` is ``0.75`` is ``\\frac{6}{8}``)."""
    if v.blank(given):
        return Areas(total=1, correct=0, wrong=0)
    right = _formula_equal(expected, given)
    return Areas(total=1, correct=int(right), wrong=int(not right))


def areas_clozeformula(question: dict, expected: Any, given: Any) -> Areas:
    """clozeformula: one area per gap, each a formula compared by value."""
    return _positional(v.as_list(expected), v.as_list(given), _formula_equal)


AREAS: dict[str, Callable[[dict, Any, Any], Areas]] = {
    "mcq": areas_mcq,
    "clozetext": areas_cloze_text,
    "clozeinlinetext": areas_cloze_text,
    "association": areas_association,
    "choicematrix": areas_choicematrix,
    "orderlist": areas_orderlist,
    "shorttext": areas_shorttext,
    "gridded": areas_gridded,
    "formulaV2": areas_formula,
    "clozeformula": areas_clozeformula,
}


# --- putting it together ------------------------------------------------------------------------------------------


def _answers(validation: dict) -> list[dict]:
    answers = []
    for answer in [validation.get("valid_response"), *(validation.get("alt_responses") or [])]:
        if isinstance(answer, dict) and "value" in answer:
            answers.append(answer)
    return answers


def is_manual(question: dict) -> bool:
    validation = question.get("validation") or {}
    return question.get("type") in MANUAL_TYPES or validation.get("automarkable") is False or not _answers(validation)


def max_score_of(question: dict) -> float:
    """The most a question can score: its best answer's max under its rule, or ``max_score`` for the manual ones."""
    validation = question.get("validation") or {}
    if _flag(question, "unscored"):
        return 0.0
    if is_manual(question):
        return round(max(0.0, _number(validation.get("max_score"),
                                      _number((validation.get("valid_response") or {}).get("score"), 1.0))), DECIMALS)
    rule = RULE_FUNCTIONS.get(validation.get("scoring_type") or "exactMatch", exact_match)
    best = 0.0
    compare = AREAS.get(question.get("type"))
    for answer in _answers(validation):
        total = len(v.as_list(answer["value"])) if compare in (areas_mcq, areas_cloze_text, areas_association,
                                                              areas_choicematrix, areas_orderlist, areas_clozeformula) else 1
        _raw, top = rule(Areas(total=total, correct=total, wrong=0, pairs=1, pairs_right=1),
                         max(0.0, _number(answer.get("score"), 1.0)), 0.0)
        best = max(best, top)
    return round(best, DECIMALS)


def attempted(question: dict, response: Any) -> bool:
    value = response.get("value") if isinstance(response, dict) else response
    return not v.blank(value, deep=True)


def score_response(question: dict, response: Any) -> Score:
    """The score of ``response`` (a stored response object, or ``None``) to ``question``.

    mcq worth 2, right answer ["0", "2"], partialMatchV2, penalty 1, learner chose ["0", "1"]:
    1 of 2 areas right (+1), 1 wrong (−0.5): 0.5 of 2.

    >>> q = {"type": "mcq", "multiple_responses": True, "validation": {"scoring_type": "partialMatchV2",
    ...      "penalty": 1, "valid_response": {"score": 2, "value": ["0", "2"]}}}
    >>> score_response(q, {"value": ["0", "1"]})
    Score(score=0.5, max_score=2.0, attempted=True, automarkable=True)
    """
    validation = question.get("validation") or {}
    qtype = question.get("type")
    did = attempted(question, response)
    if _flag(question, "unscored"):
        return Score(score=0.0, max_score=0.0, attempted=did, automarkable=True)
    top = max_score_of(question)
    compare = AREAS.get(qtype)
    if compare is None or is_manual(question):
        return Score(score=None, max_score=top, attempted=did, automarkable=False)
    if not did:
        return Score(score=0.0, max_score=top, attempted=False, automarkable=True)
    given = response.get("value") if isinstance(response, dict) else response
    rule_name = validation.get("scoring_type") or "exactMatch"
    if rule_name == "partialMatchPairwise" and qtype != "orderlist":
        rule_name = "partialMatchV2"
    rule = RULE_FUNCTIONS.get(rule_name, exact_match)
    penalty = max(0.0, _number(validation.get("penalty")))
    best: float | None = None
    try:
        for answer in _answers(validation):
            raw, _max = rule(compare(question, answer["value"], given), max(0.0, _number(answer.get("score"), 1.0)), penalty)
            best = raw if best is None else max(best, raw)
    except Undecidable:
        return Score(score=None, max_score=top, attempted=True, automarkable=False)
    score = best or 0.0
    if not _flag(question, "allow_negative_scores"):
        score = max(0.0, score)
    minimum = _number(validation.get("min_score_if_attempted"))
    if minimum > 0:
        score = max(score, min(minimum, top))
    score = min(round(score, DECIMALS), top)
    return Score(score=score + 0.0, max_score=top, attempted=True, automarkable=True)
