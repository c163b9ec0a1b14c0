"""Every write to roster data goes through here: keyword-only, atomic, permission-checked.

The staff pages, the native API, admin actions and management commands all call these.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model, ProtectedError
from django.utils import timezone

from rostering.common.errors import ApplicationError, Conflict, NotFound
from rostering.models import (
    AcademicSession,
    ApiToken,
    ClassDivision,
    District,
    Enrollment,
    GradeLevel,
    IntegrationToken,
    IntegrationTokenUsage,
    Person,
    School,
    Subject,
    TenantModel,
    hash_token,
)
from rostering.permissions import Perm, has_any_perm, require_perm
from rostering.security import signin_unlock_reach

ROSTER_MODELS = (School, AcademicSession, GradeLevel, Subject, ClassDivision, Person, Enrollment)


def tenant_school_id(obj: TenantModel):
    """The id of the school an object belongs to (``None`` for district-level rows)."""
    path = obj.tenant_school_field
    if path is None:
        return None
    if path == "pk":
        return obj.pk
    *hops, last = path.split("__")
    target = obj
    for hop in hops:
        target = getattr(target, hop)
    return getattr(target, last)


def _check_can_change(actor, obj: TenantModel) -> None:
    require_perm(actor, Perm.ROSTER_CHANGE, district_id=obj.district_id, school_id=tenant_school_id(obj))


def _save(obj: TenantModel) -> None:
    obj.full_clean()
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:  # a race the validation above could not see
        raise ValidationError("This would duplicate an existing record.") from exc


@transaction.atomic
def roster_object_create(*, actor, model: type[TenantModel], district: District, data: dict[str, Any]) -> TenantModel:
    """Create any roster object in ``district`` after checking the actor may write where it lands."""
    if model is School:
        # Creating a school is a district-level act.
        require_perm(actor, Perm.ROSTER_CHANGE, district_id=district.pk, school_id=None)
    obj = model(district=district, **data)
    if model is not School:
        _check_can_change(actor, obj)
    _save(obj)
    return obj


@transaction.atomic
def roster_object_update(*, actor, obj: TenantModel, data: dict[str, Any]) -> TenantModel:
    """Change fields of a roster object; the actor must be allowed where it is and where it goes."""
    _check_can_change(actor, obj)
    locked = type(obj).objects.select_for_update().get(pk=obj.pk)
    changed = []
    for field, value in data.items():
        if field in {"id", "district", "district_id", "created_date", "updated_date"}:
            continue
        if getattr(locked, field) != value:
            setattr(locked, field, value)
            changed.append(field)
    if not changed:
        return locked
    _check_can_change(actor, locked)
    locked.full_clean()
    try:
        with transaction.atomic():
            locked.save(update_fields=[*_concrete(changed, locked), "updated_date"])
    except IntegrityError as exc:
        raise ValidationError("This would duplicate an existing record.") from exc
    return locked


def _concrete(fields: list[str], obj: Model) -> list[str]:
    names = []
    for f in fields:
        field = obj._meta.get_field(f.removesuffix("_id") if f.endswith("_id") else f)
        names.append(field.name)
    return names


@transaction.atomic
def roster_object_delete(*, actor, obj: TenantModel) -> None:
    if isinstance(obj, School):
        # Like creating one, removing a school (and everything in it) is a district-level act.
        require_perm(actor, Perm.ROSTER_CHANGE, district_id=obj.district_id, school_id=None)
    _check_can_change(actor, obj)
    try:
        with transaction.atomic():
            obj.delete()
    except ProtectedError as exc:
        used_by = sorted({str(o._meta.verbose_name_plural) for o in exc.protected_objects})
        raise Conflict(
            f"{obj._meta.verbose_name.capitalize()} '{obj}' is still used by {', '.join(used_by)}; remove those first.",
            code="in_use",
        ) from exc


@transaction.atomic
def academic_session_create_with_terms(
    *, actor, district: District, data: dict[str, Any], terms: list[dict[str, Any]]
) -> AcademicSession:
    """A school year and its terms in one go: all or nothing."""
    year = roster_object_create(actor=actor, model=AcademicSession, district=district, data=data)
    for term in terms:
        term_data = {"type": "term", "school": year.school, **term, "parent": year}
        roster_object_create(actor=actor, model=AcademicSession, district=district, data=term_data)
    return year


# --- API tokens -------------------------------------------------------------------------------------


@transaction.atomic
def api_token_create(*, user, name: str, expires_at=None) -> tuple[ApiToken, str]:
    """Create a token for ``user``. Returns the row and the raw token, which is never stored."""
    if not user.is_authenticated:
        raise PermissionDenied("Sign in first.")
    raw = ApiToken.generate_raw()
    token = ApiToken(user=user, name=name.strip(), key_hash=hash_token(raw), hint=raw[:10], expires_at=expires_at)
    token.full_clean()
    token.save()
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor) -> ApiToken:
    if token.user_id != actor.pk and not actor.is_superuser:
        raise PermissionDenied("You can only revoke your own tokens.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_date"])
    return token


def api_token_authenticate(*, raw: str) -> ApiToken | None:
    """The active token matching ``raw``, or ``None``. Marks it used (at most once a minute)."""
    if not raw or not raw.startswith(ApiToken.PREFIX) or len(raw) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_token(raw)).first()
    if token is None or not token.is_active or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


# --- sign-in lockouts (django-axes) ---------------------------------------------------------------

log = logging.getLogger(__name__)


@transaction.atomic
def signin_lockout_clear(*, actor, username: str = "", ip_address: str = "") -> int:
    """Lift a sign-in lockout: every counted failure of one account (from any address), or from one address.

    Superusers may unlock anything. A district admin may unlock the accounts of their district's members,
    and an address only when every failure counted there was made on such an account; anything else is
    "not found". Returns the number of attempt rows removed (0: it was not locked).
    """
    username = (username or "").strip()
    ip_address = (ip_address or "").strip()
    if bool(username) == bool(ip_address):
        raise ApplicationError("Give either a username or an address to unlock.", code="invalid_unlock")
    if not has_any_perm(actor, Perm.SIGNIN_UNLOCK):
        raise PermissionDenied("Only district admins and superusers can unlock sign-ins.")
    reach = signin_unlock_reach(actor)
    if username:
        if reach is not None and not reach.filter(username=username).exists():
            raise NotFound("No such account in your district.")
        removed = axes_reset(username=username)
        target = f"account {username!r}"
    else:
        try:
            ip_address = str(ipaddress.ip_address(ip_address))
        except ValueError:
            raise ApplicationError("Not a valid IP address.", code="invalid_address") from None
        if reach is not None:
            tried = AccessAttempt.objects.filter(ip_address=ip_address)
            if tried.filter(username__isnull=True).exists() or tried.exclude(username__in=reach).exists():
                raise NotFound("No such address among your district's lockouts.")
        removed = axes_reset(ip=ip_address)
        target = f"address {ip_address}"
    log.info("Sign-in lockout of %s lifted by %s (%d attempt rows removed).", target, actor.get_username(), removed)
    return removed


@transaction.atomic
def signin_lockout_clear_for_user(*, user) -> int:
    """Forget the counted sign-in failures of ``user``'s account (after they proved who they are by resetting
    their password). An address locked by other accounts' failures stays locked."""
    removed = axes_reset(username=user.get_username())
    if removed:
        log.info("Sign-in lockout of account %r lifted by a password reset.", user.get_username())
    return removed


