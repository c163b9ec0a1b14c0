"""A session's totals from its responses: score, max score, questions attempted, subscores, and whether it is
waiting for manual scores. Pure: the responses come as ``ResponseScore`` rows, the subscore definitions as the
activity (or template) holds them: ``[{"id", "title", "items": [item references]}]``.

Two questions worth 2 and 3 on item ``i1`` (scored 2 and 1) and an unmarked essay worth 4 on ``i2``:

>>> rows = [ResponseScore("i1", 2, 2, True, True), ResponseScore("i1", 1, 3, True, True),
...         ResponseScore("i2", None, 4, True, False)]
>>> t = session_totals(rows, [{"id": "s1", "title": "Facts", "items": ["i1"]}])
>>> (t.score, t.max_score, t.num_attempted, t.pending_manual)
(3, 9, 3, True)
>>> t.subscores[0]["score"], t.subscores[0]["attempted_max_score"]
(3, 5)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ResponseScore:
    item_reference: str
    score: float | None
    max_score: float | None
    attempted: bool
    automarkable: bool


@dataclass(frozen=True)
class Totals:
    score: float | int | None
    max_score: float | int | None
    num_questions: int
    num_attempted: int
    subscores: list | None
    pending_manual: bool  # an attempted, manually scored response has no score yet


def number(value: float) -> float | int:
    value = round(float(value), 4)
    return int(value) if value.is_integer() else value


def session_totals(responses: Sequence[ResponseScore], subscores: Sequence[dict] | None = None) -> Totals:
    scored = [r for r in responses if r.score is not None]
    pending = any(r.score is None and not r.automarkable and r.attempted for r in responses)
    result_subscores = None
    if subscores:
        by_item: dict[str, list[ResponseScore]] = {}
        for r in responses:
            by_item.setdefault(r.item_reference, []).append(r)
        result_subscores = []
        for definition in subscores:
            refs = [ref for ref in definition.get("items", []) if isinstance(ref, str)]
            rows = [r for ref in dict.fromkeys(refs) for r in by_item.get(ref, [])]
            tried = [r for r in rows if r.attempted]
            result_subscores.append({
                "id": definition["id"],
                "title": definition.get("title", definition["id"]),
                "num_questions": len(rows),
                "num_attempted": len(tried),
                "score": number(sum(r.score or 0 for r in rows)),
                "max_score": number(sum(r.max_score or 0 for r in rows)),
                "attempted_max_score": number(sum(r.max_score or 0 for r in tried)),
                "items": refs,
            })
    return Totals(
        score=number(sum(r.score for r in scored)) if scored else None,
        max_score=number(sum(r.max_score or 0 for r in responses)) if responses else None,
        num_questions=len(responses),
        num_attempted=sum(1 for r in responses if r.attempted),
        subscores=result_subscores,
        pending_manual=pending,
    )
