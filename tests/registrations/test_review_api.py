"""The review-queue API (/api/v1/registrations/submissions): personas × endpoints, filters, query counts,
bad input (400, nothing changed), illegal or stale actions (409, nothing changed)."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from registrations.choices import RegistrationMode, SubmissionStatus
from registrations.models import Submission, SubmissionStatusChange
from registrations.services.review import submission_approve, submission_request_correction
from rostering.models import Enrollment, Person
from tests.registrations.review_support import (
    intake_payload,
    new_codes,
    open_session,
    submit,
    submitted_intake,
    verification_payload,
)
from tests.rostering import factories as f

pytestmark = pytest.mark.django_db
S = SubmissionStatus
LIST = reverse("review-api:submission-list")
BULK = reverse("review-api:submission-bulk-approve")


def url(name: str, pk) -> str:
    return reverse(f"review-api:submission-{name}", args=[pk])


@pytest.fixture
def queue(world):
    session = open_session(world, academic_year=world.year, title="Grade 6 intake")
    chipo = submitted_intake(world, session)
    tariro = submitted_intake(world, session, given_name="Tariro", family_name="Mlambo",
                              class_division_id=str(world.class_6b.pk))
    rufaro = submission_approve(
        submission=submitted_intake(world, session, given_name="Rufaro", family_name="Banda"), actor=world.registrar)
    session_b = open_session(world, school=world.school_b, academic_year=world.year, title="Borrowdale intake")
    tendai = submit(new_codes(session_b, world.district_admin)[0], intake_payload(
        world, given_name="Tendai", family_name="Gumbo", grade_level_id=str(world.grade7.pk),
        class_division_id=str(world.class_7a.pk)))
    other = open_session(world, school=world.other_school, actor=world.other_registrar,
                         mode=RegistrationMode.TEACHER_SELF_REGISTRATION, title="Hillside teachers")
    subject = f.SubjectFactory(district=world.other_district)
    zanele = submit(new_codes(other, world.other_registrar)[0], {
        "given_name": "Zanele", "family_name": "Ndlovu", "phone": "+263 71 000 1111", "email": "z@example.org",
        "subjects_taught": [str(subject.pk)]})
    return type("Queue", (), dict(session=session, session_b=session_b, other=other, chipo=chipo, tariro=tariro,
                                  rufaro=rufaro, tendai=tendai, zanele=zanele))


def names(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["displayName"].split()[0] for row in response.json()["results"]}


def state(submission) -> tuple:
    submission.refresh_from_db()
    return (submission.status, submission.version, submission.status_changes.count(), submission.review_reason,
            submission.correction_message, list(submission.flagged_fields), Person.objects.count(),
            Enrollment.objects.count())


# --- list ----------------------------------------------------------------------------------------------------

VISIBLE = {
    "district_admin": {"Chipo", "Tariro", "Rufaro", "Tendai"},
    "registrar": {"Chipo", "Tariro", "Rufaro"},
    "class_teacher": {"Chipo", "Rufaro"},
    "viewer": {"Chipo", "Tariro", "Rufaro", "Tendai"},
    "other_registrar": {"Zanele"},
}


@pytest.mark.parametrize("persona", list(VISIBLE))
def test_list_per_persona(world, queue, api_client_for, persona):
    assert names(api_client_for(world.personas[persona]).get(LIST)) == VISIBLE[persona]


def test_list_row_shape(world, queue, api_client_for):
    rows = api_client_for(world.registrar).get(LIST, {"search": "rufaro"}).json()["results"]
    assert len(rows) == 1
    row = rows[0]
    assert set(row) == {
        "id", "sessionId", "accessCode", "displayName", "personType", "status", "version", "payload",
        "normalizedIdentity", "validationSummary", "gradeLevelId", "classDivisionId", "correctionMessage",
        "flaggedFields", "reviewReason", "submittedAt", "reviewedBy", "reviewedAt", "importedPersonId",
        "importedAt", "importError", "createdAt", "updatedAt",
    }
    rufaro = queue.rufaro
    assert row["id"] == str(rufaro.pk) and row["sessionId"] == str(queue.session.pk)
    assert row["accessCode"] == rufaro.access_code.display_code
    assert (row["personType"], row["status"], row["version"]) == ("student", "imported", rufaro.version)
    assert row["payload"]["given_name"] == "Rufaro"
    assert row["normalizedIdentity"]["familyName"] == "Banda"
    assert row["validationSummary"] == {"errors": {}, "missing": [], "changedFields": [], "warnings": []}
    assert row["classDivisionId"] == str(world.class_6a.pk) and row["gradeLevelId"] == str(world.grade6.pk)
    assert row["reviewedBy"] == {"id": world.registrar.pk, "name": world.registrar.get_full_name()}
    assert row["importedPersonId"] == str(rufaro.imported_person_id) and row["importError"] == ""


def test_list_filters(world, queue, api_client_for):
    api = api_client_for(world.district_admin)
    assert names(api.get(LIST, {"sessionId": str(queue.session_b.pk)})) == {"Tendai"}
    assert names(api.get(LIST, {"status": "imported"})) == {"Rufaro"}
    assert names(api.get(LIST, {"status": "awaiting_review"})) == {"Chipo", "Tariro", "Tendai"}
    assert names(api.get(LIST, {"personType": "teacher"})) == set()
    assert names(api.get(LIST, {"classDivisionId": str(world.class_6b.pk)})) == {"Tariro"}
    assert names(api.get(LIST, {"search": "gumbo"})) == {"Tendai"}
    assert names(api.get(LIST, {"search": queue.chipo.access_code.display_code})) == {"Chipo"}
    assert names(api.get(LIST, {"sessionId": str(queue.other.pk)})) == set()  # out of reach: matches nothing
    teacher = api_client_for(world.class_teacher)
    assert names(teacher.get(LIST, {"classDivisionId": str(world.class_6b.pk)})) == set()


@pytest.mark.parametrize("params, key", [
    ({"status": "bogus"}, "status"),
    ({"sessionId": "not-a-uuid"}, "sessionId"),
    ({"classDivisionId": "12"}, "classDivisionId"),
    ({"personType": "guardian"}, "personType"),
    ({"page_size": "500"}, "page_size"),
])
def test_list_bad_filters_are_400(world, queue, api_client_for, params, key):
    response = api_client_for(world.registrar).get(LIST, params)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and key in response.json()["errors"]


@pytest.mark.parametrize("persona", ["district_admin", "class_teacher"])
def test_list_query_count_does_not_grow_with_page_size(world, api_client_for, django_assert_max_num_queries,
                                                        persona):
    session = open_session(world, academic_year=world.year)
    for code in new_codes(session, world.district_admin, count=60):
        submit(code, intake_payload(world))
    api = api_client_for(world.personas[persona])
    api.get(LIST)  # warm up: the token's last-used time is written once
    with CaptureQueriesContext(connection) as small:
        rows_small = api.get(LIST, {"page_size": 5}).json()["results"]
    with django_assert_max_num_queries(len(small.captured_queries)):
        rows_large = api.get(LIST, {"page_size": 50}).json()["results"]
    assert len(rows_small) == 5 and len(rows_large) == 50
    assert len(small.captured_queries) <= 6


def test_unauthenticated_is_401(queue):
    assert APIClient().get(LIST).status_code == 401
    assert APIClient().post(url("approve", queue.chipo.pk), {}, format="json").status_code == 401


# --- detail --------------------------------------------------------------------------------------------------


def test_detail(world, queue, api_client_for):
    twin = f.PersonFactory(district=world.district, given_name="Chipo", family_name="Dube", sis_id="AVP-0099")
    body = api_client_for(world.registrar).get(url("detail", queue.chipo.pk)).json()
    assert body["id"] == str(queue.chipo.pk) and body["status"] == "submitted"
    assert body["rosterSnapshot"] == {} and body["rosterMatchId"] is None
    assert body["possibleDuplicates"] == [{
        "id": str(twin.pk), "name": "Chipo Dube", "role": "student", "number": "AVP-0099",
        "dateOfBirth": "2014-03-14", "schoolId": None, "gradeLevelId": None}]
    assert [(h["fromStatus"], h["toStatus"], h["actor"]) for h in body["history"]] == [
        ("draft", "submitted", None), ("", "draft", None)]
    assert body["allowedActions"] == ["approve", "reject", "requestCorrection"]


@pytest.mark.parametrize("persona, actions", [
    ("district_admin", ["approve", "reject", "requestCorrection"]),
    ("class_teacher", ["approve", "reject", "requestCorrection"]),
    ("viewer", []),
])
def test_detail_allowed_actions(world, queue, api_client_for, persona, actions):
    body = api_client_for(world.personas[persona]).get(url("detail", queue.chipo.pk)).json()
    assert body["allowedActions"] == actions
    imported = api_client_for(world.personas[persona]).get(url("detail", queue.rufaro.pk)).json()
    assert imported["allowedActions"] == [] and imported["history"][0]["actor"]["id"] == world.registrar.pk


def test_verification_detail_has_the_roster_snapshot(world, api_client_for):
    person = f.EnrollmentFactory(class_division=world.class_6a, person__grade_level=world.grade6,
                                 person__gender="male").person
    session = open_session(world, mode=RegistrationMode.STUDENT_VERIFICATION, class_division=world.class_6a)
    code = new_codes(session, world.district_admin, count=None, assign_from_class_roster=True)[0]
    submission = submit(code, verification_payload(code, gender="female"))
    body = api_client_for(world.class_teacher).get(url("detail", submission.pk)).json()
    assert body["rosterSnapshot"]["personId"] == str(person.pk)
    assert body["rosterSnapshot"]["gender"] == "male" and body["payload"]["gender"] == "female"
    assert body["validationSummary"]["changedFields"] == ["gender"]
    assert body["rosterMatchId"] == str(person.pk)


@pytest.mark.parametrize("persona, target, status", [
    ("other_registrar", "chipo", 404),
    ("registrar", "tendai", 404),
    ("class_teacher", "tariro", 404),
    ("other_registrar", "zanele", 200),
])
def test_detail_reach(world, queue, api_client_for, persona, target, status):
    response = api_client_for(world.personas[persona]).get(url("detail", getattr(queue, target).pk))
    assert response.status_code == status
    if status == 404:
        assert response.json() == {"detail": "Not found.", "code": "not_found"}


@pytest.mark.parametrize("pk", ["not-a-uuid", "9f83bab4-7e62-4b20-b659-8a77df620bdf", "12"])
def test_unknown_ids_are_404(world, queue, api_client_for, pk):
    api = api_client_for(world.registrar)
    assert api.get(f"{LIST}/{pk}").status_code == 404
    assert api.post(f"{LIST}/{pk}/approve", {}, format="json").status_code == 404


# --- actions --------------------------------------------------------------------------------------------------


def test_approve(world, queue, api_client_for):
    response = api_client_for(world.registrar).post(url("approve", queue.chipo.pk),
                                                    {"expectedVersion": queue.chipo.version}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "imported" and body["importedPersonId"]
    assert body["reviewedBy"]["id"] == world.registrar.pk
    assert Person.objects.get(pk=body["importedPersonId"]).family_name == "Dube"


def test_approve_without_a_body(world, queue, api_client_for):
    response = api_client_for(world.class_teacher).post(url("approve", queue.chipo.pk))
    assert response.status_code == 200 and response.json()["status"] == "imported"


def test_reject(world, queue, api_client_for):
    api = api_client_for(world.registrar)
    before = state(queue.chipo)
    missing = api.post(url("reject", queue.chipo.pk), {"expectedVersion": queue.chipo.version}, format="json")
    assert missing.status_code == 400
    assert missing.json()["errors"] == {"reason": ["Give a reason for the rejection."]}
    assert state(queue.chipo) == before
    done = api.post(url("reject", queue.chipo.pk), {"reason": "Registered twice."}, format="json")
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["reviewReason"]) == ("rejected", "Registered twice.")


def test_request_correction(world, queue, api_client_for):
    api = api_client_for(world.class_teacher)
    before = state(queue.chipo)
    unknown = api.post(url("request-correction", queue.chipo.pk),
                       {"message": "Fix.", "flaggedFields": ["shoe_size"]}, format="json")
    assert unknown.status_code == 400 and "flaggedFields" in unknown.json()["errors"]
    no_message = api.post(url("request-correction", queue.chipo.pk), {"flaggedFields": []}, format="json")
    assert no_message.status_code == 400 and "message" in no_message.json()["errors"]
    assert state(queue.chipo) == before
    done = api.post(url("request-correction", queue.chipo.pk), {
        "expectedVersion": queue.chipo.version, "message": "Use the birth certificate date.",
        "flaggedFields": ["date_of_birth"]}, format="json")
    assert done.status_code == 200
    body = done.json()
    assert (body["status"], body["correctionMessage"], body["flaggedFields"]) == (
        "needs_correction", "Use the birth certificate date.", ["date_of_birth"])


def test_stale_version_is_409(world, queue, api_client_for):
    seen = queue.chipo.version
    submission_request_correction(submission=queue.chipo, actor=world.district_admin, message="Fix.")
    before = state(queue.chipo)
    response = api_client_for(world.registrar).post(url("approve", queue.chipo.pk), {"expectedVersion": seen},
                                                    format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "stale_version"
    assert response.json()["currentVersion"] == queue.chipo.version and response.json()["status"] == "needs_correction"
    assert state(queue.chipo) == before


@pytest.mark.parametrize("action, body", [
    ("approve", {}), ("reject", {"reason": "No."}), ("request-correction", {"message": "Fix."}),
])
def test_illegal_action_is_409(world, queue, api_client_for, action, body):
    before = state(queue.rufaro)
    response = api_client_for(world.registrar).post(url(action, queue.rufaro.pk), body, format="json")
    assert response.status_code == 409
    data = response.json()
    assert data["code"] == "invalid_transition" and data["currentStatus"] == "imported"
    assert data["allowedTargets"] == []
    assert state(queue.rufaro) == before


@pytest.mark.parametrize("action, body", [
    ("approve", {}), ("reject", {"reason": "No."}), ("request-correction", {"message": "Fix."}), ("import", {}),
])
@pytest.mark.parametrize("persona, target, status", [
    ("viewer", "chipo", 403),
    ("other_registrar", "chipo", 404),
    ("class_teacher", "tariro", 404),
    ("registrar", "tendai", 404),
])
def test_actions_refused_out_of_reach(world, queue, api_client_for, action, body, persona, target, status):
    submission = getattr(queue, target)
    before = state(submission)
    response = api_client_for(world.personas[persona]).post(url(action, submission.pk), body, format="json")
    assert response.status_code == status
    assert state(submission) == before


@pytest.mark.parametrize("raw, content_type", [
    ('{"expectedVersion": ', "application/json"),
    ("[1, 2]", "application/json"),
    ('{"expectedVersion": "three"}', "application/json"),
    ('{"expectedVersion": 0}', "application/json"),
    ('{"expectedVersion": 3, "status": "approved"}', "application/json"),
    ("expectedVersion=3", "application/x-www-form-urlencoded"),
])
def test_bad_bodies_are_refused_and_change_nothing(world, queue, api_client_for, raw, content_type):
    before = state(queue.chipo)
    response = api_client_for(world.registrar).post(url("approve", queue.chipo.pk), raw, content_type=content_type)
    assert response.status_code in (400, 415)
    assert "detail" in response.json() and "code" in response.json()
    assert state(queue.chipo) == before


def test_correction_with_a_non_list_of_flags_is_400(world, queue, api_client_for):
    before = state(queue.chipo)
    response = api_client_for(world.registrar).post(url("request-correction", queue.chipo.pk),
                                                    {"message": "Fix.", "flaggedFields": "gender"}, format="json")
    assert response.status_code == 400 and "flaggedFields" in response.json()["errors"]
    assert state(queue.chipo) == before


# --- bulk approve --------------------------------------------------------------------------------------------


def test_bulk_approve(world, queue, api_client_for):
    unknown = uuid.uuid4()
    ids = [queue.chipo.pk, queue.tariro.pk, queue.rufaro.pk, queue.zanele.pk, unknown, queue.chipo.pk]
    response = api_client_for(world.registrar).post(BULK, {"ids": [str(i) for i in ids]}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["approved"] == [str(queue.chipo.pk), str(queue.tariro.pk)]
    assert set(body["failed"]) == {str(queue.rufaro.pk), str(queue.zanele.pk), str(unknown)}
    assert body["failed"][str(queue.zanele.pk)] == "Not found."
    assert body["failed"][str(unknown)] == "Not found."
    assert "imported" in body["failed"][str(queue.rufaro.pk)]
    queue.zanele.refresh_from_db()
    assert queue.zanele.status == S.SUBMITTED


def test_bulk_approve_by_class_teacher(world, queue, api_client_for):
    body = api_client_for(world.class_teacher).post(
        BULK, {"ids": [str(queue.chipo.pk), str(queue.tariro.pk)]}, format="json").json()
    assert body == {"approved": [str(queue.chipo.pk)], "failed": {str(queue.tariro.pk): "Not found."}}


@pytest.mark.parametrize("payload", [
    {}, {"ids": []}, {"ids": ["nope"]}, {"ids": "all"}, {"ids": [None]}, {"ids": [str(uuid.uuid4())] * 1, "x": 1},
    {"ids": [str(uuid.uuid4()) for _ in range(201)]},
])
def test_bulk_approve_bad_input(world, queue, api_client_for, payload):
    response = api_client_for(world.registrar).post(BULK, payload, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert Submission.objects.filter(status=S.SUBMITTED).count() == 4


def test_bulk_approve_viewer_is_403(world, queue, api_client_for):
    response = api_client_for(world.viewer).post(BULK, {"ids": [str(queue.chipo.pk)]}, format="json")
    assert response.status_code == 403
    queue.chipo.refresh_from_db()
    assert queue.chipo.status == S.SUBMITTED


# --- import --------------------------------------------------------------------------------------------------


@pytest.fixture
def approved(world):
    session = open_session(world, academic_year=world.year, approval_policy={"importOnApproval": False},
                           required_fields={"fields": {"student_number": "optional"}})
    return submission_approve(submission=submitted_intake(world, session, student_number="AVP-0042"),
                                     actor=world.registrar)


def test_import(world, approved, api_client_for):
    assert approved.status == S.APPROVED
    detail = api_client_for(world.registrar).get(url("detail", approved.pk)).json()
    assert detail["allowedActions"] == ["import"]
    response = api_client_for(world.registrar).post(url("import", approved.pk))
    assert response.status_code == 200
    assert response.json()["status"] == "imported"
    person = Person.objects.get(pk=response.json()["importedPersonId"])
    assert person.sis_id == "AVP-0042"
    again = api_client_for(world.registrar).post(url("import", approved.pk))
    assert again.status_code == 200 and again.json()["importedPersonId"] == str(person.pk)
    assert Person.objects.filter(sis_id="AVP-0042").count() == 1


def test_failed_import_is_409_and_writes_nothing(world, approved, api_client_for):
    f.PersonFactory(district=world.district, role="teacher", sis_id="AVP-0042", given_name="Other",
                    family_name="Teacher")
    people = Person.objects.count()
    response = api_client_for(world.registrar).post(url("import", approved.pk))
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "import_failed" and body["status"] == "approved"
    assert "AVP-0042 already belongs to Other Teacher" in body["importError"]
    assert Person.objects.count() == people and not Enrollment.objects.filter(role="student").exists()
    approved.refresh_from_db()
    assert approved.status == S.APPROVED and "AVP-0042" in approved.import_error
    listed = api_client_for(world.registrar).get(LIST, {"status": "approved"}).json()["results"]
    assert listed[0]["importError"] == approved.import_error


def test_import_of_an_unapproved_submission_is_409(world, queue, api_client_for):
    before = state(queue.chipo)
    response = api_client_for(world.registrar).post(url("import", queue.chipo.pk))
    assert response.status_code == 409 and response.json()["code"] == "invalid_transition"
    assert state(queue.chipo) == before


@pytest.mark.parametrize("persona", ["class_teacher", "viewer"])
def test_import_needs_a_managing_role(world, approved, api_client_for, persona):
    assert api_client_for(world.personas[persona]).post(url("import", approved.pk)).status_code == 403
    approved.refresh_from_db()
    assert approved.status == S.APPROVED


def test_history_rows_match_the_actions(world, queue, api_client_for):
    api = api_client_for(world.registrar)
    api.post(url("request-correction", queue.tariro.pk), {"message": "Fix the surname."}, format="json")
    change = SubmissionStatusChange.objects.filter(submission=queue.tariro).first()
    assert (change.to_status, change.actor, change.reason) == (S.NEEDS_CORRECTION, world.registrar, "Fix the surname.")


def test_schema_documents_the_review_endpoints(client):
    schema = client.get(reverse("api_schema"), {"format": "json"}).json()
    paths = schema["paths"]
    for path in ("/api/v1/registrations/submissions", "/api/v1/registrations/submissions/{id}",
                 "/api/v1/registrations/submissions/{id}/approve", "/api/v1/registrations/submissions/{id}/reject",
                 "/api/v1/registrations/submissions/{id}/request-correction",
                 "/api/v1/registrations/submissions/{id}/import", "/api/v1/registrations/submissions/bulk-approve"):
        assert path in paths
        for operation in paths[path].values():
            assert operation["tags"] == ["Review"]
    assert "409" in paths["/api/v1/registrations/submissions/{id}/approve"]["post"]["responses"]