# --- Year rollover (used by the academic-year set-up wizard) ---------------------------------------
#
# Bulk writes for promoting a class of students into the next year: a fixed number of queries per class,
# whatever its size. Callers pass rows they have already scoped; these re-check district and permission.


@transaction.atomic
def enrollments_roll_forward(
    *,
    actor,
    source_class: ClassDivision,
    end_enrollment_ids: list,
    moves: list[tuple[Any, ClassDivision]],
    end_date,
    start_date,
    new_session: AcademicSession,
) -> tuple[dict, list]:
    """End the given student enrollments of ``source_class`` (those still open) and enroll each
    ``(person_id, destination_class)`` of ``moves`` as a student of the new session, unless already there.
    Students moved into another grade get it as their current grade.

    Returns ``({person_id: created enrollment id}, [ended enrollment ids])``: exactly what an undo reverses.
    """
    from django.db.models import Case, F, Value, When

    district_id = source_class.district_id
    _check_can_change(actor, source_class)
    destinations = {cls.pk: cls for _person, cls in moves}
    for cls in destinations.values():
        if cls.district_id != district_id or new_session.district_id != district_id:
            raise ValidationError("A destination class belongs to another district.")
        if cls.academic_session_id != new_session.pk:
            raise ValidationError(f"Class {cls.name} is not a class of {new_session.name}.")
        _check_can_change(actor, cls)
    ended: list = []
    if end_enrollment_ids:
        ended = list(
            Enrollment.objects.filter(
                district_id=district_id, class_division=source_class, pk__in=end_enrollment_ids, end_date__isnull=True
            ).values_list("pk", flat=True)
        )
        if ended:
            Enrollment.objects.filter(pk__in=ended).update(
                end_date=Case(When(start_date__gt=end_date, then=F("start_date")), default=Value(end_date)),
                updated_date=timezone.now(),
            )
    created: dict = {}
    if moves:
        person_ids = [person for person, _cls in moves]
        have = set(
            Enrollment.objects.filter(
                district_id=district_id, person_id__in=person_ids, class_division_id__in=list(destinations),
                role="student", subject__isnull=True,
            ).values_list("person_id", "class_division_id")
        )
        rows = [
            Enrollment(
                district_id=district_id, person_id=person, class_division=cls, role="student",
                academic_session=new_session, start_date=start_date,
            )
            for person, cls in moves
            if (person, cls.pk) not in have
        ]
        Enrollment.objects.bulk_create(rows, batch_size=2000)
        created = {row.person_id: row.pk for row in rows}
        by_grade: dict = {}
        for person, cls in moves:
            if cls.grade_level_id != source_class.grade_level_id:
                by_grade.setdefault(cls.grade_level_id, []).append(person)
        for grade_id, people in by_grade.items():
            Person.objects.filter(district_id=district_id, pk__in=people).update(
                grade_level_id=grade_id, updated_date=timezone.now()
            )
    return created, ended


