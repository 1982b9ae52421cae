from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "partnerapp.api"
    label = "api"

    def ready(self) -> None:
        from partnerapp.api import schema  # noqa: F401  (registers the key's security scheme)
