"""Bad input gets Learnosity's error — HTTP status, numeric ``meta.code``, ``meta.message`` — never a 5xx, and
changes nothing. Requests are signed by the SDK's own ``Init`` (the code ``DataApi.request`` uses)."""

from __future__ import annotations

import datetime
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from learnosity_sdk.request import Init

from assessments.dataapi import endpoints
from assessments.dataapi.security import sign, sign_legacy
from assessments.models import AssessmentSession, Consumer, Response
from assessments.services import consumer_rotate, consumer_set_active
from tests.assessments import factories as af

URL = "/data/v1/sessions/responses"


def signed(client_, *, security: dict, secret: str, request: dict | None = None, action: str | None = "get") -> dict:
    init = Init("data", dict(security), secret, request if request is not None else {}, action)
    return init.generate()


def post(client, form: dict, url: str = URL):
    return client.post(url, data=form)


def snapshot():
    return (
        list(AssessmentSession.objects.order_by("pk").values_list("session_id", "updated_at", "status", "score")),
        list(Response.objects.order_by("pk").values_list("response_id", "score", "dt_score_updated")),
        list(Consumer.objects.order_by("pk").values_list("consumer_key", "is_active", "allowed_domains", "secret_encrypted")),
    )


@pytest.fixture
def sessions(world, activity_a):
    return [af.session(world.district, activity_a, n=n) for n in range(3)]


def expect(res, http: int, code: int):
    assert res.status_code == http, res.content
    body = res.json()
    assert body["meta"]["status"] is False and body["meta"]["code"] == code, body
    assert isinstance(body["meta"]["message"], str) and body["meta"]["message"]
    assert body["data"] == [] and "next" not in body["meta"]
    return body


def test_the_sdks_published_test_vectors():
    security = {"consumer_key": "yis0TYCu7U9V4o7M", "domain": "localhost", "timestamp": "20140626-0528"}
    secret = "74c5fd430cf1242a527f6223aebd42d30464be22"
    assert sign(security, secret, '{"limit":100}', "get") == "$02$e19c8a62fba81ef6baf2731e2ab0512feaf573ca5ca5929c2ee9a77303d2e197"
    assert sign_legacy(security, secret, '{"limit":100}', "get") == "e1eae0b86148df69173cb3b824275ea73c9c93967f7d17d6957fcdd299c8a4fe"
    Init.disable_telemetry()
    try:
        generated = Init("data", dict(security), secret, {"limit": 100}, "get").generate()
    finally:
        Init.enable_telemetry()
    assert json.loads(generated["security"])["signature"] == sign(security, secret, '{"limit":100}', "get")


