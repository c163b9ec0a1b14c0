"""``/api/v1/registrations/submissions``: the review queue API (no trailing slashes, like the sessions API).

``""`` (list), ``/bulk-approve``, ``/{id}`` (detail), ``/{id}/approve``, ``/{id}/reject``,
``/{id}/request-correction``, ``/{id}/import``. The mount has no trailing slash, so everything below the
list hangs under one ``"/"`` include (a route that starts and ends with a slash passes Django's urls.W002).
"""

from django.urls import include, path

from registrations.api.review_views import SubmissionViewSet

app_name = "review-api"

_below = [
    path("bulk-approve", SubmissionViewSet.as_view({"post": "bulk_approve"}), name="submission-bulk-approve"),
    path("<str:pk>", SubmissionViewSet.as_view({"get": "retrieve"}), name="submission-detail"),
    path("<str:pk>/approve", SubmissionViewSet.as_view({"post": "approve"}), name="submission-approve"),
    path("<str:pk>/reject", SubmissionViewSet.as_view({"post": "reject"}), name="submission-reject"),
    path("<str:pk>/request-correction", SubmissionViewSet.as_view({"post": "request_correction"}),
         name="submission-request-correction"),
    path("<str:pk>/import", SubmissionViewSet.as_view({"post": "import_submission"}), name="submission-import"),
]

urlpatterns = [
    path("", SubmissionViewSet.as_view({"get": "list"}), name="submission-list"),
    path("/", include(_below)),
]
