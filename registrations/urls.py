from django.urls import path

from registrations import views

app_name = "registrations"
urlpatterns = [
    path("", views.session_list, name="session_list"),
    path("new/", views.session_create, name="session_create"),
    path("progress/", views.progress_overview, name="progress_overview"),
    path("<uuid:pk>/", views.session_detail, name="session_detail"),
    path("<uuid:pk>/edit/", views.session_edit, name="session_edit"),
    path("<uuid:pk>/progress/", views.session_progress, name="session_progress"),
    path("<uuid:pk>/transition/<slug:to>/", views.session_transition, name="session_transition"),
    path("<uuid:pk>/codes/generate/", views.code_generate, name="code_generate"),
    path("<uuid:pk>/codes/<uuid:code_pk>/revoke/", views.code_revoke, name="code_revoke"),
    path("<uuid:pk>/codes/print/", views.codes_print, name="codes_print"),
    path("<uuid:pk>/codes/export.csv", views.codes_export, name="codes_export"),
]
