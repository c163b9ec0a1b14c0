"""rostering.services: every roster write, checked without HTTP (permissions, validation, atomicity, tokens)."""

import datetime
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from rostering.common.errors import Conflict
from rostering.models import (
    AcademicSession,
    ApiToken,
    ClassDivision,
    GradeLevel,
    Person,
    School,
    Subject,
    hash_token,
)
from rostering.services import (
    academic_session_create_with_terms,
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
    roster_object_create,
    roster_object_delete,
    roster_object_update,
    tenant_school_id,
)
from tests.rostering import factories as f

pytestmark = pytest.mark.django_db


# --- roster_object_create ------------------------------------------------------------------------------


def test_district_admin_creates_a_school(world):
    school = roster_object_create(actor=world.district_admin, model=School, district=world.district,
                                  data={"name": "Chisipite Junior", "code": "cjs"})
    assert School.objects.get(pk=school.pk).code == "CJS"


@pytest.mark.parametrize("persona", ["registrar", "class_teacher", "viewer", "other_registrar"])
def test_only_a_district_wide_role_creates_schools(world, persona):
    with pytest.raises(PermissionDenied):
        roster_object_create(actor=world.personas[persona], model=School, district=world.district,
                             data={"name": "Chisipite Junior", "code": "CJS"})
    assert School.objects.count() == 3


def test_registrar_creates_in_their_school_only(world):
    person = roster_object_create(actor=world.registrar, model=Person, district=world.district,
                                  data={"school": world.school_a, "given_name": "Rudo", "family_name": "Moyo"})
    assert person.school == world.school_a
    with pytest.raises(PermissionDenied):
        roster_object_create(actor=world.registrar, model=Person, district=world.district,
                             data={"school": world.school_b, "given_name": "Tapiwa", "family_name": "Moyo"})
    with pytest.raises(PermissionDenied):  # district-level
        roster_object_create(actor=world.registrar, model=Subject, district=world.district,
                             data={"code": "SCI", "name": "Science"})
    assert not Person.objects.filter(given_name="Tapiwa").exists()
    assert not Subject.objects.exists()


def test_create_validates_before_saving(world):
    with pytest.raises(ValidationError) as info:
        roster_object_create(actor=world.district_admin, model=AcademicSession, district=world.district,
                             data={"name": "Backwards", "start_date": datetime.date(2027, 6, 1),
                                   "end_date": datetime.date(2027, 1, 1)})
    assert "end_date" in info.value.message_dict
    with pytest.raises(ValidationError) as info:
        roster_object_create(actor=world.district_admin, model=School, district=world.district,
                             data={"name": "Copy", "code": "avp"})
    assert "already exists" in str(info.value)
    assert AcademicSession.objects.count() == 1 and School.objects.count() == 3


def test_create_refuses_related_objects_of_another_district(world):
    with pytest.raises(ValidationError) as info:
        roster_object_create(actor=world.superuser, model=ClassDivision, district=world.district,
                             data={"school": world.other_school, "grade_level": world.grade6, "name": "X"})
    assert "school" in info.value.message_dict
    assert not ClassDivision.objects.filter(name="X").exists()


# --- roster_object_update ------------------------------------------------------------------------------


def test_update_changes_only_what_differs(world):
    before = world.class_6a.updated_date
    same = roster_object_update(actor=world.registrar, obj=world.class_6a, data={"name": "6A"})
    assert same.updated_date == before
    changed = roster_object_update(actor=world.registrar, obj=world.class_6a, data={"name": "6 Alpha", "capacity": 40})
    assert (changed.name, changed.capacity) == ("6 Alpha", 40)
    assert changed.updated_date > before
    world.class_6a.refresh_from_db()
    assert world.class_6a.name == "6 Alpha"


def test_update_ignores_identity_and_district_fields(world):
    original = world.class_6a.pk
    klass = roster_object_update(actor=world.superuser, obj=world.class_6a,
                                 data={"district": world.other_district, "id": "x", "name": "6AA"})
    assert klass.pk == original and klass.district == world.district and klass.name == "6AA"


