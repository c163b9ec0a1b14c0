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

from config.wsgi import application
from rostering.services import api_token_create

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
