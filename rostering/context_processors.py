from rostering.permissions import Perm, has_any_perm

SESSION_SCHOOL_KEY = "current_school_id"


def staff_context(request):
    """Navigation facts for the base layout: the school switcher and what the user may change."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from rostering.models import School
    from rostering.services import can_manage_integrations

    return {
        "nav_schools": School.objects.for_user(user).only("id", "name").order_by("name"),
        "current_school_id": request.session.get(SESSION_SCHOOL_KEY, ""),
        "can_change_roster": has_any_perm(user, Perm.ROSTER_CHANGE),
        "can_manage_registrations": has_any_perm(user, Perm.REGISTRATIONS_MANAGE),
        "can_unlock_signins": has_any_perm(user, Perm.SIGNIN_UNLOCK),
        "can_manage_integrations": can_manage_integrations(user),
    }
