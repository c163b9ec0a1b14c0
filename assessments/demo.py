"""Demo assessment data for ``manage.py seed_demo`` (found through the ``<app>.demo.seed`` hook).

Harare Metropolitan Schools gets an exam session at Highfield with three activities (mcq, clozetext,
shorttext, orderlist, association and longtextV2 questions) and a few hundred learner sessions over its real
Form 1 and Form 2 students, in every status, with responses, item timings, scores and subscores; Bulawayo gets
a few of its own at Nketa Primary, so that tenancy shows on the pages and through the Data API. Everything goes
through the services. Idempotent: an exam session that already exists is left alone.
"""

from __future__ import annotations

import datetime
import uuid

from django.utils import timezone

from assessments import scoring
from assessments.choices import SessionStatus
from assessments.models import ExamSession, Question
from assessments.services import (
    activity_create,
    assessment_session_record,
    exam_session_create,
    item_create,
    question_json,
)
from rostering.choices import PersonRole
from rostering.models import Person

HARARE_EXAM = "Term 3 examinations 2026"
NKETA_EXAM = "Grade 7 mock examinations 2026"
NAMESPACE = uuid.UUID("0b6f3a52-8f3e-4a55-9d1e-6c0a3b1d2e70")


def _q(ref, qtype, stimulus, score=1, **extra):
    validation = extra.pop("validation", None)
    if validation is None:
        # Cloze gaps and matches earn their share of the score; the rest is all or nothing.
        rule = "partialMatchV2" if qtype in ("clozetext", "association") else "exactMatch"
        validation = {"scoring_type": rule, "valid_response": {"score": score, "value": extra.pop("answer")}}
    return {"reference": ref, "type": qtype, "stimulus": stimulus, "validation": validation, **extra}


def _mcq(ref, stimulus, options, correct, score=1, multiple=False):
    return _q(ref, "mcq", stimulus, score, options=[{"label": o, "value": str(i)} for i, o in enumerate(options)],
              answer=[str(c) for c in correct], multiple_responses=multiple)


def _maths_items(prefix):
    return [
        (f"{prefix}-math-number", "Number", [
            _mcq(f"{prefix}-m1", "Which of these numbers are prime?", ["9", "11", "15", "17"], [1, 3], score=2, multiple=True),
            _q(f"{prefix}-m2", "shorttext", "Write 3/4 as a decimal.", answer="0.75"),
        ]),
        (f"{prefix}-math-algebra", "Algebra", [
            _q(f"{prefix}-m3", "clozetext", "Solve: 2x + 3 = 11, so x = {{response}}; and 5y = 35, so y = {{response}}.", score=2,
               template="2x + 3 = 11, so x = {{response}}; 5y = 35, so y = {{response}}", answer=["4", "7"]),
            _q(f"{prefix}-m4", "orderlist", "Put these numbers in order, smallest first.", score=2,
               list=["0.5", "-2", "3/4", "1.2"], answer=[1, 0, 2, 3]),
        ]),
        (f"{prefix}-math-geometry", "Geometry", [
            _q(f"{prefix}-m5", "association", "Match each shape with its number of sides.", score=3,
               stimulus_list=["Triangle", "Pentagon", "Hexagon"], possible_responses=["3", "5", "6", "8"], answer=["3", "5", "6"]),
            _q(f"{prefix}-m6", "longtextV2", "Explain why the angles of a triangle add up to 180°.",
               validation={"max_score": 4, "automarkable": False}),
        ]),
    ]


def _english_items(prefix):
    return [
        (f"{prefix}-eng-reading", "Reading", [
            _mcq(f"{prefix}-e1", "In the passage, what does “reluctant” mean?", ["eager", "unwilling", "tired", "angry"], [1]),
            _q(f"{prefix}-e2", "clozetext", "Fill the gaps: She {{response}} to school yesterday and {{response}} her friend.",
               score=2, template="She {{response}} to school yesterday and {{response}} her friend.", answer=["walked", "met"]),
        ]),
        (f"{prefix}-eng-grammar", "Grammar", [
            _q(f"{prefix}-e3", "shorttext", "Write the plural of “child”.", answer="children"),
            _q(f"{prefix}-e4", "orderlist", "Order the words into a sentence.", score=2,
               list=["school", "We", "to", "walk"], answer=[3, 0, 1, 2]),
        ]),
        (f"{prefix}-eng-writing", "Writing", [
            _q(f"{prefix}-e5", "longtextV2", "Write a short letter to a friend about your holiday.",
               validation={"max_score": 6, "automarkable": False}),
        ]),
    ]


