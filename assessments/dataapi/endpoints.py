"""The read endpoints (``action: get``), their rows field for field as seed 003's examples.

Each handler gets the consumer's district and the decoded request, and returns ``(data, meta extras)``.
Every query is ``.filter(district=…)``: another district's ids are simply not found. A sessions page costs a
fixed number of queries (the sessions, plus one per prefetched relation), whatever its size.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from django.db import connection
from django.db.models import Prefetch

from assessments.dataapi import params, pgjson
from assessments.dataapi.errors import DataApiError
from assessments.dataapi.paging import district_sessions, sessions_page
from assessments.models import (
    Activity,
    ActivityItem,
    Item,
    Job,
    Question,
    Response,
    SessionItem,
)


def iso(dt: datetime.datetime | None) -> str | None:
    if dt is None:
        return None
    return dt.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _num(value):
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


# --- row builders (from ``.values()`` dicts: a page never instantiates models) ------------------------------------

SCORE_FIELDS = ("user_id", "activity_id", "session_id", "score", "max_score", "course_id", "subscores", "status")
SESSION_FIELDS = ("user_id", "activity_id", "num_attempted", "num_questions", "session_id", "score", "max_score",
                  "subscores", "session_duration", "status", "dt_started", "dt_completed", "dt_saved", "course_id")
RESPONSE_FULL = ("session_id", "response_id", "item_reference", "question_reference", "question_type", "dt_score_updated",
                 "score", "max_score", "attempted", "automarkable", "manual_score", "max_manual_score", "value")
RESPONSE_SCORE = ("session_id", "response_id", "dt_score_updated", "score", "max_score", "item_reference",
                  "question_type", "attempted", "automarkable", "manual_score", "max_manual_score")
ITEM_FIELDS = ("session_id", "reference", "time", "user_flagged", "response_ids", "scoring")


def _children(model, session_pks: list[int], fields: tuple[str, ...]) -> dict[int, list[tuple]]:
    """The page's responses or items in one query, grouped by session (in position order)."""
    grouped: dict[int, list[tuple]] = {}
    if not session_pks:
        return grouped
    for row in model.objects.filter(session_id__in=session_pks).order_by("session_id", "position", "id").values_list(*fields):
        grouped.setdefault(row[0], []).append(row)
    return grouped


def _response_full(r: tuple) -> dict:
    return {
        "response_id": r[1], "item_reference": r[2], "question_reference": r[3], "question_type": r[4],
        "dt_score_updated": iso(r[5]), "score": _num(r[6]), "max_score": _num(r[7]), "attempted": r[8],
        "automarkable": r[9], "manual_score": _num(r[10]), "max_manual_score": _num(r[11]), "response": r[12],
    }


def _response_score(r: tuple) -> dict:
    return {
        "response_id": r[1], "dt_score_updated": iso(r[2]), "score": _num(r[3]), "max_score": _num(r[4]),
        "item_reference": r[5], "question_type": r[6], "attempted": r[7], "automarkable": r[8],
        "manual_score": _num(r[9]), "max_manual_score": _num(r[10]),
    }


def _item(i: tuple) -> dict:
    row = {"reference": i[1], "time": i[2], "user_flagged": i[3], "response_ids": i[4]}
    if i[5] is not None:
        row["scoring"] = i[5]
    return row


def _score_fields(s: dict) -> dict:
    return {
        "user_id": s["user_id"], "activity_id": s["activity_id"], "session_id": s["session_id"],
        "score": _num(s["score"]), "max_score": _num(s["max_score"]), "course_id": s["course_id"],
        "subscores": s["subscores"], "status": s["status"],
    }


def _session_fields(s: dict) -> dict:
    return {
        "user_id": s["user_id"], "activity_id": s["activity_id"], "num_attempted": s["num_attempted"],
        "num_questions": s["num_questions"], "session_id": s["session_id"], "score": _num(s["score"]),
        "max_score": _num(s["max_score"]), "subscores": s["subscores"], "session_duration": s["session_duration"],
        "status": s["status"], "dt_started": iso(s["dt_started"]), "dt_completed": iso(s["dt_completed"]),
        "dt_saved": iso(s["dt_saved"]), "course_id": s["course_id"],
    }


# --- session reads ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    district_id: object
    endpoint: str
    request: dict
    consumer: object = None


Result = tuple[object, dict]


