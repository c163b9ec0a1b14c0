"""The landing page: the user's schools with their current school year and head counts."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from rostering.models import School
from rostering.selectors import dashboard_overview
from rostering.views.base import can_create


@login_required
@require_GET
def dashboard(request):
    overview = dashboard_overview(user=request.user)
    return render(
        request,
        "rostering/dashboard.html",
        {"overview": overview, "can_create_school": can_create(request.user, School)},
    )
