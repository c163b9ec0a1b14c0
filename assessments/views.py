"""Staff pages: exam sessions and their activities, learners' assessment sessions (filters, score bars, status
badges, pages), a session's detail (items, time per item, responses as given, scores and subscores), and the
Data API consumers page of district admins (create, rotate, deactivate; a secret is shown once).

Views parse input and call one selector or service. Objects out of the user's reach are 404 (``for_user``);
the consumers page needs a district admin (403 otherwise).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from assessments.choices import JobStatus, SessionStatus
from assessments.forms import ConsumerForm, MarkForm, MarkingFilterForm, SessionFilterForm
from assessments.models import Activity, AssessmentSession, Consumer, Job, Question, Response
from assessments.permissions import (
    can_manage_consumers,
    can_mark_anything,
    can_view_assessments,
    consumer_district_ids,
)
from assessments.selectors import (
    MarkingFilters,
    SessionFilters,
    activity_detail,
    activity_list,
    activity_results,
    assessment_session_detail,
    assessment_session_list,
    consumer_list,
    exam_session_detail,
    exam_session_list,
    markable,
    marking_queue,
)
from assessments.services import consumer_create, consumer_rotate, consumer_set_active, manual_scores_apply
from rostering.common.http import wants_partial
from rostering.models import District
from rostering.permissions import Perm

SESSIONS_PER_PAGE = 25
EXAMS_PER_PAGE = 25


def _require_view(user) -> None:
    if not can_view_assessments(user):
        raise PermissionDenied("Assessment results need a staff role.")


def _score_variant(pct) -> str:
    if pct is None:
        return ""
    return "ok" if pct >= 70 else ("warn" if pct < 40 else "")


# --- exam sessions and activities --------------------------------------------------------------------------------


@login_required
@require_GET
def exam_list(request: HttpRequest) -> HttpResponse:
    _require_view(request.user)
    page = Paginator(exam_session_list(user=request.user), EXAMS_PER_PAGE).get_page(request.GET.get("page"))
    totals = dict(
        AssessmentSession.objects.for_user(request.user).values_list("status").annotate(n=Count("id")).order_by()
    )
    return render(request, "assessments/exam_list.html", {
        "page_obj": page,
        "stats": [(label, totals.get(value, 0), value) for value, label in SessionStatus.choices],
        "total_sessions": sum(totals.values()),
        "can_manage_consumers": can_manage_consumers(request.user),
    })


@login_required
@require_GET
def exam_detail(request: HttpRequest, pk) -> HttpResponse:
    _require_view(request.user)
    try:
        exam = exam_session_detail(user=request.user, pk=pk)
    except ObjectDoesNotExist:
        raise Http404("No such exam session.") from None
    activities = list(activity_list(user=request.user, exam_session=exam))
    rows = []
    for a in activities:
        pct = (a.average_score / a.average_max * 100) if a.average_score is not None and a.average_max else None
        rows.append((a, pct, _score_variant(pct)))
    return render(request, "assessments/exam_detail.html", {"exam": exam, "rows": rows})


@login_required
@require_GET
def activity_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_view(request.user)
    try:
        activity = activity_detail(user=request.user, pk=pk)
    except ObjectDoesNotExist:
        raise Http404("No such activity.") from None
    items = [ai.item for ai in activity.activity_items.all()]
    subscore_of = {ref: s.get("title", s["id"]) for s in activity.subscores for ref in s.get("items", [])}
    return render(request, "assessments/activity_detail.html", {
        "activity": activity, "items": [(i, subscore_of.get(i.reference, "")) for i in items],
        "question_count": sum(len(i.questions.all()) for i in items),
    })


# --- assessment sessions ------------------------------------------------------------------------------------------


@login_required
@require_GET
@vary_on_headers("HX-Request")
def session_list(request: HttpRequest) -> HttpResponse:
    _require_view(request.user)
    form = SessionFilterForm(request.GET or None, user=request.user)
    values = form.filters() if request.GET else {}
    filters = SessionFilters(**{k: v for k, v in values.items() if k in SessionFilters.__dataclass_fields__})
    page = Paginator(assessment_session_list(user=request.user, filters=filters), SESSIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = [(s, s.score_percent, _score_variant(s.score_percent)) for s in page.object_list]
    context = {"filter_form": form, "page_obj": page, "rows": rows, "filtered": bool(values)}
    template = "assessments/session_list.html"
    if wants_partial(request):
        template += "#results"
    return render(request, template, context)


@dataclass
class ShownResponse:
    response: object
    question: Question | None
    lines: list[str]
    is_text: bool
    attempted: bool


def _labels(options) -> dict:
    out = {}
    for i, opt in enumerate(options or []):
        if isinstance(opt, dict):
            out[str(opt.get("value", i))] = str(opt.get("label", opt.get("value", "")))
        else:
            out[str(i)] = str(opt)
    return out


def describe(response, question: Question | None) -> tuple[list[str], bool]:
    """The learner's answer as lines of plain text (never their HTML), and whether it is free text."""
    value = response.value.get("value") if isinstance(response.value, dict) else None
    if value is None:
        return [], False
    qtype = response.question_type
    data = question.data if question else {}
    if isinstance(value, str):
        return [value], qtype in ("longtextV2", "longtext", "plaintext")
    if not isinstance(value, list):
        return [str(value)], False
    if qtype == "mcq":
        labels = _labels(question.options if question else [])
        return [labels.get(str(v), str(v)) for v in value], False
    if qtype == "orderlist":
        items = data.get("list") or []
        # The stored value lists the indexes of list[] in the learner's order (as valid_response does; SET
        # sessions' from_template packets, which give each entry its position, are turned into this form).
        try:
            return [f"{n + 1}. {items[int(i)] if 0 <= int(i) < len(items) else i}" for n, i in enumerate(value)], False
        except (TypeError, ValueError):
            return [str(v) for v in value], False
    if qtype == "association":
        stems = data.get("stimulus_list") or []
        return [f"{stems[i] if i < len(stems) else i + 1} → {v if v is not None else '—'}" for i, v in enumerate(value)], False
    if qtype in ("clozetext", "clozeinlinetext", "clozeassociation"):
        return [f"Blank {i + 1}: {v if v not in (None, '') else '—'}" for i, v in enumerate(value)], False
    return [", ".join(str(v) for v in value)], False


