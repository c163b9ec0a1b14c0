"""``/ims/oneroster/rostering/v1p2/…`` (namespace "oneroster"): every GET path of the 1.2 rostering service."""

from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.views import TokenView

from rostering.oneroster.api import views

app_name = "oneroster"

S = "<str:sid>"


def route(pattern: str, name: str):
    return path(pattern, views.endpoint, {"route": name}, name=name)


urlpatterns = [
    path("", views.root, name="root"),
    route("academicSessions", "academicSessions"),
    route(f"academicSessions/{S}", "academicSession"),
    route("schoolYears", "schoolYears"),
    route(f"schoolYears/{S}", "schoolYear"),
    route("terms", "terms"),
    route(f"terms/{S}", "term"),
    route("terms/<str:t>/classes", "term_classes"),
    route("terms/<str:t>/gradingPeriods", "term_gradingPeriods"),
    route("gradingPeriods", "gradingPeriods"),
    route(f"gradingPeriods/{S}", "gradingPeriod"),
    route("orgs", "orgs"),
    route(f"orgs/{S}", "org"),
    route("schools", "schools"),
    route(f"schools/{S}", "school"),
    route("schools/<str:s>/classes", "school_classes"),
    route("schools/<str:s>/courses", "school_courses"),
    route("schools/<str:s>/enrollments", "school_enrollments"),
    route("schools/<str:s>/students", "school_students"),
    route("schools/<str:s>/teachers", "school_teachers"),
    route("schools/<str:s>/terms", "school_terms"),
    route("schools/<str:s>/classes/<str:c>/enrollments", "school_class_enrollments"),
    route("schools/<str:s>/classes/<str:c>/students", "school_class_students"),
    route("schools/<str:s>/classes/<str:c>/teachers", "school_class_teachers"),
    route("classes", "classes"),
    route(f"classes/{S}", "class"),
    route("classes/<str:c>/students", "class_students"),
    route("classes/<str:c>/teachers", "class_teachers"),
    route("courses", "courses"),
    route(f"courses/{S}", "course"),
    route("courses/<str:c>/classes", "course_classes"),
    route("users", "users"),
    route(f"users/{S}", "user"),
    route("users/<str:u>/classes", "user_classes"),
    route("students", "students"),
    route(f"students/{S}", "student"),
    route("students/<str:u>/classes", "student_classes"),
    route("teachers", "teachers"),
    route(f"teachers/{S}", "teacher"),
    route("teachers/<str:u>/classes", "teacher_classes"),
    route("enrollments", "enrollments"),
    route(f"enrollments/{S}", "enrollment"),
    route("demographics", "demographics"),
    route(f"demographics/{S}", "demographic"),
]

# The OAuth 2 token endpoint (client credentials), django-oauth-toolkit's own view.
token_view = csrf_exempt(TokenView.as_view())
