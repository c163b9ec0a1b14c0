"""On PostgreSQL the hot pages are built by the database (``assessments/dataapi/pgjson.py``): they must be the
very same JSON as the Python rows (the reference, used on SQLite), key for key and in the same order."""

import datetime

import orjson
import pytest
from django.db import connection
from django.utils import timezone
from learnosity_sdk.request import Init

from assessments.dataapi import endpoints
from assessments.models import AssessmentSession, Response, SessionItem
from tests.assessments import factories as af

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the database-built pages are PostgreSQL's")
def test_database_built_pages_equal_the_python_rows(client, world, consumer_a, activity_a, monkeypatch):
    base = timezone.now() - datetime.timedelta(days=2)
    for n in range(7):
        af.session(world.district, activity_a, n=n, updated_at=base + datetime.timedelta(minutes=n),
                   session_metadata={"session_tags": [{"type": "t", "name": "ü ✓"}], "room": "B2", "n": n})
    s = AssessmentSession.objects.order_by("pk").first()
    Response.objects.filter(session=s).update(score=1 / 3, max_score=2.5, manual_score=0.5, max_manual_score=1.0,
                                              dt_score_updated=None, value=None)
    SessionItem.objects.filter(session=s).update(scoring=None)
    AssessmentSession.objects.filter(pk=s.pk).update(subscores=None, score=None, dt_completed=None, session_duration=None)
    requests = [
        ("sessions/responses", {"sort": "asc"}),
        ("sessions/responses", {"sort": "asc", "include": {"sessions.session_metadata": ["room", "missing", "session_tags"]}}),
        ("sessions/scores", {"sort": "asc", "limit": 3}),
        ("sessions/scores", {"sort": "asc", "include_response_scores": True}),
        ("sessions/responses/scores", {"sort": "asc", "user_id": ["user-1", "user-2"]}),
        ("sessions/responses", {"limit": 2}),
        ("sessions/scores", {"activity_id": ["numeracy"], "status": ["Completed"], "session_id": [s.session_id, "x"]}),
        ("sessions/scores", {"mintime": int((base + datetime.timedelta(minutes=2)).timestamp()),
                             "maxtime": (base + datetime.timedelta(minutes=5)).isoformat(), "sort": "asc"}),
        ("sessions/responses", {"user_id": []}),
    ]

    def fetch(endpoint, request):
        form = Init("data", consumer_a.security(), consumer_a.secret, request, "get").generate()
        res = client.post(f"/data/v1/{endpoint}", data=form)
        assert res.status_code == 200
        return res.content

    for endpoint, request in requests:
        monkeypatch.setattr(endpoints, "PYTHON_ROWS", False)
        in_db = orjson.loads(fetch(endpoint, request))
        monkeypatch.setattr(endpoints, "PYTHON_ROWS", True)
        in_python = orjson.loads(fetch(endpoint, request))
        assert in_db["data"] or request.get("user_id") == [], endpoint
        assert in_db["data"] == in_python["data"], endpoint
        assert [list(row) for row in in_db["data"]] == [list(row) for row in in_python["data"]], endpoint  # key order
        for a, b in zip(in_db["data"], in_python["data"], strict=True):
            for ra, rb in zip(a.get("responses", []), b.get("responses", []), strict=True):
                assert list(ra) == list(rb)
        assert in_db["meta"]["records"] == in_python["meta"]["records"]
        if request.get("sort") == "asc":  # (a desc token holds the time of its request)
            assert in_db["meta"]["next"] == in_python["meta"]["next"]
