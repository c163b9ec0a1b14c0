"""Vocabularies of session set-up: the seed's enums (values and labels exactly as the seed documents them),
the wizards' steps, promotion decisions and the allowed status changes."""

from __future__ import annotations

from django.db import models


class SetupSessionType(models.TextChoices):
    """The seed's ``session_type``."""

    EXAM_SESSION = "exam_session", "Exam Session"
    ACADEMIC_SESSION = "academic_session", "Academic Session"


class SetupStatus(models.TextChoices):
    """The seed's ``status``."""

    NOT_STARTED = "not_started", "Not Started"
    PENDING = "pending", "Pending"
    COMPLETED = "completed", "Completed"


# A completed setup goes back to pending only through ``session_setup_reopen`` (recorded with its reason).
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    SetupStatus.NOT_STARTED: {SetupStatus.PENDING},
    SetupStatus.PENDING: {SetupStatus.NOT_STARTED, SetupStatus.COMPLETED},
    SetupStatus.COMPLETED: {SetupStatus.PENDING},
}

ACADEMIC_STEPS: tuple[str, ...] = (
    "Year and dates",
    "Terms",
    "Grades and classes",
    "Promotions",
    "Review and execute",
)
EXAM_STEPS: tuple[str, ...] = (
    "Name, year and dates",
    "Exams",
    "Schedule",
    "Review and publish",
)
STEPS = {SetupSessionType.ACADEMIC_SESSION: ACADEMIC_STEPS, SetupSessionType.EXAM_SESSION: EXAM_STEPS}


def steps_for(session_type: str) -> tuple[str, ...]:
    return STEPS.get(session_type, ())


def last_step(session_type: str) -> int:
    return len(steps_for(session_type)) - 1


class PromotionAction(models.TextChoices):
    """What happens to a student at the turn of the year (the product's promotion ``action``)."""

    PENDING = "pending", "Pending"
    PROMOTE = "promote", "Promote"
    REPEAT = "repeat", "Repeat"
    TRANSFER = "transfer", "Transfer"
    GRADUATE = "graduate", "Graduate"
    DROP_OUT = "drop_out", "Drop out"


# Decisions that put the student in a class of the new year.
ACTIONS_WITH_DESTINATION = frozenset({PromotionAction.PROMOTE, PromotionAction.REPEAT})
DECISIONS = tuple(a for a in PromotionAction if a != PromotionAction.PENDING)


class ExecutionStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    UNDONE = "undone", "Undone"