def _page(ctx: Context, fields: tuple[str, ...] = (), *, base=None, document=None):
    query = params.session_query(ctx.request)
    base = base if base is not None else district_sessions(ctx.district_id)
    return sessions_page(base=base, endpoint=ctx.endpoint, district_id=ctx.district_id, query=query, fields=fields,
                         document=document)


def in_database() -> bool:
    """Build the hot pages in the database (PostgreSQL), unless ``PYTHON_ROWS`` is switched on (tests)."""
    return connection.vendor == "postgresql" and not PYTHON_ROWS


PYTHON_ROWS = False


def _documents(page) -> list:
    return [orjson.Fragment(row["doc"]) for row in page.rows]


def sessions_responses(ctx: Context) -> Result:
    metadata_fields = params.include_list(ctx.request, ("sessions", "session_metadata"))
    if in_database():
        page = _page(ctx, document=pgjson.responses_document(metadata_fields))
        return _documents(page), {"next": page.next_token}
    fields = (*SESSION_FIELDS, "metadata", *(("session_metadata",) if metadata_fields else ()))
    page = _page(ctx, fields)
    pks = [s["id"] for s in page.rows]
    responses = _children(Response, pks, RESPONSE_FULL)
    items = _children(SessionItem, pks, ITEM_FIELDS)
    data = []
    for s in page.rows:
        row = _session_fields(s)
        row["responses"] = [_response_full(r) for r in responses.get(s["id"], ())]
        row["items"] = [_item(i) for i in items.get(s["id"], ())]
        row["metadata"] = s["metadata"]
        if metadata_fields:
            stored = s["session_metadata"] or {}
            row["session_metadata"] = {k: stored[k] for k in metadata_fields if k in stored}
        data.append(row)
    return data, {"next": page.next_token}


def sessions_scores(ctx: Context) -> Result:
    with_responses = params.boolean(ctx.request, "include_response_scores")
    if in_database():
        page = _page(ctx, document=pgjson.scores_document(with_responses))
        return _documents(page), {"next": page.next_token}
    page = _page(ctx, SCORE_FIELDS)
    responses = _children(Response, [s["id"] for s in page.rows], RESPONSE_SCORE) if with_responses else {}
    data = []
    for s in page.rows:
        row = _score_fields(s)
        if with_responses:
            row["responses"] = [_response_score(r) for r in responses.get(s["id"], ())]
        data.append(row)
    return data, {"next": page.next_token}


def sessions_responses_scores(ctx: Context) -> Result:
    if in_database():
        page = _page(ctx, document=pgjson.responses_scores_document())
        return _documents(page), {"next": page.next_token}
    page = _page(ctx, SCORE_FIELDS)
    responses = _children(Response, [s["id"] for s in page.rows], RESPONSE_SCORE)
    data = []
    for s in page.rows:
        row = _score_fields(s)
        row["responses"] = [_response_score(r) for r in responses.get(s["id"], ())]
        data.append(row)
    return data, {"next": page.next_token}


STATUS_INCLUDES = ("activity_template_id",)


def sessions_statuses(ctx: Context) -> Result:
    extra = params.include_list(ctx.request, ("sessions",))
    wrong = [name for name in extra if name not in STATUS_INCLUDES]
    if wrong:
        raise DataApiError(20004, f"include.sessions supports {', '.join(STATUS_INCLUDES)} (not {', '.join(wrong)})")
    fields = ("user_id", "activity_id", "num_attempted", "num_questions", "session_id", "session_duration", "status",
              "dt_started", "dt_completed", *(("metadata",) if extra else ()))
    page = _page(ctx, fields)
    data = []
    for s in page.rows:
        row = {
            "user_id": s["user_id"], "activity_id": s["activity_id"], "num_attempted": s["num_attempted"],
            "num_questions": s["num_questions"], "session_id": s["session_id"],
            "session_duration": s["session_duration"], "status": s["status"],
            "dt_started": iso(s["dt_started"]), "dt_completed": iso(s["dt_completed"]),
        }
        for name in extra:  # "Only existing fields are returned."
            if (s["metadata"] or {}).get(name) is not None:
                row[name] = s["metadata"][name]
        data.append(row)
    return data, {"next": page.next_token}


def _str(value) -> str | None:
    return None if value is None else str(_num(value))


