from django.urls import path

from partnerapp.organizations import audit_views, views

app_name = "organizations"

urlpatterns = [
    path("switch/", views.switch, name="switch"),
    path("new/", views.create, name="create"),
    path("settings/", views.settings_page, name="settings"),
    path("members/", views.members, name="members"),
    path("members/<int:pk>/role/", views.member_role, name="member_role"),
    path("members/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("leave/", views.leave, name="leave"),
    path("invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("join/<str:token>/", views.invitation, name="invitation"),
    path("notifications/", views.notifications, name="notifications"),
    path("delete/", views.delete, name="delete"),
    path("audit/", audit_views.audit_log, name="audit"),
    path("audit/csv/", audit_views.audit_csv, name="audit_csv"),
    path("two-factor-required/", views.mfa_required, name="mfa_required"),
]