def test_security_errors(client, world, consumer_a, sessions):
    before = snapshot()
    good = consumer_a.security()
    stamp = timezone.now().strftime("%Y%m%d-%H%M")

    def with_security(sec: dict, request: str = "{}", action: str = "get"):
        return post(client, {"security": json.dumps(sec), "request": request, "action": action})

    sig = json.loads(signed(client, security=good, secret=consumer_a.secret)["security"])
    expect(post(client, {"request": "{}", "action": "get"}), 400, 41000)  # no security at all
    expect(with_security({k: v for k, v in sig.items() if k != "signature"}), 400, 41000)
    expect(with_security({**sig, "consumer_key": "short"}), 403, 41001)
    expect(with_security({**sig, "signature": "$02$abc"}), 403, 41001)
    expect(with_security({**sig, "consumer_key": "ZZZZZZZZZZZZZZZZ"}), 403, 41002)
    expect(with_security({**sig, "timestamp": 20240101}), 400, 20003)
    expect(post(client, {"security": "{not json", "request": "{}", "action": "get"}), 400, 20009)
    expect(post(client, {"security": "[1, 2]", "request": "{}", "action": "get"}), 400, 20009)
    expect(post(client, {"security": '{"a": "\\u0000"}', "request": "{}", "action": "get"}), 400, 20009)
    expect(post(client, {"security": "[" * 100 + "]" * 100, "request": "{}", "action": "get"}), 400, 20009)
    # Bad signature: wrong secret, request edited after signing, action changed after signing.
    expect(post(client, signed(client, security=good, secret="f" * 40)), 403, 41003)
    tampered = signed(client, security=good, secret=consumer_a.secret, request={"limit": 5})
    expect(post(client, {**tampered, "request": tampered["request"].replace("5", "6")}), 403, 41003)
    expect(post(client, {**tampered, "action": "set"}), 403, 41003)
    # Stale and future timestamps; expires malformed and past; the domain not allowed.
    old = (timezone.now() - datetime.timedelta(hours=2)).strftime("%Y%m%d-%H%M")
    expect(post(client, signed(client, security={**good, "timestamp": old}, secret=consumer_a.secret)), 403, 41004)
    future = (timezone.now() + datetime.timedelta(hours=2)).strftime("%Y%m%d-%H%M")
    expect(post(client, signed(client, security={**good, "timestamp": future}, secret=consumer_a.secret)), 403, 41004)
    expect(post(client, signed(client, security={**good, "timestamp": "2024-01-01T12"}, secret=consumer_a.secret)), 403, 41004)
    expect(post(client, signed(client, security={**good, "timestamp": stamp, "expires": "tomorrow"}, secret=consumer_a.secret)), 400, 41006)
    expect(post(client, signed(client, security={**good, "expires": "20200101-0000"}, secret=consumer_a.secret)), 400, 41007)
    Consumer.objects.filter(pk=consumer_a.consumer.pk).update(allowed_domains=["reports.example.org", "*.school.example"])
    expect(post(client, signed(client, security=good, secret=consumer_a.secret)), 403, 41005)
    assert post(client, signed(client, security={**good, "domain": "a.school.example"}, secret=consumer_a.secret)).status_code == 200
    Consumer.objects.filter(pk=consumer_a.consumer.pk).update(allowed_domains=[], last_used_at=None)
    # Inactive consumer.
    consumer_set_active(consumer=consumer_a.consumer, active=False)
    expect(post(client, signed(client, security=good, secret=consumer_a.secret)), 403, 41009)
    consumer_set_active(consumer=consumer_a.consumer, active=True)
    Consumer.objects.filter(pk=consumer_a.consumer.pk).update(deactivated_at=None)
    assert snapshot() == before