def _science_items(prefix):
    return [
        (f"{prefix}-sci-living", "Living things", [
            _mcq(f"{prefix}-s1", "Which of these are mammals?", ["Cow", "Crocodile", "Bat", "Eagle"], [0, 2], score=2, multiple=True),
            _q(f"{prefix}-s2", "association", "Match each organ with its job.", score=2,
               stimulus_list=["Heart", "Lungs"], possible_responses=["pumps blood", "exchange gases", "digests food"],
               answer=["pumps blood", "exchange gases"]),
        ]),
        (f"{prefix}-sci-matter", "Matter", [
            _q(f"{prefix}-s3", "shorttext", "What gas do plants take in for photosynthesis?", answer="carbon dioxide"),
            _q(f"{prefix}-s4", "orderlist", "Order the states of water from coldest to hottest.", score=1,
               list=["steam", "ice", "water"], answer=[3, 1, 2]),
        ]),
    ]


def _wrong(question: Question, rng):
    """A plausible wrong answer for the learners who miss it."""
    value = question.validation["valid_response"]["value"]
    if question.type == "mcq":
        return [str(rng.randrange(len(question.options)))]
    if question.type == "shorttext":
        return rng.choice(["0.7", "childs", "oxygen", "I don't know"])
    if question.type == "orderlist":
        shuffled = list(value)
        rng.shuffle(shuffled)
        return shuffled
    if question.type == "clozetext":
        return [v if rng.random() < 0.5 else rng.choice(["5", "went", "3", "saw"]) for v in value]
    if question.type == "association":
        pool = list(question.data.get("possible_responses", []))
        return [rng.choice(pool) for _ in value]
    return value


def _score(question: Question, value) -> float:
    """The scoring engine's score, as the Data API's writes and a status change to Completed compute it."""
    return scoring.score_response(question_json(question), {"value": value}).score


_ESSAYS = [
    "<p>Because if you draw a line parallel to one side through the opposite corner, the three angles make a straight line.</p>",
    "<p>Dear Tariro, our holiday in Nyanga was wonderful. We climbed the mountain and swam in the pools.</p>",
    "<p>The angles fit together on a straight line which is 180 degrees.</p>",
    "<p>I visited my grandmother in Masvingo and helped her in the garden every morning.</p>",
]


def _build_bank(district, *, prefix, exam, grade, subjects):
    activities = []
    specs = [
        ("Mathematics paper 1", "math", _maths_items(prefix), subjects.get("MATH"), 2400),
        ("English language paper 1", "eng", _english_items(prefix), subjects.get("ENG"), 1800),
    ]
    if prefix == "hgs":
        specs.append(("Combined science test", "sci", _science_items(prefix), subjects.get("SCI"), 1200))
    for title, short, item_specs, subject, max_time in specs:
        items = [
            item_create(district=district, reference=ref, title=item_title, questions=questions)
            for ref, item_title, questions in item_specs
        ]
        activities.append(activity_create(
            district=district, reference=f"{prefix}-2026-t3-{short}", title=title, course_id=f"{prefix}-{short}-2026",
            items=items, exam_session=exam, grade_level=grade, subject=subject, max_time=max_time,
            subscores=[{"id": f"subscore-{i + 1}", "title": item.title, "items": [item.reference]} for i, item in enumerate(items)],
            metadata={"items_api_version": "v1.118.0"},
        ))
    return activities


