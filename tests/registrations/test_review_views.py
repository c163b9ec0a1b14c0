"""Staff pages of the review queue (/registrations/submissions/): personas × pages, actions, htmx, attempts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from registrations.choices import RegistrationMode, SubmissionStatus
from registrations.models import CodeAttempt, Submission
from registrations.services.participation import access_code_validate
from registrations.services.review import submission_approve, submission_request_correction
from rostering.common.errors import ApplicationError
from rostering.models import Person
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
LIST = reverse("review:submission_list")


def detail_url(s) -> str:
    return reverse("review:submission_detail", args=[s.pk])


def action_url(name: str, s) -> str:
    return reverse(f"review:submission_{name}", args=[s.pk])


@pytest.fixture
def queue(world):
    """School A: Chipo (6A), Tariro (6B), a draft (Kuda, 6A) and an imported one (Rufaro, 6A);
    school B: Tendai (7A); the other district: Zanele."""
    session = open_session(world, academic_year=world.year, title="Grade 6 intake")
    chipo = submitted_intake(world, session)
    tariro = submitted_intake(world, session, given_name="Tariro", family_name="Mlambo",
                              class_division_id=str(world.class_6b.pk))
    draft_code = new_codes(session, world.district_admin)[0]
    from registrations.services.participation import submission_save_draft

    kuda = submission_save_draft(access_code_id=draft_code.pk, payload={
        "given_name": "Kuda", "family_name": "Phiri", "grade_level_id": str(world.grade6.pk),
        "class_division_id": str(world.class_6a.pk)})
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
                                  kuda=kuda, rufaro=rufaro, tendai=tendai, zanele=zanele))


# --- the queue ---------------------------------------------------------------------------------------------


VISIBLE_AWAITING = {
    "district_admin": {"Chipo", "Tariro", "Tendai"},
    "registrar": {"Chipo", "Tariro"},
    "class_teacher": {"Chipo"},
    "viewer": {"Chipo", "Tariro", "Tendai"},
    "other_registrar": {"Zanele"},
}
ALL_NAMES = {"Chipo", "Tariro", "Tendai", "Zanele", "Kuda", "Rufaro"}


def names_in(response) -> set[str]:
    return {row["submission"].payload["given_name"] for row in response.context["rows"]}


@pytest.mark.parametrize("persona", list(VISIBLE_AWAITING))
def test_queue_shows_what_awaits_review_within_reach(world, queue, client_for, persona):
    response = client_for(world.personas[persona]).get(LIST)
    assert response.status_code == 200
    assert names_in(response) == VISIBLE_AWAITING[persona]
    html = response.content.decode()
    for name in ALL_NAMES - VISIBLE_AWAITING[persona]:
        assert f">{name} " not in html
    may_review = persona in {"district_admin", "registrar", "class_teacher", "other_registrar"}
    assert ('name="ids"' in html) is may_review
    assert ("Approve selected" in html) is may_review


def test_class_teacher_sees_only_6a_even_with_filters(world, queue, client_for):
    client = client_for(world.class_teacher)
    assert names_in(client.get(LIST, {"status": "all"})) == {"Chipo", "Kuda", "Rufaro"}
    # 6B is not on the teacher's menu: the value is ignored, and 6B stays invisible.
    assert names_in(client.get(LIST, {"status": "all", "class_division": str(world.class_6b.pk)})) == {
        "Chipo", "Kuda", "Rufaro"}
    classes = client.get(LIST).context["form"].fields["class_division"].choices
    assert [label for value, label in classes if value] == ["6A · Avondale Primary"]


def test_status_filter(world, queue, client_for):
    client = client_for(world.registrar)
    assert names_in(client.get(LIST, {"status": "all"})) == {"Chipo", "Tariro", "Kuda", "Rufaro"}
    assert names_in(client.get(LIST, {"status": "draft"})) == {"Kuda"}
    assert names_in(client.get(LIST, {"status": "imported"})) == {"Rufaro"}
    assert names_in(client.get(LIST, {"status": "nonsense"})) == {"Chipo", "Tariro"}  # ignored → default


def test_filters_session_person_type_class_and_search(world, queue, client_for):
    client = client_for(world.district_admin)
    assert names_in(client.get(LIST, {"session": str(queue.session_b.pk)})) == {"Tendai"}
    assert names_in(client.get(LIST, {"class_division": str(world.class_6b.pk)})) == {"Tariro"}
    assert names_in(client.get(LIST, {"person_type": "teacher"})) == set()
    assert names_in(client.get(LIST, {"person_type": "student"})) == {"Chipo", "Tariro", "Tendai"}
    assert names_in(client.get(LIST, {"q": "mlambo"})) == {"Tariro"}
    assert names_in(client.get(LIST, {"q": "tariro MLAMBO"})) == {"Tariro"}
    code = queue.tendai.access_code.display_code
    assert "-" in code
    assert names_in(client.get(LIST, {"q": code})) == {"Tendai"}
    assert names_in(client.get(LIST, {"q": code.replace("-", "").lower()[:6]})) == {"Tendai"}
    assert names_in(client.get(LIST, {"q": "nobody"})) == set()
    assert "No submissions match these filters" in client.get(LIST, {"q": "nobody"}).content.decode()


def test_htmx_request_gets_only_the_results(world, queue, client_for):
    client = client_for(world.registrar)
    response = client.get(LIST, {"q": "chipo"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="results"') and "<html" not in html
    assert "Chipo Dube" in html and "Tariro" not in html
    assert "HX-Request" in response["Vary"]
    full = client.get(LIST, {"q": "chipo"}, headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in full.content.decode()


def test_pagination_links_are_real_hrefs_and_htmx(world, client_for):
    session = open_session(world, academic_year=world.year)
    for code in new_codes(session, world.district_admin, count=27):
        submit(code, intake_payload(world))
    client = client_for(world.registrar)
    page1 = client.get(LIST, {"session": str(session.pk)})
    assert len(page1.context["rows"]) == 25
    html = page1.content.decode()
    assert f'href="?session={session.pk}&amp;page=2"' in html
    assert f'hx-get="?session={session.pk}&amp;page=2"' in html
    page2 = client.get(LIST, {"session": str(session.pk), "page": "2"})
    assert len(page2.context["rows"]) == 2


def test_queue_query_count_does_not_grow(world, client_for, django_assert_max_num_queries):
    session = open_session(world, academic_year=world.year)
    client = client_for(world.class_teacher)
    codes = new_codes(session, world.district_admin, count=20)
    for code in codes[:3]:
        submit(code, intake_payload(world))
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(LIST).context["rows"]) == 3
    for code in codes[3:]:
        submit(code, intake_payload(world))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(LIST).context["rows"]) == 20


def test_queue_needs_a_role(world, client_for, client):
    nobody = f.UserFactory(username="nobody")
    assert client_for(nobody).get(LIST).status_code == 403
    client.logout()
    response = client.get(LIST)
    assert response.status_code == 302 and "login" in response["Location"]


# --- the detail page ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona, status, actions", [
    ("district_admin", 200, True),
    ("registrar", 200, True),
    ("class_teacher", 200, True),
    ("viewer", 200, False),
    ("other_registrar", 404, False),
])
def test_detail_per_persona(world, queue, client_for, persona, status, actions):
    response = client_for(world.personas[persona]).get(detail_url(queue.chipo))
    assert response.status_code == status
    if status == 200:
        html = response.content.decode()
        assert "Chipo Dube" in html and "About you" in html and "Parent or guardian" in html
        assert "Grace Dube" in html and "6A" in html and "2 May 2014" in html
        assert (action_url("approve", queue.chipo) in html) is actions
        assert (action_url("reject", queue.chipo) in html) is actions
        assert f'name="expected_version" value="{queue.chipo.version}"' in html or not actions


def test_class_teacher_gets_404_for_other_classes(world, queue, client_for):
    client = client_for(world.class_teacher)
    assert client.get(detail_url(queue.tariro)).status_code == 404
    assert client.post(action_url("approve", queue.tariro), {"expected_version": queue.tariro.version}).status_code == 404
    queue.tariro.refresh_from_db()
    assert queue.tariro.status == S.SUBMITTED


def test_detail_shows_checks_history_and_duplicates(world, queue, client_for):
    twin = f.PersonFactory(district=world.district, school=world.school_a, given_name="Chipo", family_name="Dube",
                           date_of_birth=dt.date(2014, 5, 2), sis_id="AVP-0099")
    html = client_for(world.registrar).get(detail_url(queue.chipo)).content.decode()
    assert "Every required answer is there and valid" in html
    assert "Possible duplicates" in html and "AVP-0099" in html
    assert "Approving updates" in html and twin.full_name in html
    assert "History" in html and "Submitted" in html and "Draft" in html
    person_url = reverse("rostering:person_detail", args=[twin.pk])
    assert person_url in html


def test_verification_detail_shows_the_diff(world, client_for):
    person = f.EnrollmentFactory(class_division=world.class_6a, person__grade_level=world.grade6,
                                 person__gender="female", person__given_name="Rudo",
                                 person__family_name="Sibanda").person
    session = open_session(world, mode=RegistrationMode.STUDENT_VERIFICATION, class_division=world.class_6a)
    code = new_codes(session, world.district_admin, count=None, assign_from_class_roster=True)[0]
    submission = submit(code, verification_payload(code, given_name="Rudorwashe"))
    response = client_for(world.class_teacher).get(detail_url(submission))
    html = response.content.decode()
    assert "On the roster" in html and "changed from the roster" in html
    changed = [r for g in response.context["groups"] for r in g.rows if r.changed]
    assert [(r.key, r.value, r.roster) for r in changed] == [("given_name", "Rudorwashe", "Rudo")]
    assert 'class="row-changed"' in html
    assert "Changed from the roster: First name." in html
    assert "the code&#x27;s roster assignment" in html or "the code's roster assignment" in html
    assert person.full_name in html


def test_detail_of_a_draft_and_of_an_imported_submission(world, queue, client_for):
    client = client_for(world.registrar)
    draft = client.get(detail_url(queue.kuda)).content.decode()
    assert "autosaved draft" in draft and action_url("approve", queue.kuda) not in draft
    done = client.get(detail_url(queue.rufaro)).content.decode()
    assert "On the roster" in done and queue.rufaro.imported_person.full_name in done
    assert action_url("approve", queue.rufaro) not in done


# --- actions ------------------------------------------------------------------------------------------------


def test_approve_from_the_detail_page(world, queue, client_for):
    client = client_for(world.registrar)
    response = client.post(action_url("approve", queue.chipo), {"expected_version": queue.chipo.version,
                                                                "note": "Checked against the birth certificate."})
    assert response.status_code == 302 and response["Location"] == detail_url(queue.chipo)
    queue.chipo.refresh_from_db()
    assert queue.chipo.status == S.IMPORTED and queue.chipo.review_reason == "Checked against the birth certificate."
    page = client.get(response["Location"]).content.decode()
    assert "Approved Chipo Dube." in page


def test_approve_from_the_queue_returns_to_the_queue(world, queue, client_for):
    back = f"{LIST}?q=chipo"
    response = client_for(world.registrar).post(action_url("approve", queue.chipo),
                                                {"expected_version": queue.chipo.version, "next": back})
    assert response.status_code == 302 and response["Location"] == back
    external = client_for(world.registrar).post(action_url("approve", queue.tariro),
                                                {"expected_version": queue.tariro.version,
                                                 "next": "https://evil.example/"})
    assert external["Location"] == detail_url(queue.tariro)


def test_reject_needs_a_reason(world, queue, client_for):
    client = client_for(world.registrar)
    response = client.post(action_url("reject", queue.chipo), {"expected_version": queue.chipo.version, "reason": " "})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Give a reason for the rejection." in html
    assert '<details class="review-action-panel" id="reject" open>' in html
    queue.chipo.refresh_from_db()
    assert queue.chipo.status == S.SUBMITTED
    response = client.post(action_url("reject", queue.chipo),
                           {"expected_version": queue.chipo.version, "reason": "Registered twice."})
    assert response.status_code == 302
    queue.chipo.refresh_from_db()
    assert (queue.chipo.status, queue.chipo.review_reason) == (S.REJECTED, "Registered twice.")


def test_request_correction_with_flagged_fields(world, queue, client_for):
    client = client_for(world.class_teacher)
    html = client.get(detail_url(queue.chipo)).content.decode()
    assert 'name="flagged_fields" value="date_of_birth"' in html
    response = client.post(action_url("request_correction", queue.chipo), {
        "expected_version": queue.chipo.version, "message": "Use the date on the birth certificate.",
        "flagged_fields": ["date_of_birth", "gender"]})
    assert response.status_code == 302
    queue.chipo.refresh_from_db()
    assert queue.chipo.status == S.NEEDS_CORRECTION
    assert queue.chipo.flagged_fields == ["date_of_birth", "gender"]
    page = client.get(detail_url(queue.chipo)).content.decode()
    assert "Sent back for correction" in page and "Date of birth, Gender" in page


def test_correction_form_errors_come_back_into_the_form(world, queue, client_for):
    client = client_for(world.registrar)
    response = client.post(action_url("request_correction", queue.chipo),
                           {"expected_version": queue.chipo.version, "message": ""})
    assert response.status_code == 400
    assert "Tell the participant what to correct." in response.content.decode()
    bad_field = client.post(action_url("request_correction", queue.chipo),
                            {"expected_version": queue.chipo.version, "message": "Fix", "flagged_fields": ["x"]})
    assert bad_field.status_code == 400
    missing_version = client.post(action_url("approve", queue.chipo), {})
    assert missing_version.status_code == 400
    assert "Reload the page" in missing_version.content.decode()
    queue.chipo.refresh_from_db()
    assert queue.chipo.status == S.SUBMITTED


def test_stale_page_gets_a_409_message(world, queue, client_for):
    seen = queue.chipo.version
    submission_request_correction(submission=queue.chipo, actor=world.district_admin, message="Fix the name.")
    response = client_for(world.registrar).post(action_url("approve", queue.chipo), {"expected_version": seen})
    assert response.status_code == 409
    html = response.content.decode()
    assert "changed since you opened it" in html
    assert "Sent back for correction" in html  # the page shows the latest state
    queue.chipo.refresh_from_db()
    assert queue.chipo.status == S.NEEDS_CORRECTION


def test_illegal_action_gets_a_409_message(world, queue, client_for):
    response = client_for(world.registrar).post(action_url("approve", queue.rufaro),
                                                {"expected_version": queue.rufaro.version})
    assert response.status_code == 409
    assert "Cannot move this submission from &#x27;imported&#x27;" in response.content.decode()


@pytest.mark.parametrize("name, data", [
    ("approve", {}), ("reject", {"reason": "No."}), ("request_correction", {"message": "Fix."}),
])
def test_viewer_is_read_only(world, queue, client_for, name, data):
    response = client_for(world.viewer).post(action_url(name, queue.chipo),
                                             {"expected_version": queue.chipo.version, **data})
    assert response.status_code == 403
    queue.chipo.refresh_from_db()
    assert queue.chipo.status == S.SUBMITTED


@pytest.mark.parametrize("name", ["approve", "reject", "request_correction", "import"])
def test_other_district_is_a_404(world, queue, client_for, name):
    response = client_for(world.other_registrar).post(action_url(name, queue.chipo),
                                                      {"expected_version": queue.chipo.version, "reason": "x"})
    assert response.status_code == 404
    queue.chipo.refresh_from_db()
    assert queue.chipo.status == S.SUBMITTED


def test_actions_need_post(world, queue, client_for):
    assert client_for(world.registrar).get(action_url("approve", queue.chipo)).status_code == 405


def test_bulk_approve(world, queue, client_for):
    client = client_for(world.registrar)
    back = f"{LIST}?session={queue.session.pk}"
    response = client.post(reverse("review:submission_bulk_approve"), {
        "ids": [str(queue.chipo.pk), str(queue.tariro.pk), str(queue.rufaro.pk), str(queue.tendai.pk)],
        "next": back})
    assert response.status_code == 302 and response["Location"] == back
    statuses = dict(Submission.objects.values_list("payload__given_name", "status"))
    assert statuses["Chipo"] == statuses["Tariro"] == S.IMPORTED
    assert statuses["Tendai"] == S.SUBMITTED  # school B: not the registrar's
    messages = [str(m) for m in client.get(back).context["messages"]]
    assert "Approved 2 submissions; 2 written to the roster." in messages
    assert sum("Not approved" in m for m in messages) == 2


def test_bulk_approve_bad_input(world, queue, client_for):
    client = client_for(world.registrar)
    for data in ({}, {"ids": ["not-a-uuid"]}):
        response = client.post(reverse("review:submission_bulk_approve"), data)
        assert response.status_code == 302
    assert Submission.objects.filter(status=S.SUBMITTED).count() == 4
    viewer = client_for(world.viewer).post(reverse("review:submission_bulk_approve"), {"ids": [str(queue.chipo.pk)]})
    assert viewer.status_code == 403
    queue.chipo.refresh_from_db()
    assert queue.chipo.status == S.SUBMITTED


def test_bulk_approve_by_class_teacher_only_touches_6a(world, queue, client_for):
    client_for(world.class_teacher).post(reverse("review:submission_bulk_approve"),
                                         {"ids": [str(queue.chipo.pk), str(queue.tariro.pk)]})
    queue.chipo.refresh_from_db()
    queue.tariro.refresh_from_db()
    assert (queue.chipo.status, queue.tariro.status) == (S.IMPORTED, S.SUBMITTED)


# --- import ----------------------------------------------------------------------------------------------


@pytest.fixture
def on_demand(world):
    session = open_session(world, academic_year=world.year, approval_policy={"importOnApproval": False},
                           title="Import later")
    approved = [submission_approve(submission=submitted_intake(world, session, given_name=n),
                                          actor=world.registrar) for n in ("Chipo", "Tariro")]
    return session, approved


def test_import_approved_for_a_session(world, on_demand, client_for):
    session, _approved = on_demand
    client = client_for(world.registrar)
    page = client.get(LIST, {"session": str(session.pk), "status": "approved"}).content.decode()
    url = reverse("review:session_import_approved", args=[session.pk])
    assert url in page and "Import approved (2)" in page
    response = client.post(url)
    assert response.status_code == 302
    assert set(Submission.objects.filter(session=session).values_list("status", flat=True)) == {S.IMPORTED}
    assert Person.objects.filter(family_name="Dube").count() == 2
    messages = [str(m) for m in client.get(response["Location"]).context["messages"]]
    assert "Imported 2 approved submissions into the roster." in messages


@pytest.mark.parametrize("persona, status", [("viewer", 403), ("class_teacher", 403), ("other_registrar", 404)])
def test_import_approved_refused(world, on_demand, client_for, persona, status):
    session, _ = on_demand
    assert client_for(world.personas[persona]).post(
        reverse("review:session_import_approved", args=[session.pk])).status_code == status
    assert set(Submission.objects.filter(session=session).values_list("status", flat=True)) == {S.APPROVED}
    html = client_for(world.viewer).get(LIST, {"session": str(session.pk)}).content.decode()
    assert "Import approved" not in html


def test_import_one_from_its_page(world, on_demand, client_for):
    _session, [chipo, _] = on_demand
    client = client_for(world.registrar)
    html = client.get(detail_url(chipo)).content.decode()
    assert action_url("import", chipo) in html and "Import into the roster" in html
    assert client_for(world.class_teacher).post(action_url("import", chipo)).status_code == 403
    response = client_for(world.registrar).post(action_url("import", chipo))
    assert response.status_code == 302
    chipo.refresh_from_db()
    assert chipo.status == S.IMPORTED


def test_failed_import_is_shown_with_the_reason(world, client_for):
    f.PersonFactory(district=world.district, role="teacher", sis_id="AVP-0042", given_name="Other", family_name="Person")
    session = open_session(world, academic_year=world.year, required_fields={"fields": {"student_number": "optional"}})
    submission = submission_approve(submission=submitted_intake(world, session, student_number="AVP-0042"),
                                           actor=world.registrar)
    assert submission.status == S.APPROVED and submission.import_error
    client = client_for(world.registrar)
    html = client.get(detail_url(submission)).content.decode()
    assert "Approved, but not written to the roster." in html and "AVP-0042 already belongs to Other Person" in html
    assert "Try the import again" in html
    response = client.post(action_url("import", submission))
    assert response.status_code == 302
    messages = [str(m) for m in client.get(response["Location"]).context["messages"]]
    assert any(m.startswith("Not imported: Number AVP-0042") for m in messages)
    listing = client.get(LIST, {"status": "approved"}).content.decode()
    assert "Import failed" in listing


# --- failed code attempts ----------------------------------------------------------------------------------


@pytest.fixture
def attempts(world):
    session = open_session(world, academic_year=world.year)
    live = new_codes(session, world.district_admin)[0]
    for typed, school in (("WRONG-CODE", "AVP"), ("ANOTHER1", "BRH"), ("NOPE-NOPE", "")):
        with pytest.raises(ApplicationError):
            access_code_validate(code=typed, school_code=school, ip="203.0.113.9")
    from registrations.services.sessions import registration_session_transition

    registration_session_transition(session=session, to="paused", actor=world.district_admin)
    with pytest.raises(ApplicationError):
        access_code_validate(code=live.code, ip="198.51.100.7")
    with pytest.raises(ApplicationError):
        access_code_validate(code="ZZZZ-ZZZZ", school_code="HSP", ip="192.0.2.1")
    return session


ATTEMPTS = reverse("review:attempt_list")


def test_attempts_page_for_the_district(world, attempts, client_for):
    response = client_for(world.district_admin).get(ATTEMPTS)
    assert response.status_code == 200
    rows = list(response.context["page_obj"].object_list)
    assert {(a.outcome, a.school_code) for a in rows} == {
        ("invalid", "AVP"), ("invalid", "BRH"), ("session_not_open", "")}
    html = response.content.decode()
    assert "203.0.113.9" in html and "WRO…" in html and "Session not open" in html
    assert "192.0.2.1" not in html  # the other district's school code
    assert [(h["ip_address"], h["failures"]) for h in response.context["hotspots"]] == [
        ("203.0.113.9", 2), ("198.51.100.7", 1)]
    assert "Most failures in the last 24 hours" in html


def test_attempts_page_scoping_and_filter(world, attempts, client_for):
    registrar = client_for(world.registrar).get(ATTEMPTS)
    assert {a.school_code for a in registrar.context["page_obj"].object_list} == {"AVP", "BRH", ""}
    only = client_for(world.registrar).get(ATTEMPTS, {"outcome": "session_not_open"})
    assert [a.outcome for a in only.context["page_obj"].object_list] == ["session_not_open"]
    other = client_for(world.other_registrar).get(ATTEMPTS)
    assert [a.school_code for a in other.context["page_obj"].object_list] == ["HSP"]
    partial = client_for(world.registrar).get(ATTEMPTS, {"outcome": "invalid"}, headers={"HX-Request": "true"})
    assert "<html" not in partial.content.decode() and "HX-Request" in partial["Vary"]


@pytest.mark.parametrize("persona", ["viewer", "class_teacher"])
def test_attempts_page_needs_a_managing_role(world, attempts, client_for, persona):
    assert client_for(world.personas[persona]).get(ATTEMPTS).status_code == 403


def test_attempts_page_paginates(world, client_for):
    CodeAttempt.objects.bulk_create([
        CodeAttempt(district=world.district, outcome="invalid", ip_address="203.0.113.5", code_hint="AB…",
                    created_at=timezone.now() - dt.timedelta(minutes=i)) for i in range(60)
    ])
    client = client_for(world.district_admin)
    first = client.get(ATTEMPTS)
    assert len(first.context["page_obj"].object_list) == 50
    assert 'href="?page=2"' in first.content.decode()
    assert len(client.get(ATTEMPTS, {"page": "2"}).context["page_obj"].object_list) == 10
