from django.apps import AppConfig


class RosteringConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "rostering"
    verbose_name = "Rostering"
