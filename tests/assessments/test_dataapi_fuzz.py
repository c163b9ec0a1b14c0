"""Whatever a signed request packet holds, every endpoint answers with the envelope and a 2xx or 4xx, never a 5xx."""

import json

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessments.dataapi.routes import ENDPOINTS
from assessments.dataapi.security import sign
from assessments.models import AssessmentSession
from tests.assessments import factories as af

KEYS = ["activity_id", "session_id", "user_id", "status", "mintime", "maxtime", "sort", "limit", "next", "include",
        "include_response_scores", "items", "activity_template_id", "scoring_type", "subscores", "references",
        "organisation_id", "meta", "sessions", "statuses", "session_metadata", "data", "data_format", "template",
        "ignore_response_revisions"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63), st.floats(allow_nan=False),
                    st.text(max_size=30))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                      max_leaves=8)
packets = st.dictionaries(st.sampled_from(KEYS), values, max_size=5)


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(endpoint=st.sampled_from(sorted(ENDPOINTS)), packet=packets, action=st.sampled_from(["get", "set", "update", "", "GET"]))
def test_no_packet_makes_a_server_error(client, world, consumer_a, activity_a, endpoint, packet, action):
    if not AssessmentSession.objects.exists():
        af.session(world.district, activity_a, n=1)
    raw = json.dumps(packet)
    sec = consumer_a.security(timestamp=timezone.now().strftime("%Y%m%d-%H%M"))
    form = {"security": json.dumps({**sec, "signature": sign(sec, consumer_a.secret, raw, action)}), "request": raw,
            "action": action}
    res = client.post(f"/data/v1/{endpoint}", data=form)
    assert res.status_code < 500, (endpoint, packet, res.content[:500])
    body = res.json()
    assert isinstance(body["meta"]["status"], bool) and isinstance(body["data"], list | dict)
    if res.status_code >= 400:
        assert body["meta"]["status"] is False and isinstance(body["meta"]["code"], int)


entries = st.fixed_dictionaries({}, optional={
    "session_id": values, "user_id": values, "status": st.one_of(values, st.sampled_from(["Completed", "Discarded"])),
    "metadata": values, "activity_id": values, "question_id": values, "response_id": values, "score": values,
    "max_score": values, "attempted": values, "responses": st.lists(st.dictionaries(
        st.sampled_from(["response_id", "question_id", "score", "max_score", "attempted", "value", "type"]), values,
        max_size=4), max_size=3),
})
WRITES = [("sessions/responses/scores", "update", "sessions"), ("jobs/sessions/statuses", "update", "statuses"),
          ("jobs/sessions/metadata", "set", "session_metadata"), ("sessions", "set", "data")]


@pytest.mark.django_db
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(write=st.sampled_from(WRITES), batch=st.lists(st.one_of(entries, values), max_size=3),
       data_format=st.sampled_from(["from_template", "failed_submission", None]), template=values)
def test_no_write_batch_makes_a_server_error(client, world, consumer_a, write, batch, data_format, template):
    from assessments.models import Job

    endpoint, action, key = write
    packet = {key: batch}
    if endpoint == "sessions":
        packet.update({"data_format": data_format, "template": template})
    raw = json.dumps(packet)
    sec = consumer_a.security(timestamp=timezone.now().strftime("%Y%m%d-%H%M"))
    form = {"security": json.dumps({**sec, "signature": sign(sec, consumer_a.secret, raw, action)}), "request": raw,
            "action": action}
    before = Job.objects.count()
    res = client.post(f"/data/v1/{endpoint}", data=form)
    assert res.status_code < 500, (endpoint, packet, res.content[:500])
    body = res.json()
    if res.status_code >= 400:
        assert Job.objects.count() == before  # refused: no job
    else:
        assert set(body["data"]) == {"job_reference"} and Job.objects.count() == before + 1
