"""The staff dashboard: the one page that brings the apps together (config wires everything).

Rostering gives the user's schools with their current school year and head counts; registrations
adds the live registration sessions with their progress. A constant number of queries.
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from registrations.choices import SessionStatus
from registrations.selectors import attach_progress, progress_from_annotated, registration_session_list
from rostering.context_processors import SESSION_SCHOOL_KEY
from rostering.models import School
from rostering.selectors import dashboard_overview
from rostering.views.base import can_create
from session_setup.selectors import setup_list

LIVE_SESSIONS_SHOWN = 8
SETUPS_SHOWN = 6


@login_required
@require_GET
def dashboard(request):
    focus = request.session.get(SESSION_SCHOOL_KEY)  # the school switcher
    overview = dashboard_overview(user=request.user, school_id=focus)
    focused_ids = {card.school.pk for group in overview.districts for card in group.cards}
    live = list(
        registration_session_list(user=request.user, with_progress=False)
        .filter(status__in=[SessionStatus.OPEN, SessionStatus.PAUSED], school_id__in=focused_ids)
        .order_by("ends_at", "-created_at")[:LIVE_SESSIONS_SHOWN]
    ) if overview.has_access else []
    attach_progress(live)
    return render(
        request,
        "dashboard.html",
        {
            "overview": overview,
            "can_create_school": can_create(request.user, School),
            "live_sessions": [(s, progress_from_annotated(s)) for s in live],
            "setups": [(s, reverse("session_setup:resume", args=[s.pk])) for s in
                       setup_list(user=request.user).order_by("status", "-updated_at")[:SETUPS_SHOWN]],
        },
    )
