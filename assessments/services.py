"""Every write of the assessments app: exam sessions, the item bank, learners' sessions, Data API consumers.

Keyword-only, typed, ``@transaction.atomic``, ``full_clean()`` before saving; the staff pages, admin, the
management command, the demo seed and (part 2) the Data API's writers all call these.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from assessments import scoring
from assessments import secrets as consumer_secrets
from assessments.choices import JobStatus, SessionStatus
from assessments.models import (
    Activity,
    ActivityItem,
    AssessmentSession,
    Consumer,
    ExamSession,
    Item,
    Job,
    JobStatusChange,
    Question,
    Response,
    SessionItem,
)
from assessments.permissions import require_consumer_manager
from rostering.common.ids import is_uuid
from rostering.models import District, Person

ROTATION_GRACE = datetime.timedelta(days=7)


# --- Data API consumers ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedConsumer:
    consumer: Consumer
    secret: str  # shown once


def _normalise_domains(domains: Iterable[str]) -> list[str]:
    out: list[str] = []
    for raw in domains:
        d = (raw or "").strip().lower()
        if d and d not in out:
            out.append(d)
    return out


@transaction.atomic
def consumer_create(
    *, district: District, actor=None, name: str = "", allowed_domains: Iterable[str] = (), check_actor: bool = True
) -> IssuedConsumer:
    """A new consumer of ``district`` with a fresh key and secret (the secret is returned once)."""
    if check_actor and actor is not None:
        require_consumer_manager(actor, district.pk)
    secret = consumer_secrets.new_secret()
    for _attempt in range(5):
        consumer = Consumer(
            district=district, name=(name or "").strip(), consumer_key=consumer_secrets.new_consumer_key(),
            secret_encrypted=consumer_secrets.encrypt(secret), allowed_domains=_normalise_domains(allowed_domains),
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        consumer.full_clean(validate_unique=False)
        try:
            with transaction.atomic():
                consumer.save()
        except IntegrityError:  # a key collision (16 characters of 62: practically never)
            continue
        return IssuedConsumer(consumer=consumer, secret=secret)
    raise ValidationError("Could not allocate a unique consumer key; try again.")


@transaction.atomic
def consumer_rotate(*, consumer: Consumer, actor=None, grace: datetime.timedelta = ROTATION_GRACE) -> IssuedConsumer:
    """A new secret; the old one keeps working for ``grace`` (zero: at once invalid)."""
    if actor is not None:
        require_consumer_manager(actor, consumer.district_id)
    consumer = Consumer.objects.select_for_update().get(pk=consumer.pk)
    now = timezone.now()
    secret = consumer_secrets.new_secret()
    if grace > datetime.timedelta(0):
        consumer.previous_secret_encrypted = consumer.secret_encrypted
        consumer.previous_secret_expires_at = now + grace
    else:
        consumer.previous_secret_encrypted = ""
        consumer.previous_secret_expires_at = None
    consumer.secret_encrypted = consumer_secrets.encrypt(secret)
    consumer.rotated_at = now
    consumer.full_clean()
    consumer.save(update_fields=["previous_secret_encrypted", "previous_secret_expires_at", "secret_encrypted", "rotated_at"])
    return IssuedConsumer(consumer=consumer, secret=secret)


@transaction.atomic
def consumer_set_active(*, consumer: Consumer, active: bool, actor=None) -> Consumer:
    if actor is not None:
        require_consumer_manager(actor, consumer.district_id)
    consumer = Consumer.objects.select_for_update().get(pk=consumer.pk)
    consumer.is_active = active
    consumer.deactivated_at = None if active else timezone.now()
    consumer.save(update_fields=["is_active", "deactivated_at"])
    return consumer


def consumer_valid_secrets(consumer: Consumer, *, now: datetime.datetime | None = None) -> list[str]:
    """The secrets a signature may be made with: the current one, and the previous one in its grace period."""
    now = now or timezone.now()
    found = [consumer_secrets.decrypt(consumer.secret_encrypted)]
    if consumer.previous_secret_encrypted and consumer.previous_secret_expires_at and consumer.previous_secret_expires_at > now:
        found.append(consumer_secrets.decrypt(consumer.previous_secret_encrypted))
    return found


# --- Exam sessions and the item bank -----------------------------------------------------------------------------


@transaction.atomic
def exam_session_create(*, school, academic_session, name: str, starts_on, ends_on, term=None,
                        is_published: bool = False) -> ExamSession:
    exam = ExamSession(
        district_id=school.district_id, school=school, academic_session=academic_session, term=term, name=name.strip(),
        starts_on=starts_on, ends_on=ends_on, is_published=is_published,
    )
    exam.full_clean()
    exam.save()
    return exam


@transaction.atomic
def item_create(*, district: District, reference: str, questions: Sequence[dict], title: str = "", content: str = "",
                scoring_type: str = "per-question", metadata: dict | None = None) -> Item:
    """An item with its questions. Each question dict: ``reference``, ``type``, ``stimulus``, ``options``,
    ``validation`` and any other question JSON (kept in ``data``)."""
    item = Item(district=district, reference=reference, title=title, content=content, scoring_type=scoring_type,
                metadata=metadata or {})
    if not content:
        item.content = "".join(
            f'<span class="learnosity-response question-{q["reference"]}"></span>' for q in questions
        )
    item.full_clean()
    item.save()
    for position, spec in enumerate(questions):
        spec = dict(spec)
        question = Question(
            district=district, item=item, position=position, reference=spec.pop("reference"), type=spec.pop("type"),
            stimulus=spec.pop("stimulus", ""), options=spec.pop("options", []), validation=spec.pop("validation", {}),
            metadata=spec.pop("metadata", {}), data=spec,
        )
        question.full_clean()
        question.save()
    return item


@transaction.atomic
def activity_create(*, district: District, reference: str, title: str, items: Sequence[Item], course_id: str = "",
                    exam_session: ExamSession | None = None, grade_level=None, subject=None,
                    subscores: list | None = None, max_time: int | None = None, metadata: dict | None = None) -> Activity:
    activity = Activity(
        district=district, reference=reference, title=title, course_id=course_id, exam_session=exam_session,
        grade_level=grade_level, subject=subject, subscores=subscores or [], max_time=max_time, metadata=metadata or {},
    )
    activity.full_clean()
    activity.save()
    for item in items:
        if item.district_id != district.pk:
            raise ValidationError({"items": f"Item {item.reference} belongs to another district."})
    ActivityItem.objects.bulk_create(
        [ActivityItem(district=district, activity=activity, item=item, position=i) for i, item in enumerate(items)]
    )
    return activity


# --- Learners' sessions -------------------------------------------------------------------------------------------


def session_duration_minutes(dt_started, dt_completed) -> int | None:
    """The seed's rule: minutes, rounded up, from start to completion (time the session sat saved included)."""
    if dt_started is None or dt_completed is None:
        return None
    seconds = (dt_completed - dt_started).total_seconds()
    return max(0, math.ceil(seconds / 60))


