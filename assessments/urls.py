from django.urls import path

from assessments import views

app_name = "assessments"
urlpatterns = [
    path("", views.exam_list, name="exam_list"),
    path("exams/<uuid:pk>/", views.exam_detail, name="exam_detail"),
    path("activities/<int:pk>/", views.activity_view, name="activity_detail"),
    path("sessions/", views.session_list, name="session_list"),
    path("sessions/<int:pk>/", views.session_detail, name="session_detail"),
    path("activities/<int:pk>/results/", views.activity_results_view, name="activity_results"),
    path("activities/<int:pk>/results.csv", views.activity_results_csv, name="activity_results_csv"),
    path("marking/", views.marking_queue_view, name="marking_queue"),
    path("marking/<int:pk>/", views.mark_response_view, name="mark_response"),
    path("jobs/", views.job_list_view, name="job_list"),
    path("jobs/<int:pk>/", views.job_detail_view, name="job_detail"),
    path("consumers/", views.consumer_page, name="consumer_list"),
    path("consumers/<uuid:pk>/rotate/", views.consumer_rotate_view, name="consumer_rotate"),
    path("consumers/<uuid:pk>/toggle/", views.consumer_toggle_view, name="consumer_toggle"),
]