def test_parameter_errors(client, world, consumer_a, sessions):
    before = snapshot()

    def ask(request, url=URL, action="get"):
        return post(client, signed(client, security=consumer_a.security(), secret=consumer_a.secret, request=request, action=action), url)

    for name in ("activity_id", "session_id", "user_id"):
        expect(ask({name: [f"id-{i}" for i in range(1001)]}), 400, 20002)
        assert ask({name: [f"id-{i}" for i in range(1000)]}).status_code == 200
        expect(ask({name: "not-a-list"}), 400, 20003)
        expect(ask({name: [{"x": 1}]}), 400, 20003)
        expect(ask({name: ["x" * 256]}), 400, 20001)
    expect(ask({"limit": 51}), 400, 20004)
    expect(ask({"limit": 0}), 400, 20004)
    expect(ask({"limit": "ten"}), 400, 20003)
    expect(ask({"limit": True}), 400, 20003)
    expect(ask({"sort": "sideways"}), 400, 20004)
    expect(ask({"status": ["Finished"]}), 400, 20004)
    expect(ask({"mintime": "yesterday"}), 400, 20004)
    expect(ask({"maxtime": [1]}), 400, 20003)
    expect(ask({"mintime": 2000000000, "maxtime": 1000000000}), 400, 20004)
    expect(ask({"mintime": 10 ** 20}), 400, 20004)
    expect(ask({"include": "everything"}), 400, 20003)
    expect(ask({"include": {"sessions": ["dt_saved"]}}, url="/data/v1/sessions/statuses"), 400, 20004)
    expect(ask({"include_response_scores": "yes"}, url="/data/v1/sessions/scores"), 400, 20003)
    expect(ask({"next": 12}), 400, 20003)
    # Malformed request JSON (signed as sent: the JSON check is what refuses it).
    sec = consumer_a.security(timestamp=timezone.now().strftime("%Y%m%d-%H%M"))
    for raw in ("{nope", "[1]", '"text"', '{"a": "\\u0000"}', "[" * 70 + "]" * 70):
        form = {"security": json.dumps({**sec, "signature": sign(sec, consumer_a.secret, raw, "get")}), "request": raw, "action": "get"}
        expect(post(client, form), 400, 20009)
    # Templates: forbidden keys, nothing to build from, unknown activity or item.
    tpl = "/data/v1/sessions/templates"
    expect(ask({"items": ["item-1"], "user_id": "u"}, url=tpl), 400, 20004)
    expect(ask({}, url=tpl), 400, 20000)
    expect(ask({"activity_template_id": "nope"}, url=tpl), 400, 20004)
    expect(ask({"items": ["nope"]}, url=tpl), 400, 20004)
    expect(ask({"items": "item-1"}, url=tpl), 400, 20003)
    expect(ask({"items": ["item-1"], "scoring_type": "random"}, url=tpl), 400, 20004)
    # Jobs: bad status and include.
    expect(ask({"status": ["done"]}, url="/data/v1/jobs"), 400, 20004)
    expect(ask({"include": ["secret"]}, url="/data/v1/jobs"), 400, 20004)
    expect(ask({"references": [str(i) for i in range(1001)]}, url="/data/v1/jobs"), 400, 20002)
    # A body that is not the SDK's form, or too large.
    expect(client.post(URL, data=b'{"security": {}}', content_type="application/json"), 400, 41000)
    expect(client.post(URL, data="x=" + "a" * (1024 * 1024 + 10), content_type="application/x-www-form-urlencoded"), 400, 20001)
    big = '{"session_id": ["' + "a" * (600 * 1024) + '"]}'
    sec = consumer_a.security(timestamp=timezone.now().strftime("%Y%m%d-%H%M"))
    form = {"security": json.dumps({**sec, "signature": sign(sec, consumer_a.secret, big, "get")}), "request": big, "action": "get"}
    expect(post(client, form), 400, 20009)
    # Actions the endpoint does not take; the method; unknown endpoints and versions.
    expect(ask({}, action="delete"), 405, 40001)
    expect(client.get(URL), 405, 40001)
    expect(ask({}, url="/data/v1/sessions/unknown"), 404, 20012)
    expect(ask({}, url="/data/v1/"), 404, 20012)
    expect(ask({}, url="/data/beta/sessions/responses"), 404, 20012)
    expect(ask({}, url="/data/v1x/sessions/responses"), 404, 20012)
    expect(ask({}, url="/data/v1/sessions/responses/../scores"), 404, 20012)
    assert snapshot() == before


def test_next_tokens_from_another_query_or_edited_are_refused(client, world, consumer_a, sessions):
    def ask(request, url=URL):
        return post(client, signed(client, security=consumer_a.security(), secret=consumer_a.secret, request=request), url)

    token = ask({"activity_id": ["numeracy"], "limit": 1}).json()["meta"]["next"]
    assert ask({"activity_id": ["numeracy"], "limit": 1, "next": token}).status_code == 200
    assert ask({"activity_id": ["numeracy"], "limit": 2, "next": token}).status_code == 200  # the page size may change
    expect(ask({"activity_id": ["other"], "next": token}), 400, 20004)
    expect(ask({"activity_id": ["numeracy"], "sort": "asc", "next": token}), 400, 20004)
    expect(ask({"activity_id": ["numeracy"], "next": token}, url="/data/v1/sessions/scores"), 400, 20004)
    for edited in (token[:-1] + ("A" if token[-1] != "A" else "B"), token[:10], "x" * 3000, "é", ""):
        expect(ask({"activity_id": ["numeracy"], "next": edited}), 400, 20004)


