"""Background work (django.tasks): imports and exports run in the task worker, pages watch their rows."""

from __future__ import annotations

from django.tasks import task

from rostering.oneroster.models import ExportRun, ImportRun


@task
def import_oneroster_task(*, run_id: str) -> str:
    from rostering.oneroster.services import import_run_execute

    run = ImportRun.objects.select_related("district", "school").get(pk=run_id)
    import_run_execute(run=run)
    return run_id


@task
def export_oneroster_task(*, run_id: str) -> str:
    from rostering.oneroster.services import export_run_execute

    run = ExportRun.objects.select_related("district", "school").get(pk=run_id)
    export_run_execute(run=run)
    return run_id
