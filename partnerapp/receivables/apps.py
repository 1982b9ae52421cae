from django.apps import AppConfig


class ReceivablesConfig(AppConfig):
    name = "partnerapp.receivables"
    label = "receivables"