def test_a_page_costs_a_fixed_number_of_queries(client, world, consumer_a, activity_a, django_assert_num_queries):
    for n in range(60):
        af.session(world.district, activity_a, n=n)

    def ask(endpoint, request):
        return post(client, signed(client, security=consumer_a.security(), secret=consumer_a.secret, request=request),
                    f"/data/v1/{endpoint}")

    ask("sessions/scores", {"limit": 1})  # the once-a-minute last_used_at write
    in_db = connection.vendor == "postgresql"  # there, one query builds the page's JSON (pgjson.py)
    expected = {  # the consumer + the sessions + (SQLite) one per related table
        "sessions/responses": 2 if in_db else 4, "sessions/scores": 2, "sessions/responses/scores": 2 if in_db else 3,
        "sessions/statuses": 2, "sessions/metadata": 2, "sessions/reports/adaptive": 2,
    }
    for endpoint, count in expected.items():
        for size in (1, 50):
            with django_assert_num_queries(count):
                res = ask(endpoint, {"limit": size, "sort": "asc"})
            assert res.status_code == 200
            if endpoint != "sessions/reports/adaptive":
                assert res.json()["meta"]["records"] == size


def test_rate_limit_per_consumer_and_endpoint(client, world, consumer_a, consumer_b, monkeypatch):
    monkeypatch.setitem(endpoints.RATE_LIMITS, ("get", "sessions"), 3)

    def ask(c, url=URL):
        return post(client, signed(client, security=c.security(), secret=c.secret), url)

    assert [ask(consumer_a).status_code for _ in range(3)] == [200, 200, 200]
    body = expect(ask(consumer_a), 429, 42000)
    assert "5 seconds" in body["meta"]["message"]
    assert ask(consumer_a, "/data/v1/jobs").status_code == 200  # another endpoint family
    assert ask(consumer_b).status_code == 200  # another consumer


def test_rotation_keeps_the_old_secret_for_its_grace_period(client, world, consumer_a, sessions):
    old = consumer_a.secret
    issued = consumer_rotate(consumer=consumer_a.consumer)
    assert issued.secret != old
    for secret in (old, issued.secret):
        assert post(client, signed(client, security=consumer_a.security(), secret=secret)).status_code == 200
    Consumer.objects.filter(pk=consumer_a.consumer.pk).update(previous_secret_expires_at=timezone.now() - datetime.timedelta(seconds=1))
    expect(post(client, signed(client, security=consumer_a.security(), secret=old)), 403, 41003)
    immediate = consumer_rotate(consumer=consumer_a.consumer, grace=datetime.timedelta(0))
    expect(post(client, signed(client, security=consumer_a.security(), secret=issued.secret)), 403, 41003)
    assert post(client, signed(client, security=consumer_a.security(), secret=immediate.secret)).status_code == 200
    stored = Consumer.objects.get(pk=consumer_a.consumer.pk)
    assert immediate.secret not in stored.secret_encrypted and old not in stored.previous_secret_encrypted


def test_create_data_api_consumer_command(world, capsys):
    call_command("create_data_api_consumer", "harare metropolitan schools")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("consumer_key: ") and lines[1].startswith("consumer_secret: ")
    key, secret = lines[0].split(": ", 1)[1], lines[1].split(": ", 1)[1]
    consumer = Consumer.objects.get(consumer_key=key)
    assert consumer.district == world.district and len(key) == 16 and len(secret) == 40
    assert secret not in consumer.secret_encrypted
    call_command("create_data_api_consumer", str(world.other_district.pk), "--name", "BI", "--domain", "Reports.Example.org")
    other = Consumer.objects.get(name="BI")
    assert other.district == world.other_district and other.allowed_domains == ["reports.example.org"]
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_data_api_consumer", "Nowhere")
