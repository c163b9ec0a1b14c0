"""``/api/v1/registrations/``: the seed's session API (no trailing slashes, as the seed writes them).

``sessions`` (list, create), ``sessions/{id}`` (get, PATCH), ``sessions/{id}/open|pause|close|archive``,
``sessions/{id}/progress``, and the access codes under a session: ``sessions/{id}/codes`` (list, generate),
``sessions/{id}/codes/export`` (CSV), ``sessions/{id}/codes/{codeId}/revoke``.
"""

from django.urls import path
from rest_framework.routers import SimpleRouter

from registrations.api import views

app_name = "registrations-api"

router = SimpleRouter(trailing_slash=False)
router.register("sessions", views.RegistrationSessionViewSet, basename="session")

urlpatterns = [
    path(
        "sessions/<str:pk>/codes",
        views.AccessCodeViewSet.as_view({"get": "list", "post": "create"}),
        name="session-codes",
    ),
    path(
        "sessions/<str:pk>/codes/export",
        views.AccessCodeViewSet.as_view({"get": "export"}),
        name="session-codes-export",
    ),
    path(
        "sessions/<str:pk>/codes/<str:code_pk>/revoke",
        views.AccessCodeViewSet.as_view({"post": "revoke"}),
        name="session-code-revoke",
    ),
    *router.urls,
]
