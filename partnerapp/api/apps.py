from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "partnerapp.api"
    label = "api"
