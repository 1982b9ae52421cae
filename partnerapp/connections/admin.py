from django import forms
from django.contrib import admin
from django.db import models

from partnerapp.connections.models import Connection


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    """Tokens are never shown: the ciphertext fields are left out entirely."""

    list_display = ["owner_name", "account_id", "user", "status", "access_token_expires_at"]
    list_filter = ["status"]
    search_fields = ["owner_name", "account_id", "user__email"]
    exclude = [
        "access_token_ciphertext",
        "refresh_token_ciphertext",
        "own_client_secret_ciphertext",
    ]
    formfield_overrides = {
        models.URLField: {"form_class": forms.URLField, "assume_scheme": "https"}
    }
    readonly_fields = [
        "last_refreshed_at",
        "rate_limit",
        "access_token_lifetime",
        "created_at",
        "updated_at",
    ]

    @admin.display(description="rate limit window")
    def rate_limit(self, connection: Connection) -> str:
        return str(connection.rate)
