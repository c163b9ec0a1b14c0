"""The Integrations page of district admins: issue integration tokens (shown once), see when each was last
used, its requests of the last 24 hours and what it read, and revoke it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from rostering.graph.forms import IntegrationTokenForm
from rostering.graph.paging import DEFAULT_FIRST
from rostering.graph.selectors import integration_districts, integration_token_for, integration_token_list
from rostering.services import can_manage_integrations, integration_token_create, integration_token_revoke


def _require_manager(user) -> None:
    if not can_manage_integrations(user):
        raise PermissionDenied("Only a district admin manages integrations.")


def _page(request, *, form=None, issued=None, status=200) -> HttpResponse:
    districts = integration_districts(request.user)
    return render(request, "rostering/integration_list.html", {
        "tokens": integration_token_list(user=request.user),
        "form": form or IntegrationTokenForm(districts=districts),
        "issued": issued,
        "graph_url": request.build_absolute_uri("/api/v2/graph/"),
        "many_districts": districts.count() > 1,
        "default_first": DEFAULT_FIRST,
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def integration_list(request: HttpRequest) -> HttpResponse:
    _require_manager(request.user)
    if request.method == "POST":
        form = IntegrationTokenForm(request.POST, districts=integration_districts(request.user))
        if form.is_valid():
            token, raw = integration_token_create(
                district=form.cleaned_data["district"], name=form.cleaned_data["name"], actor=request.user)
            # The token is in this response only: no redirect, nothing kept in the session.
            return _page(request, issued={"token": token, "raw": raw})
        return _page(request, form=form, status=400)
    return _page(request)


@login_required
@require_POST
def integration_revoke(request: HttpRequest, pk) -> HttpResponse:
    _require_manager(request.user)
    token = integration_token_for(user=request.user, pk=pk)
    if token is None:
        raise Http404("No such integration token.")
    integration_token_revoke(token=token, actor=request.user)
    messages.success(request, f"Token “{token.name}” revoked: its requests are refused from now on.")
    return redirect("integrations:token_list")
