"""Every read of registration data: always scoped to what the user may see, shared by pages, API and services.

- progress counters (one aggregate query per session, or per page of sessions);
- sessions, access codes and submissions, filtered by ``registrations.filtersets``;
- the participant form of a session and its selection context (the school's grades, classes, subjects);
- the review queue's scope (class teachers see their own classes only), roster matches and duplicates;
- failed code attempts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, F, Max, Min, OuterRef, Prefetch, Q, QuerySet, Sum

from registrations.choices import (
    CodeStatus,
    GenerationStatus,
    PersonType,
    RegistrationMode,
    SessionStatus,
    SubmissionStatus,
)
from registrations.filtersets import (
    AWAITING_REVIEW,
    AccessCodeFilterSet,
    RegistrationSessionFilterSet,
    SubmissionFilterSet,
)
from registrations.models import (
    AccessCode,
    CodeAttempt,
    CodeGeneration,
    RegistrationSession,
    Submission,
    SubmissionStatusChange,
)
from registrations.validators import CATALOGUE, HIDDEN, REQUIRED, FormField, default_required_fields
from rostering.choices import MembershipRole
from rostering.common.ids import is_uuid
from rostering.models import ClassDivision, Enrollment, GradeLevel, Person, Subject
from rostering.permissions import ROLE_PERMISSIONS, Perm, grants_for, has_perm_on, tenant_wide_districts

# --- permissions on one object --------------------------------------------------------------------------


def can_manage(user, session: RegistrationSession) -> bool:
    """May ``user`` change this session, its codes, and import its submissions?"""
    return has_perm_on(user, Perm.REGISTRATIONS_MANAGE, session)


def class_teacher_division_ids(user) -> set:
    """Class divisions where the user's roster person teaches."""
    return set(
        Enrollment.objects.filter(person__user=user, role="teacher").values_list("class_division_id", flat=True)
    )


def _class_teacher_only(user) -> bool:
    roles = {g.role for g in grants_for(user)}
    return not user.is_superuser and bool(roles) and roles <= {MembershipRole.CLASS_TEACHER}


def can_review(user, submission: Submission, *, division_ids: set | None = None) -> bool:
    """``division_ids``: the user's ``class_teacher_division_ids``, when a caller checks many rows."""
    session = submission.session
    if not has_perm_on(user, Perm.REGISTRATIONS_REVIEW, session):
        return False
    if user.is_superuser or can_manage(user, session):
        return True
    # Class teachers review their own classes only.
    if division_ids is None:
        division_ids = class_teacher_division_ids(user)
    return submission.class_division_id in division_ids


# --- progress ---------------------------------------------------------------------------------------------

_COUNTERS = {
    "codes_generated": Q(),
    "revoked": Q(revoked_at__isnull=False),
    "unused": Q(status=CodeStatus.UNUSED, revoked_at__isnull=True),
    "started": Q(status=CodeStatus.STARTED, revoked_at__isnull=True),
    "submitted": Q(status=CodeStatus.SUBMITTED),
    "needs_correction": Q(status=CodeStatus.NEEDS_CORRECTION),
    "approved": Q(status=CodeStatus.APPROVED),
    "rejected": Q(status=CodeStatus.REJECTED),
    "imported": Q(status=CodeStatus.IMPORTED),
}


@dataclass(frozen=True)
class ProgressSummary:
    """The seed's RegistrationProgressSummary (DESIGN.md gives the formulas)."""

    expected_count: int | None
    codes_generated: int
    unused: int
    started: int
    submitted: int
    needs_correction: int
    approved: int
    rejected: int
    imported: int
    revoked: int
    completion_percent: float
    approval_percent: float

    def as_camel(self) -> dict[str, Any]:
        return {
            "expectedCount": self.expected_count,
            "codesGenerated": self.codes_generated,
            "unused": self.unused,
            "started": self.started,
            "submitted": self.submitted,
            "needsCorrection": self.needs_correction,
            "approved": self.approved,
            "rejected": self.rejected,
            "imported": self.imported,
            "revoked": self.revoked,
            "completionPercent": self.completion_percent,
            "approvalPercent": self.approval_percent,
        }

    as_dict = asdict


