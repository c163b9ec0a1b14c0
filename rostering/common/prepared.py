"""A hot query compiled once: ``PreparedGet(lambda: queryset, field="pk").get(value)``.

Django compiles a queryset's SQL on every run. For a query a request runs every time — a row lock with two
related rows joined (``select_related``), some columns left out (``defer``) — compiling costs as much as the
database's own work. ``PreparedGet`` compiles ``queryset.get(<field>=…)`` once per database connection and
runs the same statement with each new value, then builds the instances the way the ORM's own iterator does:
the model, the ``select_related`` objects set on it, deferred fields left deferred, the field converters
applied. Everything else about the statement is the queryset's: its locks, its joins, its columns, its
database (the statement goes through the connection's cursor, so query logging and execute wrappers see it).

``get`` answers as ``QuerySet.get`` does: the instance, ``Model.DoesNotExist`` when no row matches,
``MultipleObjectsReturned`` when more than one does, ``ValidationError`` for a value the field refuses.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections, models
from django.db.models.query import get_related_populators
from django.db.models.sql.compiler import SQLCompiler


@dataclass(frozen=True)
class _Plan:
    model: type[models.Model]
    field: models.Field
    alias: str
    fetch_mode: Any
    sql: str
    params: tuple
    slot: int  # where the looked-up value goes in ``params``
    compiler: SQLCompiler  # compiled on this thread's connection: its select and klass_info describe the row
    converters: dict
    init_list: list[str]
    cols: slice


class PreparedGet:
    """``queryset().get(<field>=value)``, its statement compiled once per connection (see the module)."""

    def __init__(self, queryset: Callable[[], models.QuerySet], *, field: str = "pk"):
        self._queryset = queryset
        self._lookup = field
        # Per thread, as Django's connections are: a plan holds its connection (through its compiler) and
        # goes with the thread, never keeping another thread's connection open.
        self._plans = threading.local()

    def get(self, value: Any):
        plan = getattr(self._plans, "plan", None)
        if plan is None or connections[plan.alias] is not plan.compiler.connection:
            plan = self._plans.plan = self._compile()
        model, field, connection = plan.model, plan.field, plan.compiler.connection
        value = field.to_python(value)  # ValidationError for a value the field refuses, as the ORM would
        params = list(plan.params)
        params[plan.slot] = field.get_db_prep_value(value, connection, prepared=False)
        with connection.cursor() as cursor:
            cursor.execute(plan.sql, params)
            rows = cursor.fetchmany(2)
        if not rows:
            raise model.DoesNotExist(f"{model._meta.object_name} matching query does not exist.")
        if len(rows) > 1:
            raise model.MultipleObjectsReturned(f"get() returned more than one {model._meta.object_name}.")
        row = next(plan.compiler.apply_converters(rows, plan.converters)) if plan.converters else list(rows[0])
        obj = model.from_db(plan.alias, plan.init_list, row[plan.cols], fetch_mode=plan.fetch_mode)
        for populator in get_related_populators(plan.compiler.klass_info, plan.compiler.select, plan.alias,
                                                plan.fetch_mode):
            populator.populate(row, obj)
        return obj

    def _compile(self) -> _Plan:
        """The statement of ``get(<field>=<marker>)``, and where the marker's value sits in its parameters."""
        template = self._queryset()
        model = template.model
        field = model._meta.pk if self._lookup == "pk" else model._meta.get_field(self._lookup)
        connection = connections[template.db]
        marker = _marker_for(field)
        queryset = template.filter(**{self._lookup: marker}).order_by()[:2]
        compiler = queryset.query.get_compiler(using=template.db)
        sql, params = compiler.as_sql()
        prepared = field.get_db_prep_value(marker, connection, prepared=False)
        slots = [i for i, p in enumerate(params) if p == prepared]
        if len(slots) != 1:
            raise ValueError(f"cannot find the {self._lookup} parameter in the compiled statement")
        fields = [s[0] for s in compiler.select[: compiler.col_count]]
        info = compiler.klass_info
        start, end = info["select_fields"][0], info["select_fields"][-1] + 1
        return _Plan(
            model=model, field=field, alias=template.db, fetch_mode=template._fetch_mode, sql=sql,
            params=tuple(params), slot=slots[0], compiler=compiler, converters=compiler.get_converters(fields),
            init_list=[s[0].target.attname for s in compiler.select[start:end]], cols=slice(start, end),
        )


def _marker_for(field):
    """A value of ``field``'s type (a foreign key's: its target's) that no statement would otherwise carry."""
    field = field.target_field if field.is_relation else field
    if isinstance(field, models.UUIDField):
        return uuid.UUID("00000000-0000-4000-8000-00000000f00d")
    if isinstance(field, models.IntegerField | models.AutoField):
        return -7_340_033
    return "\x00prepared-get-marker"