def _record(district, activity, person, *, rng, now, index):
    """One learner's session: a status, dates, per-item times, answers and their scores."""
    roll = rng.random()
    status = (SessionStatus.COMPLETED if roll < 0.68 else SessionStatus.INCOMPLETE if roll < 0.82
              else SessionStatus.PENDING_SCORING if roll < 0.93 else SessionStatus.DISCARDED)
    ability = rng.random()
    started = now - datetime.timedelta(days=rng.randint(1, 40), hours=rng.randint(0, 8), minutes=rng.randint(0, 59))
    links = list(activity.activity_items.select_related("item").order_by("position"))
    reached = len(links) if status != SessionStatus.INCOMPLETE else rng.randint(1, len(links))
    sid = str(uuid.uuid5(NAMESPACE, f"{activity.reference}:{person.pk}"))
    items, responses, elapsed = [], [], 0
    for position, link in enumerate(links):
        questions = list(link.item.questions.order_by("position"))
        if position >= reached:
            break
        item_score = item_max = 0.0
        ids = []
        for q in questions:
            rid = f"{sid}_{q.reference}"
            ids.append(rid)
            answered = status != SessionStatus.INCOMPLETE or rng.random() < 0.7
            if q.type == "longtextV2":
                text = rng.choice(_ESSAYS) if answered else None
                value = None if text is None else {"value": text, "wordCount": len(text.split()), "type": "string",
                                                    "apiVersion": "v2.197.0", "revision": rng.randint(3, 30)}
                max_manual = float(q.validation.get("max_score", 4))
                manual = (round(max_manual * min(1.0, ability + rng.random() * 0.3)) if status == SessionStatus.COMPLETED
                          and value is not None else None)
                responses.append({"response_id": rid, "question": q, "value": value, "score": manual,
                                  "attempted": value is not None, "manual_score": manual, "max_manual_score": max_manual,
                                  "automarkable": False})
                item_score += manual or 0
                item_max += max_manual
                continue
            if not answered:
                responses.append({"response_id": rid, "question": q, "value": None, "score": 0, "attempted": False})
                item_max += q.max_score
                continue
            expected = q.validation["valid_response"]["value"]
            given = expected if rng.random() < 0.35 + ability * 0.6 else _wrong(q, rng)
            kind = "string" if isinstance(given, str) else "array"
            value = {"value": given, "type": kind, "apiVersion": "v2.197.0", "revision": rng.randint(1, 6)}
            if q.type == "shorttext":
                value["characterCount"] = len(given)
            points = _score(q, given)
            responses.append({"response_id": rid, "question": q, "value": value, "score": points, "attempted": True})
            item_score += points
            item_max += q.max_score
        seconds = rng.randint(40, 420)
        elapsed += seconds
        items.append({"reference": link.item.reference, "time": seconds, "user_flagged": rng.random() < 0.08,
                      "response_ids": ids, "scoring": {"score": round(item_score, 4), "max_score": item_max, "type": "per-question"}})
    saved_gap = datetime.timedelta(minutes=rng.randint(20, 600)) if rng.random() < 0.15 else datetime.timedelta(0)
    completed = started + datetime.timedelta(seconds=elapsed) + saved_gap
    done = status in (SessionStatus.COMPLETED, SessionStatus.PENDING_SCORING, SessionStatus.DISCARDED)
    adaptive = None
    if activity.reference.endswith("-sci") and status == SessionStatus.COMPLETED:
        adaptive = {"ability_estimate": {"ability_estimate": round(ability * 4 - 2, 4), "standard_error": round(0.2 + rng.random() * 0.2, 4)},
                    "items": None, "exposed_items": {"operational": [link.item.reference for link in links], "seeding": []}}
    tags = [{"type": "assignment_type", "name": "exam"}, {"type": "sitting", "name": rng.choice(["morning", "afternoon"])}]
    return assessment_session_record(
        district=district, session_id=sid, user_id=str(person.pk), activity=activity, status=status,
        dt_started=started, dt_completed=completed if done else None, dt_saved=completed, items=items, responses=responses,
        metadata={"activity_template_id": activity.reference, "items_api_version": "v1.118.0",
                  "max_time": activity.max_time, "user_agent": "Mozilla/5.0 (Linux; Android 14) Chrome/131.0 Mobile"},
        session_metadata={"session_tags": tags}, adaptive=adaptive, updated_at=completed,
    )


def _students(school, grade_codes):
    return list(
        Person.objects.filter(school=school, role=PersonRole.STUDENT, grade_level__code__in=grade_codes).order_by("sis_id", "pk")
    )


def _seed_district(demo, *, key, school_code, exam_name, grade_codes, term_index, per_activity, prefix):
    school = demo.schools.get(school_code)
    if school is None or ExamSession.objects.filter(school=school, name=exam_name).exists():
        return 0
    district = demo.districts[key]
    year = demo.years[key, 2026]
    term = demo.terms[key, 2026][term_index]
    exam = exam_session_create(
        school=school, academic_session=year, term=term, name=exam_name,
        starts_on=max(term.start_date, term.end_date - datetime.timedelta(days=21)), ends_on=term.end_date, is_published=True,
    )
    subjects = {code: demo.subjects[key, code] for code in ("MATH", "ENG", "SCI") if (key, code) in demo.subjects}
    activities = _build_bank(district, prefix=prefix, exam=exam, grade=demo.grades.get((key, grade_codes[0])), subjects=subjects)
    students = _students(school, grade_codes)
    now = timezone.now()
    made = 0
    for a_index, activity in enumerate(activities):
        rng = demo.rng("assessments", activity.reference)
        chosen = students[: per_activity] if len(students) <= per_activity else rng.sample(students, per_activity)
        for i, person in enumerate(chosen):
            _record(district, activity, person, rng=rng, now=now, index=a_index * 1000 + i)
            made += 1
    return made


def seed(demo) -> None:
    harare = _seed_district(demo, key="harare", school_code="HGS", exam_name=HARARE_EXAM, grade_codes=["08", "09"],
                            term_index=2, per_activity=110, prefix="hgs")
    bulawayo = _seed_district(demo, key="bulawayo", school_code="NPS", exam_name=NKETA_EXAM, grade_codes=["07"],
                              term_index=2, per_activity=6, prefix="nps")
    demo.created["assessment sessions"] += harare + bulawayo
    demo.note(
        "Assessments: a Learnosity Data API client reads them at http://127.0.0.1:8000/data/v1/… — create its consumer "
        "with `.venv/bin/python manage.py create_data_api_consumer \"Harare Metropolitan Schools\"` (prints the key "
        "and the secret) or on Assessments → Data API consumers as district.admin."
    )
