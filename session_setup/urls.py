from django.urls import path

from session_setup import views

app_name = "session_setup"
urlpatterns = [
    path("", views.setup_list_view, name="list"),
    path("new/academic-year/", views.academic_new, name="academic_new"),
    path("new/exam-session/", views.exam_new, name="exam_new"),
    path("<uuid:pk>/", views.setup_resume, name="resume"),
    path("<uuid:pk>/step/<int:step>/", views.setup_step, name="step"),
    path("<uuid:pk>/promotions/<int:promotion_pk>/", views.promotion_decide_view, name="promotion_decide"),
    path("<uuid:pk>/promotions/set-all/", views.promotion_set_all_view, name="promotion_set_all"),
    path("<uuid:pk>/execution/", views.execution_status, name="execution"),
    path("<uuid:pk>/undo/", views.promotion_undo_view, name="undo"),
    path("<uuid:pk>/reopen/", views.setup_reopen_view, name="reopen"),
    path("history/students/<uuid:person_pk>/", views.history_student, name="history_student"),
    path("history/classes/<uuid:class_pk>/", views.history_class, name="history_class"),
]
