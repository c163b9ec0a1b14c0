"""Staff pages: ``registrations`` (sessions, codes, progress; mounted at ``/registrations/``) and ``review``
(the review queue; ``review_patterns``, mounted at ``/registrations/submissions/``)."""

from django.urls import path

from registrations.views import codes, progress, review, sessions

app_name = "registrations"
urlpatterns = [
    path("", sessions.session_list, name="session_list"),
    path("new/", sessions.session_create, name="session_create"),
    path("progress/", progress.progress_overview_view, name="progress_overview"),
    path("<uuid:pk>/", sessions.session_detail, name="session_detail"),
    path("<uuid:pk>/edit/", sessions.session_edit, name="session_edit"),
    path("<uuid:pk>/progress/", sessions.session_progress, name="session_progress"),
    path("<uuid:pk>/transition/<slug:to>/", sessions.session_transition, name="session_transition"),
    path("<uuid:pk>/codes/generate/", codes.code_generate, name="code_generate"),
    path("<uuid:pk>/codes/<uuid:code_pk>/revoke/", codes.code_revoke, name="code_revoke"),
    path("<uuid:pk>/codes/print/", codes.codes_print, name="codes_print"),
    path("<uuid:pk>/codes/export.csv", codes.codes_export, name="codes_export"),
]

review_patterns = (
    [
        path("", review.submission_list_view, name="submission_list"),
        path("bulk-approve/", review.submission_bulk_approve_view, name="submission_bulk_approve"),
        path("attempts/", review.attempt_list_view, name="attempt_list"),
        path("sessions/<uuid:session_pk>/import-approved/", review.session_import_approved_view,
             name="session_import_approved"),
        path("<uuid:pk>/", review.submission_detail_view, name="submission_detail"),
        path("<uuid:pk>/approve/", review.submission_approve_view, name="submission_approve"),
        path("<uuid:pk>/reject/", review.submission_reject_view, name="submission_reject"),
        path("<uuid:pk>/request-correction/", review.submission_request_correction_view,
             name="submission_request_correction"),
        path("<uuid:pk>/import/", review.submission_import_view, name="submission_import"),
    ],
    "review",
)
