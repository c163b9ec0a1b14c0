from rest_framework.routers import SimpleRouter

from session_setup.api.views import SessionSetupViewSet

app_name = "session-setup-api"
router = SimpleRouter()
router.register("session-setup", SessionSetupViewSet, basename="session_setup")
urlpatterns = router.urls
