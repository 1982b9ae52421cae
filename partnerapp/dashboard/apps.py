from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "partnerapp.dashboard"
    label = "dashboard"