@transaction.atomic
def assessment_session_record(
    *, district: District, session_id: str, user_id: str, activity: Activity | None = None, activity_id: str = "",
    status: str = SessionStatus.INCOMPLETE, dt_started=None, dt_completed=None, dt_saved=None,
    items: Sequence[dict] = (), responses: Sequence[dict] = (), metadata: dict | None = None,
    session_metadata: dict | None = None, adaptive: dict | None = None, course_id: str | None = None,
    updated_at=None,
) -> AssessmentSession:
    """Store one learner's session with its items and responses (replacing what an earlier record held).

    ``responses``: dicts with ``response_id``, ``question`` (a Question) or ``question_type`` +
    ``question_reference``, ``item_reference``, ``value`` (the response object), ``score``, ``max_score``,
    ``attempted``, ``manual_score``, ``max_manual_score``, ``dt_score_updated``.
    ``items``: dicts with ``reference``, ``time`` (seconds), ``user_flagged``, ``response_ids``, ``scoring``.
    Totals (num_attempted, num_questions, score, max_score, subscores, session_duration) are derived here.
    """
    now = timezone.now()
    if activity is not None and activity.district_id != district.pk:
        raise ValidationError({"activity": "The activity belongs to another district."})
    person = Person.objects.filter(district=district, pk=user_id).first() if is_uuid(user_id) else None
    session = AssessmentSession.objects.select_for_update().filter(district=district, session_id=session_id).first()
    if session is None:
        session = AssessmentSession(district=district, session_id=session_id)
    else:
        session.responses.all().delete()
        session.items.all().delete()
    session.user_id = user_id
    session.linked_activity = activity
    session.activity_id = activity.reference if activity is not None else activity_id
    session.course_id = course_id if course_id is not None else (activity.course_id if activity else "")
    session.school_id = (
        activity.exam_session.school_id if activity is not None and activity.exam_session_id else (person.school_id if person else None)
    )
    session.person = person
    session.status = status
    session.dt_started, session.dt_completed, session.dt_saved = dt_started, dt_completed, dt_saved
    session.metadata = metadata or {}
    session.session_metadata = session_metadata or {}
    session.adaptive = adaptive
    session.updated_at = updated_at or now

    rows: list[Response] = []
    for position, spec in enumerate(responses):
        question = spec.get("question")
        value = spec.get("value")
        rows.append(Response(
            district=district, position=position, response_id=spec["response_id"], question=question,
            question_reference=question.reference if question else spec.get("question_reference", ""),
            question_type=question.type if question else spec["question_type"],
            item_reference=spec.get("item_reference") or (question.item.reference if question else ""),
            value=value, revision=(value or {}).get("revision", 0) if isinstance(value, dict) else 0,
            score=spec.get("score"), max_score=spec.get("max_score", question.max_score if question else None),
            attempted=spec.get("attempted", value is not None),
            automarkable=spec.get("automarkable", question.automarkable if question else True),
            manual_score=spec.get("manual_score"), max_manual_score=spec.get("max_manual_score"),
            dt_score_updated=spec.get("dt_score_updated") or session.updated_at,
        ))
    apply_totals(session, rows, (activity.subscores or []) if activity is not None else [], settle=False)
    session.session_duration = session_duration_minutes(dt_started, dt_completed)
    session.full_clean(exclude=["linked_activity", "person", "school"])
    session.save()
    for r in rows:
        r.session = session
        r.full_clean(exclude=["session", "question"])
    Response.objects.bulk_create(rows)
    item_rows = []
    for position, spec in enumerate(items):
        row = SessionItem(
            district=district, session=session, position=position, reference=spec["reference"],
            time=int(spec.get("time", 0)), user_flagged=bool(spec.get("user_flagged", False)),
            response_ids=list(spec.get("response_ids", [])), scoring=spec.get("scoring"),
        )
        row.full_clean(exclude=["session"])
        item_rows.append(row)
    SessionItem.objects.bulk_create(item_rows)
    return session


