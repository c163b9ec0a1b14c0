"""Staff pages of session set-up: the setup list, the academic-year and exam-session wizards (one step per
screen, back and next, a step indicator, a summary), the execution's progress and the promotion history.

Setups come from ``SessionSetup.objects.for_user`` (another district's setup is a 404); the wizards' pages need
``Perm.SETUP_MANAGE`` (403 otherwise); every write is one service call, whose errors come back on the page.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from rostering.common.errors import ApplicationError
from rostering.common.http import wants_partial
from rostering.common.ids import is_uuid
from rostering.models import ClassDivision, GradeLevel, Person, Subject
from rostering.permissions import Perm, has_any_perm
from session_setup import services
from session_setup.choices import (
    ACADEMIC_STEPS,
    DECISIONS,
    EXAM_STEPS,
    ExecutionStatus,
    PromotionAction,
    SetupSessionType,
    SetupStatus,
)
from session_setup.forms import AcademicYearForm, ExamDetailsForm, parse_date, parse_int
from session_setup.models import ExamSlot, SessionSetup, StudentPromotion
from session_setup.selectors import (
    history_for,
    promotion_counts_by_class,
    promotion_rows,
    setup_detail,
    setup_list,
)

SETUPS_PER_PAGE = 25
HISTORY_PER_PAGE = 100


def _require_view(user) -> None:
    if not has_any_perm(user, Perm.SETUP_VIEW):
        raise PermissionDenied("Your role does not allow viewing session setups.")


def _setup_or_404(request, pk) -> SessionSetup:
    _require_view(request.user)
    try:
        return setup_detail(user=request.user, pk=pk)
    except (ObjectDoesNotExist, ValidationError):
        raise Http404("No such setup.") from None


def step_url(setup: SessionSetup, step: int | None = None) -> str:
    step = setup.current_step if step is None else step
    return reverse("session_setup:step", args=[setup.pk, max(step, 0)])


def _errors(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        return list(exc.messages)
    if isinstance(exc, ApplicationError):
        return [exc.message]
    return [str(exc)]


# --- The list -------------------------------------------------------------------------------------------------


@login_required
@require_GET
@vary_on_headers("HX-Request")
def setup_list_view(request):
    _require_view(request.user)
    filters = {k: v for k, v in request.GET.items() if k in ("session_type", "status") and v}
    qs = setup_list(user=request.user, filters=filters, search=request.GET.get("q", "")).order_by("-updated_at", "id")
    page = Paginator(qs, SETUPS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page_obj": page, "rows": [(s, step_url(s)) for s in page.object_list],
        "can_manage": has_any_perm(request.user, Perm.SETUP_MANAGE), "q": request.GET.get("q", ""),
        "status_choices": SetupStatus.choices, "type_choices": SetupSessionType.choices, "filters": filters,
    }
    template = "session_setup/setup_list.html#setup-table" if wants_partial(request) else "session_setup/setup_list.html"
    return render(request, template, context)


@login_required
@require_GET
def setup_resume(request, pk):
    setup = _setup_or_404(request, pk)
    return redirect(step_url(setup))


# --- Starting a wizard ----------------------------------------------------------------------------------------


def _require_manager(user) -> None:
    if not has_any_perm(user, Perm.SETUP_MANAGE):
        raise PermissionDenied("Only school admins and district admins set up sessions.")


@login_required
@require_http_methods(["GET", "POST"])
def academic_new(request):
    _require_manager(request.user)
    form = AcademicYearForm(request.POST or None, user=request.user)
    errors = []
    if request.method == "POST" and form.is_valid():
        try:
            district, school = form.scope_objects()
            setup = services.academic_year_save(
                actor=request.user, district=district, school=school, year=form.cleaned_data["year"],
                name=form.cleaned_data["name"], start_date=form.cleaned_data["start_date"],
                end_date=form.cleaned_data["end_date"], source_session=form.cleaned_data["source_session"])
            return redirect(step_url(setup))
        except (ValidationError, ApplicationError) as exc:
            errors = _errors(exc)
            existing = getattr(exc, "extra", {}).get("existing")
            if existing:
                return _render_step(request, None, 0, form=form, errors=errors, existing=existing,
                                    session_type=SetupSessionType.ACADEMIC_SESSION, status=409)
    return _render_step(request, None, 0, form=form, errors=errors, session_type=SetupSessionType.ACADEMIC_SESSION,
                        status=400 if request.method == "POST" else 200)


@login_required
@require_http_methods(["GET", "POST"])
def exam_new(request):
    _require_manager(request.user)
    form = ExamDetailsForm(request.POST or None, user=request.user)
    errors = []
    if request.method == "POST" and form.is_valid():
        try:
            setup = services.exam_details_save(actor=request.user, **form.cleaned_data)
            return redirect(step_url(setup))
        except (ValidationError, ApplicationError) as exc:
            errors = _errors(exc)
    return _render_step(request, None, 0, form=form, errors=errors, session_type=SetupSessionType.EXAM_SESSION,
                        status=400 if request.method == "POST" else 200)


# --- One step of a wizard ------------------------------------------------------------------------------------


def _render_step(request, setup, step, *, session_type=None, errors=(), status=200, **extra):
    session_type = setup.session_type if setup else session_type
    steps = ACADEMIC_STEPS if session_type == SetupSessionType.ACADEMIC_SESSION else EXAM_STEPS
    reached = (len(steps) - 1 if setup and setup.status == SetupStatus.COMPLETED
               else max(setup.current_step, 0) if setup else 0)
    indicator = [
        {"n": n, "label": label, "url": step_url(setup, n) if setup and n <= reached else "",
         "done": bool(setup) and (n < reached or setup.status == SetupStatus.COMPLETED), "current": n == step}
        for n, label in enumerate(steps)
    ]
    context = {
        "setup": setup, "step": step, "steps": indicator, "step_label": steps[step], "errors": list(errors),
        "session_type": session_type, "is_academic": session_type == SetupSessionType.ACADEMIC_SESSION,
        "back_url": step_url(setup, step - 1) if setup and step > 0 else reverse("session_setup:list"),
        "read_only": bool(setup) and setup.status == SetupStatus.COMPLETED,
        "template": f"session_setup/steps/{'academic' if session_type == SetupSessionType.ACADEMIC_SESSION else 'exam'}_{step}.html",
    }
    if setup is not None:
        context.update(_step_context(setup, step))
    context.update(extra)  # what the request sent (a form with errors, rows as typed) wins over what is stored
    return render(request, "session_setup/wizard.html", context, status=status)


def _step_context(setup: SessionSetup, step: int) -> dict:
    if setup.session_type == SetupSessionType.ACADEMIC_SESSION:
        if step == 1:
            year = setup.academic_session
            terms = list(year.children.order_by("start_date"))
            return {"year": year, "term_rows": [
                {"name": t.name, "start": t.start_date, "end": t.end_date} for t in terms] or [
                {"name": t.name, "start": t.start_date, "end": t.end_date}
                for t in services.default_terms(year.start_date, year.end_date)]}
        if step == 2:
            classes = list(services.new_classes(setup))
            grades = list(GradeLevel.objects.filter(district_id=setup.district_id).order_by("rank"))
            used = {c.grade_level_id for c in classes}
            return {"classes": classes, "grades": grades, "schools": list(services.scope_schools(setup)),
                    "used_grades": [g for g in grades if g.pk in used],
                    "source_count": services.source_classes(setup).count(),
                    "carried": bool(setup.data.get("classes_carried_over"))}
        if step == 3:
            return _promotion_context(setup, None)
        if step == 4:
            return _review_context(setup)
    else:
        if step == 1:
            grades = services.exam_grades(setup)
            subjects = services.exam_subjects(setup)
            chosen = {(a.grade_level_id, a.subject_id) for a in services.exam_activities(setup)}
            return {"grid": [(g, [(s, (g.pk, s.pk) in chosen) for s in subjects]) for g in grades],
                    "subjects": subjects, "grades": grades}
        if step == 2:
            activities = list(services.exam_activities(setup))
            slots = {s.activity_id: s for s in ExamSlot.objects.filter(setup=setup)}
            rows = []
            for a in activities:
                slot = slots.get(a.pk)
                start = timezone.localtime(slot.starts_at) if slot else None
                rows.append({"activity": a, "date": start.date().isoformat() if start else "",
                             "time": start.strftime("%H:%M") if start else "",
                             "minutes": int((slot.ends_at - slot.starts_at).total_seconds() // 60) if slot else
                             (a.max_time // 60 if a.max_time else 120)})
            return {"schedule_rows": rows}
        if step == 3:
            slots = ExamSlot.objects.filter(setup=setup).select_related("activity", "grade_level")
            return {"slots": [(s, timezone.localtime(s.starts_at), timezone.localtime(s.ends_at)) for s in slots],
                    "unscheduled": services.exam_activities(setup).filter(exam_slot__isnull=True).count()}
    return {}


def _promotion_context(setup: SessionSetup, class_id) -> dict:
    classes = list(services.source_classes(setup))
    counts = promotion_counts_by_class(setup=setup)
    selected = None
    if classes:
        selected = next((c for c in classes if str(c.pk) == str(class_id)), None) or classes[0]
    dest = services.Destinations(setup)
    rows = list(promotion_rows(setup=setup, source_class_id=selected.pk)) if selected else []
    return {
        "source_classes": [(c, counts.get(c.pk, {})) for c in classes], "selected": selected, "rows": rows,
        "dest_choices": dest.choices(selected) if selected else [], "decisions": DECISIONS,
        "summary": services.promotion_summary(setup), "has_decisions": bool(counts),
    }


def _review_context(setup: SessionSetup) -> dict:
    execution = setup.executions.order_by("-created_at").first()
    processed, classes_done = services.execution_progress(execution) if execution else (0, 0)
    summary = services.promotion_summary(setup)
    attached = services.attached_records(setup.academic_session) if setup.academic_session_id else []
    return {
        "summary": [(a, summary.get(a.value, 0)) for a in PromotionAction if a != PromotionAction.PENDING],
        "total": sum(summary.values()), "execution": execution, "processed": processed, "classes_done": classes_done,
        "percent": (100 if execution and execution.status == ExecutionStatus.DONE else
                    round(processed * 100 / execution.total) if execution and execution.total else 0),
        "running": bool(execution) and execution.status in (ExecutionStatus.QUEUED, ExecutionStatus.RUNNING),
        "attached": attached, "new_year": setup.academic_session, "old_year": setup.source_session,
        "class_count": services.source_classes(setup).count(), "new_class_count": services.new_classes(setup).count(),
        "history_classes": list(services.source_classes(setup)[:40]),
        "terms": list(setup.academic_session.children.order_by("start_date")) if setup.academic_session_id else [],
    }


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def setup_step(request, pk, step: int):
    setup = _setup_or_404(request, pk)
    services.require_manage(request.user, setup)
    last = setup.last_step
    reached = last if setup.status == SetupStatus.COMPLETED else max(setup.current_step, 0)
    if step > last:
        raise Http404("No such step.")
    if step > reached:
        return redirect(step_url(setup))
    if request.method == "GET":
        if setup.session_type == SetupSessionType.ACADEMIC_SESSION and step == 3 and request.GET.get("class"):
            context = _promotion_context(setup, request.GET["class"])
            if wants_partial(request):
                return render(request, "session_setup/steps/academic_3.html#class-panel",
                              {"setup": setup, "read_only": setup.status == SetupStatus.COMPLETED, **context})
            return _render_step(request, setup, step, **context)
        if step == 0:
            form_class = AcademicYearForm if setup.session_type == SetupSessionType.ACADEMIC_SESSION else ExamDetailsForm
            return _render_step(request, setup, 0, form=form_class(user=request.user, setup=setup))
        return _render_step(request, setup, step)
    handler = (_post_academic if setup.session_type == SetupSessionType.ACADEMIC_SESSION else _post_exam)
    return handler(request, setup, step)


def _post_academic(request, setup: SessionSetup, step: int):
    user, post = request.user, request.POST
    form = None
    try:
        with transaction.atomic():  # a step's services all or nothing
            if step == 0:
                form = AcademicYearForm(post, user=user, setup=setup)
                if not form.is_valid():
                    return _render_step(request, setup, 0, form=form, status=400)
                services.academic_year_save(
                    actor=user, setup=setup, year=form.cleaned_data["year"], name=form.cleaned_data["name"],
                    start_date=form.cleaned_data["start_date"], end_date=form.cleaned_data["end_date"],
                    source_session=form.cleaned_data["source_session"])
            elif step == 1:
                rows = _term_rows(post)
                if "add_term" in post:
                    last = rows[-1] if rows else None
                    rows.append({"name": f"Term {len(rows) + 1}", "start": "", "end": last["end"] if last else ""})
                    return _render_step(request, setup, 1, year=setup.academic_session, term_rows=rows)
                specs = [services.TermSpec(r["name"], parse_date(r["start"], r["name"] or "Term"),
                                           parse_date(r["end"], r["name"] or "Term")) for r in rows if not r["remove"]]
                services.academic_terms_save(actor=user, setup=setup, terms=specs)
                services.academic_classes_carry_over(actor=user, setup=setup)
            elif step == 2:
                if "carry_over" in post:
                    n = services.academic_classes_carry_over(actor=user, setup=setup)
                    messages.success(request, f"{n} class{'es' if n != 1 else ''} carried over from last year.")
                    return redirect(step_url(setup, 2))
                grades = {str(g.pk): g for g in GradeLevel.objects.filter(district_id=setup.district_id)}
                renames = {grades[key[6:-5]]: value for key, value in post.items()
                           if key.startswith("grade-") and key.endswith("-name") and key[6:-5] in grades}
                if renames:
                    services.academic_grades_rename(actor=user, setup=setup, names=renames)
                services.academic_classes_save(actor=user, setup=setup, rows=_class_rows(setup, post))
                services.promotions_prepare(actor=user, setup=setup)
            elif step == 3:
                if "prepare" in post:
                    services.promotions_prepare(actor=user, setup=setup)
                    return redirect(step_url(setup, 3))
                services.promotions_confirm(actor=user, setup=setup)
            elif step == 4:
                execution = services.promotion_execution_start(actor=user, setup=setup)
                execution.refresh_from_db()
                if execution.status == ExecutionStatus.DONE:
                    messages.success(request, f"Executed the decisions for {execution.total} students.")
                else:
                    messages.info(request, f"Executing the decisions for {execution.total} students in the background…")
                return redirect(step_url(setup, 4))
    except (ValidationError, ApplicationError) as exc:
        setup.refresh_from_db()  # the step's transaction was rolled back
        extra = {}
        if step == 1:
            extra = {"year": setup.academic_session, "term_rows": _term_rows(post)}
        if step == 0 and form is not None:
            extra = {"form": form}
        if step == 0 and form is None:
            extra = {"form": AcademicYearForm(post, user=user, setup=setup)}
        status = 409 if isinstance(exc, ApplicationError) and exc.status_code == 409 else 400
        return _render_step(request, setup, step, errors=_errors(exc), status=status, **extra)
    setup.refresh_from_db()
    return redirect(step_url(setup, min(step + 1, setup.last_step)))


def _term_rows(post) -> list[dict]:
    try:
        count = min(int(post.get("term_count", "0")), 12)
    except ValueError:
        count = 0
    return [{"name": post.get(f"term-{i}-name", "").strip()[:200], "start": post.get(f"term-{i}-start", ""),
             "end": post.get(f"term-{i}-end", ""), "remove": bool(post.get(f"term-{i}-remove"))}
            for i in range(count)]


def _class_rows(setup: SessionSetup, post) -> list[services.ClassRow]:
    grades = {str(g.pk): g for g in GradeLevel.objects.filter(district_id=setup.district_id)}
    schools = {str(s.pk): s for s in services.scope_schools(setup)}
    rows = []
    for cls in services.new_classes(setup):
        prefix = f"class-{cls.pk}-"
        if f"{prefix}name" not in post:
            continue
        rows.append(services.ClassRow(
            pk=cls.pk, name=post.get(f"{prefix}name", ""), grade_level=grades.get(post.get(f"{prefix}grade", "")),
            capacity=parse_int(post.get(f"{prefix}capacity", ""), cls.name, maximum=2000, optional=True),
            delete=bool(post.get(f"{prefix}delete"))))
    if post.get("new-name", "").strip():
        rows.append(services.ClassRow(
            pk=None, name=post["new-name"], grade_level=grades.get(post.get("new-grade", "")),
            capacity=parse_int(post.get("new-capacity", ""), "New class", maximum=2000, optional=True),
            school=schools.get(post.get("new-school", "")) or setup.school))
    for row in rows:
        if row.grade_level is None and not row.delete:
            raise ValidationError(f"{row.name or 'New class'}: choose its grade level.")
    return rows


def _post_exam(request, setup: SessionSetup, step: int):
    user, post = request.user, request.POST
    try:
        with transaction.atomic():  # a step's services all or nothing
            if step == 0:
                form = ExamDetailsForm(post, user=user, setup=setup)
                if not form.is_valid():
                    return _render_step(request, setup, 0, form=form, status=400)
                data = dict(form.cleaned_data)
                data.pop("school", None)
                services.exam_details_save(actor=user, setup=setup, school=setup.school, **data)
            elif step == 1:
                grades = {str(g.pk): g for g in services.exam_grades(setup)}
                subjects = {str(s.pk): s for s in Subject.objects.filter(district_id=setup.district_id)}
                pairs = []
                for value in post.getlist("pair"):
                    grade_id, _, subject_id = value.partition(":")
                    if grade_id not in grades or subject_id not in subjects:
                        raise ValidationError("An exam of an unknown grade level or subject was sent.")
                    pairs.append((grades[grade_id], subjects[subject_id]))
                minutes = parse_int(post.get("minutes", ""), "Duration", minimum=1, maximum=600, optional=True)
                services.exam_papers_save(actor=user, setup=setup, pairs=pairs, max_minutes=minutes)
            elif step == 2:
                specs = []
                errors = []
                for activity in services.exam_activities(setup):
                    date, time = post.get(f"slot-{activity.pk}-date", ""), post.get(f"slot-{activity.pk}-time", "")
                    try:
                        day = parse_date(date, activity.title)
                        at = datetime.time.fromisoformat(time.strip()) if time.strip() else None
                        if at is None:
                            raise ValidationError(f"{activity.title}: give a start time.")
                        minutes = parse_int(post.get(f"slot-{activity.pk}-minutes", ""), activity.title, minimum=1,
                                            maximum=600)
                    except (ValidationError, ValueError) as exc:
                        errors.extend(_errors(exc) if isinstance(exc, ValidationError) else [f"{activity.title}: give a time."])
                        continue
                    starts = timezone.make_aware(datetime.datetime.combine(day, at))
                    specs.append(services.SlotSpec(activity=activity, starts_at=starts, minutes=minutes))
                if errors:
                    raise ValidationError(errors)
                services.exam_schedule_save(actor=user, setup=setup, slots=specs)
            elif step == 3:
                if "unpublish" in post:
                    services.exam_session_unpublish(actor=user, setup=setup)
                    messages.info(request, "The exam session is no longer published; the setup is open again.")
                    return redirect(step_url(setup, 3))
                services.exam_session_publish(actor=user, setup=setup)
                messages.success(request, f"{setup.exam_session.name} is published.")
                return redirect(step_url(setup, 3))
    except (ValidationError, ApplicationError) as exc:
        setup.refresh_from_db()  # the step's transaction was rolled back
        extra = {"form": ExamDetailsForm(post, user=user, setup=setup)} if step == 0 else {}
        if step == 2:
            extra = {"schedule_rows": [
                {"activity": a, "date": post.get(f"slot-{a.pk}-date", ""), "time": post.get(f"slot-{a.pk}-time", ""),
                 "minutes": post.get(f"slot-{a.pk}-minutes", "")} for a in services.exam_activities(setup)]}
        status = 409 if isinstance(exc, ApplicationError) and exc.status_code == 409 else 400
        return _render_step(request, setup, step, errors=_errors(exc), status=status, **extra)
    setup.refresh_from_db()
    return redirect(step_url(setup, min(step + 1, setup.last_step)))


# --- Promotions: one decision, set all, execute, progress, undo ----------------------------------------------


@login_required
@require_POST
def promotion_decide_view(request, pk, promotion_pk):
    setup = _setup_or_404(request, pk)
    promotion = get_object_or_404(StudentPromotion.objects.select_related("student"), pk=promotion_pk, setup=setup)
    dest = None
    # A new decision starts from its own default class (the class chosen for the old one may not fit it).
    if request.POST.get("destination_class") and request.POST.get("action") == promotion.action:
        dest = ClassDivision.objects.filter(district_id=setup.district_id, pk=request.POST["destination_class"]).first() \
            if is_uuid(request.POST["destination_class"]) else None
    error = ""
    try:
        services.promotion_decide(actor=request.user, setup=setup, promotion=promotion,
                                  action=request.POST.get("action", ""), destination_class=dest)
    except (ValidationError, ApplicationError) as exc:
        error = " ".join(_errors(exc))
        promotion.refresh_from_db()
    if wants_partial(request):
        dest_choices = services.Destinations(setup).choices(promotion.source_class)
        promotion = promotion_rows(setup=setup, source_class_id=promotion.source_class_id).get(pk=promotion.pk)
        return render(request, "session_setup/steps/academic_3.html#promotion-row", {
            "setup": setup, "p": promotion, "dest_choices": dest_choices, "decisions": DECISIONS, "row_error": error,
            "read_only": False}, status=400 if error else 200)
    if error:
        messages.error(request, error)
    return redirect(f"{step_url(setup, 3)}?class={promotion.source_class_id}")


@login_required
@require_POST
def promotion_set_all_view(request, pk):
    setup = _setup_or_404(request, pk)
    class_id = request.POST.get("source_class", "")
    source = services.source_classes(setup).filter(pk=class_id).first() if is_uuid(class_id) else None
    if source is None:
        raise Http404("No such class in this setup.")
    try:
        n = services.promotions_set_all(actor=request.user, setup=setup, source_class=source,
                                        action=request.POST.get("action", ""))
        messages.success(request, f"{n} student{'s' if n != 1 else ''} of {source.name}: "
                                  f"{PromotionAction(request.POST['action']).label.lower()}.")
    except (ValidationError, ApplicationError) as exc:
        messages.error(request, " ".join(_errors(exc)))
    return redirect(f"{step_url(setup, 3)}?class={source.pk}")


@login_required
@require_GET
def execution_status(request, pk):
    setup = _setup_or_404(request, pk)
    context = {"setup": setup, **_review_context(setup)}
    return render(request, "session_setup/steps/academic_4.html#execution-panel", context)


@login_required
@require_POST
def promotion_undo_view(request, pk):
    setup = _setup_or_404(request, pk)
    try:
        services.promotion_execution_undo(actor=request.user, setup=setup)
        messages.success(request, "The promotions were undone: last year's enrollments are back.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect(step_url(setup, 4))


@login_required
@require_POST
def setup_reopen_view(request, pk):
    setup = _setup_or_404(request, pk)
    try:
        services.session_setup_reopen(setup=setup, actor=request.user, reason=request.POST.get("reason", "")[:300])
        messages.success(request, "The setup is open again.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect(step_url(setup))


# --- Promotion history ----------------------------------------------------------------------------------------


@login_required
@require_GET
def history_student(request, person_pk):
    _require_view(request.user)
    person = get_object_or_404(Person.objects.for_user(request.user), pk=person_pk)
    rows = list(history_for(user=request.user, student=person)[:HISTORY_PER_PAGE])
    return render(request, "session_setup/history.html", {"rows": rows, "person": person, "title": person.full_name})


@login_required
@require_GET
def history_class(request, class_pk):
    _require_view(request.user)
    cls = get_object_or_404(ClassDivision.objects.for_user(request.user).select_related("school"), pk=class_pk)
    page = Paginator(history_for(user=request.user, class_division=cls), HISTORY_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "session_setup/history.html", {"rows": page.object_list, "page_obj": page,
                                                           "class_division": cls, "title": f"{cls.name} · {cls.school.name}"})

