"""Assessment test data, built through the services (the same path as the demo seed and the pages)."""

from __future__ import annotations

import datetime
import uuid

from django.utils import timezone

from assessments.choices import SessionStatus
from assessments.services import (
    activity_create,
    assessment_session_record,
    consumer_create,
    exam_session_create,
    item_create,
)

QUESTIONS = [
    {"reference": "q-mcq", "type": "mcq", "stimulus": "Which are mammals?",
     "options": [{"label": "Cow", "value": "0"}, {"label": "Hen", "value": "1"}, {"label": "Ox", "value": "2"}],
     "multiple_responses": True,
     "validation": {"scoring_type": "exactMatch", "valid_response": {"score": 2, "value": ["0", "2"]}}},
    {"reference": "q-short", "type": "shorttext", "stimulus": "Capital of Zimbabwe?",
     "validation": {"scoring_type": "exactMatch", "valid_response": {"score": 1, "value": "Harare"}}},
    {"reference": "q-essay", "type": "longtextV2", "stimulus": "Describe a parallelogram.",
     "validation": {"max_score": 3}},
]


def bank(district, *, prefix: str = "", exam_session=None, reference: str = "numeracy"):
    """Two items (mcq + shorttext, longtextV2) in one activity with two subscores."""
    qs = [{**q, "reference": f"{prefix}{q['reference']}"} for q in QUESTIONS]
    item1 = item_create(district=district, reference=f"{prefix}item-1", title="Mammals and capitals", questions=qs[:2])
    item2 = item_create(district=district, reference=f"{prefix}item-2", title="Shapes", questions=qs[2:])
    activity = activity_create(
        district=district, reference=f"{prefix}{reference}", title=f"{reference.capitalize()} test", course_id="maths-f1",
        items=[item1, item2], exam_session=exam_session, max_time=1500,
        subscores=[{"id": "subscore-1", "title": "Facts", "items": [item1.reference]},
                   {"id": "subscore-2", "title": "Writing", "items": [item2.reference]}],
    )
    return activity


def session(district, activity, *, n: int = 0, user_id: str | None = None, status: str = SessionStatus.COMPLETED,
            updated_at: datetime.datetime | None = None, adaptive: dict | None = None, session_metadata=None,
            session_id: str | None = None):
    """One learner's session over ``activity`` (see ``bank``): the mcq right, the shorttext wrong, an essay."""
    items = list(activity.activity_items.select_related("item").order_by("position"))
    questions = [q for ai in items for q in ai.item.questions.order_by("position")]
    sid = session_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{district.pk}:{activity.reference}:{n}"))
    started = timezone.now() - datetime.timedelta(hours=2)
    values = {
        "mcq": {"value": ["0", "2"], "type": "array", "apiVersion": "v2.197.0", "revision": 2},
        "shorttext": {"value": "Bulawayo", "characterCount": 8, "type": "string", "apiVersion": "v2.197.0", "revision": 1},
        "longtextV2": {"value": "<p>A quadrilateral with two pairs of parallel sides.</p>", "wordCount": 8,
                       "type": "string", "apiVersion": "v2.197.0", "revision": 5},
    }
    scores = {"mcq": 2, "shorttext": 0, "longtextV2": None}
    responses = [
        {"response_id": f"{sid}_{q.reference}", "question": q, "value": values[q.type], "score": scores[q.type],
         "attempted": True}
        for q in questions
    ]
    item_rows = [
        {"reference": ai.item.reference, "time": 60 + 5 * i, "user_flagged": i == 1,
         "response_ids": [f"{sid}_{q.reference}" for q in ai.item.questions.order_by("position")],
         "scoring": {"score": 2 if i == 0 else 0, "max_score": 3, "type": "per-question"}}
        for i, ai in enumerate(items)
    ]
    completed = started + datetime.timedelta(minutes=3, seconds=40) if status != SessionStatus.INCOMPLETE else None
    return assessment_session_record(
        district=district, session_id=sid, user_id=user_id or f"user-{n % 7}", activity=activity, status=status,
        dt_started=started, dt_completed=completed, dt_saved=completed or started, items=item_rows, responses=responses,
        metadata={"activity_template_id": activity.reference, "items_api_version": "v1.66.0", "max_time": 1500,
                  "user_agent": "Mozilla/5.0"},
        session_metadata=session_metadata, adaptive=adaptive, updated_at=updated_at,
    )


