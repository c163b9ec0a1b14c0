"""Staff pages for registration sessions: permissions per persona, the New Session form (with its htmx
refresh), transitions, access codes (generate, revoke, print, export), progress panel and overview."""

from __future__ import annotations

import csv
import io
import re
import uuid

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from registrations.choices import SHORT_CODE_WARNING, CodeStatus, SessionStatus, SubmissionStatus
from registrations.models import AccessCode, RegistrationSession, SessionStatusChange
from registrations.services.codes import access_codes_generate
from registrations.services.sessions import registration_session_create, registration_session_transition
from tests.registrations.factories import AccessCodeFactory, SubmissionFactory
from tests.rostering import factories as f

pytestmark = pytest.mark.django_db


# --- helpers --------------------------------------------------------------------------------------


def make_session(world, *, school=None, mode="student_intake", title="Form 1 intake", **data):
    return registration_session_create(
        actor=world.district_admin, school=school or world.school_a, mode=mode, title=title, **data
    )


def enroll_students(world, class_division, n=3):
    people = []
    for i in range(n):
        person = f.PersonFactory(
            district=world.district, school=class_division.school, given_name=f"Pupil{i}", family_name=f"Zulu{i}",
        )
        f.EnrollmentFactory(class_division=class_division, person=person, role="student")
        people.append(person)
    return people


def url(name, *args, **query):
    path = reverse(f"registrations:{name}", args=args)
    if query:
        path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return path


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def session_form_data(**overrides) -> dict:
    data = {
        "mode": "student_intake", "title": "Form 1 intake 2027", "description": "", "class_division": "",
        "grade_level": "", "academic_year": "", "term": "", "starts_at": "", "ends_at": "", "expected_count": "40",
        "roster_policy": "", "approval_review": "manual", "approval_import": "on", "approval_reject_reason": "on",
        "approval_correction_message": "on", "required_fields": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- anonymous and personas -------------------------------------------------------------------------


@pytest.fixture
def session_a(world):
    return make_session(world, title="Avondale intake", expected_count=10)


def page_urls(session):
    code = AccessCodeFactory(session=session)
    return {
        "list": url("session_list"),
        "create": url("session_create"),
        "overview": url("progress_overview"),
        "detail": url("session_detail", session.pk),
        "codes_tab": url("session_detail", session.pk, tab="codes"),
        "submissions_tab": url("session_detail", session.pk, tab="submissions"),
        "edit": url("session_edit", session.pk),
        "progress": url("session_progress", session.pk),
        "print": url("codes_print", session.pk),
        "export": url("codes_export", session.pk),
        "revoke": url("code_revoke", session.pk, code.pk),
    }


def test_anonymous_is_sent_to_the_login_page_everywhere(client, world, session_a):
    for name, path in page_urls(session_a).items():
        response = client.get(path)
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("login")), name


# expected status per persona for a session of school A
EXPECTED = {
    #                 district_admin registrar class_teacher viewer other_registrar
    "list":            (200, 200, 200, 200, 200),
    "create":          (200, 200, 403, 403, 200),
    "overview":        (200, 200, 200, 200, 200),
    "detail":          (200, 200, 200, 200, 404),
    "codes_tab":       (200, 200, 200, 200, 404),
    "submissions_tab": (200, 200, 200, 200, 404),
    "edit":            (200, 200, 403, 403, 404),
    "progress":        (200, 200, 200, 200, 404),
    "print":           (200, 200, 403, 403, 404),
    "export":          (200, 200, 403, 403, 404),
}
PERSONAS = ("district_admin", "registrar", "class_teacher", "viewer", "other_registrar")


@pytest.mark.parametrize("persona_index, persona", list(enumerate(PERSONAS)))
def test_every_page_for_every_persona(world, session_a, client_for, persona_index, persona):
    client = client_for(getattr(world, persona))
    urls = page_urls(session_a)
    for name, expected in EXPECTED.items():
        response = client.get(urls[name])
        assert response.status_code == expected[persona_index], (persona, name, response.status_code)


@pytest.mark.parametrize(
    "persona, expected", [("district_admin", 302), ("registrar", 302), ("class_teacher", 403), ("viewer", 403),
                          ("other_registrar", 404)],
)
def test_writes_per_persona(world, session_a, client_for, persona, expected):
    client = client_for(getattr(world, persona))
    code = AccessCodeFactory(session=session_a)
    assert client.post(url("session_transition", session_a.pk, "open")).status_code == expected
    generate = client.post(url("code_generate", session_a.pk), {"count": "2", "format": "secure"})
    assert generate.status_code == expected
    assert client.post(url("code_revoke", session_a.pk, code.pk)).status_code == expected
    assert client.post(url("session_edit", session_a.pk), session_form_data(title="Renamed")).status_code == expected
    session_a.refresh_from_db()
    code.refresh_from_db()
    if expected == 302:
        assert session_a.status == SessionStatus.OPEN
        assert session_a.title == "Renamed"
        assert session_a.access_codes.count() == 3
        assert code.revoked_at is not None
    else:
        assert session_a.status == SessionStatus.DRAFT
        assert session_a.access_codes.count() == 1
        assert code.revoked_at is None
        assert session_a.title == "Avondale intake"


