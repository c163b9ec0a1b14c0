"""Staff pages for OneRoster under ``/rostering/oneroster/`` (namespace "oneroster_pages")."""

from django.urls import path

from rostering.oneroster import views

app_name = "oneroster_pages"

urlpatterns = [
    path("", views.import_list, name="import_list"),
    path("imports/<uuid:pk>/", views.import_detail, name="import_detail"),
    path("imports/<uuid:pk>/rejected.csv", views.import_rejections_csv, name="import_rejections_csv"),
    path("exports/", views.export_list, name="export_list"),
    path("exports/<uuid:pk>/download/", views.export_download, name="export_download"),
    path("clients/", views.client_list, name="client_list"),
    path("clients/<int:pk>/revoke/", views.client_revoke, name="client_revoke"),
]
