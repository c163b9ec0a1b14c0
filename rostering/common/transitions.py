"""The one way a status changes, for every model that has one (registrations, session setups, assessments).

``transition(obj=…, to=…, actor=…, allowed=…, history=…)``:

1. locks the row (``SELECT … FOR UPDATE``), unless the caller already holds the lock in this transaction
   (``locked=True``: it fetched the row with ``select_for_update`` itself);
2. checks the move against the model's ``ALLOWED_TRANSITIONS`` (``{status: {targets}}``) and raises
   ``InvalidTransition`` (409, naming the current status and the allowed targets) otherwise;
3. writes the status, the caller's ``updates`` and the ``auto_now`` fields (and bumps an optimistic-lock
   ``version_field`` when the model has one) in one ``UPDATE`` that is a compare-and-set: it matches the
   row only while its status (and version) are still what was read, else ``ChangedMeanwhile`` (409). A
   caller holding another row's lock may have read ``obj`` in that locking statement, and PostgreSQL
   re-reads only the locked row after waiting for it; the guard turns such a stale read into a refusal;
4. writes one history row (who, from, to, when, why) through ``history`` — a ``StatusChange`` subclass.

Everything happens in the caller's transaction (or in one of its own); no savepoint is taken.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from contextlib import nullcontext
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from rostering.common.errors import ChangedMeanwhile, InvalidTransition


class StatusChange(models.Model):
    """The shape of every history row. Subclasses add the foreign key to their object (``subject_field``)
    and ``from_status`` / ``to_status`` with their own choices."""

    subject_field: str = ""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


def acting_user(actor):
    """The user to record: ``None`` for the participant, a task or an anonymous caller."""
    return actor if getattr(actor, "is_authenticated", False) else None


def record(history: type[StatusChange], *, obj: models.Model, from_status: str, to_status: str, actor=None,
           reason: str = "") -> StatusChange:
    """Write one history row (also for an object's first status, where there is no transition: ``from_status=""``)."""
    return history.objects.create(
        **{history.subject_field: obj}, from_status=from_status, to_status=to_status, actor=acting_user(actor),
        reason=reason or "",
    )


def transition[M: models.Model](
    *,
    obj: M,
    to: str,
    actor,
    allowed: Mapping[str, Collection[str]],
    history: type[StatusChange],
    reason: str = "",
    updates: Mapping[str, Any] | None = None,
    locked: bool = False,
    noun: str = "",
    status_field: str = "status",
    version_field: str | None = None,
) -> M:
    """Move ``obj`` to ``to`` (see the module docstring). Returns the saved, locked instance."""
    # Inside the caller's transaction: its statements, no savepoint (a refusal propagates without marking the
    # caller's block as broken). Called on its own: one transaction.
    with nullcontext() if transaction.get_connection().in_atomic_block else transaction.atomic():
        if not locked:
            obj = type(obj)._default_manager.select_for_update(of=("self",)).get(pk=obj.pk)
        current = getattr(obj, status_field)
        targets = allowed.get(current, ())
        if to not in targets:
            raise InvalidTransition(current=current, target=to, allowed=targets,
                                    noun=noun or obj._meta.verbose_name)
        expected = {status_field: current}
        for name, value in (updates or {}).items():
            setattr(obj, name, value)
        setattr(obj, status_field, to)
        if version_field:
            expected[version_field] = getattr(obj, version_field)
            setattr(obj, version_field, expected[version_field] + 1)
        compare_and_set(obj, expected=expected, fields=[status_field, *(updates or {}), *filter(None, [version_field])],
                        noun=noun)
        record(history, obj=obj, from_status=current, to_status=to, actor=actor, reason=reason)
    return obj


def compare_and_set(obj: models.Model, *, expected: Mapping[str, Any], fields: Collection[str], noun: str = "") -> None:
    """Write ``fields`` of ``obj`` (and its ``auto_now`` fields) in one ``UPDATE`` that matches the row only
    while the columns in ``expected`` still hold those values; otherwise nothing is written and
    ``ChangedMeanwhile`` is raised. No signals are sent (the project has no receivers for them)."""
    meta = obj._meta
    values = {}
    for name in fields:
        field = meta.get_field(name)
        values[field.attname] = getattr(obj, field.attname)
    for field in meta.concrete_fields:
        if getattr(field, "auto_now", False):
            values[field.attname] = field.pre_save(obj, add=False)
    if not type(obj)._default_manager.filter(pk=obj.pk, **expected).update(**values):
        raise ChangedMeanwhile(noun=noun or str(meta.verbose_name))