def test_update_checks_the_role_where_the_object_is_and_where_it_goes(world):
    with pytest.raises(PermissionDenied):
        roster_object_update(actor=world.registrar, obj=world.class_7a, data={"name": "7Z"})
    with pytest.raises(PermissionDenied):
        roster_object_update(actor=world.registrar, obj=world.class_6a, data={"school": world.school_b})
    with pytest.raises(PermissionDenied):
        roster_object_update(actor=world.viewer, obj=world.class_6a, data={"name": "6Z"})
    with pytest.raises(PermissionDenied):
        roster_object_update(actor=world.registrar, obj=world.grade6, data={"name": "Form 0"})
    world.class_6a.refresh_from_db()
    world.class_7a.refresh_from_db()
    assert (world.class_6a.school, world.class_6a.name, world.class_7a.name) == (world.school_a, "6A", "7A")


def test_update_validates(world):
    with pytest.raises(ValidationError):
        roster_object_update(actor=world.district_admin, obj=world.year, data={"end_date": datetime.date(2025, 1, 1)})
    f.ClassDivisionFactory(school=world.school_a, grade_level=world.grade6, name="6C", academic_session=world.year)
    with pytest.raises(ValidationError):
        roster_object_update(actor=world.district_admin, obj=world.class_6b, data={"name": "6C"})
    world.year.refresh_from_db()
    assert world.year.end_date == datetime.date(2026, 12, 4)


# --- roster_object_delete ------------------------------------------------------------------------------


def test_delete_refuses_objects_still_in_use(world):
    with pytest.raises(Conflict) as info:
        roster_object_delete(actor=world.district_admin, obj=world.grade6)
    assert info.value.code == "in_use"
    assert "class divisions" in info.value.message
    assert GradeLevel.objects.filter(pk=world.grade6.pk).exists()


def test_removing_a_school_is_district_level(world):
    with pytest.raises(PermissionDenied):
        roster_object_delete(actor=world.registrar, obj=world.school_a)
    assert School.objects.filter(pk=world.school_a.pk).exists()
    roster_object_delete(actor=world.district_admin, obj=world.school_b)
    assert not School.objects.filter(pk=world.school_b.pk).exists()
    assert not ClassDivision.objects.filter(pk=world.class_7a.pk).exists()


def test_registrar_deletes_in_their_school(world):
    roster_object_delete(actor=world.registrar, obj=world.class_6b)
    assert not ClassDivision.objects.filter(pk=world.class_6b.pk).exists()
    with pytest.raises(PermissionDenied):
        roster_object_delete(actor=world.class_teacher, obj=world.class_6a)


def test_tenant_school_id_follows_each_model(world):
    enrollment = world.class_6a.enrollments.first()
    assert tenant_school_id(world.school_a) == world.school_a.pk
    assert tenant_school_id(world.class_7a) == world.school_b.pk
    assert tenant_school_id(enrollment) == world.school_a.pk
    assert tenant_school_id(world.grade6) is None
    assert tenant_school_id(f.SubjectFactory(district=world.district)) is None


# --- academic_session_create_with_terms ----------------------------------------------------------------


def year_data(**extra):
    return {"name": "2027", "start_date": datetime.date(2027, 1, 11), "end_date": datetime.date(2027, 12, 3), **extra}


def test_year_and_terms_are_created_together(world):
    year = academic_session_create_with_terms(
        actor=world.registrar, district=world.district, data=year_data(school=world.school_a),
        terms=[
            {"name": "Term 1", "start_date": datetime.date(2027, 1, 11), "end_date": datetime.date(2027, 4, 9)},
            {"name": "Term 2", "start_date": datetime.date(2027, 5, 10), "end_date": datetime.date(2027, 8, 6)},
        ],
    )
    terms = list(year.children.order_by("start_date"))
    assert [t.name for t in terms] == ["Term 1", "Term 2"]
    assert all(t.type == "term" and t.school == world.school_a and t.district == world.district for t in terms)