def sessions_reports_adaptive(ctx: Context) -> Result:
    fields = ("user_id", "activity_id", "num_attempted", "num_questions", "session_id", "score", "session_duration",
              "status", "dt_started", "dt_completed", "course_id", "adaptive")
    page = _page(ctx, fields, base=district_sessions(ctx.district_id).filter(adaptive__isnull=False))
    data = []
    for s in page.rows:
        # The seed's example sends these counts as strings; so do we, field for field.
        data.append({
            "meta": {"status": True}, "user_id": s["user_id"], "activity_id": s["activity_id"],
            "num_attempted": _str(s["num_attempted"]), "num_questions": _str(s["num_questions"]),
            "session_id": s["session_id"], "score": _num(s["score"]), "session_duration": _str(s["session_duration"]),
            "status": s["status"], "dt_started": iso(s["dt_started"]), "dt_completed": iso(s["dt_completed"]),
            "course_id": s["course_id"], "adaptive": s["adaptive"],
        })
    return data, {"next": page.next_token}


def sessions_metadata(ctx: Context) -> Result:
    page = _page(ctx, ("user_id", "session_id", "session_metadata"))
    data = [{"user_id": s["user_id"], "session_id": s["session_id"], "metadata": s["session_metadata"] or {}}
            for s in page.rows]
    return data, {"next": page.next_token}


# --- templates ----------------------------------------------------------------------------------------------------

TEMPLATE_FORBIDDEN = ("user_id", "activity_id", "session_id", "adaptive")
MAX_TEMPLATE_ITEMS = 250


def _template_item_refs(request: dict) -> list[str] | None:
    if "items" not in request or request["items"] is None:
        return None
    items = request["items"]
    if not isinstance(items, list):
        raise DataApiError(20003, "items must be an array of item references or item objects")
    if len(items) > MAX_TEMPLATE_ITEMS:
        raise DataApiError(20002, f"items takes at most {MAX_TEMPLATE_ITEMS} items")
    refs: list[str] = []
    for entry in items:
        ref = entry.get("reference") if isinstance(entry, dict) else entry
        if not isinstance(ref, str) or not ref:
            raise DataApiError(20003, "items must be item references (strings) or objects with a reference")
        if len(ref) > 150:
            raise DataApiError(20001, "items: a reference is longer than 150 characters")
        if ref not in refs:
            refs.append(ref)
    return refs


def sessions_templates(ctx: Context) -> Result:
    request = ctx.request
    forbidden = [k for k in TEMPLATE_FORBIDDEN if k in request]
    if forbidden:
        raise DataApiError(20004, f"{', '.join(forbidden)} may not be sent here (they are given per session to SET sessions)")
    activity_ref = params.string(request, "activity_template_id", max_length=150)
    params.string(request, "item_pool_id")
    organisation_id = request.get("organisation_id")
    if organisation_id is not None and not isinstance(organisation_id, int | str):
        raise DataApiError(20003, "organisation_id must be an integer or a string")
    scoring_override = params.string(request, "scoring_type", max_length=40)
    if scoring_override is not None and scoring_override not in ("per-question", "dichotomous", "dependent"):
        raise DataApiError(20004, "scoring_type must be per-question, dichotomous or dependent")
    subscores = request.get("subscores")
    if subscores is not None and not (isinstance(subscores, list) and all(isinstance(s, dict) for s in subscores)):
        raise DataApiError(20003, "subscores must be an array of subscore definitions")
    refs = _template_item_refs(request)

    activity = None
    if activity_ref is not None:
        activity = Activity.objects.filter(district_id=ctx.district_id, reference=activity_ref).first()
        if activity is None:
            raise DataApiError(20004, f"activity_template_id: there is no activity {activity_ref!r}")
    if refs is None and activity is not None:
        refs = list(
            ActivityItem.objects.filter(activity=activity).order_by("position").values_list("item__reference", flat=True)
        )
    if not refs:
        raise DataApiError(20000, "items (or an activity_template_id whose activity has items)")

    found = {
        item.reference: item
        for item in Item.objects.filter(district_id=ctx.district_id, reference__in=refs).prefetch_related(
            Prefetch("questions", queryset=Question.objects.order_by("position"))
        )
    }
    missing = [r for r in refs if r not in found]
    if missing:
        raise DataApiError(20004, f"items: no item {', '.join(repr(m) for m in missing[:10])}")
    org = organisation_id if organisation_id is not None else 1
    items, questions = [], []
    for ref in refs:
        item = found[ref]
        qs = list(item.questions.all())
        items.append({
            "reference": item.reference,
            "source": {"reference": item.reference, "organisation_id": org},
            "content": item.content,
            "metadata": {"acknowledgements": (item.metadata or {}).get("acknowledgements"),
                         "scoring_type": scoring_override or item.scoring_type},
            "workflow": [],
            "feature_ids": [],
            "question_ids": [q.reference for q in qs],
        })
        for q in qs:
            questions.append({
                **(q.data or {}),
                "options": q.options,
                "stimulus": q.stimulus,
                "type": q.type,
                "validation": q.validation,
                "metadata": {**(q.metadata or {}), "sheet_reference": item.reference, "source": {"organisation_id": org}},
                "id": q.reference,
            })
    metadata = {"items_api_version": "latest"}
    if activity is not None:
        metadata["activity_template_id"] = activity.reference
    chosen_subscores = subscores if subscores is not None else (activity.subscores if activity is not None else None)
    if chosen_subscores:
        metadata["subscores"] = chosen_subscores
    return {"items": items, "metadata": metadata, "questions": questions}, {"records": len(items)}


