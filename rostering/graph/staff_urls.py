"""The Integrations staff page (namespace "integrations")."""

from django.urls import path

from rostering.graph import staff_views

app_name = "integrations"

urlpatterns = [
    path("", staff_views.integration_list, name="token_list"),
    path("<uuid:pk>/revoke/", staff_views.integration_revoke, name="token_revoke"),
]