def test_a_school_registrar_cannot_reach_another_schools_session(world, client_for):
    session_b = make_session(world, school=world.school_b, title="Borrowdale intake")
    client = client_for(world.registrar)
    assert client.get(url("session_detail", session_b.pk)).status_code == 404
    assert client.post(url("session_transition", session_b.pk, "open")).status_code == 404
    listing = client.get(url("session_list"))
    assert "Borrowdale intake" not in listing.text


def test_a_user_without_any_role_gets_403(db, client_for):
    nobody = f.UserFactory(username="nobody")
    client = client_for(nobody)
    assert client.get(url("session_list")).status_code == 403
    assert client.get(url("progress_overview")).status_code == 403
    assert client.get(url("session_create")).status_code == 403


# --- New Session form --------------------------------------------------------------------------------


def test_create_a_class_locked_verification_session_through_the_form(world, client_for):
    client = client_for(world.registrar)
    page = client.get(url("session_create"))
    assert page.status_code == 200
    assert "Student verification" in page.text and "Students already on the roster" in page.text
    data = session_form_data(
        mode="student_verification", title="Verify 6A", school=str(world.school_a.pk),
        class_division=str(world.class_6a.pk), academic_year=str(world.year.pk),
        rf_national_id="required", approval_auto_unchanged="on",
    )
    response = client.post(url("session_create"), data)
    session = RegistrationSession.objects.get(title="Verify 6A")
    assert response.status_code == 302
    assert response["Location"] == url("session_detail", session.pk, tab="codes")
    assert session.school == world.school_a
    assert session.class_division == world.class_6a
    assert session.grade_level == world.grade6  # derived from the class
    assert session.roster_policy == "preloaded_only"  # the mode's default
    assert session.required_fields["fields"]["national_id"]["state"] == "required"
    assert session.required_fields["fields"]["date_of_birth"]["state"] == "required"  # mode default kept
    assert session.approval_policy["autoApproveUnchangedVerifications"] is True
    assert session.created_by == world.registrar
    assert session.status == SessionStatus.DRAFT


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"class_division": "7a"}, "class_division", "Choose a class of the session"),
        ({"class_division": "6a", "grade_level": "grade7"}, "grade_level", "Class 6A is in Grade 6"),
        ({"school": "other"}, "school", "Choose one of your schools"),
        ({"title": ""}, "title", "This field is required"),
        ({"mode": ""}, "mode", "This field is required"),
        ({"required_fields": "{not json"}, "required_fields", "Not valid JSON"),
        # the staff form's JSON goes through the same bounded decoder as the API
        ({"required_fields": "[" * 5000 + "]" * 5000}, "required_fields", "nested more than 64 levels"),
        ({"required_fields": '{"fields": {"given_name": {"label": "a\\u0000b"}}}'}, "required_fields",
         "fields.given_name.label: a NUL character"),
        ({"required_fields": '{"fields": {"national_id": {"pattern": "(?=x)"}}}'}, "required_fields",
         "not a valid regular expression (invalid perl operator: (?=)"),
        ({"required_fields": '{"fields": {"shoe_size": {"state": "required"}}}'}, "required_fields", "unknown field"),
        ({"rf_given_name": "hidden"}, "rf_given_name", "Select a valid choice"),
        ({"ends_at": "2026-01-01T10:00", "starts_at": "2026-02-01T10:00"}, "ends_at", "endsAt must be after startsAt"),
    ],
)
def test_invalid_session_forms_show_errors_and_write_nothing(world, client_for, overrides, field, message):
    objects = {"7a": world.class_7a, "6a": world.class_6a, "grade7": world.grade7, "other": world.other_school}
    data = session_form_data(school=str(world.school_a.pk))
    data.update({k: str(objects[v].pk) if v in objects else v for k, v in overrides.items()})
    client = client_for(world.district_admin)
    response = client.post(url("session_create"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert message in " ".join(response.context["form"].errors[field])
    assert message in response.text.replace("&#x27;", "'")
    assert not RegistrationSession.objects.exists()


def test_other_districts_school_id_is_refused(world, client_for):
    client = client_for(world.registrar)
    data = session_form_data(school=str(world.other_school.pk))
    response = client.post(url("session_create"), data)
    assert response.status_code == 200
    assert "school" in response.context["form"].errors
    # a school of the own district the registrar does not manage is refused the same way
    response = client.post(url("session_create"), session_form_data(school=str(world.school_b.pk)))
    assert "school" in response.context["form"].errors
    assert not RegistrationSession.objects.exists()


def test_mode_switch_re_renders_only_the_form_with_the_modes_defaults(world, client_for):
    client = client_for(world.district_admin)
    data = session_form_data(mode="student_verification", school=str(world.school_a.pk), roster_policy="open_with_code",
                             title="Draft title", _refresh="mode")
    response = client.post(url("session_create"), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["Vary"] and "HX-Request" in response["Vary"]
    html = response.text
    assert html.lstrip().startswith('<div id="session-form-body"')
    assert "<html" not in html
    assert 'value="Draft title"' in html  # what was typed is kept
    assert re.search(r'<option value="preloaded_only" selected>', html)  # the mode's default policy
    assert "errorlist" not in html  # a refresh shows no errors
    assert world.class_6a.name in html and world.class_7a.name not in html  # classes of the chosen school
    assert not RegistrationSession.objects.exists()

    # Teacher self-registration: no class/grade lock fields.
    data.update(mode="teacher_self_registration")
    html = client.post(url("session_create"), data, HTTP_HX_REQUEST="true").text
    assert 'name="class_division"' not in html and 'name="grade_level"' not in html
    assert "Teacher self-registration is school-wide" in html
    assert re.search(r'<option value="open_with_code" selected>', html)


def test_school_switch_limits_the_class_and_grade_pickers(world, client_for):
    client = client_for(world.district_admin)
    data = session_form_data(school=str(world.school_b.pk), class_division=str(world.class_6a.pk), _refresh="school")
    html = client.post(url("session_create"), data, HTTP_HX_REQUEST="true").text
    assert world.class_7a.name in html
    assert f'value="{world.class_6a.pk}"' not in html  # the other school's class is dropped
    # without htmx the same refresh returns the whole page (the <noscript> button)
    full = client.post(url("session_create"), data)
    assert "<html" in full.text and full.status_code == 200


def test_new_session_page_without_a_school_lists_every_class_the_user_manages(world, client_for):
    html = client_for(world.district_admin).get(url("session_create")).text
    assert f"{world.school_a.name} — 6A" in html and f"{world.school_b.name} — 7A" in html
    assert world.other_class.school.name not in html
    # a registrar of one school gets that school preselected and its classes only
    html = client_for(world.registrar).get(url("session_create")).text
    assert "6A · Grade 6" in html and "7A ·" not in html and f"{world.school_b.name} — 7A" not in html


# --- edit --------------------------------------------------------------------------------------------


def test_edit_a_draft_then_an_open_session(world, client_for, session_a):
    client = client_for(world.registrar)
    data = session_form_data(title="Avondale intake 2027", class_division=str(world.class_6b.pk), expected_count="25")
    data.pop("mode")
    response = client.post(url("session_edit", session_a.pk), data)
    assert response.status_code == 302
    session_a.refresh_from_db()
    assert (session_a.title, session_a.class_division, session_a.grade_level, session_a.expected_count) == (
        "Avondale intake 2027", world.class_6b, world.grade6, 25
    )
    registration_session_transition(session=session_a, to="open", actor=world.registrar)
    # open: the class field is locked (ignored), the title still changes
    data.update(title="Avondale intake (open)", class_division=str(world.class_6a.pk))
    response = client.post(url("session_edit", session_a.pk), data)
    assert response.status_code == 302
    session_a.refresh_from_db()
    assert session_a.title == "Avondale intake (open)" and session_a.class_division == world.class_6b
    page = client.get(url("session_edit", session_a.pk)).text
    assert re.search(r'<select name="class_division"[^>]*disabled', page)


def test_clearing_the_class_lock_keeps_the_chosen_grade(world, client_for):
    session = make_session(world, class_division=world.class_6a)
    data = session_form_data(class_division="", grade_level=str(world.grade6.pk))
    data.pop("mode")
    assert client_for(world.registrar).post(url("session_edit", session.pk), data).status_code == 302
    session.refresh_from_db()
    assert session.class_division is None and session.grade_level == world.grade6


def test_closed_session_cannot_be_edited(world, client_for, session_a):
    for to in ("open", "closed"):
        registration_session_transition(session=session_a, to=to, actor=world.registrar)
    client = client_for(world.registrar)
    page = client.get(url("session_edit", session_a.pk))
    assert "can no longer be changed" in page.text and "Save changes" not in page.text
    response = client.post(url("session_edit", session_a.pk), session_form_data(title="Nope"))
    assert response.status_code == 302
    assert any("cannot be edited" in m for m in messages_of(response))
    session_a.refresh_from_db()
    assert session_a.title == "Avondale intake"


# --- detail and transitions ----------------------------------------------------------------------------


def test_detail_shows_badge_progress_panel_and_only_valid_buttons(world, client_for, session_a):
    client = client_for(world.registrar)
    html = client.get(url("session_detail", session_a.pk)).text
    assert '<span class="badge badge-draft">Draft</span>' in html
    assert 'hx-trigger="every 5s"' in html and url("session_progress", session_a.pk) in html
    assert url("session_transition", session_a.pk, "open") in html
    for target in ("paused", "closed", "archived"):
        assert url("session_transition", session_a.pk, target) not in html
    registration_session_transition(session=session_a, to="open", actor=world.registrar)
    html = client.get(url("session_detail", session_a.pk)).text
    assert url("session_transition", session_a.pk, "open") not in html
    assert url("session_transition", session_a.pk, "paused") in html
    close = re.search(r'action="[^"]*/transition/closed/".*?</form>', html, re.S).group(0)
    assert "data-confirm=" in close
    # viewers and class teachers see no buttons
    for user in (world.viewer, world.class_teacher):
        html = client_for(user).get(url("session_detail", session_a.pk)).text
        assert "/transition/" not in html and "Edit settings" not in html and "Generate codes" not in html


def test_legal_transition_writes_history_and_says_so(world, client_for, session_a):
    response = client_for(world.registrar).post(url("session_transition", session_a.pk, "open"))
    assert response.status_code == 302 and response["Location"] == url("session_detail", session_a.pk)
    assert any("is open" in m for m in messages_of(response))
    change = SessionStatusChange.objects.get(session=session_a)
    assert (change.from_status, change.to_status, change.actor) == ("draft", "open", world.registrar)


@pytest.mark.parametrize("target", ["closed", "archived", "paused", "draft", "bogus"])
def test_illegal_transition_is_a_message_not_an_error(world, client_for, session_a, target):
    response = client_for(world.registrar).post(url("session_transition", session_a.pk, target))
    assert response.status_code == 302
    assert any("Cannot move this session from 'draft'" in m for m in messages_of(response))
    session_a.refresh_from_db()
    assert session_a.status == SessionStatus.DRAFT
    assert not SessionStatusChange.objects.exists()


def test_transition_needs_post(world, client_for, session_a):
    assert client_for(world.registrar).get(url("session_transition", session_a.pk, "open")).status_code == 405


def test_settings_tab_shows_history_and_required_fields(world, client_for, session_a):
    registration_session_transition(session=session_a, to="open", actor=world.registrar, reason="Term starts")
    html = client_for(world.viewer).get(url("session_detail", session_a.pk, tab="settings")).text
    assert "Term starts" in html and "Status history" in html
    assert "Parent / guardian name" in html and "Participant form" in html


def test_tab_switch_with_htmx_returns_the_tab_partial(world, client_for, session_a):
    response = client_for(world.registrar).get(url("session_detail", session_a.pk, tab="codes"), HTTP_HX_REQUEST="true")
    assert response.text.lstrip().startswith('<div id="tab-content"')
    assert "<html" not in response.text and "Generate codes" in response.text


# --- access codes --------------------------------------------------------------------------------------


def test_generate_open_codes(world, client_for, session_a):
    client = client_for(world.registrar)
    response = client.post(url("code_generate", session_a.pk), {"count": "5", "prefix": "avp", "format": "secure"})
    assert response.status_code == 302
    codes = list(session_a.access_codes.all())
    assert len(codes) == 5 and all(c.code.startswith("AVP") and c.assigned_person_id is None for c in codes)
    batch = codes[0].print_batch
    assert response["Location"] == url("session_detail", session_a.pk, tab="codes", batch=batch, new=1)
    assert any("Generated 5 open codes" in m for m in messages_of(response))
    page = client.get(response["Location"]).text
    assert "New batch ready" in page and f"{url('codes_print', session_a.pk)}?batch={batch}" in page
    assert codes[0].display_code in page


def test_generate_roster_codes_with_hints(world, client_for):
    session = make_session(world, mode="student_verification", class_division=world.class_6a)
    people = enroll_students(world, world.class_6a, 3)
    client = client_for(world.registrar)
    page = client.get(url("session_detail", session.pk, tab="codes")).text
    assert "<strong>3</strong> students in class 6A have no code yet" in page
    response = client.post(url("code_generate", session.pk), {
        "assign_from_class_roster": "on", "include_roster_hints_on_printout": "on", "format": "secure",
    })
    assert response.status_code == 302
    codes = session.access_codes.all()
    assert {c.assigned_person_id for c in codes} == {p.pk for p in people}
    assert all(c.include_hint_on_printout and c.display_name_hint for c in codes)


def test_short_codes_warn(world, client_for, session_a):
    client = client_for(world.registrar)
    page = client.get(url("session_detail", session_a.pk, tab="codes")).text
    assert SHORT_CODE_WARNING[:60] in page
    response = client.post(url("code_generate", session_a.pk), {"count": "3", "format": "human_readable_4_digit"})
    assert SHORT_CODE_WARNING in messages_of(response)
    assert all(len(c.code) == 4 for c in session_a.access_codes.all())


@pytest.mark.parametrize(
    "mode, data, field, message",
    [
        ("student_verification", {"count": "5", "format": "secure"}, "assign_from_class_roster", "preloaded_only"),
        ("student_intake", {"assign_from_class_roster": "on", "format": "secure"}, "assign_from_class_roster",
         "open_with_code"),
        ("student_intake", {"format": "secure"}, "count", "How many codes"),
        ("student_intake", {"count": "0", "format": "secure"}, "count", "greater than or equal to 1"),
        ("student_intake", {"count": "2", "format": "secure", "prefix": "ABCDEFGHIJ"}, "prefix", "at most 8 characters"),
        ("student_intake", {"count": "2", "format": "secure", "prefix": "<b>'"}, "prefix", "letters A–Z and digits 0–9"),
        ("student_intake", {"count": "2", "format": "secure", "prefix": "ÄÖ"}, "prefix", "letters A–Z and digits 0–9"),
        ("student_intake", {"count": "2", "format": "secure", "include_roster_hints_on_printout": "on"},
         "include_roster_hints_on_printout", "only for roster-assigned codes"),
        ("student_intake", {"count": "2", "format": "weird"}, "format", "Select a valid choice"),
        ("student_intake", {"count": "2", "format": "secure", "expires_at": "2020-01-01T10:00"}, "expires_at",
         "must be in the future"),
    ],
)
def test_generate_policy_violations_are_form_errors(world, client_for, mode, data, field, message):
    session = make_session(world, mode=mode, class_division=world.class_6a)
    response = client_for(world.registrar).post(url("code_generate", session.pk), data)
    assert response.status_code == 400
    form = response.context["generate_form"]
    assert message in " ".join(form.errors.get(field, [])), form.errors
    assert message in response.text.replace("&#x27;", "'")
    assert not AccessCode.objects.exists()


def test_generate_on_a_closed_session_is_a_message(world, client_for, session_a):
    for to in ("open", "closed"):
        registration_session_transition(session=session_a, to=to, actor=world.registrar)
    response = client_for(world.registrar).post(url("code_generate", session_a.pk), {"count": "1", "format": "secure"})
    assert response.status_code == 302
    assert any("no more codes" in m for m in messages_of(response))
    assert not AccessCode.objects.exists()


def test_revoke_a_code_and_refuse_a_submitted_one(world, client_for, session_a):
    unused = AccessCodeFactory(session=session_a)
    submitted = SubmissionFactory(access_code=AccessCodeFactory(session=session_a), status=SubmissionStatus.SUBMITTED)
    client = client_for(world.registrar)
    back = url("session_detail", session_a.pk, tab="codes", page=1)
    response = client.post(url("code_revoke", session_a.pk, unused.pk), {"next": back})
    assert response.status_code == 302 and response["Location"] == back
    unused.refresh_from_db()
    assert unused.revoked_at is not None and unused.revoked_by == world.registrar
    response = client.post(url("code_revoke", session_a.pk, submitted.access_code.pk), {"next": "https://evil.example/"})
    assert response["Location"] == url("session_detail", session_a.pk, tab="codes")
    assert any("only unused or started codes" in m for m in messages_of(response))
    submitted.access_code.refresh_from_db()
    assert submitted.access_code.revoked_at is None
    # a code of another session is a 404
    other = AccessCodeFactory(session=make_session(world, title="Other"))
    assert client.post(url("code_revoke", session_a.pk, other.pk)).status_code == 404


def test_codes_table_filters_and_masks_codes_for_read_only_roles(world, client_for, session_a):
    result = access_codes_generate(session=session_a, actor=world.registrar, count=3)
    revoked = result.codes[0]
    revoked.revoked_at = timezone.now()
    revoked.save()
    client = client_for(world.registrar)
    html = client.get(url("session_detail", session_a.pk, tab="codes", status="revoked")).text
    assert revoked.display_code in html and result.codes[1].display_code not in html
    html = client.get(url("session_detail", session_a.pk, tab="codes", q=result.codes[1].code.lower())).text
    assert result.codes[1].display_code in html and result.codes[2].display_code not in html
    html = client_for(world.viewer).get(url("session_detail", session_a.pk, tab="codes")).text
    assert all(c.display_code not in html for c in result.codes)
    assert "•••••" in html


def test_print_page_has_one_qr_slip_per_code(world, client_for):
    session = make_session(world, mode="student_verification", class_division=world.class_6a)
    people = enroll_students(world, world.class_6a, 3)
    batch = access_codes_generate(session=session, actor=world.registrar, assign_from_class_roster=True,
                                  include_roster_hints_on_printout=True)
    other_batch = access_codes_generate(
        session=make_session(world, title="Open one"), actor=world.registrar, count=2
    )
    client = client_for(world.registrar)
    response = client.get(url("codes_print", session.pk, batch=batch.print_batch_id))
    assert response.status_code == 200
    html = response.text
    assert html.count('<svg viewBox="0 0 ') - html.count('class="bar"') == 3
    assert html.count('class="qr"') == 3 and html.count('<article class="slip">') == 3
    for code in batch.codes:
        assert code.display_code in html
        assert f"QR code for {code.display_code}" in html
    for person in people:
        assert person.full_name in html
    assert world.school_a.name in html and session.title in html
    assert "testserver/register" in html
    assert other_batch.codes[0].display_code not in html
    # QR codes decode to /register?code=… (checked by re-encoding the same URL)
    import segno

    expected_qr = segno.make(f"http://testserver/register?code={batch.codes[0].code}", error="m", micro=False)
    assert expected_qr.svg_inline(scale=1, border=2, omitsize=True, svgclass="qr",
                                  title=f"QR code for {batch.codes[0].display_code}") in html


def test_print_all_unused_leaves_out_revoked_expired_and_used_codes(world, client_for, session_a):
    result = access_codes_generate(session=session_a, actor=world.registrar, count=4)
    a, b, c, d = result.codes
    AccessCode.objects.filter(pk=a.pk).update(revoked_at=timezone.now())
    AccessCode.objects.filter(pk=b.pk).update(expires_at=timezone.now() - timezone.timedelta(minutes=1))
    AccessCode.objects.filter(pk=c.pk).update(status=CodeStatus.SUBMITTED)
    html = client_for(world.registrar).get(url("codes_print", session_a.pk)).text
    assert d.display_code in html
    assert all(x.display_code not in html for x in (a, b, c))
    assert html.count('<article class="slip">') == 1


def test_print_page_edge_cases(world, client_for, session_a):
    client = client_for(world.registrar)
    assert client.get(url("codes_print", session_a.pk, batch="not-a-uuid")).status_code == 404
    empty = client.get(url("codes_print", session_a.pk, batch=uuid.uuid4()))
    assert empty.status_code == 200 and "No codes to print" in empty.text


def test_csv_export(world, client_for):
    session = make_session(world, mode="student_verification", class_division=world.class_6a)
    person = enroll_students(world, world.class_6a, 1)[0]
    person.given_name = "=cmd"
    person.save()
    AccessCode.objects.all().delete()
    result = access_codes_generate(session=session, actor=world.registrar, assign_from_class_roster=True,
                                   include_roster_hints_on_printout=True)
    response = client_for(world.registrar).get(url("codes_export", session.pk))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    # One CSV writer for the page and the API: the same columns (registrations.exports.CSV_COLUMNS).
    assert rows[0][:4] == ["\ufeffcode", "status", "assigned_person_id", "assigned_person_name"]
    assert len(rows) == 2
    code = result.codes[0]
    assert rows[1][0] == code.display_code and rows[1][1] == "unused" and rows[1][2] == str(person.pk)
    assert rows[1][3].startswith("'=cmd")  # no formula injection
    assert rows[1][-1] == f"http://testserver/register?code={code.code}"


# --- submissions tab --------------------------------------------------------------------------------


def test_submissions_tab_empty_state_and_status_filter(world, client_for, session_a):
    client = client_for(world.class_teacher)
    html = client.get(url("session_detail", session_a.pk, tab="submissions")).text
    assert "No submissions yet — participants appear here as soon as they start" in html
    draft = SubmissionFactory(access_code=AccessCodeFactory(session=session_a), class_division=world.class_6a,
                              payload={"given_name": "Rudo", "family_name": "Moyo"})
    done = SubmissionFactory(access_code=AccessCodeFactory(session=session_a), status=SubmissionStatus.SUBMITTED,
                             class_division=world.class_6a, payload={"given_name": "Tariro", "family_name": "Dube"},
                             submitted_at=timezone.now())
    html = client.get(url("session_detail", session_a.pk, tab="submissions")).text
    assert "Rudo Moyo" in html and "Tariro Dube" in html
    assert reverse("review:submission_detail", args=[done.pk]) in html  # rows open the review page
    assert reverse("review:submission_list") + f"?session={session_a.pk}" in html
    html = client.get(url("session_detail", session_a.pk, tab="submissions", status="submitted")).text
    assert "Tariro Dube" in html and "Rudo Moyo" not in html
    html = client.get(url("session_detail", session_a.pk, tab="submissions", status="rejected")).text
    assert "No submissions with this status" in html
    assert draft.pk and done.pk


def test_submissions_tab_has_the_review_queues_scope(world, client_for, session_a):
    """A class teacher sees the submissions of their own classes there, as in the review queue: every row
    listed opens (the detail of another class's submission is a 404)."""
    mine = SubmissionFactory(access_code=AccessCodeFactory(session=session_a), status=SubmissionStatus.SUBMITTED,
                             class_division=world.class_6a, payload={"given_name": "Tariro", "family_name": "Dube"})
    other = SubmissionFactory(access_code=AccessCodeFactory(session=session_a), status=SubmissionStatus.SUBMITTED,
                              payload={"given_name": "Farai", "family_name": "Sibanda"})
    teacher = client_for(world.class_teacher)
    html = teacher.get(url("session_detail", session_a.pk, tab="submissions")).text
    assert "Tariro Dube" in html and "Farai Sibanda" not in html
    assert teacher.get(reverse("review:submission_detail", args=[other.pk])).status_code == 404
    assert teacher.get(reverse("review:submission_detail", args=[mine.pk])).status_code == 200
    html = client_for(world.registrar).get(url("session_detail", session_a.pk, tab="submissions")).text
    assert "Tariro Dube" in html and "Farai Sibanda" in html


# --- progress -----------------------------------------------------------------------------------------


def test_progress_partial_and_full_page(world, client_for, session_a):
    codes = access_codes_generate(session=session_a, actor=world.registrar, count=4).codes
    SubmissionFactory(access_code=codes[0], status=SubmissionStatus.SUBMITTED)
    SubmissionFactory(access_code=codes[1], status=SubmissionStatus.APPROVED)
    client = client_for(world.viewer)
    response = client.get(url("session_progress", session_a.pk), HTTP_HX_REQUEST="true")
    html = response.text
    assert response.status_code == 200 and "HX-Request" in response["Vary"]
    assert html.lstrip().startswith('<section class="card reg-progress"') and "<html" not in html
    assert 'hx-trigger="every 5s"' in html
    assert '<div class="value">4</div><div class="label">Codes generated</div>' in html
    assert '<div class="value">10</div><div class="label">Expected</div>' in html
    assert '<rect class="bar-fill" width="20" height="8"/>' in html  # completion 2/10
    assert '<rect class="bar-fill" width="50" height="8"/>' in html  # approval 1/2
    assert 'style="' not in html  # nothing the CSP would block
    full = client.get(url("session_progress", session_a.pk))
    assert "<html" in full.text and "Live progress" in full.text


def test_polling_after_the_login_expired_stops_without_swapping(client, world, session_a):
    response = client.get(url("session_progress", session_a.pk), HTTP_HX_REQUEST="true")
    assert response.status_code == 286 and response["HX-Reswap"] == "none" and response.content == b""
    assert client.get(url("session_progress", session_a.pk)).status_code == 302


def test_archived_session_panel_stops_polling(world, client_for, session_a):
    for to in ("open", "closed", "archived"):
        registration_session_transition(session=session_a, to=to, actor=world.registrar)
    html = client_for(world.registrar).get(url("session_progress", session_a.pk), HTTP_HX_REQUEST="true").text
    assert "hx-trigger" not in html and "Final figures" in html


def test_progress_bars_clamp_over_100_percent(world, client_for):
    session = make_session(world, expected_count=1)
    codes = access_codes_generate(session=session, actor=world.registrar, count=3).codes
    for code in codes:
        SubmissionFactory(access_code=code, status=SubmissionStatus.SUBMITTED)
    html = client_for(world.registrar).get(url("session_progress", session.pk), HTTP_HX_REQUEST="true").text
    assert "300%" in html and '<rect class="bar-fill" width="100" height="8"/>' in html


# --- lists: filters, query counts, overview sorting ----------------------------------------------------------


def _sessions_with_codes(world, n, start=0):
    for i in range(start, start + n):
        session = make_session(world, school=world.school_a if i % 2 else world.school_b, title=f"Session {i:02d}",
                               expected_count=10)
        AccessCodeFactory(session=session)


@pytest.mark.parametrize("view_name", ["session_list", "progress_overview"])
def test_list_query_count_does_not_grow(world, client_for, django_assert_max_num_queries, view_name):
    client = client_for(world.district_admin)
    client.get(url(view_name))  # warm up the session
    _sessions_with_codes(world, 5)
    with django_assert_max_num_queries(12) as small:
        assert client.get(url(view_name)).status_code == 200
    _sessions_with_codes(world, 25, start=5)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url(view_name))
    assert response.status_code == 200 and "Session 29" in response.text


def test_session_list_filters_and_htmx_partial(world, client_for):
    intake = make_session(world, title="Intake A")
    make_session(world, title="Teachers B", mode="teacher_self_registration", school=world.school_b)
    registration_session_transition(session=intake, to="open", actor=world.district_admin)
    client = client_for(world.district_admin)
    html = client.get(url("session_list", status="open")).text
    assert "Intake A" in html and "Teachers B" not in html
    html = client.get(url("session_list", mode="teacher_self_registration")).text
    assert "Teachers B" in html and "Intake A" not in html
    html = client.get(url("session_list", q="teach")).text
    assert "Teachers B" in html and "Intake A" not in html
    response = client.get(url("session_list", school=world.school_b.pk), HTTP_HX_REQUEST="true")
    assert response.text.lstrip().startswith('<div id="session-table"')
    assert "Teachers B" in response.text and "Intake A" not in response.text
    assert "No sessions match" in client.get(url("session_list", q="zzz")).text
    # a school out of reach is ignored, the other filters still apply
    html = client.get(url("session_list", school=world.other_school.pk, status="open")).text
    assert "Intake A" in html and "Teachers B" not in html


def test_session_list_follows_the_school_switcher(world, client_for):
    make_session(world, title="Intake A")
    make_session(world, title="Intake B", school=world.school_b)
    client = client_for(world.district_admin)
    client.get(reverse("switch_school") + f"?school={world.school_b.pk}")
    html = client.get(url("session_list")).text
    assert "Intake B" in html and "Intake A" not in html
    html = client.get(url("session_list") + "?school=").text  # explicit "all my schools"
    assert "Intake A" in html and "Intake B" in html


def test_progress_overview_sorts_and_totals(world, client_for):
    low = make_session(world, title="Low", expected_count=10)
    high = make_session(world, title="High", school=world.school_b, expected_count=2)
    for session, done in ((low, 1), (high, 2)):
        codes = access_codes_generate(session=session, actor=world.district_admin, count=3).codes
        for code in codes[:done]:
            SubmissionFactory(access_code=code, status=SubmissionStatus.APPROVED)
    archived = make_session(world, title="Old one")
    for to in ("open", "closed", "archived"):
        registration_session_transition(session=archived, to=to, actor=world.district_admin)
    client = client_for(world.district_admin)

    def order(**query):
        html = client.get(url("progress_overview", **query)).text
        return [t for t in re.findall(r'<a href="/registrations/[0-9a-f-]+/">([^<]+)</a>', html)]

    assert order(sort="-completion") == ["High", "Low"]
    assert order(sort="completion") == ["Low", "High"]
    assert order(sort="school") == ["Low", "High"]  # Avondale before Borrowdale
    assert order(sort="-school") == ["High", "Low"]
    assert order(sort="nonsense") == ["Low", "High"]
    assert order(status="archived") == ["Old one"]
    html = client.get(url("progress_overview", sort="-completion")).text
    assert 'aria-sort="descending"' in html
    assert '<div class="value">12</div><div class="label">Expected</div>' in html
    assert '<div class="value">3</div><div class="label">Approved</div>' in html
    assert '<div class="value">6</div><div class="label">Codes</div>' in html
    # htmx sorting returns the table partial only
    partial = client.get(url("progress_overview", sort="approved"), HTTP_HX_REQUEST="true").text
    assert partial.lstrip().startswith('<div id="overview-table"')


def test_overview_for_school_registrar_is_limited(world, client_for):
    make_session(world, title="Mine")
    make_session(world, title="Theirs", school=world.school_b)
    html = client_for(world.registrar).get(url("progress_overview")).text
    assert "Mine" in html and "Theirs" not in html


# --- admin -------------------------------------------------------------------------------------------------


def test_admin_changelists_and_history_inlines(world, client_for, session_a):
    registration_session_transition(session=session_a, to="open", actor=world.registrar, reason="Go")
    code = AccessCodeFactory(session=session_a)
    submission = SubmissionFactory(access_code=code, status=SubmissionStatus.SUBMITTED,
                                   payload={"given_name": "Chipo", "family_name": "Banda"})
    client = client_for(world.superuser)
    for model, query in (("registrationsession", "?q=a&status__exact=open"), ("accesscode", "?status__exact=unused"),
                         ("submission", "?status__exact=submitted"), ("codeattempt", "?q=1")):
        response = client.get(reverse(f"admin:registrations_{model}_changelist") + query)
        assert response.status_code == 200, model
    assert "Chipo" in client.get(reverse("admin:registrations_submission_changelist") + "?q=Chipo").text
    change = client.get(reverse("admin:registrations_registrationsession_change", args=[session_a.pk])).text
    assert "Go" in change and 'name="status"' not in change  # history shown, status read-only
    change = client.get(reverse("admin:registrations_submission_change", args=[submission.pk]))
    assert change.status_code == 200 and 'name="status"' not in change.text
