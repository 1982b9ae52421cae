from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "partnerapp.webhooks"
    label = "webhooks"
