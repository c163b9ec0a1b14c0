"""The public /register pages: code entry, token in the Django session, autosaved form, review, submit, status.

The helpers at the top (``open_session``, ``new_code``, ``intake_answers``, …) are also used by
``test_public_api.py``.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from unittest import mock

import pytest
from django.core import signing
from django.utils import timezone

from registrations.choices import RegistrationMode, SessionStatus, SubmissionStatus
from registrations.models import AccessCode, CodeAttempt, Submission
from registrations.public import views
from registrations.services.codes import access_code_revoke, access_codes_generate
from registrations.services.participation import GENERIC_CODE_ERROR, TOKEN_SALT, make_token
from registrations.services.review import submission_reject, submission_request_correction
from registrations.services.sessions import registration_session_create
from registrations.services.sessions import registration_session_transition as transition
from rostering.choices import PersonRole
from tests.rostering import factories as f

M = RegistrationMode
S = SubmissionStatus


# --- helpers shared with test_public_api.py -----------------------------------------------------------------


def open_session(world, *, mode=M.STUDENT_INTAKE, school=None, **data):
    session = registration_session_create(
        actor=world.district_admin, school=school or world.school_a, mode=mode, title="Intake 2026", **data
    )
    return transition(session=session, to=SessionStatus.OPEN, actor=world.district_admin)


def set_status(world, session, status):
    """Move a session to ``status`` along the allowed transitions."""
    path = {
        SessionStatus.PAUSED: [SessionStatus.PAUSED],
        SessionStatus.CLOSED: [SessionStatus.CLOSED],
        SessionStatus.ARCHIVED: [SessionStatus.CLOSED, SessionStatus.ARCHIVED],
        SessionStatus.OPEN: [SessionStatus.OPEN],
    }[status]
    for to in path:
        session = transition(session=session, to=to, actor=world.district_admin)
    return session


def new_code(world, session, **kwargs) -> AccessCode:
    kwargs.setdefault("count", 1)
    return access_codes_generate(session=session, actor=world.district_admin, **kwargs).codes[0]


def intake_answers(world, **overrides) -> dict:
    data = {
        "given_name": "Rudo", "family_name": "Chikwanha", "date_of_birth": "2014-05-02", "gender": "female",
        "guardian_name": "Grace Chikwanha", "guardian_relationship": "mother", "guardian_phone": "+263 77 123 4567",
        "grade_level_id": str(world.grade6.pk),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def verification_setup(world):
    """A class-locked verification session for 6A with one enrolled student and her roster-assigned code."""
    student = f.PersonFactory(
        district=world.district, school=world.school_a, role=PersonRole.STUDENT, given_name="Chipo",
        family_name="Moyo", date_of_birth=dt.date(2014, 3, 1), gender="female", grade_level=world.grade6,
        sis_id="S-1001",
    )
    f.EnrollmentFactory(class_division=world.class_6a, person=student, role="student")
    session = open_session(world, mode=M.STUDENT_VERIFICATION, class_division=world.class_6a)
    code = access_codes_generate(session=session, actor=world.district_admin, assign_from_class_roster=True).codes[0]
    return session, code, student


def grade7_class_in_school_a(world):
    return f.ClassDivisionFactory(school=world.school_a, grade_level=world.grade7, name="7B", academic_session=world.year)


# --- page helpers ------------------------------------------------------------------------------------------


def enter(client, code, school_code="", **extra):
    return client.post("/register", {"code": code, "school_code": school_code}, **extra)


def sign_in(client, code: AccessCode):
    response = enter(client, code.code)
    assert response.status_code == 302, response.content[:500]
    return response


def htmx_save(client, data, **extra):
    return client.post("/register/save", data, HTTP_HX_REQUEST="true", **extra)


def version_in(html: str) -> str:
    match = re.search(r'id="form-version" value="([^"]*)"', html)
    return match.group(1) if match else ""


@pytest.fixture
def intake(world):
    session = open_session(world)
    return session, new_code(world, session)


# --- code entry ------------------------------------------------------------------------------------------


def test_code_page_with_and_without_trailing_slash_and_prefilled_from_qr(client, world):
    for url in ("/register", "/register/"):
        response = client.get(url)
        assert response.status_code == 200
    html = client.get("/register?code=ab12-cd34").content.decode()
    assert 'value="ab12-cd34"' in html
    assert 'class="code-input"' in html
    assert 'autocomplete="one-time-code"' in html and 'autocapitalize="characters"' in html
    assert 'inputmode="text"' in html
    assert 'class="public"' in html  # public body, no staff navigation
    assert 'class="mainnav"' not in html
    assert "Content-Security-Policy" in client.get("/register").headers


def test_valid_code_lowercase_with_spaces_signs_in_and_rotates_the_session_key(client, world, intake):
    _session, code = intake
    client.get("/register")
    before = client.session.session_key
    typed = " ".join(code.code.lower()[i : i + 3] for i in range(0, len(code.code), 3))
    response = enter(client, typed, school_code="avp")
    assert response.status_code == 302 and response.url == "/register/form"
    assert client.session.session_key != before
    assert client.session[views.SESSION_CODE] == str(code.pk)
    page = client.get("/register/form")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Avondale Primary" in html and "Intake 2026" in html
    assert 'aria-current="step"' in html


@pytest.mark.parametrize("case", ["unknown", "revoked", "expired", "wrong_school"])
def test_wrong_revoked_expired_codes_and_wrong_school_get_one_generic_message(client, world, intake, case):
    _session, code = intake
    typed, school_code = code.code, ""
    if case == "unknown":
        typed = "ZZZZZZZZZZ"
    elif case == "revoked":
        access_code_revoke(code=code, actor=world.district_admin)
    elif case == "expired":
        AccessCode.objects.filter(pk=code.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    else:
        school_code = "BRH"
    response = enter(client, typed, school_code)
    assert response.status_code == 400
    html = response.content.decode()
    assert "We could not accept that code" in html
    assert GENERIC_CODE_ERROR.split(".")[0] in html
    assert views.SESSION_TOKEN not in client.session
    attempt = CodeAttempt.objects.get()
    assert attempt.outcome == CodeAttempt.Outcome.INVALID and attempt.ip_address == "127.0.0.1"


def test_empty_code_is_a_form_error(client, world):
    response = enter(client, "")
    assert response.status_code == 400
    assert "Enter the access code from your slip." in response.content.decode()
    assert not CodeAttempt.objects.exists()


@pytest.mark.parametrize(("status", "words"), [
    (SessionStatus.PAUSED, "paused for now"),
    (SessionStatus.CLOSED, "has closed"),
    (SessionStatus.ARCHIVED, "has closed"),
])
def test_session_not_open_explains_itself_and_keeps_the_draft(client, world, intake, status, words):
    session, code = intake
    sign_in(client, code)
    htmx_save(client, {"given_name": "Rudo"})
    draft = Submission.objects.get()
    set_status(world, session, status)
    client.post("/register/leave")
    response = enter(client, code.code)
    assert response.status_code == 409
    assert words in response.content.decode()
    assert Submission.objects.get().payload == draft.payload == {"given_name": "Rudo"}


def test_draft_session_says_not_open_yet(client, world):
    session = registration_session_create(actor=world.district_admin, school=world.school_a,
                                          mode=M.STUDENT_INTAKE, title="Later")
    code = new_code(world, session)
    response = enter(client, code.code)
    assert response.status_code == 409
    assert "has not opened yet" in response.content.decode()


def test_many_wrong_codes_from_one_address_are_throttled_without_revealing_anything(client, world, intake):
    _session, code = intake
    for i in range(5):
        assert enter(client, f"WRONG{i}XXXXX", REMOTE_ADDR="10.0.0.7").status_code == 400
    response = enter(client, "WRONG9XXXXX", REMOTE_ADDR="10.0.0.7")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    html = response.content.decode()
    assert "Too many wrong codes" in html
    # The right code is refused too while the address is locked out: the answer never says whether it exists.
    again = enter(client, code.code, REMOTE_ADDR="10.0.0.7")
    assert again.status_code == 429 and "Too many wrong codes" in again.content.decode()
    assert CodeAttempt.objects.filter(outcome=CodeAttempt.Outcome.THROTTLED).count() >= 1
    assert CodeAttempt.objects.filter(outcome=CodeAttempt.Outcome.INVALID, ip_address="10.0.0.7").count() == 6
    # Another address is not affected.
    assert enter(client, code.code, REMOTE_ADDR="10.0.0.8").status_code == 302


def test_a_spoofed_x_forwarded_for_does_not_escape_the_limit(client, world, intake):
    for i in range(6):
        enter(client, f"WRONG{i}XXXXX", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
    response = enter(client, "WRONGAXXXXX", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert response.status_code == 429
    assert not CodeAttempt.objects.filter(ip_address__startswith="192.0.2.").exists()


def test_trusted_proxy_count_takes_the_address_the_proxy_wrote(settings, rf):
    from registrations.public.common import client_ip

    request = rf.get("/register", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5")
    assert client_ip(request) == "10.1.1.1"
    settings.SCHOOL_SESSIONS = {**settings.SCHOOL_SESSIONS, "TRUSTED_PROXY_COUNT": 1}
    assert client_ip(request) == "203.0.113.5"


# --- the token in the session -------------------------------------------------------------------------------


def test_pages_without_a_code_go_back_to_code_entry(client, world):
    for url in ("/register/form", "/register/review", "/register/status"):
        response = client.get(url)
        assert response.status_code == 302 and response.url == "/register"
    assert client.post("/register/save", {"given_name": "X"}).status_code == 302
    assert not Submission.objects.exists()


def _put_token(client, code, token):
    session = client.session
    session[views.SESSION_TOKEN] = token
    session[views.SESSION_CODE] = str(code.pk)
    session[views.SESSION_TOKEN_AT] = time.time()
    session.save()


def test_expired_token_renders_a_friendly_page(client, world, intake):
    _session, code = intake
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 3700):
        old = make_token(code)
    _put_token(client, code, old)
    response = client.get("/register/form")
    assert response.status_code == 401
    assert "expired" in response.content.decode()
    assert views.SESSION_TOKEN not in client.session
    htmx = (_put_token(client, code, old), htmx_save(client, {"given_name": "X"}))[1]
    assert htmx.status_code == 200 and "expired" in htmx.content.decode()
    assert not Submission.objects.exists()


def test_forged_token_and_another_sessions_code_are_refused(client, world, intake):
    session, code = intake
    other_session = open_session(world, mode=M.TEACHER_SELF_REGISTRATION)
    other_code = new_code(world, other_session)
    forged = make_token(code)[:-3] + "abc"
    _put_token(client, code, forged)
    assert client.get("/register/form").status_code == 401
    mismatched = signing.dumps({"c": str(other_code.pk), "s": str(session.pk)}, salt=TOKEN_SALT, compress=True)
    _put_token(client, other_code, mismatched)
    assert client.get("/register/form").status_code == 401
    # A valid token for one code with the session remembering another code is refused too.
    _put_token(client, other_code, make_token(code))
    assert client.get("/register/form").status_code == 401


def test_code_revoked_while_filling_in_is_a_friendly_page(client, world, intake):
    _session, code = intake
    sign_in(client, code)
    htmx_save(client, {"given_name": "Rudo"})
    access_code_revoke(code=code, actor=world.district_admin)
    response = client.get("/register/form")
    assert response.status_code == 401
    assert "We could not accept that code" in response.content.decode()


def test_token_is_renewed_while_the_participant_is_active(client, world, intake):
    _session, code = intake
    sign_in(client, code)
    session = client.session
    session[views.SESSION_TOKEN_AT] = time.time() - views.TOKEN_REFRESH_AFTER - 1
    first = session[views.SESSION_TOKEN]
    session.save()
    with mock.patch("django.core.signing.time.time", return_value=time.time() + 5):
        assert client.get("/register/form").status_code == 200
    assert client.session[views.SESSION_TOKEN] != first


def test_leave_clears_the_session(client, world, intake):
    _session, code = intake
    sign_in(client, code)
    response = client.post("/register/leave")
    assert response.status_code == 302 and response.url == "/register"
    assert views.SESSION_TOKEN not in client.session
    assert client.get("/register/form").status_code == 302
    assert client.get("/register/leave").status_code == 302


# --- the form per mode ------------------------------------------------------------------------------------


def test_intake_form_shows_bio_guardian_previous_school_and_placement(client, world, intake):
    sign_in(client, intake[1])
    html = client.get("/register/form").content.decode()
    for label in ("First name", "Date of birth", "Parent / guardian name", "Previous school", "Grade", "Class"):
        assert label in html
    for title in ("About you", "Parent or guardian", "Previous school", "Class placement"):
        assert title in html
    assert 'hx-post="/register/save"' in html and "keyup changed delay:800ms" in html
    assert 'id="form-version"' in html
    assert 'name="action" value="save"' in html and 'name="action" value="review"' in html
    assert 'autocomplete="given-name"' in html
    assert 'for="f-given_name"' in html and 'aria-describedby="err-given_name"' in html


def test_teacher_form_lists_subjects_and_classes_as_checkboxes(client, world):
    f.SubjectFactory(district=world.district, code="MATH", name="Mathematics")
    session = open_session(world, mode=M.TEACHER_SELF_REGISTRATION)
    sign_in(client, new_code(world, session))
    html = client.get("/register/form").content.decode()
    assert "Subjects taught" in html and "Mathematics" in html and 'type="checkbox"' in html
    assert "Classes taught" in html and "6A" in html
    assert "Parent / guardian" not in html


def test_deadline_is_shown(client, world):
    ends = timezone.now() + dt.timedelta(days=10)
    session = open_session(world, ends_at=ends)
    sign_in(client, new_code(world, session))
    html = client.get("/register/form").content.decode()
    assert "Open until" in html and str(timezone.localtime(ends).year) in html


def test_class_locked_selects_are_disabled_with_a_note(client, world):
    session = open_session(world, class_division=world.class_6a)
    sign_in(client, new_code(world, session))
    html = client.get("/register/form").content.decode()
    assert re.search(r'<select id="f-grade_level_id" name="grade_level_id" disabled', html)
    assert re.search(r'<select id="f-class_division_id" name="class_division_id" disabled', html)
    assert "Set by your school" in html


def test_grade_locked_session_offers_only_that_grades_classes(client, world):
    grade7_class_in_school_a(world)
    session = open_session(world, grade_level=world.grade6)
    sign_in(client, new_code(world, session))
    html = client.get("/register/form").content.decode()
    assert ">6A<" in html and ">6B<" in html and ">7B<" not in html
    assert re.search(r'<select id="f-class_division_id" name="class_division_id"\s', html)


# --- autosave ---------------------------------------------------------------------------------------------


def test_autosave_saves_returns_status_and_new_version_and_reload_keeps_data(client, world, intake):
    sign_in(client, intake[1])
    response = htmx_save(client, {"version": "", "given_name": "Rudo", "family_name": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Saved at" in html
    assert 'id="form-version" value="1" hx-swap-oob="true"' in html
    assert response["Vary"].find("HX-Request") >= 0
    submission = Submission.objects.get()
    assert submission.payload == {"given_name": "Rudo"} and submission.version == 1 and submission.status == S.DRAFT
    again = htmx_save(client, {"version": "1", "given_name": "Rudo", "family_name": "Chikwanha"})
    assert 'value="2"' in again.content.decode()
    page = client.get("/register/form").content.decode()
    assert 'value="Chikwanha"' in page and version_in(page) == "2"


def test_stale_version_is_refused_and_changes_nothing(client, world, intake):
    sign_in(client, intake[1])
    htmx_save(client, {"given_name": "Rudo"})
    htmx_save(client, {"version": "1", "given_name": "Rudo", "family_name": "Moyo"})
    stale = htmx_save(client, {"version": "1", "given_name": "Overwritten"})
    html = stale.content.decode()
    assert "another tab" in html and "Reload" in html and 'hx-swap-oob' not in html
    no_js = client.post("/register/save", {"version": "1", "given_name": "Overwritten"})
    assert no_js.status_code == 409 and "Reload" in no_js.content.decode()
    # A second tab that never saw the draft (no version) is stale too.
    assert client.post("/register/form", {"given_name": "Overwritten"}).status_code == 409
    submission = Submission.objects.get()
    assert submission.version == 2 and submission.payload == {"given_name": "Rudo", "family_name": "Moyo"}


def test_autosave_keeps_what_was_typed_and_shows_the_field_error(client, world, intake):
    sign_in(client, intake[1])
    response = htmx_save(client, {"given_name": "Rudo", "guardian_phone": "call me"})
    html = response.content.decode()
    assert "Saved at" in html
    assert 'id="err-guardian_phone" hx-swap-oob="true"' in html and "Enter a phone number" in html
    submission = Submission.objects.get()
    assert submission.payload == {"given_name": "Rudo", "guardian_phone": "call me"}
    assert "guardian_phone" in submission.validation_summary["errors"]
    page = client.get("/register/form").content.decode()
    assert 'value="call me"' in page and 'aria-invalid="true"' in page


def test_without_javascript_save_draft_and_continue_to_review(client, world, intake):
    sign_in(client, intake[1])
    saved = client.post("/register/form", {"action": "save", "version": "", **intake_answers(world)})
    assert saved.status_code == 302 and saved.url == "/register/form"
    assert "Your answers are saved" in client.get("/register/form").content.decode()
    review = client.post("/register/form", {"action": "review", "version": "1", **intake_answers(world)})
    assert review.status_code == 302 and review.url == "/register/review"
    htmx_review = client.post("/register/form", {"action": "review", "version": "2", **intake_answers(world)},
                              HTTP_HX_REQUEST="true")
    assert htmx_review["HX-Redirect"] == "/register/review"
    assert Submission.objects.get().version == 3


def test_session_paused_while_filling_in_keeps_the_draft(client, world, intake):
    session, code = intake
    sign_in(client, code)
    htmx_save(client, {"given_name": "Rudo"})
    set_status(world, session, SessionStatus.PAUSED)
    response = htmx_save(client, {"version": "1", "given_name": "Changed"})
    assert "Not saved" in response.content.decode() and "paused" in response.content.decode()
    assert client.post("/register/save", {"version": "1", "given_name": "Changed"}).status_code == 409
    page = client.get("/register/form")
    assert page.status_code == 409 and "Nothing is lost" in page.content.decode()
    assert Submission.objects.get().payload == {"given_name": "Rudo"}


# --- placement locks on save and submit ---------------------------------------------------------------------


def test_class_locked_session_stores_the_locked_class_whatever_is_posted(client, world):
    session = open_session(world, class_division=world.class_6a)
    sign_in(client, new_code(world, session))
    answers = intake_answers(world, grade_level_id=str(world.grade7.pk), class_division_id=str(world.class_6b.pk))
    assert htmx_save(client, answers).status_code == 200
    submission = Submission.objects.get()
    assert submission.class_division == world.class_6a and submission.grade_level == world.grade6
    assert submission.payload["class_division_id"] == str(world.class_6a.pk)
    # Another school's class is ignored too, and leaves no error on the locked field.
    client.post("/register/form", {"action": "save", "version": "1", **answers,
                                   "class_division_id": str(world.class_7a.pk)})
    submission.refresh_from_db()
    assert submission.class_division == world.class_6a
    assert "class_division_id" not in submission.validation_summary["errors"]
    assert client.post("/register/review", {"version": str(submission.version)}).status_code == 302
    submission.refresh_from_db()
    assert submission.status == S.SUBMITTED and submission.class_division == world.class_6a


def test_grade_locked_session_refuses_a_class_of_another_grade(client, world):
    class_7b = grade7_class_in_school_a(world)
    session = open_session(world, grade_level=world.grade6)
    sign_in(client, new_code(world, session))
    bad = client.post("/register/form", {"action": "save", **intake_answers(world, class_division_id=str(class_7b.pk))})
    assert bad.status_code == 400
    assert "is not in Grade 6" in bad.content.decode()
    assert not Submission.objects.exists()
    htmx_bad = htmx_save(client, intake_answers(world, class_division_id=str(class_7b.pk)))
    assert "Not saved" in htmx_bad.content.decode()
    assert not Submission.objects.exists()
    ok = htmx_save(client, intake_answers(world, grade_level_id=str(world.grade7.pk), class_division_id=str(world.class_6b.pk)))
    assert "Saved at" in ok.content.decode()
    submission = Submission.objects.get()
    assert submission.grade_level == world.grade6 and submission.class_division == world.class_6b
    assert client.post("/register/review", {"version": "1"}).status_code == 302
    submission.refresh_from_db()
    assert submission.status == S.SUBMITTED and submission.grade_level == world.grade6


def test_school_wide_session_refuses_a_class_of_another_school(client, world, intake):
    sign_in(client, intake[1])
    response = client.post("/register/form", {"action": "save", **intake_answers(world, grade_level_id=str(world.grade7.pk),
                                                                                   class_division_id=str(world.class_7a.pk))})
    assert response.status_code == 400
    assert not Submission.objects.exists()


# --- review, submit, status -----------------------------------------------------------------------------------


def test_review_lists_answers_by_group_and_warns_about_missing_fields(client, world, intake):
    sign_in(client, intake[1])
    htmx_save(client, intake_answers(world, guardian_phone=None))
    html = client.get("/register/review").content.decode()
    assert "Check your answers" in html
    assert "About you" in html and "Parent or guardian" in html
    assert "Rudo" in html and "Female" in html and "2 May 2014" in html and "Grade 6" in html
    assert "Parent / guardian phone is required." in html
    assert 'href="/register/form#field-guardian_phone"' in html


def test_review_without_a_draft_goes_to_the_form(client, world, intake):
    sign_in(client, intake[1])
    response = client.get("/register/review")
    assert response.status_code == 302 and response.url == "/register/form"


def test_submit_with_missing_required_fields_shows_errors_and_changes_nothing(client, world, intake):
    sign_in(client, intake[1])
    htmx_save(client, {"given_name": "Rudo"})
    response = client.post("/register/review", {"version": "1"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Not sent yet" in html and "This field is required." in html
    assert 'href="#f-family_name"' in html
    submission = Submission.objects.get()
    assert submission.status == S.DRAFT and submission.version == 1


def test_submit_from_a_stale_review_page_is_refused(client, world, intake):
    sign_in(client, intake[1])
    htmx_save(client, intake_answers(world))
    htmx_save(client, {"version": "1", **intake_answers(world, given_name="Tariro")})
    response = client.post("/register/review", {"version": "1"})
    assert response.status_code == 409 and "Reload" in response.content.decode()
    assert Submission.objects.get().status == S.DRAFT


def test_submit_then_read_only_status(client, world, intake):
    _session, code = intake
    sign_in(client, code)
    htmx_save(client, intake_answers(world))
    response = client.post("/register/review", {"version": "1"})
    assert response.status_code == 302 and response.url == "/register/status"
    submission = Submission.objects.get()
    assert submission.status == S.SUBMITTED and submission.submitted_at is not None
    status = client.get("/register/status").content.decode()
    assert "Sent — thank you!" in status and "What you sent" in status and "Rudo" in status
    # Read-only from now on, through every door.
    assert client.get("/register/form").url == "/register/status"
    assert client.get("/register/review").url == "/register/status"
    assert htmx_save(client, {"version": str(submission.version), "given_name": "X"})["HX-Redirect"] == "/register/status"
    assert client.post("/register/save", {"version": str(submission.version), "given_name": "X"}).status_code == 302
    assert Submission.objects.get().payload["given_name"] == "Rudo"
    # Coming back with the code shows the status.
    client.post("/register/leave")
    assert sign_in(client, code).url == "/register/status"


def test_corrections_loop(client, world, intake):
    _session, code = intake
    sign_in(client, code)
    htmx_save(client, intake_answers(world))
    client.post("/register/review", {"version": "1"})
    submission = Submission.objects.get()
    submission_request_correction(submission=submission, actor=world.district_admin,
                                  message="The date of birth does not match the birth certificate.",
                                  flagged_fields=["date_of_birth"])
    client.post("/register/leave")
    assert sign_in(client, code).url == "/register/status"
    status = client.get("/register/status").content.decode()
    assert "does not match the birth certificate" in status and "Correct my answers" in status
    form = client.get("/register/form").content.decode()
    assert "Your school asked for a correction" in form and "does not match the birth certificate" in form
    assert 'id="field-date_of_birth"' in form
    assert re.search(r'class="field required flagged[^"]*" id="field-date_of_birth"', form)
    assert 'href="#field-date_of_birth"' in form
    version = version_in(form)
    saved = htmx_save(client, {"version": version, **intake_answers(world, date_of_birth="2014-06-02")})
    assert "Saved at" in saved.content.decode()
    assert Submission.objects.get().status == S.NEEDS_CORRECTION
    review = client.get("/register/review").content.decode()
    assert "Send my corrections" in review
    response = client.post("/register/review", {"version": str(int(version) + 1)})
    assert response.status_code == 302
    submission.refresh_from_db()
    assert submission.status == S.RESUBMITTED and submission.payload["date_of_birth"] == "2014-06-02"
    assert submission.flagged_fields == []
    assert "Corrections sent" in client.get("/register/status").content.decode()


def test_rejected_status_shows_the_reason(client, world, intake):
    sign_in(client, intake[1])
    htmx_save(client, intake_answers(world))
    client.post("/register/review", {"version": "1"})
    submission_reject(submission=Submission.objects.get(), actor=world.district_admin, reason="Not a pupil of this school.")
    html = client.get("/register/status").content.decode()
    assert "Not accepted" in html and "Not a pupil of this school." in html


def test_status_before_anything_was_saved(client, world, intake):
    sign_in(client, intake[1])
    html = client.get("/register/status").content.decode()
    assert "Not started yet" in html and 'href="/register/form"' in html


# --- student verification ------------------------------------------------------------------------------------


def test_verification_prefills_from_the_roster_and_marks_changed_fields(client, world):
    _session, code, _student = verification_setup(world)
    sign_in(client, code)
    html = client.get("/register/form").content.decode()
    assert "Check your details" in html
    assert 'value="Chipo"' in html and 'value="2014-03-01"' in html
    assert 'class="changed-mark"' not in html.split("<form", 1)[1]
    form_answers = {"given_name": "Chipo", "family_name": "Moyo-Dube", "date_of_birth": "2014-03-01",
                    "gender": "female", "student_number": "S-1001"}
    response = htmx_save(client, form_answers)
    html = response.content.decode()
    assert 'id="mark-family_name" hx-swap-oob="true"><span class="changed-mark">changed</span>' in html
    assert 'id="mark-given_name" hx-swap-oob="true"></span>' in html
    page = client.get("/register/form").content.decode()
    assert "Was on file: Moyo" in page
    assert Submission.objects.get().validation_summary["changedFields"] == ["family_name"]
    review = client.get("/register/review").content.decode()
    assert 'class="changed-mark">changed' in review


def test_unchanged_verification_is_approved_by_the_default_policy(client, world):
    _session, code, _student = verification_setup(world)
    sign_in(client, code)
    htmx_save(client, {"given_name": "Chipo", "family_name": "Moyo", "date_of_birth": "2014-03-01",
                       "gender": "female", "student_number": "S-1001"})
    assert client.post("/register/review", {"version": "1"}).status_code == 302
    assert Submission.objects.get().status in (S.APPROVED, S.IMPORTED)
    html = client.get("/register/status").content.decode()
    assert "Approved" in html


def test_nul_characters_typed_into_the_form_are_refused_not_dropped(client, world, intake):
    sign_in(client, intake[1])
    htmx_save(client, {"given_name": "Ru\x00do", "guardian_phone": "\x00", "family_name": "Moyo"})
    submission = Submission.objects.get()
    assert submission.payload == {"family_name": "Moyo"}  # nothing silently rewritten, nothing stored of it
    errors = submission.validation_summary["errors"]
    assert errors["given_name"] == ["Remove the NUL character (\\u0000): it cannot be stored.", "This answer was not saved."]
    assert "guardian_phone" in errors


def test_participant_pages_show_times_in_the_school_district_time_zone(client, world, intake):
    world.district.time_zone = "Africa/Harare"
    world.district.save(update_fields=["time_zone"])
    _session, code = intake
    assert enter(client, code.code).status_code == 302
    assert client.session["district_tz"] == "Africa/Harare"
    assert client.get("/register/form").status_code == 200