# --- jobs ---------------------------------------------------------------------------------------------------------


def _job_date(dt):
    return None if dt is None else dt.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")


def jobs(ctx: Context) -> Result:
    request = ctx.request
    references = params.id_list(request, "references")
    status = params.statuses(request, allowed=params.JOB_STATUSES)
    include = request.get("include")
    if include is None:
        include = params.JOB_INCLUDE_DEFAULT
    elif not isinstance(include, list) or not all(isinstance(v, str) for v in include):
        raise DataApiError(20003, "include must be an array of strings")
    wrong = [v for v in include if v not in params.JOB_INCLUDE_ALLOWED]
    if wrong:
        raise DataApiError(20004, f"include: {', '.join(wrong)} is not one of {', '.join(params.JOB_INCLUDE_ALLOWED)}")
    limit = params.limit(request)
    mintime = params.timestamp(request, "mintime")
    maxtime = params.timestamp(request, "maxtime")
    qs = Job.objects.filter(district_id=ctx.district_id)
    if references is not None:
        import uuid

        valid = []
        for ref in references:
            try:
                valid.append(uuid.UUID(ref))
            except ValueError:
                continue  # not one of ours: simply not found
        qs = qs.filter(reference__in=valid)
    if status is not None:
        qs = qs.filter(status__in=status)
    if mintime is not None:
        qs = qs.filter(dt_created__gte=mintime)
    if maxtime is not None:
        qs = qs.filter(dt_created__lte=maxtime)
    if "data" not in include:
        qs = qs.defer("data")
    rows = []
    for job in qs.order_by("-dt_created", "-id")[:limit]:
        full = {
            "reference": str(job.reference), "type": job.type, "status": job.status,
            "dt_created": _job_date(job.dt_created), "dt_completed": _job_date(job.dt_completed),
        }
        if "data" in include:
            full["data"] = job.data
        rows.append({k: full[k] for k in include})
    return rows, {}


Handler = Callable[[Context], Result]

# endpoint → {action: handler} for the reads; ``assessments.dataapi.routes`` adds the writes to them.
READS: dict[str, dict[str, Handler]] = {
    "sessions/responses": {"get": sessions_responses},
    "sessions/scores": {"get": sessions_scores},
    "sessions/responses/scores": {"get": sessions_responses_scores},
    "sessions/statuses": {"get": sessions_statuses},
    "sessions/reports/adaptive": {"get": sessions_reports_adaptive},
    "sessions/metadata": {"get": sessions_metadata},
    "sessions/templates": {"get": sessions_templates},
    "jobs": {"get": jobs},
}



# Rate limits per consumer and endpoint family, requests per 5-second window (specs/learnosity.md §5).
RATE_WINDOW_SECONDS = 5
RATE_LIMITS: dict[tuple[str, str], int] = {
    ("get", "sessions"): 1000,
    ("set", "sessions"): 50,
    ("update", "sessions/responses/scores"): 1000,
    ("update", "sessions/item"): 1,
    ("get", "jobs"): 1000,
    ("set", "jobs"): 50,
    ("update", "jobs"): 50,
}


def rate_family(action: str, endpoint: str) -> tuple[str, int]:
    if (action, endpoint) in RATE_LIMITS:
        return f"{action}:{endpoint}", RATE_LIMITS[(action, endpoint)]
    head = endpoint.split("/", 1)[0]
    limit = RATE_LIMITS.get((action, head), 1000)
    return f"{action}:{head}/*", limit