def _percent(part: int, whole: int | None) -> float:
    if not whole:
        return 0.0
    return round(part * 100 / whole, 1)


def build_progress(expected_count: int | None, counts: dict[str, int]) -> ProgressSummary:
    c = {k: int(counts.get(k) or 0) for k in _COUNTERS}
    reviewed_or_waiting = c["submitted"] + c["needs_correction"] + c["approved"] + c["rejected"] + c["imported"]
    return ProgressSummary(
        expected_count=expected_count,
        completion_percent=_percent(c["submitted"] + c["approved"] + c["imported"], expected_count),
        approval_percent=_percent(c["approved"] + c["imported"], reviewed_or_waiting),
        **c,
    )


def progress_annotations(prefix: str = "access_codes") -> dict[str, Count]:
    """Annotations that compute every counter for many sessions in the same query as the list."""
    return {
        f"progress_{name}": Count(prefix, filter=_prefixed(q, prefix)) if name != "codes_generated" else Count(prefix)
        for name, q in _COUNTERS.items()
    }


def _prefixed(q: Q, prefix: str) -> Q:
    return Q(*[(f"{prefix}__{k}", v) for k, v in q.children], _connector=q.connector)


def progress_from_annotated(session: RegistrationSession) -> ProgressSummary:
    return build_progress(session.expected_count, {k: getattr(session, f"progress_{k}") for k in _COUNTERS})


def attach_progress(sessions: list[RegistrationSession]) -> list[RegistrationSession]:
    """Set the ``progress_*`` counters on sessions already fetched (one page of a list) in one grouped query.

    Cheaper than annotating a whole list: only the page's codes are counted (index: session, status),
    however many codes the other sessions of the district have. ``progress_from_annotated`` reads them.
    """
    rows = (
        AccessCode.objects.filter(session_id__in=[s.pk for s in sessions])
        .order_by()
        .values("session_id")
        .annotate(**{name: Count("pk", filter=q) if q.children else Count("pk") for name, q in _COUNTERS.items()})
    ) if sessions else []
    counts = {row["session_id"]: row for row in rows}
    for session in sessions:
        row = counts.get(session.pk, {})
        for name in _COUNTERS:
            setattr(session, f"progress_{name}", row.get(name, 0))
    return sessions


def registration_progress(*, session: RegistrationSession) -> ProgressSummary:
    """One aggregate query over the session's codes (index: session, status)."""
    counts = AccessCode.objects.filter(session_id=session.pk).aggregate(
        **{name: Count("pk", filter=q) if q.children else Count("pk") for name, q in _COUNTERS.items()}
    )
    return build_progress(session.expected_count, counts)



# --- sessions ---------------------------------------------------------------------------------------------

SESSION_RELATED = ("school", "class_division", "grade_level", "academic_year", "term", "created_by")


def registration_session_list(
    *, user, tenant_wide: bool = False, filters: dict | None = None, with_progress: bool = True
) -> QuerySet:
    """Sessions the user may see, filtered by ``RegistrationSessionFilterSet`` (mode, status, school_id, search),
    with their progress counters annotated (constant number of queries).

    The annotation counts the codes of every session in the list before any slicing; for paginated lists
    over large districts pass ``with_progress=False`` and call ``attach_progress(page)`` on the page.

    Without ``tenant_wide`` the list is what the user can reach (their schools, or their districts for
    district-level roles). ``tenant_wide=True`` asks for the district-wide view and needs a
    district-level role (403 otherwise).
    """
    qs = RegistrationSession.objects.for_user(user, perm=Perm.REGISTRATIONS_VIEW)
    if tenant_wide and not user.is_superuser:
        districts = tenant_wide_districts(user, Perm.REGISTRATIONS_VIEW)
        if not districts:
            raise PermissionDenied("tenantWide needs a district-level role.")
        qs = RegistrationSession.objects.filter(district_id__in=districts)
    qs = RegistrationSessionFilterSet.apply(qs, filters).select_related(*SESSION_RELATED)
    return qs.annotate(**progress_annotations()) if with_progress else qs


