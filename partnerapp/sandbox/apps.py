from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "partnerapp.sandbox"
    label = "sandbox"
