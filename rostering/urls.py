"""Staff pages for roster data (namespace "rostering"). ``/rostering/`` is the schools list."""

from django.urls import path
from django.views.generic import RedirectView

from rostering.views import roster

app_name = "rostering"


def _crud(prefix: str, segment: str, list_view, detail_view, create_view, update_view, delete_view) -> list:
    return [
        path(f"{segment}/", list_view.as_view(), name=f"{prefix}_list"),
        path(f"{segment}/new/", create_view.as_view(), name=f"{prefix}_create"),
        path(f"{segment}/<uuid:pk>/", detail_view.as_view(), name=f"{prefix}_detail"),
        path(f"{segment}/<uuid:pk>/edit/", update_view.as_view(), name=f"{prefix}_edit"),
        path(f"{segment}/<uuid:pk>/delete/", delete_view.as_view(), name=f"{prefix}_delete"),
    ]


urlpatterns = [
    path("", roster.SchoolListView.as_view(), name="school_list"),
    path("schools/", RedirectView.as_view(pattern_name="rostering:school_list", query_string=True)),
    path("schools/new/", roster.SchoolCreateView.as_view(), name="school_create"),
    path("schools/<uuid:pk>/", roster.SchoolDetailView.as_view(), name="school_detail"),
    path("schools/<uuid:pk>/edit/", roster.SchoolUpdateView.as_view(), name="school_edit"),
    path("schools/<uuid:pk>/delete/", roster.SchoolDeleteView.as_view(), name="school_delete"),
    *_crud(
        "academicsession",
        "sessions",
        roster.AcademicSessionListView,
        roster.AcademicSessionDetailView,
        roster.AcademicSessionCreateView,
        roster.AcademicSessionUpdateView,
        roster.AcademicSessionDeleteView,
    ),
    *_crud(
        "gradelevel",
        "grades",
        roster.GradeLevelListView,
        roster.GradeLevelDetailView,
        roster.GradeLevelCreateView,
        roster.GradeLevelUpdateView,
        roster.GradeLevelDeleteView,
    ),
    *_crud(
        "subject",
        "subjects",
        roster.SubjectListView,
        roster.SubjectDetailView,
        roster.SubjectCreateView,
        roster.SubjectUpdateView,
        roster.SubjectDeleteView,
    ),
    *_crud(
        "classdivision",
        "classes",
        roster.ClassDivisionListView,
        roster.ClassDivisionDetailView,
        roster.ClassDivisionCreateView,
        roster.ClassDivisionUpdateView,
        roster.ClassDivisionDeleteView,
    ),
    *_crud(
        "person",
        "people",
        roster.PersonListView,
        roster.PersonDetailView,
        roster.PersonCreateView,
        roster.PersonUpdateView,
        roster.PersonDeleteView,
    ),
    *_crud(
        "enrollment",
        "enrollments",
        roster.EnrollmentListView,
        roster.EnrollmentDetailView,
        roster.EnrollmentCreateView,
        roster.EnrollmentUpdateView,
        roster.EnrollmentDeleteView,
    ),
]