@transaction.atomic
def enrollments_roll_back(
    *, actor, district: District, created_ids: list, ended_ids: list, grades: dict | None = None
) -> None:
    """Undo ``enrollments_roll_forward``: remove the enrollments it created, reopen the ones it ended and
    give people back their previous grade (``grades``: ``{grade_level_id | None: [person ids]}``)."""
    classes = ClassDivision.objects.filter(
        district=district, pk__in=Enrollment.objects.filter(pk__in=[*created_ids, *ended_ids]).values("class_division_id")
    )
    for cls in classes:
        _check_can_change(actor, cls)
    Enrollment.objects.filter(district=district, pk__in=created_ids).delete()
    Enrollment.objects.filter(district=district, pk__in=ended_ids).update(end_date=None, updated_date=timezone.now())
    for grade_id, people in (grades or {}).items():
        Person.objects.filter(district=district, pk__in=people).update(
            grade_level_id=grade_id, updated_date=timezone.now()
        )


@transaction.atomic
def academic_session_set_state(*, actor, session: AcademicSession, state: str, with_children: bool = False) -> None:
    """Activate or complete a school year (Edlink ``state``), optionally its terms with it."""
    roster_object_update(actor=actor, obj=session, data={"state": state})
    if with_children:
        for child in AcademicSession.objects.filter(parent=session).exclude(state=state):
            roster_object_update(actor=actor, obj=child, data={"state": state})


# --- Integration tokens (Edlink-compatible Graph API) ----------------------------------------------------------
#
# A district's read-only credential for /api/v2/graph/. Issued by district admins (the Integrations page) and by
# ``manage.py create_integration_token``; stored as a SHA-256, shown once, revocable. Every Graph request adds
# one to an hourly per-resource counter (one upsert), which the Integrations page sums.

INTEGRATION_TOKEN_MAX_LENGTH = 200


def can_manage_integrations(user, district_id=None) -> bool:
    """District-wide district admins manage their district's integration tokens; superusers any district's."""
    from rostering.choices import MembershipRole
    from rostering.permissions import grants_for

    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    ids = {g.district_id for g in grants_for(user) if g.tenant_wide and g.role == MembershipRole.DISTRICT_ADMIN}
    return bool(ids) if district_id is None else district_id in ids