def registration_session_detail_queryset(*, user) -> QuerySet:
    return RegistrationSession.objects.for_user(user, perm=Perm.REGISTRATIONS_VIEW).select_related(
        "school", "district", "class_division__grade_level", "grade_level", "academic_year", "term", "created_by"
    )


def progress_overview(*, user, filters: dict | None = None) -> tuple[QuerySet, ProgressSummary]:
    """The district-wide progress page: every session the user can see (archived ones only when asked for)
    with its counters, and the totals over all of them (one grouped query and one sum)."""
    filters = dict(filters or {})
    base = RegistrationSessionFilterSet.apply(
        RegistrationSession.objects.for_user(user, perm=Perm.REGISTRATIONS_VIEW), filters
    )
    if not filters.get("status"):
        base = base.exclude(status=SessionStatus.ARCHIVED)
    counts: Counter = Counter()
    for row in base.order_by().values("district").annotate(**progress_annotations()):
        counts.update({k.removeprefix("progress_"): v for k, v in row.items() if k.startswith("progress_")})
    totals = build_progress(base.aggregate(total=Sum("expected_count"))["total"], counts)
    sessions = base.select_related("school", "class_division", "grade_level").annotate(**progress_annotations())
    return sessions, totals


def session_history(session: RegistrationSession):
    return session.status_changes.select_related("actor")[:50]


# --- access codes -----------------------------------------------------------------------------------------


def access_code_list(*, session: RegistrationSession, filters: dict | None = None) -> QuerySet[AccessCode]:
    """A session's codes, filtered by ``AccessCodeFilterSet`` (status, print_batch, search)."""
    return AccessCodeFilterSet.apply(AccessCode.objects.filter(session=session), filters)


def access_code_batches(*, session: RegistrationSession, limit: int = 20) -> list[dict]:
    """The session's print batches, newest first, with their counts (one grouped query)."""
    return list(
        AccessCode.objects.filter(session=session)
        .values("print_batch")
        .annotate(
            total=Count("pk"),
            live_unused=Count("pk", filter=Q(status=CodeStatus.UNUSED, revoked_at__isnull=True)),
            assigned=Count("pk", filter=Q(assigned_person__isnull=False)),
            created=Min("created_at"),
            expires=Max("expires_at"),
        )
        .order_by("-created")[:limit]
    )


def printable_codes(*, session: RegistrationSession, batch=None) -> QuerySet[AccessCode]:
    """Codes to print: a batch's live codes, or every live unused code that has not expired."""
    from django.utils import timezone

    codes = AccessCode.objects.filter(session=session, revoked_at__isnull=True)
    if batch is not None:
        return codes.filter(print_batch=batch)
    return codes.filter(status=CodeStatus.UNUSED).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))


def active_code_generations(*, session: RegistrationSession) -> list:
    """Background generations of the session still queued or running, and those that ended in the last
    minute (so the panel can say they are done, or why they failed)."""
    from datetime import timedelta

    from django.utils import timezone

    recent = Q(updated_at__gte=timezone.now() - timedelta(minutes=1))
    active = Q(status__in=[GenerationStatus.QUEUED, GenerationStatus.RUNNING])
    return list(CodeGeneration.objects.filter(active | recent, session=session).order_by("created_at")[:5])