@login_required
@require_GET
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_view(request.user)
    try:
        session = assessment_session_detail(user=request.user, pk=pk)
    except ObjectDoesNotExist:
        raise Http404("No such assessment session.") from None
    responses = list(session.responses.all())
    by_item: dict[str, list[ShownResponse]] = {}
    for r in responses:
        lines, is_text = describe(r, r.question)
        by_item.setdefault(r.item_reference, []).append(ShownResponse(r, r.question, lines, is_text, r.attempted))
    items = list(session.items.all())
    total_time = sum(i.time for i in items)
    longest = max((i.time for i in items), default=0) or 1
    item_rows = [
        (i, by_item.pop(i.reference, []), i.time / longest * 100,
         ((i.scoring or {}).get("score"), (i.scoring or {}).get("max_score")))
        for i in items
    ]
    subscores = [
        (s, (s["score"] / s["max_score"] * 100) if s.get("max_score") else None) for s in (session.subscores or [])
    ]
    return render(request, "assessments/session_detail.html", {
        "session": session, "item_rows": item_rows, "loose_responses": [r for rs in by_item.values() for r in rs],
        "total_time": total_time, "pct": session.score_percent, "variant": _score_variant(session.score_percent),
        "subscores": [(s, p, _score_variant(p)) for s, p in subscores],
        "person_url": reverse("rostering:person_detail", args=[session.person_id]) if session.person_id else "",
    })


# --- Data API consumers ---------------------------------------------------------------------------------------------


def _consumer_districts(user):
    if user.is_superuser:
        return District.objects.order_by("name")
    return District.objects.filter(pk__in=consumer_district_ids(user)).order_by("name")


def _consumers_page(request, *, form=None, issued=None, status=200) -> HttpResponse:
    districts = _consumer_districts(request.user)
    return render(request, "assessments/consumer_list.html", {
        "consumers": consumer_list(user=request.user),
        "form": form or ConsumerForm(districts=districts),
        "issued": issued,
        "data_api_url": request.build_absolute_uri("/data/v1/"),
        "many_districts": districts.count() > 1,
    }, status=status)


def _require_consumer_manager(user) -> None:
    if not can_manage_consumers(user):
        raise PermissionDenied("Only a district admin manages Data API consumers.")


@login_required
@require_http_methods(["GET", "POST"])
def consumer_page(request: HttpRequest) -> HttpResponse:
    _require_consumer_manager(request.user)
    if request.method == "POST":
        form = ConsumerForm(request.POST, districts=_consumer_districts(request.user))
        if form.is_valid():
            issued = consumer_create(
                district=form.cleaned_data["district"], name=form.cleaned_data["name"],
                allowed_domains=form.cleaned_data["allowed_domains"], actor=request.user,
            )
            # The secret is in this response only: no redirect, no message stored in the session.
            return _consumers_page(request, issued=issued)
        return _consumers_page(request, form=form, status=400)
    return _consumers_page(request)


