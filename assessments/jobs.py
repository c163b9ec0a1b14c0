"""Running a Data API job: the worker's side of every write.

``job_create`` stores a checked request as a queued job and enqueues ``run_job`` (the ``django.tasks`` task
the worker runs) when its transaction commits. ``run(job_pk)`` moves the job ``queued → running`` (its own short transaction, so a poller sees it), then runs
every entry of the checked request in **one** transaction, each entry in a savepoint so that all its errors are
collected: with no error the changes and ``completed`` commit together; with any, everything is rolled back and
the job is ``halted`` with the errors per entry — a halted job changed nothing. A job already finished is left
alone, and a job left ``running`` by a worker that died is simply run again (its changes were never committed),
so running a task twice is harmless.

Every query is ``.filter(district_id=job.district_id)``: another district's session is an unknown session.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.tasks import task
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from assessments import scoring
from assessments.choices import JobStatus, SessionStatus
from assessments.models import (
    Activity,
    AssessmentSession,
    Consumer,
    Job,
    JobStatusChange,
    Question,
    Response,
    SessionItem,
)
from assessments.services import (
    JOB_DONE,
    apply_totals,
    job_transition,
    manual_scores_apply,
    question_json,
    rescore_rows,
    session_duration_minutes,
)
from rostering.models import Person

logger = logging.getLogger("assessments.jobs")

TYPE_SCORES = "manualresponseupdate"
TYPE_STATUSES = "sessionstatuses"
TYPE_METADATA = "sessionmetadata"
TYPE_FROM_TEMPLATE = "sessionsfromtemplate"
TYPE_FAILED_SUBMISSION = "failedsubmission"


class Halt(Exception):
    def __init__(self, errors: list[dict]):
        self.errors = errors
        super().__init__(f"{len(errors)} entries failed")


@dataclass
class Outcome:
    errors: list[dict] = field(default_factory=list)
    result: dict = field(default_factory=dict)

    def fail(self, index: int, session_id, message) -> None:
        self.errors.append({"index": index, "session_id": session_id, "message": str(message)})


def _message(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _each(outcome: Outcome, entries: list[dict], apply: Callable[[dict], None]) -> int:
    done = 0
    for index, entry in enumerate(entries):
        try:
            with transaction.atomic():
                apply(entry)
            done += 1
        except ValidationError as exc:
            outcome.fail(index, entry.get("session_id"), _message(exc))
    return done


# --- the runners: each gets the locked job and returns what it did ---------------------------------------------


def run_scores(job: Job) -> Outcome:
    outcome = Outcome()
    now = timezone.now()
    sessions = job.request["sessions"]

    def apply(entry):
        manual_scores_apply(district_id=job.district_id, session_id=entry["session_id"], user_id=entry.get("user_id"),
                            responses=entry["responses"], now=now)

    outcome.result = {"sessions_updated": _each(outcome, sessions, apply),
                      "responses_updated": sum(len(s["responses"]) for s in sessions)}
    return outcome


def _sessions_by_id(job: Job, entries: list[dict]) -> dict[str, AssessmentSession]:
    ids = [e["session_id"] for e in entries]
    return {s.session_id: s for s in AssessmentSession.objects.select_for_update(of=("self",)).select_related("linked_activity")
            .filter(district_id=job.district_id, session_id__in=ids)}


def _check_owner(entry: dict, found: dict) -> AssessmentSession:
    session = found.get(entry["session_id"])
    if session is None:
        raise ValidationError(f"There is no session {entry['session_id']!r}.")
    if session.user_id != entry["user_id"]:
        raise ValidationError(f"user_id {entry['user_id']!r} is not the user of session {session.session_id!r}.")
    return session


def run_statuses(job: Job) -> Outcome:
    outcome = Outcome()
    entries = job.request["statuses"]
    found = _sessions_by_id(job, entries)
    now = timezone.now()
    completing = [found[e["session_id"]].pk for e in entries if e["session_id"] in found and e["status"] == SessionStatus.COMPLETED]
    rows_by_session: dict[int, list[Response]] = {}
    for r in Response.objects.filter(district_id=job.district_id, session_id__in=completing).order_by("position", "id"):
        rows_by_session.setdefault(r.session_id, []).append(r)
    question_ids = {r.question_id for rows in rows_by_session.values() for r in rows if r.question_id}
    questions = {q.pk: q for q in Question.objects.filter(district_id=job.district_id, pk__in=question_ids)}

    def apply(entry):
        session = _check_owner(entry, found)
        fields = ["status", "updated_at"]
        session.status = entry["status"]
        if entry["status"] == SessionStatus.COMPLETED:
            if session.dt_completed is None:
                session.dt_completed = max(now, session.dt_started) if session.dt_started else now
                session.session_duration = session_duration_minutes(session.dt_started, session.dt_completed)
                fields += ["dt_completed", "session_duration"]
            rows = rows_by_session.get(session.pk, [])
            changed = rescore_rows(rows, questions, now=now)
            if changed:
                Response.objects.bulk_update(changed, ["score", "max_score", "automarkable", "attempted", "dt_score_updated"])
            fields += apply_totals(session, rows)
        session.updated_at = max(now, session.updated_at)
        session.save(update_fields=list(dict.fromkeys(fields)))

    outcome.result = {"sessions_updated": _each(outcome, entries, apply)}
    return outcome


def run_metadata(job: Job) -> Outcome:
    outcome = Outcome()
    entries = job.request["session_metadata"]
    found = _sessions_by_id(job, entries)
    now = timezone.now()

    def apply(entry):
        session = _check_owner(entry, found)
        session.session_metadata = entry["metadata"]  # replaced, not merged
        session.updated_at = max(now, session.updated_at)
        session.full_clean(exclude=["linked_activity", "person", "school"], validate_unique=False, validate_constraints=False)
        session.save(update_fields=["session_metadata", "updated_at"])

    outcome.result = {"sessions_updated": _each(outcome, entries, apply)}
    return outcome


# --- creating sessions (from_template, failed_submission) -------------------------------------------------------


@dataclass
class Bank:
    """The district's questions, activities and persons a batch of new sessions refers to (a few queries)."""

    questions: dict[str, Question]
    activities: dict[str, Activity]
    persons: dict[str, Person]

    @classmethod
    def load(cls, district_id, question_refs, activity_refs, user_ids) -> Bank:
        import uuid

        uuids = []
        for u in user_ids:
            try:
                uuids.append(uuid.UUID(str(u)))
            except ValueError:
                continue
        return cls(
            questions={q.reference: q for q in Question.objects.select_related("item")
                       .filter(district_id=district_id, reference__in=set(question_refs))},
            activities={a.reference: a for a in Activity.objects.select_related("exam_session")
                        .filter(district_id=district_id, reference__in=set(activity_refs))},
            persons={str(p.pk): p for p in Person.objects.filter(district_id=district_id, pk__in=uuids)},
        )


