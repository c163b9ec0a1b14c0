"""The demo seed's assessment data: Harare's exam session, activities and a few hundred learner sessions over
its real students in every status; a few of Bulawayo's own; idempotent; readable through the Data API."""

import pytest
from django.core.management import call_command
from django.db.models import Count

from assessments.choices import SessionStatus
from assessments.models import Activity, AssessmentSession, ExamSession, Question, Response, SessionItem
from assessments.scoring import score_response
from assessments.services import consumer_create, question_json, session_rescore
from rostering.models import District


@pytest.mark.django_db
def test_seed_demo_builds_assessment_data_once(client, capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "create_data_api_consumer" in out
    harare = District.objects.get(name="Harare Metropolitan Schools")
    bulawayo = District.objects.get(name="Bulawayo City Schools")
    assert ExamSession.objects.filter(district=harare, is_published=True).count() == 1
    assert Activity.objects.filter(district=harare).count() >= 2
    types = set(Question.objects.filter(district=harare).values_list("type", flat=True))
    assert {"mcq", "clozetext", "shorttext", "orderlist", "association", "longtextV2"} <= types
    by_status = dict(AssessmentSession.objects.filter(district=harare).values_list("status").annotate(n=Count("id")))
    assert set(by_status) == {s.value for s in SessionStatus} and sum(by_status.values()) >= 200
    sessions = AssessmentSession.objects.filter(district=harare)
    assert sessions.filter(person__isnull=False).count() == sessions.count()  # real students
    assert Response.objects.filter(district=harare).count() > 1000 and SessionItem.objects.filter(district=harare).exists()
    assert sessions.filter(status=SessionStatus.COMPLETED, score__isnull=False).exists()
    # The demo's scores are the scoring engine's, and its totals agree with its responses: scoring again changes nothing.
    for r in Response.objects.filter(district=harare, automarkable=True).select_related("question")[:500]:
        assert r.score == score_response(question_json(r.question), r.value).score, r.response_id
    for s in sessions.order_by("id")[:30]:
        before = (s.score, s.max_score, s.subscores, s.status)
        after = session_rescore(session=s)
        assert (after.score, after.max_score, after.subscores, after.status) == before, s.session_id
    assert sessions.filter(adaptive__isnull=False).exists()
    assert 0 < AssessmentSession.objects.filter(district=bulawayo).count() < 30
    counts = (AssessmentSession.objects.count(), Response.objects.count())
    call_command("seed_demo")
    assert (AssessmentSession.objects.count(), Response.objects.count()) == counts

    issued = consumer_create(district=harare)
    from learnosity_sdk.request import Init

    form = Init("data", {"consumer_key": issued.consumer.consumer_key, "domain": "localhost"}, issued.secret,
                {"limit": 50, "status": ["Completed"]}, "get").generate()
    body = client.post("/data/v1/sessions/responses", data=form).json()
    assert body["meta"]["status"] is True and len(body["data"]) == 50
    assert all(r["status"] == "Completed" and r["responses"] and r["items"] for r in body["data"])

