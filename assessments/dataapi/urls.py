from django.urls import re_path

from assessments.dataapi import views

app_name = "dataapi"
# Everything under /data/ answers in the Data API's envelope (an unknown version or endpoint is a 20012).
urlpatterns = [
    re_path(r"^(?P<path>.*)$", views.data_api, name="endpoint"),
]