def _response_row(job: Job, session_id: str, position: int, question: Question, value, now) -> Response:
    if not hasattr(question, "_scoring_json"):
        question._scoring_json = question_json(question)  # once per question of the batch, not per response
    result = scoring.score_response(question._scoring_json, value)
    return Response(
        district_id=job.district_id, position=position, response_id=f"{session_id}_{question.reference}",
        question=question, question_reference=question.reference, question_type=question.type,
        item_reference=question.item.reference, value=value,
        revision=int((value or {}).get("revision", 0)) if isinstance(value, dict) else 0,
        score=result.score, max_score=result.max_score, attempted=result.attempted, automarkable=result.automarkable,
        dt_score_updated=now,
    )


def _new_session(job: Job, entry: dict, bank: Bank, *, item_layout: list[dict], subscores, status: str, now,
                 metadata: dict) -> tuple[AssessmentSession, list[Response], list[SessionItem]]:
    activity = bank.activities.get(entry["activity_id"])
    person = bank.persons.get(entry["user_id"])
    answers = {r["question_id"]: r["value"] for r in entry["responses"]}
    rows: list[Response] = []
    items: list[SessionItem] = []
    for item_position, layout in enumerate(item_layout):
        response_ids = []
        for qid in layout["question_ids"]:
            question = bank.questions.get(qid)
            if question is None:
                raise ValidationError(f"There is no question {qid!r} in the item bank.")
            rows.append(_response_row(job, entry["session_id"], len(rows), question, answers.get(qid), now))
            response_ids.append(rows[-1].response_id)
        items.append(SessionItem(district_id=job.district_id, position=item_position, reference=layout["reference"],
                                 time=0, response_ids=response_ids))
    dt_started = min(parse_datetime(entry["dt_started"]) or now, now) if entry.get("dt_started") else now
    session = AssessmentSession(
        district_id=job.district_id, session_id=entry["session_id"], user_id=entry["user_id"],
        activity_id=entry["activity_id"], linked_activity=activity, person=person,
        course_id=activity.course_id if activity else "",
        school_id=(activity.exam_session.school_id if activity and activity.exam_session_id
                   else (person.school_id if person else None)),
        status=status, dt_started=dt_started, dt_completed=now if status != SessionStatus.INCOMPLETE else None,
        dt_saved=now, updated_at=now, metadata=metadata,
    )
    session.session_duration = session_duration_minutes(session.dt_started, session.dt_completed)
    if subscores is None and activity is not None:
        subscores = activity.subscores
    apply_totals(session, rows, subscores or [])
    if not subscores:
        session.subscores = None
    return session, rows, items


