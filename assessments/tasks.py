"""Background work of the assessments app (Django's tasks framework; the ``django-tasks-db`` worker in
``make run``, the immediate backend in tests)."""

from __future__ import annotations

from django.tasks import task


@task
def run_job(job_pk: int) -> str:
    """Run one Data API job (``assessments.jobs.run``); safe to run again if a worker died half-way."""
    from assessments.jobs import run

    return run(job_pk)