@transaction.atomic
def assessment_session_update(*, session: AssessmentSession, **changes) -> AssessmentSession:
    """Change a stored session's own fields (status, dates, metadata …); ``updated_at`` moves on."""
    allowed = {"status", "dt_started", "dt_completed", "dt_saved", "metadata", "session_metadata", "adaptive",
               "score", "max_score", "course_id"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    session = AssessmentSession.objects.select_for_update().get(pk=session.pk)
    for name, value in changes.items():
        setattr(session, name, value)
    session.session_duration = session_duration_minutes(session.dt_started, session.dt_completed)
    session.updated_at = max(timezone.now(), session.updated_at)
    session.full_clean(exclude=["linked_activity", "person", "school"])
    session.save(update_fields=[*changes, "session_duration", "updated_at"])
    return session


# --- Scoring: the engine applied to stored sessions, manual scores ----------------------------------------------


def question_json(question: Question) -> dict:
    """A stored question as the scoring engine (and ``sessions/templates``) sees it."""
    return {**(question.data or {}), "id": question.reference, "type": question.type, "options": question.options,
            "stimulus": question.stimulus, "validation": question.validation or {}}


def _totals_for(rows: Sequence[Response], subscores) -> scoring.Totals:
    return scoring.session_totals(
        [scoring.ResponseScore(r.item_reference, r.score, r.max_score, r.attempted, r.automarkable) for r in rows],
        subscores,
    )


def _settled_status(status: str, totals: scoring.Totals) -> str:
    """A finished session waits in Pending Scoring while a manual score is missing, and is Completed after."""
    if status in (SessionStatus.COMPLETED, SessionStatus.PENDING_SCORING):
        return SessionStatus.PENDING_SCORING if totals.pending_manual else SessionStatus.COMPLETED
    return status


def apply_totals(session: AssessmentSession, rows: Sequence[Response], subscore_definitions=None, *,
                 settle: bool = True) -> list[str]:
    """Set the session's score, max score, counts, subscores and (``settle``) settled status from ``rows``;
    the fields changed."""
    if subscore_definitions is None:
        subscore_definitions = session.linked_activity.subscores if session.linked_activity_id else None
    totals = _totals_for(rows, subscore_definitions)
    session.score, session.max_score = totals.score, totals.max_score
    session.num_questions, session.num_attempted = totals.num_questions, totals.num_attempted
    session.subscores = totals.subscores
    if not settle:
        return ["score", "max_score", "num_questions", "num_attempted", "subscores"]
    session.status = _settled_status(session.status, totals)
    return ["score", "max_score", "num_questions", "num_attempted", "subscores", "status"]


def rescore_rows(rows: Sequence[Response], questions: dict, *, now) -> list[Response]:
    """Score each automarkable response again with the engine (manual scores are kept); the rows whose score
    moved get ``dt_score_updated = now``. Returns the rows changed."""
    changed = []
    for r in rows:
        question = questions.get(r.question_id)
        if question is None:
            continue
        result = scoring.score_response(question_json(question), r.value)
        if not result.automarkable:
            new = (r.score, result.max_score if r.manual_score is None else r.max_score, False)
        else:
            new = (result.score, result.max_score, True)
        if (r.score, r.max_score, r.automarkable) != new or r.attempted != result.attempted:
            if r.score != new[0]:
                r.dt_score_updated = now
            r.score, r.max_score, r.automarkable = new
            r.attempted = result.attempted
            changed.append(r)
    return changed


@transaction.atomic
def session_rescore(*, session: AssessmentSession, now=None) -> AssessmentSession:
    """Score every automarkable response of the session again and recompute its totals."""
    now = now or timezone.now()
    session = AssessmentSession.objects.select_for_update(of=("self",)).select_related("linked_activity").get(pk=session.pk)
    rows = list(session.responses.order_by("position", "id"))
    ids = {r.question_id for r in rows if r.question_id}
    questions = {q.pk: q for q in Question.objects.filter(district_id=session.district_id, pk__in=ids)}
    changed = rescore_rows(rows, questions, now=now)
    if changed:
        Response.objects.bulk_update(changed, ["score", "max_score", "automarkable", "attempted", "dt_score_updated"])
    fields = apply_totals(session, rows)
    session.updated_at = max(now, session.updated_at)
    session.save(update_fields=[*fields, "updated_at"])
    return session


SCORE_FIELDS = ("score", "max_score", "attempted", "manual_score", "max_manual_score")


def check_score_entry(entry: dict, *, stored: Response | None = None) -> None:
    """The rules of a manual score (raises ``ValidationError``): a number no greater than the max score; a
    non-zero score only on an attempted response; the manual part within its own max and the whole."""
    def value(name):
        if name in entry:
            return entry[name]
        return getattr(stored, name) if stored is not None else None

    score, top = value("score"), value("max_score")
    attempted = value("attempted")
    manual, manual_top = value("manual_score"), value("max_manual_score")
    for name, number in (("score", score), ("max_score", top), ("manual_score", manual), ("max_manual_score", manual_top)):
        if number is not None and (isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number)):
            raise ValidationError(f"{name} must be a number.")
        if number is not None and number < 0:
            raise ValidationError(f"{name} cannot be negative.")
    if score is None:
        raise ValidationError("score is required.")
    if top is not None and score > top:
        raise ValidationError(f"The score {scoring.totals.number(score)} is above the max score {scoring.totals.number(top)}.")
    if score != 0 and not attempted:
        raise ValidationError("A non-zero score needs an attempted response (send attempted: true).")
    if manual is not None and manual_top is not None and manual > manual_top:
        raise ValidationError(f"The manual score {scoring.totals.number(manual)} is above its max {scoring.totals.number(manual_top)}.")
    if manual is not None and manual > score:
        raise ValidationError("The manual score cannot be more than the score.")