@transaction.atomic
def integration_token_create(*, district: District, name: str, actor=None) -> tuple[IntegrationToken, str]:
    """Issue a token for ``district``. ``actor`` (a staff user) must manage the district's integrations;
    ``None`` is the command line. Returns the row and the raw token, which is never stored."""
    if actor is not None and not can_manage_integrations(actor, district.pk):
        raise PermissionDenied("Only a district admin issues integration tokens.")
    raw = IntegrationToken.generate_raw()
    token = IntegrationToken(
        district=district, name=(name or "").strip(), key_hash=hash_token(raw), hint=raw[:10],
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    token.full_clean()
    token.save()
    log.info("Integration token %s… issued for district %s.", token.hint, district.pk)
    return token, raw


@transaction.atomic
def integration_token_revoke(*, token: IntegrationToken, actor) -> IntegrationToken:
    """Revoke at once: the next request with it is 401 INVALID_TOKEN. Revoking twice changes nothing."""
    if actor is not None and not can_manage_integrations(actor, token.district_id):
        raise PermissionDenied("Only a district admin revokes integration tokens.")
    locked = IntegrationToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.revoked_by = actor if actor is not None and actor.is_authenticated else None
        locked.save(update_fields=["revoked_at", "revoked_by", "updated_date"])
    return locked


def integration_token_authenticate(*, raw: str) -> IntegrationToken | None:
    """The active token matching ``raw``, or ``None``. Marks it used (at most once a minute)."""
    if (not raw or not raw.startswith(IntegrationToken.PREFIX) or len(raw) > INTEGRATION_TOKEN_MAX_LENGTH
            or not raw.isascii()):
        return None
    token = IntegrationToken.objects.filter(key_hash=hash_token(raw), revoked_at__isnull=True).first()
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        IntegrationToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def integration_token_record_request(*, token: IntegrationToken, resource: str) -> None:
    """Count one request of ``token`` to ``resource`` in the current hour: one upsert (SQLite and PostgreSQL).

    On PostgreSQL the counter's commit does not wait for the disk (``SET LOCAL synchronous_commit = off`` in its own
    short transaction): a crash may lose the last fraction of a second of counts, never roster data, and a read no
    longer pays for a flush."""
    from contextlib import nullcontext

    from django.db import connection

    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    meta = IntegrationTokenUsage._meta
    postgresql = connection.vendor == "postgresql"
    with transaction.atomic() if postgresql else nullcontext(), connection.cursor() as cur:
        if postgresql:
            cur.execute("SET LOCAL synchronous_commit = off")
        cur.execute(
            f'INSERT INTO "{meta.db_table}" (token_id, hour, resource, requests) VALUES (%s, %s, %s, 1) '
            f'ON CONFLICT (token_id, hour, resource) DO UPDATE SET requests = "{meta.db_table}".requests + 1',
            [meta.get_field("token").get_db_prep_value(token.pk, connection),
             meta.get_field("hour").get_db_prep_value(hour, connection), resource[:32]],
        )


# --- roster writes of imports from other apps (registrations) ---------------------------------------------
# The importing app has checked its own permission (approving a registration imports it, whoever approved);
# these only write the roster, with the roster's own rules.


def _refusal(exc: ValidationError) -> ValidationError:
    if hasattr(exc, "error_dict"):
        return ValidationError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()))
    return ValidationError("; ".join(exc.messages))


@transaction.atomic
def person_import(
    *,
    district_id,
    person: Person | None,
    role: str,
    fields: dict[str, Any],
    sis_id: str = "",
    school_id=None,
    grade_level_id=None,
    national_id: str = "",
    properties: dict[str, Any] | None = None,
) -> Person:
    """Create (``person=None``) or update a person from collected data. A number (``sis_id``) that belongs to
    someone else, or a value the roster refuses, is a ``ValidationError`` with one readable message."""
    if person is None:
        person = Person(district_id=district_id, role=role)
    for name, value in fields.items():
        setattr(person, name, value)
    if sis_id and sis_id != person.sis_id:
        clash = Person.objects.filter(district_id=person.district_id, sis_id=sis_id).exclude(pk=person.pk).first()
        if clash:
            raise ValidationError(f"Number {sis_id} already belongs to {clash.full_name}.")
        person.sis_id = sis_id
    if school_id is not None:
        person.school_id = school_id
    if grade_level_id is not None:
        person.grade_level_id = grade_level_id
    if national_id:
        ids = [i for i in person.identifiers if i.get("type") != "national_id"]
        person.identifiers = [*ids, {"type": "national_id", "value": national_id}]
    if properties:
        person.properties = {**(person.properties or {}), **properties}
    try:
        person.full_clean()
    except ValidationError as exc:
        raise _refusal(exc) from exc
    person.save()
    return person


@transaction.atomic
def student_enrollment_place(*, person: Person, class_division: ClassDivision, academic_session_id=None) -> Enrollment:
    """A student is in one class per school year: enroll them in ``class_division`` and leave the other classes
    of the same school and year. Doing it twice changes nothing."""
    others = Enrollment.objects.filter(person=person, role="student", class_division__school_id=class_division.school_id)
    if academic_session_id:
        others = others.filter(academic_session_id=academic_session_id) | others.filter(
            class_division__academic_session_id=academic_session_id
        )
    others.exclude(class_division=class_division).delete()
    enrollment, _created = Enrollment.objects.get_or_create(
        person=person, class_division=class_division, role="student", subject=None,
        defaults={"district_id": person.district_id, "academic_session_id": academic_session_id},
    )
    return enrollment


@transaction.atomic
def teacher_enrollments_add(*, person: Person, class_divisions, subject: Subject | None = None,
                            academic_session_id=None) -> list[Enrollment]:
    """Enroll a teacher in classes (with one subject, or none); existing enrollments are kept as they are."""
    enrollments = []
    for division in class_divisions:
        enrollment, _created = Enrollment.objects.get_or_create(
            person=person, class_division=division, role="teacher", subject=subject,
            defaults={"district_id": person.district_id,
                      "academic_session_id": academic_session_id or division.academic_session_id},
        )
        enrollments.append(enrollment)
    return enrollments
