"""``rostering.common.prepared.PreparedGet``: a query compiled once answers as ``QuerySet.get`` does."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from registrations.choices import SubmissionStatus
from registrations.models import AccessCode, Submission
from rostering.common.prepared import PreparedGet
from rostering.models import ClassDivision
from tests.registrations.factories import AccessCodeFactory, SubmissionFactory
from tests.rostering import factories as f


def _fields(obj) -> dict:
    deferred = obj.get_deferred_fields()
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if f.attname not in deferred}


def _class_query():
    return ClassDivision.objects.select_related("school", "grade_level", "academic_session").defer("capacity")


CLASS = PreparedGet(_class_query)


def test_it_builds_what_the_orm_builds_related_rows_and_deferred_fields_included(world):
    division = f.ClassDivisionFactory(school=world.school_a, grade_level=world.grade6, name="6A", capacity=30)
    expected = _class_query().get(pk=division.pk)
    with CaptureQueriesContext(connection) as captured:
        got = CLASS.get(division.pk)
        related = (got.school, got.grade_level, got.academic_session)  # loaded with it: no query
    assert len(captured) == 1
    assert _fields(got) == _fields(expected)
    assert got.get_deferred_fields() == expected.get_deferred_fields() == {"capacity"}
    assert related == (expected.school, expected.grade_level, None)
    assert _fields(got.school) == _fields(expected.school)
    assert not got._state.adding and got._state.db == "default"
    assert got.capacity == 30  # a deferred field still loads on access, as the ORM's would


def test_each_value_gets_its_own_row_and_a_string_id_is_accepted(world):
    a = f.ClassDivisionFactory(school=world.school_a, grade_level=world.grade6, name="6A")
    b = f.ClassDivisionFactory(school=world.school_a, grade_level=world.grade6, name="6B")
    assert CLASS.get(a.pk).name == "6A"
    assert CLASS.get(str(b.pk)).name == "6B"
    assert CLASS.get(a.pk.hex).name == "6A"


def test_no_row_and_a_value_the_field_refuses_answer_as_get_does(world):
    with pytest.raises(ClassDivision.DoesNotExist):
        CLASS.get(uuid.uuid4())
    with pytest.raises(ValidationError):
        CLASS.get("not-a-uuid")


def test_a_lookup_that_matches_several_rows_is_refused(world):
    by_name = PreparedGet(lambda: ClassDivision.objects.all(), field="name")
    f.ClassDivisionFactory(school=world.school_a, grade_level=world.grade6, name="Hollow 7")
    assert by_name.get("Hollow 7").school == world.school_a
    f.ClassDivisionFactory(school=world.school_b, grade_level=world.grade6, name="Hollow 7")
    with pytest.raises(ClassDivision.MultipleObjectsReturned):
        by_name.get("Hollow 7")


def test_a_reverse_one_to_one_with_no_row_reads_as_missing_and_json_is_decoded(world):
    code = AccessCodeFactory(roster_snapshot={"given_name": "Rudo"})
    locking = PreparedGet(lambda: AccessCode.objects.select_for_update(of=("self",))
                          .select_related("session", "submission"))
    with transaction.atomic():
        got = locking.get(code.pk)
        with pytest.raises(Submission.DoesNotExist):
            got.submission  # noqa: B018 - the access is the assertion
    assert got.roster_snapshot == {"given_name": "Rudo"}
    submission = SubmissionFactory(access_code=code, payload={"given_name": "Rudo", "n": [1, 2]})
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        got = locking.get(code.pk)
        assert got.submission == submission and got.submission.payload == {"given_name": "Rudo", "n": [1, 2]}
        assert got.submission.status == SubmissionStatus.DRAFT and got.session == code.session
    [statement] = [q["sql"] for q in captured if "registrations_accesscode" in q["sql"]]
    if connection.vendor == "postgresql":
        assert statement.endswith('FOR UPDATE OF "registrations_accesscode"')


@pytest.mark.django_db(transaction=True)
def test_every_thread_runs_it_on_its_own_connection(world):
    division = f.ClassDivisionFactory(school=world.school_a, grade_level=world.grade6, name="6A")
    CLASS.get(division.pk)
    seen = []

    def other_thread():
        try:
            seen.append((CLASS.get(division.pk).name, CLASS._plans.plan.compiler.connection is connections["default"]))
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert seen == [("6A", True)]
    assert CLASS._plans.plan.compiler.connection is connections["default"]
