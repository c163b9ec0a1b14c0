from django.apps import AppConfig


class RosteringConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "rostering"
    verbose_name = "Rostering"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from rostering.middleware import remember_staff_zone

        user_logged_in.connect(remember_staff_zone, dispatch_uid="rostering.remember_staff_zone")
