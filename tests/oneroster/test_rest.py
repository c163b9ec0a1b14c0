"""The OneRoster 1.2 REST rostering service: OAuth 2 client credentials, paging, filter, sort, fields, errors,
nested paths, tenancy and fixed query counts."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rostering.oneroster.importer import Importer
from rostering.oneroster.services import api_client_create, api_client_revoke
from tests.rostering import factories as f

pytestmark = pytest.mark.django_db
BASE = "/ims/oneroster/rostering/v1p2"
SCOPE = "https://purl.imsglobal.org/spec/or/v1p2/scope/"


def token_for(client, client_id, secret, scope=None) -> str:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    response = client.post("/ims/oneroster/token", data, HTTP_AUTHORIZATION=f"Basic {basic}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    return body["access_token"]


class Api:
    def __init__(self, client, token):
        self.client, self.token = client, token

    def get(self, path, **params):
        return self.client.get(BASE + path, params, HTTP_AUTHORIZATION=f"Bearer {self.token}")


@pytest.fixture
def api(client, district, imported):
    c, secret = api_client_create(actor=None, district=district, name="LMS", demographics=True)
    scope = " ".join(SCOPE + s for s in ("roster-core.readonly", "roster.readonly", "roster-demographics.readonly"))
    return Api(client, token_for(client, c.application.client_id, secret, scope))


def minor(response) -> str:
    return response.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]


def test_the_token_endpoint_refuses_a_wrong_secret(client, district):
    c, _secret = api_client_create(actor=None, district=district, name="LMS")
    basic = base64.b64encode(f"{c.application.client_id}:wrong".encode()).decode()
    response = client.post("/ims/oneroster/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}")
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_no_token_or_a_bad_token_is_401_with_status_info(client, imported):
    response = client.get(BASE + "/users")
    assert response.status_code == 401
    body = response.json()
    assert body["imsx_codeMajor"] == "failure" and body["imsx_severity"] == "error"
    assert minor(response) == "unauthorisedrequest"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert minor(client.get(BASE + "/users", HTTP_AUTHORIZATION="Bearer nope")) == "unauthorisedrequest"


def test_users_with_total_and_link_headers(api):
    response = api.get("/users")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    users = response.json()["users"]
    assert response["X-Total-Count"] == "5" and len(users) == 5
    avery = next(u for u in users if u["sourcedId"] == "usr-s-001")
    assert avery["givenName"] == "Avery" and avery["enabledUser"] == "true" and avery["username"] == "asmith"
    assert avery["roles"] == [{"roleType": "primary", "role": "student", "beginDate": "2025-08-18",
                               "org": {"href": f"http://testserver{BASE}/orgs/org-school-hs", "sourcedId": "org-school-hs", "type": "org"}}]
    assert avery["agents"][0]["sourcedId"] == "usr-g-001" and avery["grades"] == ["09"]
    assert avery["userIds"] == [{"type": "district", "identifier": "S001"}, {"type": "state", "identifier": "9900001"}]
    assert avery["dateLastModified"].endswith("Z") and len(avery["dateLastModified"]) == 24
    assert 'rel="first"' in response["Link"] and 'rel="next"' not in response["Link"]


def test_paging_with_limit_and_offset_follows_next(api):
    seen, url, pages = [], f"{BASE}/users?limit=2", 0
    while url:
        response = api.client.get(url, HTTP_AUTHORIZATION=f"Bearer {api.token}")
        assert response["X-Total-Count"] == "5"
        seen += [u["sourcedId"] for u in response.json()["users"]]
        links = dict((part.split(";")[1].strip(), part.split(";")[0].strip()[1:-1]) for part in response["Link"].split(", "))
        url = links.get('rel="next"')
        pages += 1
    assert pages == 3 and len(seen) == len(set(seen)) == 5
    assert seen == sorted(seen)  # default order: sourcedId
    last = api.get("/users", limit=2, offset=4)
    assert len(last.json()["users"]) == 1 and 'rel="prev"' in last["Link"]
    query = parse_qs(urlparse(last["Link"].split(", ")[0][1:].split(">")[0]).query)
    assert query["limit"] == ["2"]
    assert api.get("/users", offset=50).json()["users"] == []


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "-1"}, {"limit": "ten"}, {"offset": "-5"}, {"limit": "1e3"}])
def test_bad_paging_is_400(api, params):
    response = api.get("/users", **params)
    assert response.status_code == 400 and minor(response) == "invaliddata"


def test_filters_as_the_spec_shows(api):
    def sids(path, filter_):
        response = api.get(path, filter=filter_)
        assert response.status_code == 200, response.content
        return sorted(x["sourcedId"] for x in next(iter(response.json().values())))

    assert sids("/users", "givenName='Avery'") == ["usr-s-001"]
    assert sids("/users", "familyName='Smith' AND givenName='Pat'") == ["usr-g-001"]
    assert sids("/users", "givenName='Pat' OR givenName='Mei'") == ["usr-g-001", "usr-t-200"]
    assert sids("/users", "role='teacher'") == ["usr-t-100", "usr-t-200"]
    assert sids("/users", "email~'example.org'") == ["usr-s-001", "usr-t-100", "usr-t-200"]
    assert sids("/users", "familyName!='Smith'") == ["usr-s-002", "usr-t-100", "usr-t-200"]
    assert sids("/users", "dateLastModified>'2015-01-01T00:00:00.000Z'") == ["usr-g-001", "usr-s-001", "usr-s-002", "usr-t-100", "usr-t-200"]
    assert sids("/users", "dateLastModified<'2015-01-01'") == []
    assert sids("/academicSessions", "type='semester'") == ["as-sem1-2026", "as-sem2-2026"]
    assert sids("/academicSessions", "startDate>='2026-01-01'") == ["as-sem2-2026"]
    assert sids("/orgs", "type='school'") == ["org-school-es", "org-school-hs"]
    assert sids("/enrollments", "role='teacher' AND primary='true'") == ["enr-t100-alg1", "enr-t200-hr3"]
    assert sids("/classes", "status='active'") == ["cls-alg1-p1", "cls-hr3-a"]
    assert sids("/courses", "courseCode='MATH-101'") == ["crs-alg1"]
    assert sids("/users", "givenName='O''Brien'") == []


@pytest.mark.parametrize("bad", [
    "givenName='Avery", "givenName=Avery", "shoeSize='9'", "givenName='A' AND familyName='B' OR email='c'",
    "givenName='A' XOR familyName='B'", "dateLastModified>'yesterday'", "givenName>'A'",
])
def test_a_bad_filter_is_400_invalid_filter_field(api, bad):
    response = api.get("/users", filter=bad)
    assert response.status_code == 400
    assert minor(response) == "invalid_filter_field"
    assert response.json()["imsx_description"]


def test_sort_and_order_by(api):
    names = [u["familyName"] + " " + u["givenName"] for u in api.get("/users", sort="familyName", orderBy="desc").json()["users"]]
    assert names[0] == "Smith Pat" or names[0] == "Smith Avery"
    assert names[-1] == "Chen Mei"
    asc = [u["givenName"] for u in api.get("/users", sort="givenName").json()["users"]]
    assert asc == sorted(asc)
    assert api.get("/users", orderBy="sideways").status_code == 400


def test_fields_select_what_comes_back(api):
    users = api.get("/users", fields="sourcedId,givenName").json()["users"]
    assert all(list(u) == ["sourcedId", "givenName"] for u in users)
    one = api.get("/users/usr-s-001", fields="familyName").json()
    assert one == {"user": {"familyName": "Smith"}}
    response = api.get("/users", fields="sourcedId,shoeSize")
    assert response.status_code == 400 and minor(response) == "invalid_selection_field"


def test_single_objects_and_unknown_ids(api):
    assert api.get("/classes/cls-alg1-p1").json()["class"]["classCode"] == "ALG1-01"
    term = api.get("/terms/as-t1-2026").json()["academicSession"]
    assert term["type"] == "term" and term["parent"]["sourcedId"] == "as-sy2026" and term["schoolYear"] == "2026"
    q1 = api.get("/gradingPeriods/as-q1-2026").json()["academicSession"]
    assert q1["parent"]["sourcedId"] == "as-sem1-2026"
    year = api.get("/schoolYears/as-sy2026").json()["academicSession"]
    assert {c["sourcedId"] for c in year["children"]} == {"as-sem1-2026", "as-sem2-2026", "as-t1-2026"}
    assert api.get("/orgs/org-district-1").json()["org"]["type"] == "district"
    assert api.get("/schools/org-school-hs").json()["org"]["parent"]["sourcedId"] == "org-district-1"
    course = api.get("/courses/crs-alg1").json()["course"]
    assert course["schoolYear"]["sourcedId"] == "as-sy2026" and course["org"]["sourcedId"] == "org-school-hs"
    enrollment = api.get("/enrollments/enr-t100-alg1").json()["enrollment"]
    assert (enrollment["role"], enrollment["primary"], enrollment["class"]["sourcedId"]) == ("teacher", "true", "cls-alg1-p1")
    for path in ("/users/nobody", "/classes/nope", "/terms/as-sem1-2026", "/students/usr-t-100", "/orgs/x", "/courses/y",
                 "/enrollments/z", "/schools/org-district-1"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert minor(response) == "unknownobject"


def test_nested_paths(api):
    def sids(path):
        response = api.get(path)
        assert response.status_code == 200, (path, response.content)
        return sorted(x["sourcedId"] for x in next(iter(response.json().values())))

    assert sids("/classes/cls-alg1-p1/students") == ["usr-s-001"]
    assert sids("/classes/cls-alg1-p1/teachers") == ["usr-t-100"]
    assert sids("/schools/org-school-hs/classes") == ["cls-alg1-p1"]
    assert sids("/schools/org-school-hs/students") == ["usr-s-001"]
    assert sids("/schools/org-school-es/teachers") == ["usr-t-200"]
    assert sids("/schools/org-school-hs/enrollments") == ["enr-s001-alg1", "enr-t100-alg1"]
    assert sids("/schools/org-school-hs/courses") == ["crs-alg1"]
    assert sids("/schools/org-school-hs/terms") == ["as-t1-2026"]
    assert sids("/schools/org-school-hs/classes/cls-alg1-p1/students") == ["usr-s-001"]
    assert sids("/schools/org-school-hs/classes/cls-alg1-p1/enrollments") == ["enr-s001-alg1", "enr-t100-alg1"]
    assert sids("/students/usr-s-001/classes") == ["cls-alg1-p1"]
    assert sids("/teachers/usr-t-200/classes") == ["cls-hr3-a"]
    assert sids("/users/usr-s-002/classes") == ["cls-hr3-a"]
    assert sids("/courses/crs-alg1/classes") == ["cls-alg1-p1"]
    assert sids("/terms/as-t1-2026/classes") == []
    assert sids("/terms/as-t1-2026/gradingPeriods") == []
    assert sids("/students") == ["usr-s-001", "usr-s-002"]
    assert sids("/teachers") == ["usr-t-100", "usr-t-200"]
    for path in ("/schools/nope/classes", "/classes/nope/students", "/schools/org-school-es/classes/cls-alg1-p1/students",
                 "/courses/nope/classes", "/teachers/usr-s-001/classes"):
        assert api.get(path).status_code == 404, path


def test_demographics_need_their_scope_and_a_client_allowed_to_read_them(api, client, district):
    demo = api.get("/demographics/usr-s-001").json()["demographics"]
    assert demo["birthDate"] == "2010-03-14" and demo["sex"] == "female" and demo["white"] == "true" and demo["asian"] == "false"
    assert api.get("/demographics").json()["demographics"][0]["sourcedId"] in {"usr-s-001", "usr-s-002"}
    plain, secret = api_client_create(actor=None, district=district, name="Plain")
    token = token_for(client, plain.application.client_id, secret)  # default scopes: core + roster
    response = client.get(BASE + "/demographics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 403 and minor(response) == "forbidden"
    assert client.get(BASE + "/users", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def test_another_districts_client_sees_nothing(api, client, samples):
    other = f.DistrictFactory(name="Elsewhere")
    f.PersonFactory(district=other, given_name="Zodwa", family_name="Dube")
    c, secret = api_client_create(actor=None, district=other, name="Theirs")
    theirs = Api(client, token_for(client, c.application.client_id, secret))
    users = theirs.get("/users").json()["users"]
    assert [u["givenName"] for u in users] == ["Zodwa"]
    for path in ("/users/usr-s-001", "/classes/cls-alg1-p1", "/orgs/org-school-hs", "/classes/cls-alg1-p1/students"):
        assert theirs.get(path).status_code == 404, path
    assert theirs.get("/enrollments").json()["enrollments"] == []
    assert "Zodwa" not in str(api.get("/users").json())
    # the same sourcedIds imported into the other district are its own objects
    Importer(district=other, path=samples / "oneroster-1.2-bulk").run()
    assert theirs.get("/users/usr-s-001").json()["user"]["givenName"] == "Avery"
    assert theirs.get("/users", filter="givenName='Avery'")["X-Total-Count"] == "1"


def test_a_revoked_client_is_refused(api, client, district):
    c, secret = api_client_create(actor=None, district=district, name="Gone")
    token = token_for(client, c.application.client_id, secret)
    api_client_revoke(actor=None, client=c)
    assert client.get(BASE + "/users", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    basic = base64.b64encode(f"{c.application.client_id}:{secret}".encode()).decode()
    assert client.post("/ims/oneroster/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}").status_code == 401


@pytest.mark.parametrize("path", ["/users", "/classes", "/enrollments", "/academicSessions", "/orgs", "/courses", "/demographics"])
def test_lists_take_a_fixed_number_of_queries(api, district, path):
    # more of everything, so that a page of 2 and a page of 20 differ in rows, not in queries
    Importer(district=f.DistrictFactory(), path=__import__("tests.oneroster.conftest", fromlist=["SAMPLES"]).SAMPLES / "oneroster-1.2-bulk").run()
    counts = []
    for limit in (1, 2, 20):
        with CaptureQueriesContext(connection) as ctx:
            response = api.get(path, limit=limit)
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] == counts[2], counts


def test_the_service_root_lists_its_collections(client):
    body = client.get(BASE + "/").json()
    assert body["collections"]["users"].endswith("/users") and body["tokenUrl"].endswith("/ims/oneroster/token")
