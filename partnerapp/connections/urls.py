from django.urls import path

from partnerapp.connections import views

app_name = "connections"

urlpatterns = [
    path("connect/", views.connect, name="connect"),
    path("callback/", views.callback, name="callback"),
    path("own-account/", views.own_account, name="own_account"),
    path("<int:pk>/reconnect/", views.reconnect, name="reconnect"),
    path("<int:pk>/disconnect/", views.disconnect, name="disconnect"),
]
