"""The write endpoints (``update``/``set``): every parameter and batch limit checked here, before any job
exists — a bad batch is a 4xx at once — then one queued ``Job`` per request, answered at once with
``{"job_reference": …}``; the worker (``assessments.jobs``) does the rest.

The checked, normalised request is what the job stores and runs: string values of ``from_template`` already
URL-decoded, word and character counts computed, orderlist positions turned into the stored index order,
failed-submission packets base64-decoded.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from typing import Any
from urllib.parse import unquote_plus

from django.core.exceptions import ValidationError

from assessments import jobs as job_types
from assessments.dataapi.endpoints import Context, Result
from assessments.dataapi.errors import DataApiError
from assessments.jobs import job_create
from assessments.models import LARGE_JSON, SMALL_JSON, Question
from assessments.scoring import SUPPORTED_TYPES
from rostering.common.jsonio import JSONInputError, decode

MAX_SCORE_SESSIONS = 1000
MAX_SCORE_RESPONSES = 1000
MAX_STATUS_ENTRIES = 100
MAX_METADATA_ENTRIES = 100
MAX_SET_SESSIONS = 50
MAX_TEMPLATE_QUESTIONS = 500
MAX_VALUE_CHARS = 64 * 1024
MAX_PACKET_BYTES = 256 * 1024
SETTABLE_STATUSES = ("Completed", "Incomplete", "Discarded")
API_VERSION = "data-api"
_WORD_RE = re.compile(r"\S+")


def _err(code: int, where: str, message: str):
    return DataApiError(code, f"{where}: {message}")


def _list(value: Any, where: str, *, maximum: int, minimum: int = 1) -> list:
    if value is None:
        raise DataApiError(20000, where)
    if not isinstance(value, list):
        raise _err(20003, where, "must be an array")
    if len(value) > maximum:
        raise _err(20002, where, f"takes at most {maximum:,} entries ({len(value):,} were sent); send them in batches")
    if len(value) < minimum:
        raise _err(20000, where, "is empty")
    return value


def _object(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise _err(20003, where, "must be an object")
    return value


def _text(entry: dict, name: str, where: str, *, max_length: int = 255, required: bool = True) -> str | None:
    value = entry.get(name)
    if value is None:
        if required:
            raise DataApiError(20000, f"{where}.{name}")
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise _err(20003, f"{where}.{name}", "must be a string")
    if not value.strip():
        raise _err(20000, f"{where}.{name}", "is empty")
    if len(value) > max_length:
        raise _err(20001, f"{where}.{name}", f"is longer than {max_length} characters")
    return value


def _number(entry: dict, name: str, where: str, *, required: bool = False) -> float | None:
    value = entry.get(name)
    if value is None:
        if required:
            raise DataApiError(20000, f"{where}.{name}")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _err(20003, f"{where}.{name}", "must be a number")
    if value < 0:
        raise _err(20004, f"{where}.{name}", "cannot be negative")
    if value > 1_000_000:
        raise _err(20004, f"{where}.{name}", "is too large")
    return float(value)


def _unique(entries: list[dict], where: str) -> None:
    seen: set[str] = set()
    for i, e in enumerate(entries):
        if e["session_id"] in seen:
            raise _err(20004, f"{where}[{i}].session_id", f"{e['session_id']!r} appears twice in the batch")
        seen.add(e["session_id"])


def _queued(ctx: Context, job_type: str, request: dict) -> Result:
    try:
        job = job_create(district_id=ctx.district_id, type=job_type, request=request, consumer=ctx.consumer)
    except ValidationError as exc:
        raise DataApiError(20001, "the request is too large to be queued as one job") from exc
    return {"job_reference": str(job.reference)}, {"records": None}


# --- sessions/responses/scores update ---------------------------------------------------------------------------


def scores_update(ctx: Context) -> Result:
    sessions = _list(ctx.request.get("sessions"), "sessions", maximum=MAX_SCORE_SESSIONS)
    out = []
    for i, raw in enumerate(sessions):
        where = f"sessions[{i}]"
        entry = _object(raw, where)
        session = {"session_id": _text(entry, "session_id", where, max_length=64),
                   "user_id": _text(entry, "user_id", where)}
        responses = []
        for j, raw_response in enumerate(_list(entry.get("responses"), f"{where}.responses", maximum=MAX_SCORE_RESPONSES)):
            rwhere = f"{where}.responses[{j}]"
            r = _object(raw_response, rwhere)
            checked: dict[str, Any] = {"response_id": _text(r, "response_id", rwhere)}
            checked["score"] = _number(r, "score", rwhere, required=True)
            for name in ("max_score", "manual_score", "max_manual_score"):
                if r.get(name) is not None:
                    checked[name] = _number(r, name, rwhere)
            if r.get("attempted") is not None:
                if not isinstance(r["attempted"], bool):
                    raise _err(20003, f"{rwhere}.attempted", "must be a boolean")
                checked["attempted"] = r["attempted"]
            if "max_score" in checked and checked["score"] > checked["max_score"]:
                raise _err(20004, f"{rwhere}.score", f"{r['score']} is above max_score {r['max_score']}")
            if checked["score"] and checked.get("attempted") is False:
                raise _err(20004, f"{rwhere}.score", "a non-zero score needs an attempted response")
            if "manual_score" in checked and "max_manual_score" in checked and checked["manual_score"] > checked["max_manual_score"]:
                raise _err(20004, f"{rwhere}.manual_score", "is above max_manual_score")
            responses.append(checked)
        if len({r["response_id"] for r in responses}) != len(responses):
            raise _err(20004, f"{where}.responses", "a response_id appears twice")
        session["responses"] = responses
        out.append(session)
    _unique(out, "sessions")
    return _queued(ctx, job_types.TYPE_SCORES, {"sessions": out})


# --- jobs/sessions/statuses update, jobs/sessions/metadata set ----------------------------------------------------


def statuses_update(ctx: Context) -> Result:
    entries = _list(ctx.request.get("statuses"), "statuses", maximum=MAX_STATUS_ENTRIES)
    out = []
    for i, raw in enumerate(entries):
        where = f"statuses[{i}]"
        entry = _object(raw, where)
        status = _text(entry, "status", where, max_length=40)
        if status not in SETTABLE_STATUSES:
            raise _err(20004, f"{where}.status", f"must be one of {', '.join(SETTABLE_STATUSES)}")
        out.append({"session_id": _text(entry, "session_id", where, max_length=64),
                    "user_id": _text(entry, "user_id", where), "status": status})
    _unique(out, "statuses")
    return _queued(ctx, job_types.TYPE_STATUSES, {"statuses": out})


def metadata_set(ctx: Context) -> Result:
    entries = _list(ctx.request.get("session_metadata"), "session_metadata", maximum=MAX_METADATA_ENTRIES)
    out = []
    for i, raw in enumerate(entries):
        where = f"session_metadata[{i}]"
        entry = _object(raw, where)
        metadata = _object(entry.get("metadata"), f"{where}.metadata")
        try:
            SMALL_JSON(metadata)
        except ValidationError as exc:
            raise _err(20001, f"{where}.metadata", " ".join(exc.messages)) from None
        out.append({"session_id": _text(entry, "session_id", where, max_length=64),
                    "user_id": _text(entry, "user_id", where), "metadata": metadata})
    _unique(out, "session_metadata")
    return _queued(ctx, job_types.TYPE_METADATA, {"session_metadata": out})


# --- sessions set ---------------------------------------------------------------------------------------------------


def sessions_set(ctx: Context) -> Result:
    request = ctx.request
    data_format = request.get("data_format", "failed_submission")
    if data_format not in ("failed_submission", "from_template"):
        raise DataApiError(20004, "data_format must be failed_submission or from_template")
    ignore = request.get("ignore_response_revisions", False)
    if not isinstance(ignore, bool):
        raise DataApiError(20003, "ignore_response_revisions must be a boolean")
    data = _list(request.get("data"), "data", maximum=MAX_SET_SESSIONS)
    if data_format == "from_template":
        return _from_template(ctx, data, ignore)
    return _failed_submission(ctx, data, ignore)


def _option_values(question: dict) -> set[str] | None:
    """The values an array response may hold: ``options`` (or, for association, ``stimulus_list`` and
    ``possible_responses``); ``None`` when the question has no such list (free-text cloze gaps)."""
    pool: list = []
    for name in ("options", *(("stimulus_list", "possible_responses") if question["type"] == "association" else ())):
        value = question.get(name)
        if isinstance(value, list):
            pool += value
    values: set[str] = set()
    for option in pool:
        if isinstance(option, dict) and "value" in option:
            values.add(str(option["value"]))
        elif isinstance(option, list):  # clozeinlinetext: a list per gap
            values |= {str(x) for x in option}
        elif isinstance(option, str | int) and not isinstance(option, bool):
            values.add(str(option))
    return values or None


def _string_value(raw: Any, where: str) -> str:
    if not isinstance(raw, str):
        raise _err(20003, f"{where}.value", "must be a string")
    if len(raw) > MAX_VALUE_CHARS:
        raise _err(20001, f"{where}.value", f"is longer than {MAX_VALUE_CHARS:,} characters")
    return unquote_plus(raw)


def _template_response(question: dict, raw: dict, where: str) -> dict | None:
    """One response of a ``from_template`` session, checked the seed's way per type; the stored response."""
    qtype = question["type"]
    value = raw.get("value")
    kind = raw.get("type")
    array_types = ("association", "clozeinlinetext", "clozetext", "mcq", "choicematrix", "orderlist")
    expected_kind = "array" if qtype in array_types else "string"
    if kind is not None and kind != expected_kind:
        raise _err(20004, f"{where}.type", f"must be {expected_kind!r} for {qtype}")
    if value is None:
        return None
    stored: dict[str, Any] = {"type": expected_kind, "apiVersion": API_VERSION, "revision": 1}
    if qtype in ("association", "clozeinlinetext", "clozetext", "mcq", "clozeformula"):
        if not isinstance(value, list) or len(value) > 100:
            raise _err(20003, f"{where}.value", "must be an array of at most 100 strings")
        allowed = _option_values(question)
        out = []
        for k, v in enumerate(value):
            if v is None:
                out.append(None)
                continue
            if isinstance(v, int) and not isinstance(v, bool):
                v = str(v)
            if not isinstance(v, str) or len(v) > 1000:
                raise _err(20003, f"{where}.value[{k}]", "must be a string")
            if allowed is not None and v not in allowed:
                raise _err(20004, f"{where}.value[{k}]", f"{v[:40]!r} is not one of the question's options")
            out.append(v)
        if qtype == "mcq" and not question.get("multiple_responses") and len([x for x in out if x is not None]) > 1:
            raise _err(20004, f"{where}.value", "this mcq takes a single response")
        stored["value"] = out
    elif qtype == "choicematrix":
        columns = len(question.get("options") or []) or 100
        rows = len(question.get("stems") or []) or 100
        if not isinstance(value, list) or len(value) > rows:
            raise _err(20003, f"{where}.value", f"must be an array of at most {rows} arrays of integers")
        out = []
        for k, row in enumerate(value):
            row = row if isinstance(row, list) else ([] if row is None else [row])
            if not all(isinstance(x, int) and not isinstance(x, bool) and 0 <= x < columns for x in row):
                raise _err(20004, f"{where}.value[{k}]", f"must hold option indexes from 0 to {columns - 1}")
            out.append(row)
        stored["value"] = out
    elif qtype == "orderlist":
        n = len(question.get("list") or [])
        if not isinstance(value, list) or not all(isinstance(x, int) and not isinstance(x, bool) for x in value):
            raise _err(20003, f"{where}.value", "must be an array of integers")
        if sorted(value) != list(range(1, n + 1)):
            raise _err(20004, f"{where}.value", f"must give each of the {n} list entries its position, 1 to {n}")
        stored["value"] = sorted(range(n), key=lambda i: value[i])  # stored: list indexes in the chosen order
    else:
        text = _string_value(value, where)
        if qtype == "gridded" and text.strip() and not re.fullmatch(r"\s*-?\d*(?:\.\d*)?\s*", text):
            raise _err(20004, f"{where}.value", "must be a number with . as the decimal point")
        stored["value"] = text
        if qtype == "shorttext":
            stored["characterCount"] = len(text)
        if qtype in ("longtext", "longtextV2", "plaintext"):
            stored["wordCount"] = len(_WORD_RE.findall(re.sub(r"<[^>]*>", " ", text)))
    return stored