def consumer(district, **kwargs):
    return consumer_create(district=district, actor=None, **kwargs)


def exam(school, year, **kwargs):
    today = timezone.localdate()
    return exam_session_create(school=school, academic_session=year, name=kwargs.pop("name", "Term 2 examinations"),
                               starts_on=today, ends_on=today + datetime.timedelta(days=10), **kwargs)


RICH_QUESTIONS = [
    {"reference": "r-mcq", "type": "mcq", "stimulus": "Which are prime?", "multiple_responses": True,
     "options": [{"label": x, "value": str(i)} for i, x in enumerate(["9", "11", "15", "17"])],
     "validation": {"scoring_type": "partialMatchV2", "valid_response": {"score": 2, "value": ["1", "3"]}}},
    {"reference": "r-assoc", "type": "association", "stimulus": "Match the shapes with their sides.",
     "stimulus_list": ["Triangle", "Pentagon", "Hexagon"], "possible_responses": ["3", "5", "6", "8"],
     "validation": {"scoring_type": "partialMatch", "valid_response": {"score": 1, "value": ["3", "5", "6"]}}},
    {"reference": "r-matrix", "type": "choicematrix", "stimulus": "True or false?", "stems": ["2 > 1", "3 < 1"],
     "options": ["True", "False"],
     "validation": {"scoring_type": "exactMatch", "valid_response": {"score": 2, "value": [[0], [1]]}}},
    {"reference": "r-cloze", "type": "clozetext", "stimulus": "x = {{response}}, y = {{response}}",
     "validation": {"scoring_type": "partialMatchV2", "valid_response": {"score": 2, "value": ["4", "7"]}}},
    {"reference": "r-order", "type": "orderlist", "stimulus": "Smallest first.", "list": ["3", "1", "2"],
     "validation": {"scoring_type": "partialMatchPairwise", "valid_response": {"score": 3, "value": [1, 2, 0]}}},
    {"reference": "r-grid", "type": "gridded", "stimulus": "1234.56 × 1",
     "validation": {"scoring_type": "exactMatch", "valid_response": {"score": 1, "value": "1234.56"}}},
    {"reference": "r-formula", "type": "formulaV2", "stimulus": "Half of 3/2?",
     "validation": {"scoring_type": "exactMatch", "valid_response": {"score": 1, "value": [{"method": "equivValue", "value": "3/4"}]}}},
    {"reference": "r-short", "type": "shorttext", "stimulus": "Capital of Zimbabwe?",
     "validation": {"scoring_type": "exactMatch", "valid_response": {"score": 1, "value": "Harare"}}},
    {"reference": "r-essay", "type": "plaintext", "stimulus": "Describe your school.", "validation": {"max_score": 5}},
]


def rich_bank(district, *, prefix: str = "", exam_session=None, reference: str = "paper-maths"):
    """Two items over every automarked type of the seed plus an essay, in an activity with two subscores."""
    qs = [{**q, "reference": f"{prefix}{q['reference']}"} for q in RICH_QUESTIONS]
    item1 = item_create(district=district, reference=f"{prefix}paper-1", title="Number", questions=qs[:5])
    item2 = item_create(district=district, reference=f"{prefix}paper-2", title="Words and numbers", questions=qs[5:])
    return activity_create(
        district=district, reference=f"{prefix}{reference}", title="Paper-based maths", course_id="maths-f1",
        items=[item1, item2], exam_session=exam_session,
        subscores=[{"id": "number", "title": "Number", "items": [item1.reference]},
                   {"id": "words", "title": "Words and numbers", "items": [item2.reference]}],
    )
