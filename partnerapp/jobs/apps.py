from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "partnerapp.jobs"
    label = "jobs"

    def ready(self) -> None:
        from partnerapp.jobs import receivers  # noqa: F401  (connects the signal receivers)