def test_a_bad_term_rolls_the_year_back(world):
    with pytest.raises(ValidationError):
        academic_session_create_with_terms(
            actor=world.district_admin, district=world.district, data=year_data(),
            terms=[
                {"name": "Term 1", "start_date": datetime.date(2027, 1, 11), "end_date": datetime.date(2027, 4, 9)},
                {"name": "Term 2", "start_date": datetime.date(2027, 11, 1), "end_date": datetime.date(2028, 2, 1)},
            ],
        )
    assert list(AcademicSession.objects.all()) == [world.year]


def test_terms_need_the_same_permission_as_their_year(world):
    with pytest.raises(PermissionDenied):
        academic_session_create_with_terms(actor=world.registrar, district=world.district, data=year_data(),
                                           terms=[])
    assert AcademicSession.objects.count() == 1


# --- API tokens -----------------------------------------------------------------------------------------


def test_token_create_and_authenticate(world):
    token, raw = api_token_create(user=world.registrar, name="  Sync job  ")
    assert token.name == "Sync job"
    found = api_token_authenticate(raw=raw)
    assert found == token and found.user == world.registrar
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


def test_token_create_needs_a_name_and_a_user(world):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(ValidationError):
        api_token_create(user=world.registrar, name="   ")
    with pytest.raises(PermissionDenied):
        api_token_create(user=AnonymousUser(), name="x")
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("raw", ["", "sst_unknown", "not-prefixed", "sst_" + "x" * 300])
def test_unknown_tokens_do_not_authenticate(world, raw):
    api_token_create(user=world.registrar, name="Sync")
    assert api_token_authenticate(raw=raw) is None


def test_revoked_expired_and_inactive_tokens_do_not_authenticate(world):
    revoked, raw_revoked = api_token_create(user=world.registrar, name="Old")
    api_token_revoke(token=revoked, actor=world.registrar)
    assert revoked.revoked_at is not None
    assert api_token_authenticate(raw=raw_revoked) is None

    _expired, raw_expired = api_token_create(user=world.registrar, name="Expired",
                                             expires_at=timezone.now() - datetime.timedelta(minutes=1))
    assert api_token_authenticate(raw=raw_expired) is None

    _inactive, raw_inactive = api_token_create(user=world.viewer, name="Viewer")
    world.viewer.is_active = False
    world.viewer.save()
    assert api_token_authenticate(raw=raw_inactive) is None


def test_only_the_owner_or_a_superuser_revokes_a_token(world):
    token, _raw = api_token_create(user=world.registrar, name="Sync")
    with pytest.raises(PermissionDenied):
        api_token_revoke(token=token, actor=world.viewer)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    api_token_revoke(token=token, actor=world.superuser)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_last_used_is_written_at_most_once_a_minute(world, django_assert_num_queries):
    _token, raw = api_token_create(user=world.registrar, name="Sync")
    api_token_authenticate(raw=raw)
    with django_assert_num_queries(1):  # the lookup only, no update
        api_token_authenticate(raw=raw)


# --- manage.py create_api_token ---------------------------------------------------------------------------


def test_create_api_token_command_prints_the_token_once(world):
    out, err = StringIO(), StringIO()
    call_command("create_api_token", "registrar_a", "--name", "Nightly export", "--expires-in-days", "30",
                 stdout=out, stderr=err)
    raw = out.getvalue().strip()
    token = ApiToken.objects.get(user=world.registrar)
    assert token.key_hash == hash_token(raw) and token.name == "Nightly export"
    assert token.expires_at > timezone.now() + datetime.timedelta(days=29)
    assert "will not be shown again" in err.getvalue()
    assert api_token_authenticate(raw=raw) == token


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody"], "No user named 'nobody'"),
        (["registrar_a", "--name", " "], "This field cannot be blank"),
        (["registrar_a", "--expires-in-days", "0"], "at least 1"),
    ],
)
def test_create_api_token_command_errors(world, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_api_token", *args, stdout=StringIO(), stderr=StringIO())
    assert not ApiToken.objects.exists()
