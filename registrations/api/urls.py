"""``/api/v1/registrations/``: the seed's paths, documented without trailing slashes as the seed writes them;
each also answers with one (``rostering.common.urls.both_slash_forms``).

``registrations-api``: ``sessions`` (list, create), ``sessions/{id}`` (get, PATCH),
``sessions/{id}/open|pause|close|archive``, ``sessions/{id}/progress``, and the access codes under a session:
``sessions/{id}/codes`` (list, generate), ``sessions/{id}/codes/export`` (CSV), ``sessions/{id}/codes/{codeId}/revoke``.

``review-api`` (``review_patterns``): ``submissions`` (list), ``submissions/bulk-approve``, ``submissions/{id}``
(detail), ``submissions/{id}/approve``, ``/reject``, ``/request-correction``, ``/import``.
"""

from django.urls import path
from rest_framework.routers import SimpleRouter

from registrations.api import views
from rostering.common.urls import both_slash_forms

app_name = "registrations-api"

router = SimpleRouter(trailing_slash=False)
router.register("sessions", views.RegistrationSessionViewSet, basename="session")

urlpatterns = both_slash_forms([
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
])

_submissions = views.SubmissionViewSet
review_patterns = (
    both_slash_forms([
        path("submissions", _submissions.as_view({"get": "list"}), name="submission-list"),
        path("submissions/bulk-approve", _submissions.as_view({"post": "bulk_approve"}),
             name="submission-bulk-approve"),
        path("submissions/<str:pk>", _submissions.as_view({"get": "retrieve"}), name="submission-detail"),
        path("submissions/<str:pk>/approve", _submissions.as_view({"post": "approve"}), name="submission-approve"),
        path("submissions/<str:pk>/reject", _submissions.as_view({"post": "reject"}), name="submission-reject"),
        path("submissions/<str:pk>/request-correction", _submissions.as_view({"post": "request_correction"}),
             name="submission-request-correction"),
        path("submissions/<str:pk>/import", _submissions.as_view({"post": "import_submission"}),
             name="submission-import"),
    ]),
    "review-api",
)
