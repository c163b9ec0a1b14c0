from django.apps import AppConfig


class SessionSetupConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "session_setup"
    verbose_name = "Session setup"