def _get_consumer(request, pk) -> Consumer:
    consumer = consumer_list(user=request.user).filter(pk=pk).first()
    if consumer is None:
        raise Http404("No such consumer.")
    return consumer


@login_required
@require_POST
def consumer_rotate_view(request: HttpRequest, pk) -> HttpResponse:
    _require_consumer_manager(request.user)
    issued = consumer_rotate(consumer=_get_consumer(request, pk), actor=request.user)
    return _consumers_page(request, issued=issued)


@login_required
@require_POST
def consumer_toggle_view(request: HttpRequest, pk) -> HttpResponse:
    _require_consumer_manager(request.user)
    consumer = _get_consumer(request, pk)
    consumer_set_active(consumer=consumer, active=not consumer.is_active, actor=request.user)
    return redirect("assessments:consumer_list")


# --- manual marking ---------------------------------------------------------------------------------------------------

QUEUE_PER_PAGE = 25


def _marking_filters(request) -> tuple[MarkingFilterForm, MarkingFilters, bool]:
    form = MarkingFilterForm(request.GET or None, user=request.user)
    values = form.filters() if request.GET else {}
    filters = MarkingFilters(**{k: v for k, v in values.items() if k in MarkingFilters.__dataclass_fields__})
    return form, filters, any(k != "state" for k in values)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def marking_queue_view(request: HttpRequest) -> HttpResponse:
    _require_view(request.user)
    form, filters, filtered = _marking_filters(request)
    page = Paginator(marking_queue(user=request.user, filters=filters), QUEUE_PER_PAGE).get_page(request.GET.get("page"))
    context = {"filter_form": form, "page_obj": page, "filtered": filtered, "state": filters.state,
               "query": request.GET.urlencode(), "can_mark": can_mark_anything(request.user)}
    template = "assessments/marking_queue.html"
    if wants_partial(request):
        template += "#results"
    return render(request, template, context)


def _neighbours(request, queue, response) -> tuple:
    previous = queue.filter(id__lt=response.pk).order_by("-id").values_list("pk", flat=True).first()
    following = queue.filter(id__gt=response.pk).order_by("id").values_list("pk", flat=True).first()
    return previous, following


@login_required
@require_http_methods(["GET", "POST"])
def mark_response_view(request: HttpRequest, pk: int) -> HttpResponse:
    """One response to mark: the question, the learner's answer, a score bounded by the max; saved through
    the same service as the Data API's scores update; answered htmx with the panel (and the session's score)."""
    _require_view(request.user)
    visible = AssessmentSession.objects.for_user(request.user, perm=Perm.ROSTER_VIEW)
    response = (Response.objects.select_related("session__person", "session__linked_activity", "question")
                .filter(session__in=visible.values("pk"), automarkable=False, pk=pk).first())
    if response is None:
        raise Http404("No such response to mark.")
    session = response.session
    may_mark = markable(user=request.user, session=session)
    max_score = float(response.max_score if response.max_score is not None else (response.question.max_score if response.question else 1))
    form = MarkForm(request.POST or None, max_score=max_score,
                    initial={"score": response.score} if response.score is not None else None)
    saved = False
    status = 200
    if request.method == "POST":
        if not may_mark:
            raise PermissionDenied("You may read this response, not mark it.")
        if form.is_valid():
            score = float(form.cleaned_data["score"])
            try:
                session = manual_scores_apply(
                    district_id=session.district_id, session_id=session.session_id, session=session, responses=[{
                        "response_id": response.response_id, "score": score, "max_score": max_score, "attempted": True,
                        "manual_score": score, "max_manual_score": max_score}])
            except ValidationError as exc:
                form.add_error("score", " ".join(exc.messages))
                status = 400
            else:
                saved = True
                response.refresh_from_db()
                if not wants_partial(request):
                    _form, filters, _f = _marking_filters(request)
                    _prev, following = _neighbours(request, marking_queue(user=request.user, filters=filters), response)
                    query = f"?{request.GET.urlencode()}" if request.GET else ""
                    if following:
                        return redirect(reverse("assessments:mark_response", args=[following]) + query)
                    return redirect(reverse("assessments:marking_queue") + query)
        else:
            status = 400
    _form, filters, _f = _marking_filters(request)
    previous, following = _neighbours(request, marking_queue(user=request.user, filters=filters), response)
    lines, _is_text = describe(response, response.question)
    context = {
        "response": response, "session": session, "question": response.question, "lines": lines, "form": form,
        "may_mark": may_mark, "saved": saved, "max_score": max_score, "previous": previous, "following": following,
        "query": request.GET.urlencode(), "pct": session.score_percent, "variant": _score_variant(session.score_percent),
        "word_count": (response.value or {}).get("wordCount") if isinstance(response.value, dict) else None,
    }
    template = "assessments/mark_response.html"
    if wants_partial(request):
        # htmx swaps only 2xx answers: a refused score comes back as the panel with its error, changing nothing.
        template += "#panel"
        status = 200
    return render(request, template, context, status=status)


