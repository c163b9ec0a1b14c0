"""Races on the staff side, on PostgreSQL: the session row lock must serialise concurrent writers.

Each test slows the critical section down (a short sleep while the lock is held) so that the second
caller really arrives while the first one is inside it; without ``select_for_update`` both would pass.
"""

from __future__ import annotations

import itertools
import threading
import time

import pytest
from django.db import connection, connections

from registrations.choices import RegistrationMode, RosterPolicy, SessionStatus
from registrations.models import AccessCode, SessionStatusChange
from registrations.services import codes as code_services
from registrations.services import sessions as session_services
from rostering.common.errors import InvalidTransition
from tests.registrations.factories import RegistrationSessionFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are tested on PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def run_together(*calls):
    """Start every call at the same moment in its own thread (own connection); return results/exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as exc:  # the test inspects what each caller got
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def slow_history(monkeypatch):
    original = SessionStatusChange.objects.create

    def create(**kwargs):
        time.sleep(0.3)  # still inside the transaction, holding the session's row lock
        return original(**kwargs)

    monkeypatch.setattr(SessionStatusChange.objects, "create", create)


def test_two_simultaneous_opens_one_wins_one_409(world, api_client_for, monkeypatch):
    session = RegistrationSessionFactory(school=world.school_a, status=SessionStatus.DRAFT)
    clients = [api_client_for(world.registrar), api_client_for(world.district_admin)]
    slow_history(monkeypatch)
    path = f"/api/v1/registrations/sessions/{session.pk}/open"
    responses = run_together(*(lambda c=c: c.post(path) for c in clients))
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 409], [getattr(r, "content", r) for r in responses]
    loser = next(r for r in responses if r.status_code == 409).json()
    assert loser["currentStatus"] == "open" and loser["code"] == "invalid_transition"
    session.refresh_from_db()
    assert session.status == SessionStatus.OPEN
    assert SessionStatusChange.objects.filter(session=session).count() == 1


def test_two_simultaneous_service_transitions_one_invalid_transition(world, monkeypatch):
    session = RegistrationSessionFactory(school=world.school_a, status=SessionStatus.OPEN)
    slow_history(monkeypatch)
    results = run_together(*(
        lambda: session_services.registration_session_transition(session=session, to=SessionStatus.CLOSED,
                                                         actor=world.registrar)
        for _ in range(2)
    ))
    failures = [r for r in results if isinstance(r, Exception)]
    assert len(failures) == 1 and isinstance(failures[0], InvalidTransition)
    assert failures[0].extra["currentStatus"] == SessionStatus.CLOSED
    assert SessionStatusChange.objects.filter(session=session).count() == 1


def test_simultaneous_close_and_pause_leave_a_consistent_history(world, monkeypatch):
    session = RegistrationSessionFactory(school=world.school_a, status=SessionStatus.OPEN)
    slow_history(monkeypatch)
    results = run_together(
        lambda: session_services.registration_session_transition(session=session, to=SessionStatus.CLOSED, actor=world.registrar),
        lambda: session_services.registration_session_transition(session=session, to=SessionStatus.PAUSED, actor=world.registrar),
    )
    session.refresh_from_db()
    history = list(SessionStatusChange.objects.filter(session=session).order_by("created_at", "id"))
    # whatever the order, every history row starts where the previous one ended
    assert history[0].from_status == SessionStatus.OPEN
    for before, after in itertools.pairwise(history):
        assert before.to_status == after.from_status
    assert history[-1].to_status == session.status
    failures = [r for r in results if isinstance(r, Exception)]
    assert len(history) + len(failures) == 2
    assert all(isinstance(f, InvalidTransition) for f in failures)


def test_two_simultaneous_roster_generations_never_give_one_person_two_codes(world, roster):
    session = RegistrationSessionFactory(
        school=world.school_a, mode=RegistrationMode.STUDENT_VERIFICATION, roster_policy=RosterPolicy.PRELOADED_ONLY,
        class_division=world.class_6a,
    )
    results = run_together(*(
        lambda: code_services.access_codes_generate(session=session, actor=world.registrar, assign_from_class_roster=True)
        for _ in range(2)
    ))
    live = AccessCode.objects.filter(session=session, revoked_at__isnull=True)
    assert live.count() == len(roster.students_6a)
    assert live.values("assigned_person").distinct().count() == len(roster.students_6a)
    winners = [r for r in results if isinstance(r, code_services.GeneratedCodes)]
    assert len(winners) == 1  # the second found everyone covered (a 400), never an integrity error
    loser = next(r for r in results if not isinstance(r, code_services.GeneratedCodes))
    assert "already has a live code" in str(loser)
