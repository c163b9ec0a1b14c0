"""The public /register pages. config/urls.py mounts them at ``register`` (no trailing slash), so the
pages hang under a ``/`` prefix here: /register, /register/, /register/form, /register/review, …"""

from django.urls import include, path

from registrations.public import views

app_name = "register"
pages = [
    path("", views.code_entry),
    path("form", views.form_page, name="form"),
    path("save", views.save, name="save"),
    path("review", views.review, name="review"),
    path("status", views.status, name="status"),
    path("leave", views.leave, name="leave"),
]
urlpatterns = [
    path("", views.code_entry, name="code"),
    path("/", include(pages)),
]
