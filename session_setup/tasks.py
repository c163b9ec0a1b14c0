"""Background work of session set-up (``django.tasks``): executing a setup's promotions."""

from __future__ import annotations

from django.tasks import task

from session_setup.services import promotions_execute


@task
def execute_promotions(execution_id: str) -> dict:
    """Run one promotion execution (all its classes, in one transaction) and report what it did."""
    execution = promotions_execute(execution_id=execution_id)
    return {"execution": str(execution.pk), "status": execution.status, "processed": execution.processed}
