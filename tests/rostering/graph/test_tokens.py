"""Integration tokens: services, the command, the usage counters and the Integrations page."""

import datetime
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from rostering.models import IntegrationToken, IntegrationTokenUsage, hash_token
from rostering.services import (
    integration_token_authenticate,
    integration_token_create,
    integration_token_record_request,
    integration_token_revoke,
)
from tests.rostering import factories as f

pytestmark = pytest.mark.django_db
PAGE = "/integrations/"


def test_a_token_is_stored_hashed_and_shown_once(world):
    token, raw = integration_token_create(district=world.district, name=" Reading app ", actor=world.district_admin)
    assert raw.startswith("sit_") and len(raw) > 40
    token.refresh_from_db()
    assert token.key_hash == hash_token(raw) and raw not in str(token.__dict__)
    assert token.name == "Reading app" and token.hint == raw[:10] and token.created_by == world.district_admin
    assert integration_token_authenticate(raw=raw) == token
    assert integration_token_authenticate(raw=raw[:-1] + ("x" if raw[-1] != "x" else "y")) is None


def test_only_district_wide_district_admins_issue_and_revoke(world):
    for user in (world.registrar, world.viewer, world.class_teacher, world.other_registrar):
        with pytest.raises(PermissionDenied):
            integration_token_create(district=world.district, name="x", actor=user)
    token, _raw = integration_token_create(district=world.district, name="x", actor=world.superuser)
    with pytest.raises(PermissionDenied):
        integration_token_revoke(token=token, actor=world.viewer)
    other_admin = f.UserFactory(username="other_admin")
    f.MembershipFactory(user=other_admin, district=world.other_district, role="district_admin")
    with pytest.raises(PermissionDenied):
        integration_token_revoke(token=token, actor=other_admin)
    assert IntegrationToken.objects.get(pk=token.pk).revoked_at is None


def test_revoke_is_at_once_and_idempotent(world):
    token, raw = integration_token_create(district=world.district, name="x")
    revoked = integration_token_revoke(token=token, actor=world.district_admin)
    first = revoked.revoked_at
    assert first and revoked.revoked_by == world.district_admin
    assert integration_token_authenticate(raw=raw) is None
    assert integration_token_revoke(token=token, actor=world.district_admin).revoked_at == first


def test_last_used_is_written_at_most_once_a_minute(world, django_assert_num_queries):
    token, raw = integration_token_create(district=world.district, name="x")
    with django_assert_num_queries(2):
        integration_token_authenticate(raw=raw)
    with django_assert_num_queries(1):
        integration_token_authenticate(raw=raw)
    IntegrationToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - datetime.timedelta(minutes=5))
    with django_assert_num_queries(2):
        integration_token_authenticate(raw=raw)


def test_requests_are_counted_per_hour_and_resource(world, django_assert_num_queries):
    token, _raw = integration_token_create(district=world.district, name="x")
    with django_assert_num_queries(4 if connection.vendor == "postgresql" else 1):  # PostgreSQL: BEGIN, SET LOCAL, …, COMMIT
        integration_token_record_request(token=token, resource="people")
    integration_token_record_request(token=token, resource="people")
    integration_token_record_request(token=token, resource="sessions")
    counts = dict(IntegrationTokenUsage.objects.filter(token=token).values_list("resource", "requests"))
    assert counts == {"people": 2, "sessions": 1}


def test_graph_requests_count_into_the_page(graph, client_for):
    client = graph.client()
    for _ in range(3):
        client.get("/api/v2/graph/people")
    client.get(f"/api/v2/graph/schools/{graph.world.school_a.pk}/sessions")
    old = IntegrationToken.objects.get(name="Reading app")
    IntegrationTokenUsage.objects.create(token=old, hour=timezone.now() - datetime.timedelta(days=2),
                                         resource="classes", requests=50)
    page = client_for(graph.world.district_admin).get(PAGE)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Reading app" in text and "people 3" in text and "sessions 1" in text and "classes 50" not in text
    assert "Other district&#x27;s app" not in text and "Other district's app" not in text
    assert page.context["tokens"][0].requests_last_day == 4


def test_the_page_issues_a_token_shown_once_and_revokes(world, client_for):
    admin = client_for(world.district_admin)
    response = admin.post(PAGE, {"name": "Maths games", "district": world.district.pk})
    assert response.status_code == 200
    raw = response.context["issued"]["raw"]
    assert raw in response.content.decode()
    token = IntegrationToken.objects.get(name="Maths games")
    assert token.district == world.district and token.key_hash == hash_token(raw)
    assert raw not in admin.get(PAGE).content.decode()
    response = admin.post(f"{PAGE}{token.pk}/revoke/", follow=True)
    assert response.status_code == 200 and "revoked" in response.content.decode()
    assert IntegrationToken.objects.get(pk=token.pk).revoked_at is not None


def test_the_page_refuses_other_roles_and_other_districts(world, client_for):
    token, _raw = integration_token_create(district=world.other_district, name="Theirs")
    for user in (world.registrar, world.viewer, world.class_teacher, world.other_registrar):
        assert client_for(user).get(PAGE).status_code == 403
        assert client_for(user).post(f"{PAGE}{token.pk}/revoke/").status_code == 403
    admin = client_for(world.district_admin)
    assert admin.post(f"{PAGE}{token.pk}/revoke/").status_code == 404
    assert admin.post(PAGE, {"name": "x", "district": world.other_district.pk}).status_code == 400
    assert admin.post(PAGE, {"name": "  ", "district": world.district.pk}).status_code == 400
    assert not IntegrationToken.objects.filter(district=world.other_district, name="x").exists()
    assert IntegrationToken.objects.get(pk=token.pk).revoked_at is None
    assert client_for(world.superuser).get(PAGE).status_code == 200


def test_the_nav_links_the_page_for_district_admins_only(world, client_for):
    assert 'href="/integrations/"' in client_for(world.district_admin).get("/").content.decode()
    assert 'href="/integrations/"' not in client_for(world.registrar).get("/").content.decode()


def test_the_command_prints_the_token_alone_on_its_last_line(world):
    out = StringIO()
    call_command("create_integration_token", "harare metropolitan schools", "--name", "CLI", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    assert raw.startswith("sit_") and " " not in raw
    assert integration_token_authenticate(raw=raw).district == world.district
    out = StringIO()
    call_command("create_integration_token", str(world.other_district.pk), stdout=out)
    assert integration_token_authenticate(raw=out.getvalue().strip().splitlines()[-1]).district == world.other_district


def test_the_command_refuses_unknown_and_ambiguous_districts(world):
    with pytest.raises(CommandError, match="No district"):
        call_command("create_integration_token", "Atlantis", stdout=StringIO())
    f.DistrictFactory(name="Twin")
    f.DistrictFactory(name="twin")
    with pytest.raises(CommandError, match="Several"):
        call_command("create_integration_token", "Twin", stdout=StringIO())
    assert not IntegrationToken.objects.exists()


def test_the_page_and_the_oneroster_clients_page_link_each_other(world, client_for):
    admin = client_for(world.district_admin)
    assert 'href="/rostering/oneroster/clients/"' in admin.get(PAGE).content.decode()
    assert f'href="{PAGE}"' in admin.get("/rostering/oneroster/clients/").content.decode()
