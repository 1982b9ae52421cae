from django.urls import path

from partnerapp.health import views

app_name = "health"

urlpatterns = [
    path("", views.health, name="health"),
]
