"""The physical limit of a participant's submit in Django: the anchor of ``bench_register_load``.

A WSGI application for gunicorn: the project's own (``config.urls``, the full middleware stack, production
settings) plus one bare view, ``POST /bench/submit-baseline``, that does a submit's essential work and nothing
else, in one transaction — four statements:

1. lock the access code row (``SELECT … FOR UPDATE``);
2. write the submission (its status, version and submit time);
3. update the code's status;
4. write one history row.

No token, no form, no validation: what no implementation of the submit can avoid. It is served only by the
bench's own gunicorn (``--pythonpath bench register_baseline:application``), never by the project.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import transaction  # noqa: E402
from django.db.models import F  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import include, path  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402

from registrations.models import AccessCode, Submission, SubmissionStatusChange  # noqa: E402

BASELINE_PATH = "bench/submit-baseline"


@csrf_exempt
def submit_baseline(request):
    code_id, submission_id = request.headers["X-Code"], request.headers["X-Submission"]
    with transaction.atomic():
        AccessCode.objects.select_for_update().filter(pk=code_id).values_list("pk", flat=True).get()
        Submission.objects.filter(pk=submission_id).update(
            status="submitted", version=F("version") + 1, submitted_at=timezone.now()
        )
        AccessCode.objects.filter(pk=code_id).update(status="submitted")
        SubmissionStatusChange.objects.create(submission_id=submission_id, from_status="draft", to_status="submitted")
    return JsonResponse({"status": "submitted"})


urlpatterns = [path(BASELINE_PATH, submit_baseline), path("", include("config.urls"))]
settings.ROOT_URLCONF = __name__
application = get_wsgi_application()