def roster_people_in_scope(session: RegistrationSession):
    """The roster people a session's codes can be assigned to: its class, its grade or its school."""
    if session.mode == RegistrationMode.TEACHER_SELF_REGISTRATION:
        qs = Person.objects.filter(district_id=session.district_id, role="teacher")
        if session.class_division_id:
            qs = qs.filter(enrollments__class_division_id=session.class_division_id, enrollments__role="teacher")
        else:
            qs = qs.filter(Q(school_id=session.school_id) | Q(enrollments__class_division__school_id=session.school_id))
        return qs.distinct()
    qs = Person.objects.filter(district_id=session.district_id, role="student")
    if session.class_division_id:
        qs = qs.filter(enrollments__class_division_id=session.class_division_id, enrollments__role="student")
    elif session.grade_level_id:
        in_grade_classes = Enrollment.objects.filter(
            class_division__school_id=session.school_id, class_division__grade_level_id=session.grade_level_id,
            role="student",
        ).values("person_id")
        qs = qs.filter(Q(school_id=session.school_id, grade_level_id=session.grade_level_id) | Q(pk__in=in_grade_classes))
    else:
        qs = qs.filter(Q(school_id=session.school_id) | Q(enrollments__class_division__school_id=session.school_id))
    return qs.distinct()


def people_without_code(session: RegistrationSession):
    """Roster people in the session's scope who have no live code in it yet."""
    live = AccessCode.objects.filter(session=session, assigned_person__isnull=False, revoked_at__isnull=True)
    return roster_people_in_scope(session).exclude(pk__in=live.values("assigned_person_id"))


# --- the participant form -----------------------------------------------------------------------------------


