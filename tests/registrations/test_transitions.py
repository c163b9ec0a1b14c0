"""The generic status transition (``rostering.common.transitions``) and the access code's own lifecycle."""

from __future__ import annotations

import itertools

import pytest

from registrations.choices import CODE_TRANSITIONS, SESSION_TRANSITIONS, CodeStatus, SessionStatus
from registrations.models import AccessCode, AccessCodeStatusChange, RegistrationSession, SessionStatusChange
from registrations.services.codes import access_code_transition
from rostering.common.errors import ChangedMeanwhile, InvalidTransition
from rostering.common.transitions import transition
from tests.registrations.factories import AccessCodeFactory, RegistrationSessionFactory


def test_a_legal_move_saves_only_what_it_changes_and_writes_one_history_row(world):
    session = RegistrationSessionFactory(school=world.school_a, status=SessionStatus.DRAFT, title="Before")
    stale = RegistrationSession.objects.get(pk=session.pk)
    RegistrationSession.objects.filter(pk=session.pk).update(title="Changed meanwhile")
    stale.title = "Not to be written"  # a field the transition does not own
    moved = transition(obj=stale, to=SessionStatus.OPEN, actor=world.registrar, allowed=SESSION_TRANSITIONS,
                       history=SessionStatusChange, reason="ready")
    session.refresh_from_db()
    assert moved.status == session.status == SessionStatus.OPEN
    assert session.title == "Changed meanwhile"  # the row was locked and re-read, saved with update_fields
    change = SessionStatusChange.objects.get(session=session)
    assert (change.from_status, change.to_status, change.actor, change.reason) == (
        SessionStatus.DRAFT, SessionStatus.OPEN, world.registrar, "ready")


def test_an_illegal_move_is_a_409_naming_the_status_and_targets_and_changes_nothing(world):
    session = RegistrationSessionFactory(school=world.school_a, status=SessionStatus.CLOSED)
    with pytest.raises(InvalidTransition) as refused:
        transition(obj=session, to=SessionStatus.OPEN, actor=None, allowed=SESSION_TRANSITIONS,
                   history=SessionStatusChange, noun="session")
    assert refused.value.status_code == 409
    assert refused.value.extra == {"currentStatus": "closed", "allowedTargets": ["archived"]}
    assert "from 'closed' to 'open'" in refused.value.message
    session.refresh_from_db()
    assert session.status == SessionStatus.CLOSED and not SessionStatusChange.objects.exists()


def test_a_holder_of_another_lock_with_a_stale_copy_is_refused_and_nothing_is_written(world):
    """``locked=True`` callers may have read the row in the statement that locked another one (PostgreSQL
    re-reads only the locked row after a wait): the write is a compare-and-set on the status read."""
    code = AccessCodeFactory(status=CodeStatus.STARTED)
    stale = AccessCode.objects.get(pk=code.pk)
    AccessCode.objects.filter(pk=code.pk).update(status=CodeStatus.SUBMITTED)  # another request, meanwhile
    with pytest.raises(ChangedMeanwhile) as refused:
        access_code_transition(code=stale, to=CodeStatus.UNUSED, locked=True, updates={"number_hint": "S-9"})
    assert refused.value.status_code == 409 and refused.value.code == "changed_meanwhile"
    code.refresh_from_db()
    assert (code.status, code.number_hint) == (CodeStatus.SUBMITTED, "")
    assert not AccessCodeStatusChange.objects.filter(access_code=code).exists()


def test_updates_and_the_version_field_go_in_the_same_save(world):
    code = AccessCodeFactory(status=CodeStatus.UNUSED)
    moved = transition(obj=code, to=CodeStatus.STARTED, actor=None, allowed=CODE_TRANSITIONS,
                       history=AccessCodeStatusChange, updates={"number_hint": "S-1"})
    code.refresh_from_db()
    assert moved.number_hint == code.number_hint == "S-1" and code.status == CodeStatus.STARTED


@pytest.mark.parametrize(("source", "target"), list(itertools.product(CodeStatus.values, CodeStatus.values)))
def test_every_access_code_move(world, source, target):
    code = AccessCodeFactory(status=source)
    if target in CODE_TRANSITIONS[source]:
        moved = access_code_transition(code=code, to=target, actor=world.registrar, reason="why")
        assert AccessCode.objects.get(pk=code.pk).status == moved.status == target
        change = AccessCodeStatusChange.objects.get(access_code=code)
        assert (change.from_status, change.to_status, change.reason) == (source, target, "why")
    else:
        with pytest.raises(InvalidTransition):
            access_code_transition(code=code, to=target, actor=world.registrar)
        assert AccessCode.objects.get(pk=code.pk).status == source
        assert not AccessCodeStatusChange.objects.filter(access_code=code).exists()
