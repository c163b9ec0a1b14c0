from rest_framework.routers import DefaultRouter

app_name = "rostering-api"
router = DefaultRouter()
urlpatterns = router.urls
