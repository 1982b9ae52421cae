from django.urls import path

from partnerapp.sandbox import oauth_views, owner_session, pages, resources

app_name = "sandbox"

api = [
    path("v2/auth/authorize", oauth_views.authorize, name="authorize"),
    path("v2/auth/access-tokens", oauth_views.access_tokens, name="access_tokens"),
    path("v2/auth/owner", resources.owner, name="owner"),
    path("v2/auth/profile", resources.profile, name="profile"),
    path("v2/receivables/invoices", resources.invoice_list, name="invoice_list"),
    path("v2/receivables/invoices/<int:invoice_id>", resources.invoice_detail, name="invoice"),
    path(
        "v2/receivables/invoices/<int:invoice_id>/send-by-email",
        resources.invoice_send_by_email,
        name="invoice_send_by_email",
    ),
]

owner_pages = [
    path("", pages.home, name="home"),
    path("login/", owner_session.login, name="login"),
    path("logout/", owner_session.logout, name="logout"),
    path("connected-apps/", pages.connected_apps, name="connected_apps"),
    path("connected-apps/<int:grant_id>/revoke/", pages.revoke, name="revoke"),
    path("outbox/", pages.outbox, name="outbox"),
    path("outbox.json", pages.outbox_json, name="outbox_json"),
]

urlpatterns = api + owner_pages
