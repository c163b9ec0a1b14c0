"""What a participant's submit costs: the statements of one ``POST …/submission/submit`` on the public API.

The physical limit of the operation is four statements (lock the code, write the submission, update the
code, write one history row: the bench's baseline view). The submit adds only the code's own history row:
the locking statement reads the session and the submission with the code, the grade stored with the draft
was checked when it was saved, and an unchanged answer is not written again. Answers are checked once;
nothing is locked twice; the token is checked without a query (the service's lock refuses a revoked code).
"""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from registrations.choices import RegistrationMode, SessionStatus
from registrations.models import AccessCodeStatusChange, Submission, SubmissionStatusChange
from registrations.services.codes import access_codes_generate
from registrations.services.sessions import registration_session_create, registration_session_transition
from tests.rostering import factories as f

API = "/api/v1/public/registrations"
SUBMIT_STATEMENTS = [
    "lock the access code (reading its session and its submission)",
    "update the submission (its status, version and submit time: the answers are unchanged)",
    "its history row",
    "update the code",
    "its history row",
]


def _participant(world):
    grade = world.grade6
    session = registration_session_create(
        actor=world.registrar, school=world.school_a, mode=RegistrationMode.STUDENT_INTAKE, title="Intake",
    )
    code = access_codes_generate(session=session, actor=world.registrar, count=1).codes[0]
    registration_session_transition(session=session, to=SessionStatus.OPEN, actor=world.registrar)
    client = APIClient()
    token = client.post(f"{API}/access-codes/validate", {"code": code.code}, format="json").json()["registrationToken"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    payload = {
        "given_name": "Rudo", "family_name": "Chikwanha", "date_of_birth": "2014-05-02", "gender": "female",
        "guardian_name": "Tendai Chikwanha", "guardian_relationship": "mother", "guardian_phone": "+263 77 123 4567",
        "grade_level_id": str(grade.pk),
    }
    draft = client.put(f"{API}/submission/draft", {"payload": payload}, format="json")
    assert draft.status_code == 200, draft.content
    return client, draft.json()["version"], code


def submit_queries(client, version) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.post(f"{API}/submission/submit", {"version": version}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "submitted", response.content
    # Transaction control (BEGIN, COMMIT) is not a statement of the work.
    return [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(("BEGIN", "COMMIT"))]


def test_a_submit_costs_what_it_must(transactional_db, world):
    """Outside a test's own transaction (as in production): one transaction, no savepoint, five statements,
    one row lock (the code's)."""
    f.ClassDivisionFactory(school=world.school_a, grade_level=world.grade6, name="6B")
    client, version, code = _participant(world)
    queries = submit_queries(client, version)
    assert len(queries) == len(SUBMIT_STATEMENTS), "\n".join(queries)
    assert not [q for q in queries if "SAVEPOINT" in q]
    if connection.vendor == "postgresql":
        locks = [q for q in queries if "FOR UPDATE" in q]
        assert len(locks) == 1 and locks[0].startswith('SELECT "registrations_accesscode"."id"')
    submission = Submission.objects.get(access_code=code)
    assert SubmissionStatusChange.objects.filter(submission=submission, to_status="submitted").count() == 1
    assert AccessCodeStatusChange.objects.filter(access_code=code, to_status="submitted").count() == 1


def test_a_changed_grade_is_checked_and_a_grade_the_school_does_not_offer_is_refused(transactional_db, world):
    """The stored grade is trusted; a different one is looked up (that grade alone) and refused if not offered."""
    client, version, code = _participant(world)
    other_school_grade = f.GradeLevelFactory(district=world.district, school=world.school_b, code="09", rank=9)
    payload = client.get(f"{API}/submission").json()["payload"]
    response = client.post(f"{API}/submission/submit",
                           {"version": version, "payload": {**payload, "grade_level_id": str(other_school_grade.pk)}},
                           format="json")
    assert response.status_code == 400 and "grade_level_id" in response.json()["errors"]
    assert Submission.objects.get(access_code=code).status == "draft"
