"""Staff pages of the review queue (namespace "review"), mounted at ``/registrations/submissions/``."""

from django.urls import path

from registrations import review_views as views

app_name = "review"
urlpatterns = [
    path("", views.submission_list_view, name="submission_list"),
    path("bulk-approve/", views.submission_bulk_approve_view, name="submission_bulk_approve"),
    path("attempts/", views.attempt_list_view, name="attempt_list"),
    path("sessions/<uuid:session_pk>/import-approved/", views.session_import_approved_view,
         name="session_import_approved"),
    path("<uuid:pk>/", views.submission_detail_view, name="submission_detail"),
    path("<uuid:pk>/approve/", views.submission_approve_view, name="submission_approve"),
    path("<uuid:pk>/reject/", views.submission_reject_view, name="submission_reject"),
    path("<uuid:pk>/request-correction/", views.submission_request_correction_view,
         name="submission_request_correction"),
    path("<uuid:pk>/import/", views.submission_import_view, name="submission_import"),
]
