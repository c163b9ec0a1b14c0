"""The district-wide progress page: one row per school and session across everything the user can see,
sortable by every column. The figures are the progress selector's (``build_progress``), computed once."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from registrations.choices import RegistrationMode
from registrations.forms import SessionFilterForm
from registrations.selectors import progress_from_annotated, progress_overview
from rostering.common.http import wants_partial
from rostering.permissions import Perm, has_any_perm

OVERVIEW_PER_PAGE = 100
# column → the value it sorts by (then the school's name); None sorts last, whatever the direction
OVERVIEW_SORTS = {
    "school": lambda s, p: s.school.name,
    "session": lambda s, p: s.title,
    "mode": lambda s, p: s.mode,
    "status": lambda s, p: s.status,
    "expected": lambda s, p: s.expected_count,
    "codes": lambda s, p: p.codes_generated,
    "submitted": lambda s, p: p.submitted,
    "corrections": lambda s, p: p.needs_correction,
    "approved": lambda s, p: p.approved + p.imported,
    "completion": lambda s, p: p.completion_percent,
    "approval": lambda s, p: p.approval_percent,
}
OVERVIEW_COLUMNS = [
    ("school", "School", ""), ("session", "Session", ""), ("status", "Status", ""),
    ("expected", "Expected", "num"), ("codes", "Codes", "num"),
    ("submitted", "Submitted", "num"), ("corrections", "Corrections", "num"), ("approved", "Approved", "num"),
    ("completion", "Completion", ""), ("approval", "Approval", ""),
]




def _sorted_rows(rows: list, sort: str) -> tuple[str, list]:
    key = sort.lstrip("-")
    if key not in OVERVIEW_SORTS:
        key, sort = "school", "school"
    value = OVERVIEW_SORTS[key]
    rows = sorted(rows, key=lambda row: (row[0].school.name, row[0].title))  # the tie-breaker
    present = [row for row in rows if value(*row) is not None]
    missing = [row for row in rows if value(*row) is None]
    present.sort(key=lambda row: value(*row), reverse=sort.startswith("-"))
    return sort, present + missing


@login_required
@require_GET
@vary_on_headers("HX-Request")
def progress_overview_view(request: HttpRequest) -> HttpResponse:
    if not has_any_perm(request.user, Perm.REGISTRATIONS_VIEW):
        raise PermissionDenied("Registration progress needs a staff role.")
    filter_form = SessionFilterForm(request.GET, user=request.user)
    sessions, totals = progress_overview(user=request.user, filters=filter_form.filters())
    sort, rows = _sorted_rows([(s, progress_from_annotated(s)) for s in sessions], request.GET.get("sort", "school"))
    page = Paginator(rows, OVERVIEW_PER_PAGE).get_page(request.GET.get("page"))
    columns = []
    for key, label, css in OVERVIEW_COLUMNS:
        current = sort.lstrip("-") == key
        descending = current and sort.startswith("-")
        columns.append({
            "key": key, "label": label, "css": css, "current": current, "descending": descending,
            "next_sort": key if (current and descending) or not current else f"-{key}",
            "aria_sort": ("descending" if descending else "ascending") if current else "",
        })
    context = {
        "filter_form": filter_form,
        "page": page,
        "rows": page.object_list,
        "columns": columns,
        "sort": sort,
        "totals": totals,
        "session_count": page.paginator.count,
        "modes": dict(RegistrationMode.choices),
    }
    template = "registrations/progress_overview.html"
    if wants_partial(request):
        template += "#overview-table"
    return render(request, template, context)
