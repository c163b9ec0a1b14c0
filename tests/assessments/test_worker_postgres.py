"""The real worker: a job queued through the ``django-tasks-db`` backend is picked up and run by its
``db_worker`` command, as ``make run`` starts it (PostgreSQL; a transactional test, since the worker closes
connections between tasks — stack notes, trap 2)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django_tasks_db.models import DBTaskResult

from assessments import jobs as job_runner
from assessments.choices import JobStatus
from assessments.jobs import job_create
from assessments.models import AssessmentSession, Job
from tests.assessments import factories as af

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the database worker test runs on PostgreSQL")
def test_db_worker_runs_a_queued_job(world, activity_a, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    s = af.session(world.district, activity_a, n=1)
    request = {"sessions": [{"session_id": s.session_id, "user_id": s.user_id,
                             "responses": [{"response_id": f"{s.session_id}_q-essay", "score": 1.5, "attempted": True}]}]}
    job = job_create(district_id=world.district.pk, type=job_runner.TYPE_SCORES, request=request)
    assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED  # queued in the database, not run in-line
    assert DBTaskResult.objects.filter(task_path="assessments.jobs.run_job").count() == 1

    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)

    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED and job.attempts == 1 and job.dt_completed is not None
    assert AssessmentSession.objects.get(pk=s.pk).score == 3.5
    assert DBTaskResult.objects.get(task_path="assessments.jobs.run_job").status == "SUCCESSFUL"