class SelectionContext:
    """The school's grades, classes and subjects for a session's form, and the session's placement locks.

    Each list is read on first use only (a class-locked form never reads the grades): a submit costs the
    queries its form needs and no more. ``grade_level(id)`` / ``class_division(id)`` look ids up in them.
    """

    def __init__(self, session):
        self.session = session
        self.grade_locked = bool(session.grade_level_id)
        self.class_locked = bool(session.class_division_id)
        self.locked_grade_level_id = str(session.grade_level_id) if session.grade_level_id else None
        self.locked_class_division_id = str(session.class_division_id) if session.class_division_id else None

    @cached_property
    def _all_grade_levels(self) -> list:
        s = self.session
        return list(
            GradeLevel.objects.filter(Q(school_id=s.school_id) | Q(school__isnull=True), district_id=s.district_id)
            .order_by("rank", "name")
        )

    def _classes(self):
        s = self.session
        qs = ClassDivision.objects.filter(school_id=s.school_id)
        if s.academic_year_id:
            qs = qs.filter(Q(academic_session_id=s.academic_year_id) | Q(academic_session__isnull=True))
        return qs

    @cached_property
    def class_divisions(self) -> list:
        return list(self._classes().select_related("grade_level").order_by("grade_level__rank", "name"))

    @cached_property
    def grade_levels(self) -> list:
        """The grades to offer: the school's own, and district grades its classes use (all when it has none)."""
        used = {c.grade_level_id for c in self.class_divisions}
        return [g for g in self._all_grade_levels if g.school_id or g.pk in used or not used]

    @cached_property
    def subjects(self) -> list:
        return list(Subject.objects.filter(district_id=self.session.district_id).order_by("name"))

    @cached_property
    def _checked(self) -> dict:
        return {}

    def trust(self, submission) -> SelectionContext:
        """Take the grade and class stored with ``submission``'s draft as offered: they were checked when it
        was saved, and the foreign keys keep them in existence. An autosave or a submit that keeps them costs
        no placement query. They are known by id only (``Model.from_db`` with the other fields deferred:
        a name is read from the database only if a message needs it)."""
        grade_id, class_id = submission.grade_level_id, submission.class_division_id
        if grade_id:
            self._checked[("grade", str(grade_id))] = GradeLevel.from_db(submission._state.db, ["id"], [grade_id])
        if class_id and grade_id:  # a class sets the grade to its own: the stored grade is the class's
            self._checked[("class", str(class_id))] = ClassDivision.from_db(
                submission._state.db, ["id", "grade_level_id"], [class_id, grade_id])
        return self

    def checked_grade(self, pk):
        """The grade with this id if it was checked (or trusted) already in this context, else ``None``."""
        return self._checked.get(("grade", str(pk)))

    def offers_grade(self, pk) -> bool:
        """Is this grade offered (as ``grade_levels`` would list it)? One query for that grade alone, unless
        the lists are read already."""
        if "grade_levels" in self.__dict__:
            return any(str(g.pk) == str(pk) for g in self.grade_levels)
        if not is_uuid(pk):
            return False
        if ("grade", str(pk)) in self._checked:
            return True
        s, classes = self.session, self._classes()
        grade = (
            GradeLevel.objects.filter(Q(school_id=s.school_id) | Q(school__isnull=True), pk=pk, district_id=s.district_id)
            .filter(Q(school__isnull=False) | Exists(classes.filter(grade_level_id=OuterRef("pk"))) | ~Exists(classes))
            .first()
        )
        if grade is not None:
            self._checked[("grade", str(pk))] = grade
        return grade is not None

    def offers_class(self, pk) -> bool:
        """Is this class offered? One query for that class alone, unless the list is read already."""
        if "class_divisions" in self.__dict__:
            return any(str(c.pk) == str(pk) for c in self.class_divisions)
        if ("class", str(pk)) in self._checked:
            return True
        if not is_uuid(pk):
            return False
        division = self._classes().select_related("grade_level").filter(pk=pk).first()
        if division is not None:
            self._checked[("class", str(pk))] = division
        return division is not None

    def grade_level(self, pk):
        found = self._checked.get(("grade", str(pk)))
        return found or next((g for g in self._all_grade_levels if str(g.pk) == str(pk)), None)

    def class_division(self, pk):
        found = self._checked.get(("class", str(pk)))
        return found or next((c for c in self.class_divisions if str(c.pk) == str(pk)), None)

    def as_json(self) -> dict[str, Any]:
        return {
            "gradeLevels": [{"id": str(g.pk), "code": g.code, "name": g.name} for g in self.grade_levels],
            "classDivisions": [
                {"id": str(c.pk), "name": c.name, "gradeLevelId": str(c.grade_level_id)} for c in self.class_divisions
            ],
            "subjects": [{"id": str(s.pk), "code": s.code, "name": s.name} for s in self.subjects],
            "locks": {
                "gradeLocked": self.grade_locked,
                "classLocked": self.class_locked,
                "gradeLevelId": self.locked_grade_level_id,
                "classDivisionId": self.locked_class_division_id,
            },
        }


def selection_context(session) -> SelectionContext:
    return SelectionContext(session)


