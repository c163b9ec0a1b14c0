"""The public participant API, mounted at /api/v1/public/registrations/."""

from django.urls import path

from registrations.public import api
from rostering.common.urls import both_slash_forms

app_name = "register-api"
urlpatterns = both_slash_forms([
    path("access-codes/validate", api.PublicAccessCodeValidateApi.as_view(), name="access_code_validate"),
    path("submission", api.PublicSubmissionStatusApi.as_view(), name="submission_status"),
    path("submission/draft", api.PublicSubmissionDraftApi.as_view(), name="submission_draft"),
    path("submission/submit", api.PublicSubmissionSubmitApi.as_view(), name="submission_submit"),
])
