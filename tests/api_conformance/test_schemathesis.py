"""Fuzz the native API from its own OpenAPI schema: whatever a client sends, never a 5xx.

schemathesis generates requests for every operation of /api/schema/ (valid and invalid bodies, odd
query strings, unknown ids) and sends them in-process through the WSGI app with a real bearer token
of a district admin, so writes are permitted and every validation path is reached.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from config.wsgi import application
from rostering.services import api_token_create
from tests.hostile import CONTROL, ODD_UNICODE, deep

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def bearer(world):
    _token, raw = api_token_create(user=world.district_admin, name="fuzz")
    return raw


@pytest.fixture(autouse=True)
def _keep_connection():
    """In-process WSGI calls close the test's DB connection at request end (stack-notes trap 2)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_errors(case, bearer):
    response = case.call(headers={"Authorization": f"Bearer {bearer}"})
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} → {response.status_code}\n{response.text[:2000]}"
    )


# --- the same operations, with hostile values put into the generated bodies ---------------------------------
# Deep nesting, control characters and NUL, huge strings, wrong types and odd Unicode (lone surrogates
# included) replace one field of each generated JSON body: every answer must still be below 500.

hostile_schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


HOSTILE_VALUES = st.one_of(
    # deeper documents are in tests/registrations/test_hardening.py: schemathesis itself recurses over bodies
    st.integers(65, 300).flatmap(lambda d: st.sampled_from(["list", "dict"]).map(lambda k: deep(d, k))),
    st.text(CONTROL, min_size=1, max_size=12),
    st.lists(ODD_UNICODE, min_size=1, max_size=5).map("".join),
    st.integers(20_000, 300_000).map(lambda n: "Z" * n),
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.lists(st.none(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=3),
)


@hostile_schema.hook
def flatmap_body(context, body):
    if not isinstance(body, dict) or not body:
        return st.just(body)
    return st.tuples(st.sampled_from(sorted(body)), HOSTILE_VALUES).map(lambda kv: {**body, kv[0]: kv[1]})


@pytest.mark.django_db
@hostile_schema.include(method=["POST", "PUT", "PATCH"]).parametrize()
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_errors_with_hostile_values(case, bearer):
    response = case.call(headers={"Authorization": f"Bearer {bearer}"})
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} → {response.status_code}\n{response.text[:2000]}"
    )