def _check_template(ctx: Context, raw: Any) -> tuple[dict, dict[str, dict]]:
    template = _object(raw, "template")
    questions = _list(template.get("questions"), "template.questions", maximum=MAX_TEMPLATE_QUESTIONS)
    items = _list(template.get("items"), "template.items", maximum=MAX_TEMPLATE_QUESTIONS)
    by_id: dict[str, dict] = {}
    for i, q in enumerate(questions):
        q = _object(q, f"template.questions[{i}]")
        qid = _text(q, "id", f"template.questions[{i}]", max_length=150)
        qtype = _text(q, "type", f"template.questions[{i}]", max_length=40)
        if qtype not in SUPPORTED_TYPES:
            raise _err(20004, f"template.questions[{i}].type", f"{qtype!r} is not a supported question type")
        by_id[qid] = q
    layout = []
    for i, item in enumerate(items):
        item = _object(item, f"template.items[{i}]")
        ref = _text(item, "reference", f"template.items[{i}]", max_length=150)
        qids = item.get("question_ids")
        if not isinstance(qids, list) or not all(isinstance(x, str) and x in by_id for x in qids):
            raise _err(20009, f"template.items[{i}].question_ids", "must list questions of template.questions")
        layout.append({"reference": ref, "question_ids": qids})
    # The template's questions are ours: each must be in the district's item bank, with the same type.
    bank = dict(Question.objects.filter(district_id=ctx.district_id, reference__in=list(by_id)).values_list("reference", "type"))
    for qid, q in by_id.items():
        if bank.get(qid) != q["type"]:
            raise _err(20004, "template.questions", f"{qid!r} is not a {q['type']} question of this item bank")
    metadata = template.get("metadata") if isinstance(template.get("metadata"), dict) else {}
    subscores = metadata.get("subscores")
    if subscores is not None and not (isinstance(subscores, list) and all(
            isinstance(s, dict) and isinstance(s.get("id"), str) and isinstance(s.get("items", []), list) for s in subscores)):
        raise DataApiError(20009, "template.metadata.subscores must be subscore definitions")
    kept_metadata = {k: metadata[k] for k in ("activity_template_id", "items_api_version") if isinstance(metadata.get(k), str)}
    return {"items": layout, "subscores": subscores, "metadata": kept_metadata}, by_id