def form_fields(session, context: SelectionContext | None = None, *, checking: bool = False) -> list[FormField]:
    """The visible fields of the session's participant form, in catalogue order, then custom questions.

    ``checking``: for checking answers only (a save or a submit): the grade and class fields ask the context
    whether the chosen id is offered instead of listing every choice (one small query, not two lists)."""
    config = session.required_fields or default_required_fields(session.mode)
    rules_by_key = config.get("fields", {})
    context = context or selection_context(session)
    fields: list[FormField] = []
    for spec in CATALOGUE:
        rules = {"state": spec.default_state(session.mode), **rules_by_key.get(spec.key, {})}
        if rules["state"] == HIDDEN:
            continue
        choices = list((rules.get("choices") and [(c, c) for c in rules["choices"]]) or spec.choices)
        locked = False
        if spec.key == "grade_level_id" and context.grade_locked:
            # Locked: the session's grade is the only answer (the list itself is not needed).
            choices, locked = [(context.locked_grade_level_id, session.grade_level.name)], True
        elif spec.key == "class_division_id" and context.class_locked:
            choices, locked = [(context.locked_class_division_id, session.class_division.name)], True
        elif spec.key == "grade_level_id":
            choices = [] if checking else [(str(g.pk), g.name) for g in context.grade_levels]
        elif spec.key == "class_division_id":
            choices = [] if checking else [(str(c.pk), c.name) for c in context.class_divisions]
        elif spec.key == "subjects_taught":
            choices = [(str(s.pk), s.name) for s in context.subjects]
        elif spec.key == "classes_taught":
            choices = [(str(c.pk), c.name) for c in context.class_divisions]
        fields.append(FormField(
            key=spec.key, label=rules.get("label") or spec.label,
            type="choice" if rules.get("choices") and spec.type in {"text", "tel", "email"} else spec.type,
            state=REQUIRED if locked else rules["state"], group=spec.group, choices=choices,
            pattern=rules.get("pattern"), min_length=rules.get("minLength"), max_length=rules.get("maxLength"),
            help=rules.get("help") or spec.help, locked=locked,
            offered=(
                (context.offers_grade if spec.key == "grade_level_id" else context.offers_class)
                if checking and not locked and spec.key in {"grade_level_id", "class_division_id"} else None
            ),
        ))
    for q in config.get("custom", []):
        fields.append(FormField(
            key=q["key"], label=q.get("label") or q["key"], type=q.get("type", "text"), state=q.get("state", "optional"),
            group="custom", choices=[(c, c) for c in q.get("choices", [])], pattern=q.get("pattern"),
            min_length=q.get("minLength"), max_length=q.get("maxLength"), help=q.get("help", ""), custom=True,
        ))
    return fields




# --- submissions and the review queue -----------------------------------------------------------------

SUBMISSION_LIST_RELATED = ("session__school", "access_code", "class_division", "grade_level", "reviewed_by")
STATUS_FILTER_CHOICES = [(AWAITING_REVIEW, "Awaiting review"), *SubmissionStatus.choices]
PERSON_TYPE_CHOICES = PersonType.choices


def submissions_for_user(user) -> QuerySet[Submission]:
    """Submissions the user may see: scoped by tenant, and class teachers only see their classes.

    The one scope of every submission list and detail — the review queue, the session page's
    submissions tab, the API — so a row that is listed can always be opened.
    """
    qs = Submission.objects.for_user(user, perm=Perm.REGISTRATIONS_VIEW)
    if _class_teacher_only(user):
        qs = qs.filter(class_division_id__in=class_teacher_division_ids(user))
    return qs


def submission_list(*, user, filters: dict[str, Any] | None = None) -> QuerySet[Submission]:
    """Submissions the user may see, filtered by ``SubmissionFilterSet`` (session_id, status — a status or
    ``awaiting_review`` —, person_type, class_division_id, search), newest submitted first."""
    qs = SubmissionFilterSet.apply(submissions_for_user(user), filters)
    return qs.select_related(*SUBMISSION_LIST_RELATED).order_by(
        F("submitted_at").desc(nulls_last=True), "-created_at", "-id"
    )


def submission_detail_queryset(*, user) -> QuerySet[Submission]:
    """One submission with its session, code, placement, reviewer and history (who did what)."""
    return submissions_for_user(user).select_related(
        *SUBMISSION_LIST_RELATED, "session__class_division", "session__grade_level", "imported_person",
    ).prefetch_related(
        Prefetch("status_changes", queryset=SubmissionStatusChange.objects.select_related("actor"))
    )


def review_filter_options(*, user) -> dict[str, QuerySet]:
    """What the queue's filter menus offer: the sessions and classes the user can see."""
    sessions = (
        RegistrationSession.objects.for_user(user, perm=Perm.REGISTRATIONS_VIEW)
        .select_related("school").order_by("-created_at")
    )
    classes = ClassDivision.objects.for_user(user).select_related("school", "grade_level")
    if _class_teacher_only(user):
        classes = classes.filter(pk__in=class_teacher_division_ids(user))
    return {"sessions": sessions, "classes": classes.order_by("school__name", "grade_level__rank", "name")}


