"""The client's pages of a connect link: public, opened by the secret in the URL."""

from django.urls import path

from partnerapp.connections import link_views

app_name = "connect"

urlpatterns = [
    path("<str:link_token>/", link_views.link_page, name="link"),
    path("<str:link_token>/granted/", link_views.link_granted, name="granted"),
]
