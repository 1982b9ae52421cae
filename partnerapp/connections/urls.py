from django.urls import path

from partnerapp.connections import link_views, views

app_name = "connections"

urlpatterns = [
    path("connect/", views.connect, name="connect"),
    path("callback/", views.callback, name="callback"),
    path("own-account/", views.own_account, name="own_account"),
    path("<int:pk>/reconnect/", views.reconnect, name="reconnect"),
    path("<int:pk>/disconnect/", views.disconnect, name="disconnect"),
    path("links/", link_views.link_list, name="links"),
    path("links/<int:pk>/revoke/", link_views.link_revoke, name="link_revoke"),
    path("links/<int:pk>/send/", link_views.link_send, name="link_send"),
]