def submissions_awaiting_import(session: RegistrationSession) -> QuerySet[Submission]:
    return Submission.objects.filter(session=session, status=SubmissionStatus.APPROVED)


def match_person(submission: Submission) -> Person | None:
    """Who this submission is about, if they are already on the roster.

    In order: the person the access code was issued to; the student/teacher number; a national id;
    then the same given name, surname and date of birth. Only people of the same kind (student/teacher).
    """
    data = submission.payload or {}
    role = "teacher" if submission.person_type == PersonType.TEACHER else "student"
    people = Person.objects.filter(district_id=submission.district_id, role=role)
    code = submission.access_code
    if code.assigned_person_id:
        person = people.filter(pk=code.assigned_person_id).first()
        if person:
            return person
    number = data.get("student_number") or data.get("teacher_number")
    if number:
        person = people.filter(sis_id__iexact=number).first()
        if person:
            return person
    national_id = data.get("national_id")
    if national_id:
        for person in people.filter(identifiers__icontains=national_id):
            if any(i.get("type") == "national_id" and i.get("value") == national_id for i in person.identifiers):
                return person
    if data.get("given_name") and data.get("family_name") and data.get("date_of_birth"):
        return people.filter(
            given_name__iexact=data["given_name"], family_name__iexact=data["family_name"],
            date_of_birth=data["date_of_birth"],
        ).first()
    return None


def possible_duplicates(submission: Submission, limit: int = 5) -> list[Person]:
    """People who look like this participant (same names, or same date of birth and surname)."""
    data = submission.payload or {}
    given, family, dob = data.get("given_name"), data.get("family_name"), data.get("date_of_birth")
    if not family:
        return []
    q = Q(family_name__iexact=family) & (Q(given_name__iexact=given) if given else Q())
    if dob:
        q |= Q(family_name__iexact=family, date_of_birth=dob)
    return list(
        Person.objects.filter(q, district_id=submission.district_id).select_related("school", "grade_level")[:limit]
    )


# --- failed code attempts ----------------------------------------------------------------------------


def can_see_code_attempts(user) -> bool:
    if user.is_superuser:
        return True
    return any(Perm.REGISTRATIONS_MANAGE in ROLE_PERMISSIONS.get(g.role, ()) for g in grants_for(user))


def code_attempt_list(*, user, outcome: str = "") -> QuerySet[CodeAttempt]:
    """Failed and throttled attempts at /register that concern the user's districts, newest first.

    Needs a role that manages registrations (district admin, school admin, registrar): others get a 403.
    School-level staff see their schools' attempts and those that could not be tied to a school.
    """
    if not can_see_code_attempts(user):
        raise PermissionDenied("Only staff who manage registrations can see failed code attempts.")
    qs = CodeAttempt.objects.all()
    if not user.is_superuser:
        scope = Q(pk__in=[])
        for g in grants_for(user):
            if Perm.REGISTRATIONS_MANAGE not in ROLE_PERMISSIONS.get(g.role, ()):
                continue
            grant_q = Q(district_id=g.district_id)
            if g.school_id is not None:
                grant_q &= Q(session__school_id=g.school_id) | Q(session__isnull=True)
            scope |= grant_q
        qs = qs.filter(scope)
    if outcome:
        qs = qs.filter(outcome=outcome)
    return qs.select_related("session__school", "district").order_by("-created_at", "-id")


def code_attempt_hotspots(attempts: QuerySet[CodeAttempt], *, since, limit: int = 5) -> list[dict[str, Any]]:
    """The addresses with the most failures since ``since`` (one aggregate query): who may be guessing."""
    return list(
        attempts.filter(created_at__gte=since, ip_address__isnull=False)
        .values("ip_address")
        .annotate(failures=Count("id"), last_at=Max("created_at"))
        .order_by("-failures", "-last_at")[:limit]
    )