def _store_new(built: list[tuple[AssessmentSession, list[Response], list[SessionItem]]]) -> None:
    """All the batch's sessions, responses and items in three bulk inserts."""
    if not built:
        return
    sessions = AssessmentSession.objects.bulk_create([b[0] for b in built])
    responses, items = [], []
    for session, rows, item_rows in zip(sessions, (b[1] for b in built), (b[2] for b in built), strict=True):
        for r in rows:
            r.session = session
        for i in item_rows:
            i.session = session
        responses += rows
        items += item_rows
    Response.objects.bulk_create(responses, batch_size=2000)
    SessionItem.objects.bulk_create(items, batch_size=2000)


def run_from_template(job: Job) -> Outcome:
    outcome = Outcome()
    request = job.request
    entries = request["data"]
    template = request["template"]
    now = timezone.now()
    bank = Bank.load(job.district_id, [q for i in template["items"] for q in i["question_ids"]],
                     [e["activity_id"] for e in entries], [e["user_id"] for e in entries])
    existing = set(AssessmentSession.objects.filter(district_id=job.district_id,
                                                    session_id__in=[e["session_id"] for e in entries])
                   .values_list("session_id", flat=True))
    built = []
    for index, entry in enumerate(entries):
        if entry["session_id"] in existing:
            outcome.fail(index, entry["session_id"], f"Session {entry['session_id']!r} already exists.")
            continue
        try:
            built.append(_new_session(
                job, entry, bank, item_layout=template["items"], subscores=template.get("subscores"),
                status=SessionStatus.COMPLETED, now=now, metadata=template.get("metadata") or {},
            ))
        except ValidationError as exc:
            outcome.fail(index, entry["session_id"], _message(exc))
    if not outcome.errors:
        _store_new(built)
    outcome.result = {"sessions_created": len(built)}
    return outcome


def run_failed_submission(job: Job) -> Outcome:
    outcome = Outcome()
    entries = job.request["data"]
    ignore_revisions = bool(job.request.get("ignore_response_revisions"))
    now = timezone.now()
    bank = Bank.load(job.district_id, [r["question_id"] for e in entries for r in e["responses"]],
                     [e["activity_id"] for e in entries], [e["user_id"] for e in entries])
    found = _sessions_by_id(job, entries)
    created = updated = kept = 0
    built = []
    for index, entry in enumerate(entries):
        session = found.get(entry["session_id"])
        try:
            if session is None:
                layout: dict[str, list[str]] = {}
                for r in entry["responses"]:
                    question = bank.questions.get(r["question_id"])
                    if question is None:
                        raise ValidationError(f"There is no question {r['question_id']!r} in the item bank.")
                    layout.setdefault(question.item.reference, []).append(question.reference)
                built.append(_new_session(
                    job, entry, bank, item_layout=[{"reference": k, "question_ids": v} for k, v in layout.items()],
                    subscores=None, status=entry["status"], now=now, metadata=entry.get("metadata") or {},
                ))
                created += 1
                continue
            if session.user_id != entry["user_id"]:
                raise ValidationError(f"user_id {entry['user_id']!r} is not the user of session {session.session_id!r}.")
            with transaction.atomic():
                kept += _merge_into(job, session, entry, bank, ignore_revisions=ignore_revisions, now=now)
            updated += 1
        except ValidationError as exc:
            outcome.fail(index, entry["session_id"], _message(exc))
    if not outcome.errors:
        _store_new(built)
    outcome.result = {"sessions_created": created, "sessions_updated": updated, "responses_kept_newer": kept}
    return outcome


