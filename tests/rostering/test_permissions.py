import pytest

from rostering.models import ClassDivision, School
from rostering.permissions import Perm, has_perm

pytestmark = pytest.mark.django_db


def test_for_user_scopes_schools_to_memberships(world):
    assert set(School.objects.for_user(world.district_admin)) == {world.school_a, world.school_b}
    assert set(School.objects.for_user(world.registrar)) == {world.school_a}
    assert set(School.objects.for_user(world.other_registrar)) == {world.other_school}
    assert School.objects.for_user(world.superuser).count() == 3


def test_for_user_scopes_class_divisions_by_school(world):
    assert set(ClassDivision.objects.for_user(world.registrar)) == {world.class_6a, world.class_6b}
    assert set(ClassDivision.objects.for_user(world.viewer)) == {world.class_6a, world.class_6b, world.class_7a}


def test_roles_decide_what_may_change(world):
    d, a, b = world.district.pk, world.school_a.pk, world.school_b.pk
    assert has_perm(world.registrar, Perm.ROSTER_CHANGE, district_id=d, school_id=a)
    assert not has_perm(world.registrar, Perm.ROSTER_CHANGE, district_id=d, school_id=b)
    assert not has_perm(world.registrar, Perm.ROSTER_CHANGE, district_id=d, school_id=None)
    assert has_perm(world.district_admin, Perm.ROSTER_CHANGE, district_id=d, school_id=None)
    assert not has_perm(world.viewer, Perm.ROSTER_CHANGE, district_id=d, school_id=a)
    assert has_perm(world.viewer, Perm.ROSTER_VIEW, district_id=d, school_id=a)
    assert not has_perm(world.other_registrar, Perm.ROSTER_VIEW, district_id=d, school_id=a)