def _session_fields(entry: dict, where: str) -> dict:
    return {"session_id": _text(entry, "session_id", where, max_length=64), "user_id": _text(entry, "user_id", where),
            "activity_id": _text(entry, "activity_id", where, max_length=150)}


def _from_template(ctx: Context, data: list, ignore: bool) -> Result:
    template, questions = _check_template(ctx, ctx.request.get("template"))
    out = []
    for i, raw in enumerate(data):
        where = f"data[{i}]"
        entry = _object(raw, where)
        session = _session_fields(entry, where)
        responses, seen = [], set()
        for j, r in enumerate(_list(entry.get("responses", []), f"{where}.responses", maximum=len(questions), minimum=0)):
            rwhere = f"{where}.responses[{j}]"
            r = _object(r, rwhere)
            qid = _text(r, "question_id", rwhere, max_length=150)
            if qid not in questions:
                raise _err(20004, f"{rwhere}.question_id", f"{qid!r} is not a question of the template")
            if qid in seen:
                raise _err(20004, f"{rwhere}.question_id", f"{qid!r} is answered twice")
            seen.add(qid)
            responses.append({"question_id": qid, "value": _template_response(questions[qid], r, rwhere)})
        session["responses"] = responses
        out.append(session)
    _unique(out, "data")
    return _queued(ctx, job_types.TYPE_FROM_TEMPLATE,
                   {"template": template, "data": out, "ignore_response_revisions": ignore})


