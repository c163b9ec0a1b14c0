"""Staff pages for OneRoster (namespace "oneroster_pages"): imports with their progress and reports, exports,
and the REST clients of a district.

Imports and exports need a roster role where they land (``roster.change`` to import, ``roster.view`` to
export); a registrar of one school imports and exports that school only. Clients: district admins.
"""

from __future__ import annotations

import csv
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from rostering.common.http import wants_partial
from rostering.models import District
from rostering.oneroster import selectors
from rostering.oneroster.forms import ApiClientForm, ExportForm, ImportForm
from rostering.oneroster.models import ImportRun
from rostering.oneroster.services import (
    api_client_create,
    api_client_revoke,
    client_district_ids,
    export_run_create,
    import_run_create,
    storage_dir,
)
from rostering.permissions import Perm, has_any_perm

FILES = ["orgs", "academicSessions", "courses", "classes", "users", "roles", "demographics", "enrollments"]


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    user = request.user
    context = {**context, "section": "oneroster",
               "can_manage_oneroster_clients": user.is_superuser or bool(client_district_ids(user))}
    return render(request, template, context, status=status)


def _require(user, perm: str) -> None:
    if not has_any_perm(user, perm):
        raise PermissionDenied("Your role does not allow OneRoster imports here.")


# --- imports -------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    _require(request.user, Perm.ROSTER_VIEW)
    districts, schools = selectors.import_targets(user=request.user)
    can_import = districts.exists() or schools.exists()
    form = ImportForm(districts=districts, schools=schools)
    status = 200
    if request.method == "POST":
        if not can_import:
            raise PermissionDenied("Your role does not allow OneRoster imports.")
        form = ImportForm(request.POST, request.FILES, districts=districts, schools=schools)
        if form.is_valid():
            district, school = form.cleaned_data["target"]
            files = form.cleaned_data["package"]
            try:
                run = import_run_create(actor=request.user, district=district, school=school, files=files,
                                        source_name=files[0].name if len(files) == 1 else f"{len(files)} CSV files",
                                        all_or_nothing=form.cleaned_data["all_or_nothing"], dry_run=form.cleaned_data["dry_run"])
            except ValidationError as exc:
                form.add_error("package", exc.messages[0])
            else:
                return redirect("oneroster_pages:import_detail", pk=run.pk)
        status = 400
    runs = Paginator(selectors.import_run_list(user=request.user), 25).get_page(request.GET.get("page"))
    return _page(request, "oneroster/import_list.html", {"form": form, "runs": runs, "can_import": can_import,
                                                          "page_obj": runs, "tab": "imports"}, status=status)


def _get_run(request, pk) -> ImportRun:
    run = selectors.import_run_list(user=request.user).filter(pk=pk).first()
    if run is None:
        raise Http404("No such import.")
    return run


@login_required
@vary_on_headers("HX-Request")
def import_detail(request: HttpRequest, pk) -> HttpResponse:
    run = _get_run(request, pk)
    rejections = Paginator(run.rejections.all(), 100).get_page(request.GET.get("page"))
    rows = []
    totals = dict.fromkeys(("created", "updated", "unchanged", "deleted", "rejected"), 0)
    for name in FILES:
        if name in run.counts:
            counts = run.counts[name]
            rows.append((f"{name}.csv", counts))
            for key in totals:
                totals[key] += counts.get(key, 0)
    context = {"run": run, "rows": rows, "totals": totals, "rejections": rejections, "page_obj": rejections}
    template = "oneroster/import_detail.html"
    if wants_partial(request):
        template += "#import-status"
    return _page(request, template, context)


@login_required
def import_rejections_csv(request: HttpRequest, pk) -> StreamingHttpResponse:
    run = _get_run(request, pk)

    class Echo:
        def write(self, value):
            return value

    writer = csv.writer(Echo())

    def rows():
        yield writer.writerow(["file", "line", "column", "sourcedId", "code", "reason"])
        for r in run.rejections.all().iterator(chunk_size=2000):
            yield writer.writerow([r.file, r.line, r.column, r.sourced_id, r.code, r.reason])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="oneroster-rejected-{run.pk}.csv"'
    return response


# --- exports -------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def export_list(request: HttpRequest) -> HttpResponse:
    _require(request.user, Perm.ROSTER_VIEW)
    districts, schools = selectors.import_targets(user=request.user, perm=Perm.ROSTER_VIEW)
    form = ExportForm(districts=districts, schools=schools)
    if request.method == "POST":
        form = ExportForm(request.POST, districts=districts, schools=schools)
        if form.is_valid():
            district, school = form.cleaned_data["target"]
            export_run_create(actor=request.user, district=district, school=school)
            messages.success(request, "The export has started; its download appears below when it is ready.")
            return redirect("oneroster_pages:export_list")
    runs = Paginator(selectors.export_run_list(user=request.user), 25).get_page(request.GET.get("page"))
    pending = any(not r.is_finished for r in runs)
    template = "oneroster/export_list.html"
    if wants_partial(request):
        template += "#export-runs"
    return _page(request, template, {"form": form, "runs": runs, "page_obj": runs, "pending": pending, "tab": "exports"},
                  status=200 if request.method == "GET" else 400)


@login_required
def export_download(request: HttpRequest, pk) -> FileResponse:
    run = selectors.export_run_list(user=request.user).filter(pk=pk).first()
    if run is None or not run.file_path:
        raise Http404("No such export.")
    path = Path(run.file_path)
    if not path.is_file() or not path.resolve().is_relative_to(storage_dir().resolve()):
        raise Http404("The export file is gone.")
    name = f"oneroster-{run.district.name.lower().replace(' ', '-')}-{run.created_at:%Y%m%d-%H%M}.zip"
    return FileResponse(open(path, "rb"), as_attachment=True, filename=name, content_type="application/zip")


# --- REST clients --------------------------------------------------------------------------------------


def _client_districts(user):
    return District.objects.all() if user.is_superuser else District.objects.filter(pk__in=client_district_ids(user))


def _require_client_manager(user) -> None:
    if not (user.is_superuser or client_district_ids(user)):
        raise PermissionDenied("Only a district admin manages OneRoster clients.")


@login_required
@require_http_methods(["GET", "POST"])
def client_list(request: HttpRequest) -> HttpResponse:
    _require_client_manager(request.user)
    districts = _client_districts(request.user).order_by("name")
    form = ApiClientForm(districts=districts)
    issued, status = None, 200
    if request.method == "POST":
        form = ApiClientForm(request.POST, districts=districts)
        if form.is_valid():
            client, secret = api_client_create(actor=request.user, district=form.cleaned_data["district"],
                                               name=form.cleaned_data["name"], demographics=form.cleaned_data["demographics"])
            issued = {"client": client, "secret": secret}
            form = ApiClientForm(districts=districts)
        else:
            status = 400
    return _page(request, "oneroster/client_list.html", {
        "form": form, "issued": issued, "clients": selectors.api_client_list(user=request.user),
        "many_districts": districts.count() > 1, "tab": "clients",
        "token_url": request.build_absolute_uri(reverse("oneroster_token")),
        "base_url": request.build_absolute_uri(reverse("oneroster:root")),
    }, status=status)


@login_required
@require_POST
def client_revoke(request: HttpRequest, pk) -> HttpResponse:
    _require_client_manager(request.user)
    client = selectors.api_client_list(user=request.user).filter(pk=pk).first()
    if client is None:
        raise Http404("No such client.")
    api_client_revoke(actor=request.user, client=client)
    messages.success(request, f"{client.name} is revoked: its tokens no longer work.")
    return redirect("oneroster_pages:client_list")
