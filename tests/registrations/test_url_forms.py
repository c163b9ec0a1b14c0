"""Every native API endpoint answers with and without its trailing slash; the schema documents one form."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

from registrations.choices import RegistrationMode
from registrations.services.sessions import registration_session_create


@pytest.fixture
def session(world):
    return registration_session_create(actor=world.registrar, school=world.school_a,
                                       mode=RegistrationMode.STUDENT_INTAKE, title="Intake")


@pytest.mark.parametrize("path", [
    "/api/v1/registrations/sessions", "/api/v1/registrations/sessions/{id}", "/api/v1/registrations/sessions/{id}/progress",
    "/api/v1/registrations/sessions/{id}/codes", "/api/v1/registrations/submissions",
    "/api/v1/rostering/schools/", "/api/v1/rostering/people/",
])
def test_reads_answer_in_both_forms(world, api_client_for, session, path):
    client = api_client_for(world.registrar)
    path = path.format(id=session.pk)
    other = path[:-1] if path.endswith("/") else path + "/"
    first, second = client.get(path), client.get(other)
    assert first.status_code == second.status_code == 200, (first.content[:200], second.content[:200])
    assert first.json() == second.json()


def test_writes_answer_in_both_forms(world, api_client_for, session):
    client = api_client_for(world.registrar)
    generated = client.post(f"/api/v1/registrations/sessions/{session.pk}/codes/", {"count": 2}, format="json")
    assert generated.status_code == 201, generated.content
    opened = client.post(f"/api/v1/registrations/sessions/{session.pk}/open/", {}, format="json")
    assert opened.status_code == 200 and opened.json()["status"] == "open"
    paused = client.post(f"/api/v1/registrations/sessions/{session.pk}/pause", {}, format="json")
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    code = generated.json()["codes"][0]["code"]
    client.post(f"/api/v1/registrations/sessions/{session.pk}/open", {}, format="json")
    public = api_client_for(None)
    assert public.post("/api/v1/public/registrations/access-codes/validate/", {"code": code},
                       format="json").status_code == 200


def test_the_schema_documents_one_form():
    paths = set(SchemaGenerator().get_schema(request=None, public=True)["paths"])
    assert "/api/v1/registrations/sessions" in paths and "/api/v1/registrations/sessions/" not in paths
    assert "/api/v1/registrations/submissions/{id}/approve" in paths
    assert "/api/v1/registrations/submissions/{id}/approve/" not in paths
    assert "/api/v1/public/registrations/submission/submit" in paths
    assert "/api/v1/public/registrations/submission/submit/" not in paths
    assert "/api/v1/rostering/schools/" in paths and "/api/v1/rostering/schools" not in paths