# --- results of an activity -------------------------------------------------------------------------------------------


def _activity_or_404(request, pk) -> Activity:
    activity = Activity.objects.for_user(request.user, perm=Perm.ROSTER_VIEW).select_related("exam_session").filter(pk=pk).first()
    if activity is None:
        raise Http404("No such activity.")
    return activity


@login_required
@require_GET
def activity_results_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_view(request.user)
    activity = _activity_or_404(request, pk)
    results = activity_results(activity=activity)
    for s in results["subscores"]:
        s["variant"] = _score_variant(s["percent"])
    return render(request, "assessments/activity_results.html", {"activity": activity, "results": results})


class _Echo:
    def write(self, value):
        return value


def _csv_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@login_required
@require_GET
def activity_results_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """Every session's score (and subscores) as CSV, streamed in chunks of rows."""
    _require_view(request.user)
    activity = _activity_or_404(request, pk)
    definitions = [s for s in activity.subscores if isinstance(s, dict) and s.get("id")]
    sessions = (AssessmentSession.objects.for_user(request.user, perm=Perm.ROSTER_VIEW)
                .filter(linked_activity=activity).select_related("person")
                .only("session_id", "user_id", "status", "score", "max_score", "subscores", "dt_completed",
                      "person__given_name", "person__family_name").order_by("id"))
    header = ["session_id", "user_id", "learner", "status", "score", "max_score", "percent", "dt_completed",
              *(f"{d['id']}_score" for d in definitions), *(f"{d['id']}_max_score" for d in definitions)]

    def rows():
        writer = csv.writer(_Echo())
        yield writer.writerow(header)
        for s in sessions.iterator(chunk_size=1000):
            by_id = {x.get("id"): x for x in (s.subscores or [])}
            pct = s.score_percent
            yield writer.writerow([_csv_cell(v) for v in (
                s.session_id, s.user_id, s.person.full_name if s.person else "", s.status, score_text(s.score),
                score_text(s.max_score), "" if pct is None else f"{pct:.1f}",
                s.dt_completed.strftime("%Y-%m-%dT%H:%M:%SZ") if s.dt_completed else "",
                *(score_text((by_id.get(d["id"]) or {}).get("score")) for d in definitions),
                *(score_text((by_id.get(d["id"]) or {}).get("max_score")) for d in definitions))])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slugify(activity.reference) or "activity"}-scores.csv"'
    return response


def score_text(value) -> str:
    if value is None:
        return ""
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:g}"


# --- Data API jobs ------------------------------------------------------------------------------------------------------

JOBS_PER_PAGE = 25


def _jobs_for(user):
    qs = Job.objects.select_related("consumer")
    if user.is_superuser:
        return qs
    return qs.filter(district_id__in=consumer_district_ids(user))


@login_required
@require_GET
@vary_on_headers("HX-Request")
def job_list_view(request: HttpRequest) -> HttpResponse:
    _require_consumer_manager(request.user)
    status = request.GET.get("status", "")
    qs = _jobs_for(request.user).defer("request", "result", "data")
    if status in JobStatus.values:
        qs = qs.filter(status=status)
    page = Paginator(qs.order_by("-dt_created", "-id"), JOBS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"page_obj": page, "status": status, "statuses": JobStatus.choices}
    template = "assessments/job_list.html"
    if wants_partial(request):
        template += "#results"
    return render(request, template, context)


@login_required
@require_GET
def job_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_consumer_manager(request.user)
    job = _jobs_for(request.user).filter(pk=pk).first()
    if job is None:
        raise Http404("No such job.")
    request_packet = job.request or {}
    entries = next((request_packet[k] for k in ("sessions", "statuses", "session_metadata", "data")
                    if isinstance(request_packet.get(k), list)), [])
    return render(request, "assessments/job_detail.html", {
        "job": job, "history": list(job.history.order_by("created_at", "id")), "entry_count": len(entries),
        "session_ids": [e.get("session_id") for e in entries[:100] if isinstance(e, dict)],
        "errors": job.errors or [],
    })