def _merge_into(job: Job, session: AssessmentSession, entry: dict, bank: Bank, *, ignore_revisions: bool, now) -> int:
    """A failed submission over a stored session: each response replaces the stored one unless the stored one
    has a higher revision (and revisions are not ignored). Returns how many stored responses were kept."""
    rows = list(session.responses.order_by("position", "id"))
    by_question = {r.question_reference: r for r in rows}
    kept = 0
    new_rows = []
    for r in entry["responses"]:
        question = bank.questions.get(r["question_id"])
        if question is None:
            raise ValidationError(f"There is no question {r['question_id']!r} in the item bank.")
        value = r["value"]
        revision = int(value.get("revision", 0)) if isinstance(value, dict) else 0
        stored = by_question.get(question.reference)
        if stored is not None and not ignore_revisions and stored.revision > revision:
            kept += 1
            continue
        fresh = _response_row(job, session.session_id, len(rows) + len(new_rows), question, value, now)
        if stored is None:
            fresh.session = session
            new_rows.append(fresh)
            continue
        if stored.score != fresh.score:
            stored.dt_score_updated = now
        stored.value, stored.revision = fresh.value, fresh.revision
        stored.score, stored.max_score, stored.attempted, stored.automarkable = (
            fresh.score, fresh.max_score, fresh.attempted, fresh.automarkable)
        stored.manual_score = stored.max_manual_score = None
        stored.full_clean(exclude=["session", "question"])
        stored.save(update_fields=["value", "revision", "score", "max_score", "attempted", "automarkable",
                                   "manual_score", "max_manual_score", "dt_score_updated"])
    if new_rows:
        Response.objects.bulk_create(new_rows)
        rows += new_rows
    if entry["status"] == SessionStatus.COMPLETED and session.status == SessionStatus.INCOMPLETE:
        session.status = SessionStatus.COMPLETED
        session.dt_completed = now
        session.session_duration = session_duration_minutes(session.dt_started, session.dt_completed)
    fields = apply_totals(session, rows)
    session.dt_saved = session.updated_at = max(now, session.updated_at)
    session.save(update_fields=[*fields, "dt_saved", "updated_at", "dt_completed", "session_duration"])
    return kept


RUNNERS: dict[str, Callable[[Job], Outcome]] = {
    TYPE_SCORES: run_scores,
    TYPE_STATUSES: run_statuses,
    TYPE_METADATA: run_metadata,
    TYPE_FROM_TEMPLATE: run_from_template,
    TYPE_FAILED_SUBMISSION: run_failed_submission,
}


def run(job_pk: int) -> str:
    """Run the job (see the module docstring); returns its final status."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_pk).first()
        if job is None:
            return "missing"
        if job.status in JOB_DONE:
            return job.status
        retry = job.status == JobStatus.RUNNING
        job_transition(job=job, to=JobStatus.RUNNING, locked=True, reason="run again" if retry else "started",
                       updates={"attempts": job.attempts + 1, "dt_started": timezone.now()})
    try:
        with transaction.atomic():
            job = Job.objects.select_for_update().get(pk=job_pk)
            if job.status != JobStatus.RUNNING:
                return job.status
            outcome = RUNNERS[job.type](job)
            if outcome.errors:
                raise Halt(outcome.errors)
            job_transition(job=job, to=JobStatus.COMPLETED, locked=True, reason="done",
                           updates={"result": outcome.result, "data": {"result": outcome.result}})
            return JobStatus.COMPLETED
    except Halt as halt:
        errors = halt.errors[:1000]
        reason = f"{len(halt.errors)} of the entries failed; nothing was changed"
    except Exception:
        logger.exception("Data API job %s failed", job_pk)
        errors = [{"index": None, "session_id": None, "message": "The job could not be run; nothing was changed."}]
        reason = "error"
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_pk)
        if job.status == JobStatus.RUNNING:
            job_transition(job=job, to=JobStatus.HALTED, locked=True, reason=reason,
                           updates={"errors": errors, "data": {"errors": errors}})
    return JobStatus.HALTED


@task
def run_job(job_pk: int) -> str:
    """Run one Data API job (``run``); safe to run again if a worker died half-way."""
    return run(job_pk)


@transaction.atomic
def job_create(*, district_id, type: str, request: dict, consumer: Consumer | None = None) -> Job:
    """A queued job for one checked write request; its task is enqueued when this transaction commits."""
    now = timezone.now()
    job = Job(district_id=district_id, consumer=consumer, type=type, status=JobStatus.QUEUED, request=request,
              dt_created=now)
    job.full_clean(exclude=["consumer"])
    job.save()
    JobStatusChange.objects.create(district_id=district_id, job=job, from_status="", to_status=JobStatus.QUEUED,
                                   reason="received", created_at=now)
    transaction.on_commit(lambda: run_job.enqueue(job.pk))
    return job
