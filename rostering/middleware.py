"""Show dates and times in the district's own time zone (``District.time_zone``).

Staff get the zone of their district (the first one with a zone set); participants on /register get
the zone of their session's district (the public pages store it when a code is accepted). Stored in
the Django session at sign-in (or when a code is accepted), so requests cost no query for it.
"""

from __future__ import annotations

import zoneinfo

from django.utils import timezone

SESSION_TZ_KEY = "district_tz"


def _zone(name: str):
    try:
        return zoneinfo.ZoneInfo(name) if name else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def remember_district_zone(request, district) -> None:
    if hasattr(request, "session"):
        request.session[SESSION_TZ_KEY] = district.time_zone or ""


def remember_staff_zone(sender, request, user, **kwargs) -> None:
    """``user_logged_in`` receiver: look the staff member's zone up once, at sign-in."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_TZ_KEY] = DistrictTimezoneMiddleware._staff_zone(user)


class DistrictTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = None
        session = getattr(request, "session", None)
        if session is not None:
            name = session.get(SESSION_TZ_KEY)
            user = getattr(request, "user", None)
            if name is None and user is not None and user.is_authenticated:
                name = self._staff_zone(user)
                session[SESSION_TZ_KEY] = name
        zone = _zone(name or "")
        if zone is not None:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    @staticmethod
    def _staff_zone(user) -> str:
        from rostering.models import District
        from rostering.permissions import visible_district_ids

        districts = District.objects.exclude(time_zone="")
        if not user.is_superuser:
            districts = districts.filter(pk__in=visible_district_ids(user))
        return districts.order_by("name").values_list("time_zone", flat=True).first() or ""
