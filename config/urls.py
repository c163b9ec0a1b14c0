from django.contrib import admin
from django.urls import include, path
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.health import healthz, livez
from config.settings import SECURE_CSP
from config.views import dashboard
from registrations.api.urls import review_patterns as registration_review_api
from registrations.urls import review_patterns as registration_review_pages
from rostering.graph.views import up as graph_up
from rostering.oneroster.api.urls import token_view

handler500 = "config.middleware.server_error"  # a database fault outside a view is a 503, not this page

_swagger_csp = {**SECURE_CSP, "script-src": [*SECURE_CSP["script-src"]], "style-src": ["'self'", "'unsafe-inline'"]}

urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("", include("rostering.account_urls")),
    path("rostering/oneroster/", include("rostering.oneroster.urls")),
    path("rostering/", include("rostering.urls")),
    path("registrations/submissions/", include(registration_review_pages)),
    path("registrations/", include("registrations.urls")),
    path("register", include("registrations.public.urls")),
    path("admin/", admin.site.urls),
    path("assessments/", include("assessments.urls")),
    path("data/", include("assessments.dataapi.urls")),
    path("api/v1/rostering/", include("rostering.api.urls")),
    path("api/v2/graph/", include("rostering.graph.urls")),
    path("api/up", graph_up, name="edlink_up"),
    path("integrations/", include("rostering.graph.staff_urls")),
    path("api/v1/registrations/", include(registration_review_api)),
    path("api/v1/registrations/", include("registrations.api.urls")),
    path("api/v1/public/registrations/", include("registrations.public.api_urls")),
    path("api/v1/school/", include("session_setup.api.urls")),
    path("setup/", include("session_setup.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path(
        "api/docs/",
        csp_override(_swagger_csp)(SpectacularSwaggerSplitView.as_view(url_name="api_schema")),
        name="api_docs",
    ),
    path("ims/oneroster/rostering/v1p2/", include("rostering.oneroster.api.urls")),
    path("ims/oneroster/token", token_view, name="oneroster_token"),
    path("healthz", healthz, name="healthz"),
    path("livez", livez, name="livez"),
]