@transaction.atomic
def manual_scores_apply(*, district_id, session_id: str, responses: Sequence[dict], user_id: str | None = None,
                        session: AssessmentSession | None = None, now=None) -> AssessmentSession:
    """Give responses of one session their (manual) scores and recompute the session — the one path of the
    Data API's ``sessions/responses/scores`` update and of the marking pages.

    ``responses``: ``{"response_id", "score", "max_score"?, "attempted"?, "manual_score"?, "max_manual_score"?}``.
    ``dt_score_updated`` moves only on the responses whose score changed. Raises ``ValidationError`` (nothing
    changed) for an unknown session or response, a wrong ``user_id`` or a score against the rules.
    """
    now = now or timezone.now()
    qs = AssessmentSession.objects.select_for_update(of=("self",)).select_related("linked_activity").filter(district_id=district_id)
    session = qs.filter(pk=session.pk).first() if session is not None else qs.filter(session_id=session_id).first()
    if session is None:
        raise ValidationError(f"There is no session {session_id!r}.")
    if user_id is not None and session.user_id != user_id:
        raise ValidationError(f"user_id {user_id!r} is not the user of session {session.session_id!r}.")
    rows = list(session.responses.order_by("position", "id"))
    by_id = {r.response_id: r for r in rows}
    changed: dict[int, Response] = {}
    for entry in responses:
        row = by_id.get(entry.get("response_id"))
        if row is None:
            raise ValidationError(f"Session {session.session_id!r} has no response {entry.get('response_id')!r}.")
        check_score_entry(entry, stored=row)
        before = row.score
        for name in SCORE_FIELDS:
            if name in entry:
                setattr(row, name, float(entry[name]) if name != "attempted" else bool(entry[name]))
        if row.score != before:
            row.dt_score_updated = now
        row.full_clean(exclude=["session", "question"])
        changed[row.pk] = row
    if changed:
        Response.objects.bulk_update(list(changed.values()), [*SCORE_FIELDS, "dt_score_updated"])
    fields = apply_totals(session, rows)
    session.updated_at = max(now, session.updated_at)
    session.save(update_fields=[*fields, "updated_at"])
    return session


