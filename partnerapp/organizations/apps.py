from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "partnerapp.organizations"
    label = "organizations"

    def ready(self) -> None:
        from partnerapp.organizations import receivers  # noqa: F401  (connects the receivers)
