"""Admin: consumers are created and rotated through the services; the secret appears once, in a message."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from assessments.models import Consumer
from tests.assessments import factories as af


@pytest.mark.django_db
def test_admin_creates_and_rotates_a_consumer(client, world):
    client.force_login(world.superuser)
    res = client.post(reverse("admin:assessments_consumer_add"),
                      {"district": world.district.pk, "name": "BI tool", "allowed_domains": '["localhost"]', "is_active": "on"})
    assert res.status_code == 302, res.content[:2000]
    consumer = Consumer.objects.get(name="BI tool")
    assert len(consumer.consumer_key) == 16 and consumer.allowed_domains == ["localhost"]
    shown = [str(m) for m in get_messages(res.wsgi_request)]
    secret = shown[0].rsplit(": ", 1)[1]
    assert len(secret) == 40 and secret not in consumer.secret_encrypted
    res = client.post(reverse("admin:assessments_consumer_changelist"),
                      {"action": "rotate_secret", "_selected_action": [consumer.pk]})
    assert res.status_code == 302
    consumer.refresh_from_db()
    assert consumer.rotated_at is not None and consumer.previous_secret_encrypted
    for name in ("assessmentsession", "activity", "item", "examsession", "job", "consumer"):
        assert client.get(reverse(f"admin:assessments_{name}_changelist")).status_code == 200, name


@pytest.mark.django_db
def test_admin_changelists_with_data(client, world, activity_a):
    s = af.session(world.district, activity_a, n=1)
    client.force_login(world.superuser)
    assert client.get(reverse("admin:assessments_assessmentsession_change", args=[s.pk])).status_code == 200
    assert client.get(reverse("admin:assessments_activity_change", args=[activity_a.pk])).status_code == 200


@pytest.mark.django_db
def test_job_admin_reads_a_job_with_its_history(client, world, django_capture_on_commit_callbacks):
    from assessments.jobs import job_create

    with django_capture_on_commit_callbacks(execute=True):
        job = job_create(district_id=world.district.pk, type="sessionstatuses",
                         request={"statuses": [{"session_id": "nope", "user_id": "u", "status": "Completed"}]})
    client.force_login(world.superuser)
    page = client.get(reverse("admin:assessments_job_change", args=[job.pk]))
    assert page.status_code == 200 and b"There is no session" in page.content and b"halted" in page.content
    assert client.get(reverse("admin:assessments_job_add")).status_code == 403