# --- Data API jobs: created queued, moved by the worker ---------------------------------------------------------


JOB_DONE = (JobStatus.COMPLETED, JobStatus.HALTED)


class JobTransitionError(ValidationError):
    pass


def job_transition(*, job: Job, to: str, reason: str = "", updates: dict | None = None, locked: bool = False) -> Job:
    """Move a job to ``to``: lock the row, check ``Job.ALLOWED_TRANSITIONS``, save the status and ``updates``
    with ``update_fields``, write one history row."""
    with transaction.atomic(savepoint=False):
        if not locked:
            job = Job.objects.select_for_update().get(pk=job.pk)
        current = job.status
        if to not in Job.ALLOWED_TRANSITIONS.get(current, ()):
            raise JobTransitionError(f"A {current} job cannot become {to}.")
        now = timezone.now()
        job.status = to
        fields = ["status"]
        for name, value in (updates or {}).items():
            setattr(job, name, value)
            fields.append(name)
        if to in JOB_DONE:
            job.dt_completed = now
            fields.append("dt_completed")
        # Only what changed is validated: the request (up to 1 MB of JSON) was checked when the job was made.
        job.full_clean(exclude=[f.name for f in Job._meta.fields if f.name not in fields], validate_unique=False,
                       validate_constraints=False)
        job.save(update_fields=fields)
        JobStatusChange.objects.create(district_id=job.district_id, job=job, from_status=current, to_status=to,
                                       reason=reason[:1000], created_at=now)
    return job


# --- Exam-session set-up (used by the exam-session wizard of session_setup) ------------------------------------


EXAM_SESSION_FIELDS = ("name", "academic_session", "term", "starts_on", "ends_on")


@transaction.atomic
def exam_session_update(*, exam: ExamSession, **changes) -> ExamSession:
    """Change the name, year, term or dates of an exam session (``EXAM_SESSION_FIELDS``)."""
    locked = ExamSession.objects.select_for_update().get(pk=exam.pk)
    changed = []
    for field, value in changes.items():
        if field not in EXAM_SESSION_FIELDS:
            raise ValueError(f"{field} cannot be changed here.")
        if field == "name":
            value = value.strip()
        if getattr(locked, field) != value:
            setattr(locked, field, value)
            changed.append(field)
    if changed:
        locked.full_clean()
        locked.save(update_fields=[*changed, "updated_at"])
    return locked


@transaction.atomic
def exam_session_set_published(*, exam: ExamSession, published: bool = True) -> ExamSession:
    locked = ExamSession.objects.select_for_update().get(pk=exam.pk)
    if locked.is_published != published:
        locked.is_published = published
        locked.save(update_fields=["is_published", "updated_at"])
    return locked


@transaction.atomic
def activity_remove(*, activity: Activity) -> None:
    """Remove an activity that no learner has started (one that has sessions stays)."""
    if AssessmentSession.objects.filter(district_id=activity.district_id, linked_activity=activity).exists():
        raise ValidationError(f"Learners have already sat {activity.title}: it cannot be removed.")
    activity.delete()
