"""/organization/api-keys/: the page where admins manage the organization's API keys."""

from django.urls import path

from partnerapp.api import views_keys

app_name = "api_keys"

urlpatterns = [
    path("", views_keys.api_keys, name="list"),
    path("<int:pk>/revoke/", views_keys.api_key_revoke, name="revoke"),
]
