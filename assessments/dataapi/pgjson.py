"""On PostgreSQL, the hot pages are built by the database: each session's row, with its responses and items,
comes back as one JSON document (``json_build_object`` / ``json_agg``), and Python only wraps the page's
documents in the envelope (``orjson.Fragment``, never re-parsed). One query per page instead of three, and no
per-row Python work: this is what keeps a 50-row ``sessions/responses`` page close to the cost of its raw SQL.

The documents are field for field what ``endpoints.py`` builds in Python (the reference, used on SQLite);
``tests/assessments/test_pgjson.py`` checks that both give the same JSON.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

SESSION = '"assessments_assessmentsession"'


def _ts(column: str) -> str:
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""


def _obj(pairs: list[tuple[str, str]]) -> str:
    return "json_build_object(" + ", ".join(f"'{key}', {expr}" for key, expr in pairs) + ")"


def _responses(pairs: list[tuple[str, str]]) -> str:
    return (
        f"COALESCE((SELECT json_agg({_obj(pairs)} ORDER BY r.position, r.id) FROM assessments_response r "
        f"WHERE r.session_id = {SESSION}.id), '[]'::json)"
    )


RESPONSE_FULL = [
    ("response_id", "r.response_id"), ("item_reference", "r.item_reference"),
    ("question_reference", "r.question_reference"), ("question_type", "r.question_type"),
    ("dt_score_updated", _ts("r.dt_score_updated")), ("score", "r.score"), ("max_score", "r.max_score"),
    ("attempted", "r.attempted"), ("automarkable", "r.automarkable"), ("manual_score", "r.manual_score"),
    ("max_manual_score", "r.max_manual_score"), ("response", "r.value"),
]
RESPONSE_SCORE = [
    ("response_id", "r.response_id"), ("dt_score_updated", _ts("r.dt_score_updated")), ("score", "r.score"),
    ("max_score", "r.max_score"), ("item_reference", "r.item_reference"), ("question_type", "r.question_type"),
    ("attempted", "r.attempted"), ("automarkable", "r.automarkable"), ("manual_score", "r.manual_score"),
    ("max_manual_score", "r.max_manual_score"),
]
_ITEM = [("reference", "i.reference"), ("time", "i.time"), ("user_flagged", "i.user_flagged"),
         ("response_ids", "i.response_ids")]
ITEMS = (
    f"COALESCE((SELECT json_agg(CASE WHEN i.scoring IS NULL THEN {_obj(_ITEM)} "
    f"ELSE {_obj([*_ITEM, ('scoring', 'i.scoring')])} END ORDER BY i.position, i.id) "
    f"FROM assessments_sessionitem i WHERE i.session_id = {SESSION}.id), '[]'::json)"
)


def _c(name: str) -> str:
    return f"{SESSION}.{name}"


SESSION_FIELDS = [
    ("user_id", _c("user_id")), ("activity_id", _c("activity_id")), ("num_attempted", _c("num_attempted")),
    ("num_questions", _c("num_questions")), ("session_id", _c("session_id")), ("score", _c("score")),
    ("max_score", _c("max_score")), ("subscores", _c("subscores")), ("session_duration", _c("session_duration")),
    ("status", _c("status")), ("dt_started", _ts(_c("dt_started"))), ("dt_completed", _ts(_c("dt_completed"))),
    ("dt_saved", _ts(_c("dt_saved"))), ("course_id", _c("course_id")),
]
SCORE_FIELDS = [
    ("user_id", _c("user_id")), ("activity_id", _c("activity_id")), ("session_id", _c("session_id")),
    ("score", _c("score")), ("max_score", _c("max_score")), ("course_id", _c("course_id")),
    ("subscores", _c("subscores")), ("status", _c("status")),
]


@dataclass(frozen=True)
class Document:
    sql: str
    params: tuple = ()


def fetch_page(document: Document, *, district_id, query, asc: bool, position, top, floor) -> list[dict]:
    """The page's rows, ``{"id", "updated_at", "doc"}``: the same filters and keyset as ``paging.filtered`` and
    ``paging._after``/``_before`` (the ORM path), as one statement with its parameters."""
    where, params = [f"{SESSION}.district_id = %s"], [district_id]
    for name in ("activity_id", "session_id", "user_id", "status"):
        values = getattr(query, name)
        if values is not None:
            where.append(f"{SESSION}.{name} = ANY(%s)")
            params.append(list(values))
    for condition, value in (("updated_at >= %s", query.mintime), ("updated_at <= %s", query.maxtime),
                             ("updated_at <= %s", top), ("updated_at > %s", floor)):
        if value is not None:
            where.append(f"{SESSION}.{condition}")
            params.append(value)
    if position is not None:
        t, pk = position
        op, strict = (">=", ">") if asc else ("<=", "<")
        where.append(f"{SESSION}.updated_at {op} %s AND ({SESSION}.updated_at {strict} %s OR {SESSION}.id {strict} %s)")
        params += [t, t, pk]
    direction = "ASC" if asc else "DESC"
    sql = (
        f"SELECT {SESSION}.id, {SESSION}.updated_at, {document.sql} FROM {SESSION} WHERE {' AND '.join(where)} "
        f"ORDER BY {SESSION}.updated_at {direction}, {SESSION}.id {direction} LIMIT %s"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [*document.params, *params, query.limit])
        return [{"id": pk, "updated_at": updated, "doc": doc} for pk, updated, doc in cur.fetchall()]


def responses_document(metadata_fields: list[str]) -> Document:
    pairs = [*SESSION_FIELDS, ("responses", _responses(RESPONSE_FULL)), ("items", ITEMS), ("metadata", _c("metadata"))]
    params: list = []
    if metadata_fields:
        pairs.append((
            "session_metadata",
            f"COALESCE((SELECT json_object_agg(m.key, m.value ORDER BY array_position(%s::text[], m.key)) "
            f"FROM jsonb_each({_c('session_metadata')}) m WHERE m.key = ANY(%s::text[])), '{{}}'::json)",
        ))
        params = [metadata_fields, metadata_fields]
    return Document(_obj(pairs) + "::text", tuple(params))


def scores_document(with_responses: bool) -> Document:
    pairs = list(SCORE_FIELDS)
    if with_responses:
        pairs.append(("responses", _responses(RESPONSE_SCORE)))
    return Document(_obj(pairs) + "::text")


def responses_scores_document() -> Document:
    return scores_document(True)


CONSUMER_COLUMNS = ("id", "district_id", "is_active", "secret_encrypted", "previous_secret_encrypted",
                    "previous_secret_expires_at", "allowed_domains")


def consumer_by_key(key: str):
    """The consumer with ``key`` (the columns the signature check needs), read without the ORM's query building:
    every Data API request starts with this lookup."""
    from assessments.models import Consumer

    with connection.cursor() as cur:
        cur.execute(
            f"SELECT {', '.join(CONSUMER_COLUMNS)} FROM assessments_consumer WHERE consumer_key = %s LIMIT 1", [key]
        )
        row = cur.fetchone()
    if row is None:
        return None
    values = dict(zip(CONSUMER_COLUMNS, row, strict=True))
    domains = values["allowed_domains"]
    if isinstance(domains, str | bytes):
        values["allowed_domains"] = Consumer._meta.get_field("allowed_domains").from_db_value(domains, None, connection)
    consumer = Consumer(consumer_key=key, **values)
    consumer._state.adding = False
    consumer._state.db = "default"
    return consumer
