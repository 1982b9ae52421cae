from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "partnerapp.connections"
    label = "connections"
