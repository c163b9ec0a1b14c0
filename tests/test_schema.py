"""The OpenAPI 3 schema (/api/schema/) and the offline Swagger UI (/api/docs/)."""

import re
from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

ROSTERING = "/api/v1/rostering/"
ROSTER_RESOURCES = ["schools", "academic-sessions", "grade-levels", "subjects", "class-divisions", "people",
                    "enrollments"]


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        from django.test import Client

        response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_schema_endpoint_serves_valid_openapi_3(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    document = yaml.safe_load(response.content)
    assert document["openapi"].startswith("3.")
    validate_schema(document)


def test_schema_generates_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target), stdout=StringIO(),
                 stderr=StringIO())
    assert yaml.safe_load(target.read_text())["info"]["title"] == "School Sessions API"


@pytest.mark.parametrize("resource", ROSTER_RESOURCES)
def test_every_roster_resource_is_documented_with_its_errors(schema, resource):
    collection = schema["paths"][f"{ROSTERING}{resource}/"]
    item = schema["paths"][f"{ROSTERING}{resource}/{{id}}/"]
    assert set(collection) >= {"get", "post"}
    assert set(item) >= {"get", "put", "patch", "delete"}
    expected = {
        ("get", "collection"): {"200", "400", "401", "404"},
        ("post", "collection"): {"201", "400", "401", "403"},
        ("get", "item"): {"200", "401", "404"},
        ("put", "item"): {"200", "400", "401", "403", "404"},
        ("patch", "item"): {"200", "400", "401", "403", "404"},
        ("delete", "item"): {"204", "401", "403", "404", "409"},
    }
    for (method, where), codes in expected.items():
        operation = (collection if where == "collection" else item)[method]
        assert set(operation["responses"]) == codes, (method, where)
        assert operation["tags"] and operation["summary"]
        assert {"bearerAuth": []} in operation["security"]
    bad_input = collection["post"]["responses"]["400"]["content"]["application/json"]["schema"]
    assert bad_input == {"$ref": "#/components/schemas/ApiValidationError"}
    assert list(collection["post"]["requestBody"]["content"]) == ["application/json"]
    assert item["get"]["parameters"][0]["schema"] == {"type": "string", "format": "uuid"}
    list_params = {p["name"] for p in collection["get"]["parameters"]}
    assert {"page", "page_size", "ordering"} <= list_params


def test_districts_are_documented_read_only(schema):
    assert set(schema["paths"][f"{ROSTERING}districts/"]) == {"get"}
    assert set(schema["paths"][f"{ROSTERING}districts/{{id}}/"]) == {"get"}


def test_required_strings_declare_min_length_and_ids_are_uuids(schema):
    components = schema["components"]["schemas"]
    school = components["SchoolRequest"]["properties"]
    assert school["name"]["minLength"] == 1 and school["code"]["minLength"] == 1
    person = components["PersonRequest"]
    assert person["properties"]["given_name"]["minLength"] == 1
    assert person["properties"]["school_id"] == {
        "type": "string", "format": "uuid", "nullable": True,
        "description": "The person's primary school (empty for district-level people).",
    }
    assert set(components["ClassDivisionRequest"]["required"]) == {"school_id", "grade_level_id", "name"}
    assert "district_id" not in components["ClassDivisionRequest"]["properties"]
    assert components["ClassDivision"]["properties"]["district_id"]["readOnly"] is True
    assert components["RosterIdentifierRequest"]["properties"]["value"]["minLength"] == 1
    assert components["AcademicSessionRequest"]["properties"]["terms"]["writeOnly"] is True
    assert components["AcademicSession"]["properties"]["children"]["readOnly"] is True


def test_bearer_authentication_is_declared(schema):
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_swagger_ui_uses_only_local_assets(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, html
    for url in assets:
        assert url.startswith(("/static/drf_spectacular_sidecar/", "/api/docs/?")), url
    assert "http://" not in html and "https://" not in html
    for url in assets:
        assert client.get(url).status_code == 200, url
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()


def test_swagger_ui_runs_under_a_strict_csp(client):
    policy = client.get("/api/docs/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"].split() == ["'self'"]  # no inline or remote scripts
    assert directives["connect-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert "http" not in policy
