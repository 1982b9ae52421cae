from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "partnerapp.health"
    default_auto_field = "django.db.models.BigAutoField"
