"""``/api/v1/rostering/``: the native REST API over roster data (``rostering-api:<basename>-list`` …).

Documented with trailing slashes; every path also answers without one."""

from rest_framework.routers import DefaultRouter

from rostering.api import views
from rostering.common.urls import both_slash_forms

app_name = "rostering-api"

router = DefaultRouter()
router.register("districts", views.DistrictViewSet, basename="district")
router.register("schools", views.SchoolViewSet, basename="school")
router.register("academic-sessions", views.AcademicSessionViewSet, basename="academic-session")
router.register("grade-levels", views.GradeLevelViewSet, basename="grade-level")
router.register("subjects", views.SubjectViewSet, basename="subject")
router.register("class-divisions", views.ClassDivisionViewSet, basename="class-division")
router.register("people", views.PersonViewSet, basename="person")
router.register("enrollments", views.EnrollmentViewSet, basename="enrollment")

urlpatterns = both_slash_forms(router.urls)  # documented with the slash; answers without it too
