from django.apps import AppConfig


class OneRosterConfig(AppConfig):
    """OneRoster 1.1 / 1.2 exchange: CSV import and export, and the 1.2 REST rostering service."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "rostering.oneroster"
    label = "oneroster"
    verbose_name = "OneRoster"