def _packet(raw: Any, where: str) -> dict:
    if not isinstance(raw, str):
        raise _err(20003, where, "must be a base64 string")
    if len(raw) > MAX_PACKET_BYTES * 4 // 3 + 4:
        raise _err(20001, where, f"is larger than {MAX_PACKET_BYTES // 1024} KB")
    try:
        text = base64.b64decode(raw.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise _err(20004, where, "is not base64 of a UTF-8 JSON session packet") from None
    try:
        packet = decode(text, max_bytes=MAX_PACKET_BYTES, field=where)
    except JSONInputError as exc:
        raise _err(20009, where, exc.message) from None
    packet = _object(packet, where)
    session = _session_fields(packet, where)
    status = packet.get("status", "Completed")
    if status not in ("Completed", "Incomplete"):
        raise _err(20004, f"{where}.status", "must be Completed or Incomplete")
    session["status"] = status
    responses = packet.get("responses", {})
    if isinstance(responses, dict):
        responses = [{"question_id": k, **v} if isinstance(v, dict) else {"question_id": k, "value": v}
                     for k, v in responses.items()]
    out = []
    for j, r in enumerate(_list(responses, f"{where}.responses", maximum=MAX_TEMPLATE_QUESTIONS)):
        rwhere = f"{where}.responses[{j}]"
        r = dict(_object(r, rwhere))
        qid = _text(r, "question_id", rwhere, max_length=150)
        r.pop("question_id")
        if "value" not in r:
            raise DataApiError(20000, f"{rwhere}.value")
        revision = r.get("revision", 0)
        if isinstance(revision, bool) or not isinstance(revision, int) or revision < 0:
            raise _err(20003, f"{rwhere}.revision", "must be a whole number")
        try:
            LARGE_JSON(r)
        except ValidationError as exc:
            raise _err(20001, rwhere, " ".join(exc.messages)) from None
        out.append({"question_id": qid, "value": r})
    if len({r["question_id"] for r in out}) != len(out):
        raise _err(20004, f"{where}.responses", "a question is answered twice")
    session["responses"] = out
    started = packet.get("dt_started")
    if isinstance(started, str) and len(started) <= 40:
        from django.utils.dateparse import parse_datetime

        try:
            parsed = parse_datetime(started)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            session["dt_started"] = parsed.isoformat()
    return session


def _failed_submission(ctx: Context, data: list, ignore: bool) -> Result:
    out = [_packet(raw, f"data[{i}]") for i, raw in enumerate(data)]
    _unique(out, "data")
    return _queued(ctx, job_types.TYPE_FAILED_SUBMISSION, {"data": out, "ignore_response_revisions": ignore})

