"""Concurrency guarantees of the registration flow, on PostgreSQL (SQLite serialises writers anyway).

Each test lines real threads up on a ``threading.Barrier``; every thread has its own database connection
(Django's connections are per thread) and closes it at the end. The row locks under test:
- participant services lock the access code, then the submission;
- review services lock the access code, then the submission (same order: no deadlock);
- code generation locks the session row, code validation locks nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from registrations.choices import SubmissionStatus
from registrations.models import AccessCode, Submission, SubmissionStatusChange
from registrations.services.codes import access_codes_generate
from registrations.services.participation import (
    access_code_validate,
    submission_save_draft,
    submission_submit,
)
from registrations.services.review import submission_approve
from rostering.common.errors import Conflict
from rostering.models import Enrollment, Person
from rostering.permissions import grants_for
from tests.registrations.review_support import intake_payload, new_codes, open_session, submit

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and races are tested on PostgreSQL"),
]
S = SubmissionStatus


def race(*calls: Callable[[], Any], timeout: float = 30) -> list[tuple[str, Any]]:
    """Run the calls at the same moment, one thread each; return ("ok", result) or ("error", exception)."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[str, Any]] = [("not run", None)] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[index] = ("ok", call())
        except Exception as exc:
            results[index] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a thread is stuck (deadlock?)"
    return results


def _outcomes(results):
    oks = [value for kind, value in results if kind == "ok"]
    errors = [value for kind, value in results if kind == "error"]
    return oks, errors


@pytest.fixture
def session(world):
    for user in world.personas.values():
        grants_for(user)  # load the memberships once, before the threads share the user objects
    return open_session(world, academic_year=world.year)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("with_draft", [False, True], ids=["no-draft", "same-draft"])
def test_same_code_submitted_from_two_clients_gives_one_submission(world, session, with_draft):
    code = new_codes(session, world.district_admin)[0]
    version = None
    if with_draft:
        version = submission_save_draft(access_code_id=code.pk, payload=intake_payload(world)).version

    def client(given_name: str):
        return lambda: submission_submit(access_code_id=code.pk, version=version,
                                         payload=intake_payload(world, given_name=given_name))

    oks, errors = _outcomes(race(client("Chipo"), client("Tariro")))
    assert len(oks) == 1 and len(errors) == 1, errors
    error = errors[0]
    assert isinstance(error, Conflict) and error.code in {"not_editable", "stale_version"}
    assert error.status_code == 409
    submission = Submission.objects.get(access_code=code)
    assert submission.status == S.SUBMITTED and submission.pk == oks[0].pk
    assert submission.payload["given_name"] == oks[0].payload["given_name"]
    assert SubmissionStatusChange.objects.filter(submission=submission, to_status=S.SUBMITTED).count() == 1
    assert SubmissionStatusChange.objects.filter(submission=submission, to_status=S.DRAFT).count() == 1
    assert AccessCode.objects.get(pk=code.pk).status == "submitted"


@pytest.mark.django_db(transaction=True)
def test_two_autosaves_of_the_same_version_keep_one_and_refuse_the_other(world, session):
    """Both tabs saw version 1: the second to get the code's lock read the submission as it was before the
    first saved (a joined row is not re-read after the wait) and is refused by the compare-and-set."""
    code = new_codes(session, world.district_admin)[0]
    version = submission_save_draft(access_code_id=code.pk, payload=intake_payload(world)).version

    def tab(given_name: str):
        return lambda: submission_save_draft(access_code_id=code.pk, version=version,
                                             payload=intake_payload(world, given_name=given_name))

    oks, errors = _outcomes(race(tab("Chipo"), tab("Tariro")))
    assert len(oks) == 1 and len(errors) == 1, errors
    assert isinstance(errors[0], Conflict) and errors[0].code == "stale_version"
    assert errors[0].extra["currentVersion"] == version + 1
    submission = Submission.objects.get(access_code=code)
    assert submission.version == version + 1 and submission.payload["given_name"] == oks[0].payload["given_name"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("with_version", [True, False], ids=["expected-version", "no-version"])
def test_two_reviewers_approving_at_once_import_once(world, session, with_version):
    submission = submit(new_codes(session, world.district_admin)[0], intake_payload(world))
    version = submission.version if with_version else None
    people = Person.objects.count()

    def reviewer(user):
        return lambda: submission_approve(submission=submission, actor=user, expected_version=version)

    oks, errors = _outcomes(race(reviewer(world.registrar), reviewer(world.district_admin)))
    assert len(oks) == 1 and len(errors) == 1, errors
    error = errors[0]
    assert isinstance(error, Conflict) and error.status_code == 409
    assert error.code == ("stale_version" if with_version else "invalid_transition")
    submission.refresh_from_db()
    assert submission.status == S.IMPORTED and submission.reviewed_by == oks[0].reviewed_by
    history = list(SubmissionStatusChange.objects.filter(submission=submission).values_list("to_status", flat=True))
    assert history.count(S.APPROVED) == 1 and history.count(S.IMPORTED) == 1
    assert Person.objects.count() == people + 1
    assert Enrollment.objects.filter(person=submission.imported_person).count() == 1


@pytest.mark.django_db(transaction=True)
def test_reviewer_and_participant_at_once_do_not_deadlock(world, session):
    """The participant re-submits from a stale tab while a reviewer approves: one wins, nothing breaks."""
    submission = submit(new_codes(session, world.district_admin)[0], intake_payload(world))
    oks, errors = _outcomes(race(
        lambda: submission_approve(submission=submission, actor=world.registrar),
        lambda: submission_submit(access_code_id=submission.access_code_id, version=submission.version,
                                  payload=intake_payload(world, given_name="Changed")),
    ))
    assert len(oks) == 1 and len(errors) == 1
    assert isinstance(errors[0], Conflict) and errors[0].code == "not_editable"
    submission.refresh_from_db()
    assert submission.status == S.IMPORTED and submission.payload["given_name"] == "Chipo"


@pytest.mark.django_db(transaction=True)
def test_generating_codes_while_a_participant_validates_one(world, session):
    code = new_codes(session, world.district_admin)[0]

    def generate():
        return access_codes_generate(session=session, actor=world.registrar, count=500)

    def participant():
        validation = access_code_validate(code=code.display_code, school_code="AVP", ip="203.0.113.20")
        return submission_save_draft(access_code_id=validation.access_code.pk, payload=intake_payload(world))

    (gen_kind, generated), (part_kind, draft) = race(generate, participant)
    assert gen_kind == "ok", generated
    assert part_kind == "ok", draft
    assert len(generated.codes) == 500
    assert AccessCode.objects.filter(session=session).count() == 501
    assert draft.access_code_id == code.pk and draft.status == S.DRAFT
    assert AccessCode.objects.get(pk=code.pk).status == "started"
