from django.urls import path, register_converter

from partnerapp.sandbox import (
    oauth_views,
    owner_session,
    pages,
    payment_resources,
    resources,
    schema,
    setup_resources,
)
from partnerapp.sandbox.kinds import INVOICE, KINDS


class IdConverter:
    """A database id: at most 18 digits, so it always fits a 64-bit column (else 404)."""

    regex = r"[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)


class IdListConverter:
    """`12` or `12,13,14`: DELETE takes several ids where GET and PUT take one."""

    regex = r"[0-9]{1,18}(?:,[0-9]{1,18})*"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(IdConverter, "id")
register_converter(IdListConverter, "ids")

app_name = "sandbox"


def _document_routes() -> list:
    routes = []
    for kind in KINDS:
        views, base, name = resources.document_views(kind), f"v2/{kind.path}", kind.name
        routes += [
            path(base, views["list"], name=f"{name}_list"),
            path(f"{base}/<ids:ids>", views["item"], name=name),
            path(f"{base}/<id:document_id>/pdf", views["pdf"], name=f"{name}_pdf"),
            path(f"{base}/<id:document_id>/preview", views["preview"], name=f"{name}_preview"),
        ]
        for action in ("change_status", "send_by_email", "send_by_post"):
            url = f"{base}/<id:document_id>/{action.replace('_', '-')}"
            routes.append(path(url, views[action], name=f"{name}_{action}"))
    return routes


def _payment_routes() -> list:
    base = f"v2/{INVOICE.path}/<id:document_id>/payments"
    return [
        path(base, payment_resources.payment_collection, name="payment_list"),
        path(f"{base}/<ids:ids>", payment_resources.payment_item, name="payment"),
    ]


def _setup_routes() -> list:
    """Read-only: a contact's addresses and people, configuration, catalog."""
    views = setup_resources
    contact = "v2/contacts/<id:contact_id>"
    routes = [
        (f"{contact}/addresses", views.address_list, views.address_item, "contact_address"),
        (f"{contact}/people", views.person_list, views.person_item, "contact_person"),
        (
            "v2/configuration/bank-accounts",
            views.bank_account_list,
            views.bank_account_item,
            "bank_account",
        ),
        ("v2/receivables/configuration/isrs", views.isr_list, views.isr_item, "isr"),
        ("v2/catalog/configuration/units", views.unit_list, views.unit_item, "unit"),
        ("v2/catalog/products", views.product_list, views.product_item, "product"),
        ("v2/catalog/services", views.service_list, views.service_item, "service"),
    ]
    patterns = []
    for base, collection, item, name in routes:
        patterns.append(path(base, collection, name=f"{name}_list"))
        patterns.append(path(f"{base}/<id:item_id>", item, name=name))
    return patterns


api = [
    path("v2/auth/authorize", oauth_views.authorize, name="authorize"),
    path("v2/auth/access-tokens", oauth_views.access_tokens, name="access_tokens"),
    path("v2/auth/owner", resources.owner, name="owner"),
    path("v2/auth/profile", resources.profile, name="profile"),
    path("v2/contacts", resources.contact_collection, name="contact_list"),
    *_document_routes(),
    *_payment_routes(),
    *_setup_routes(),
    path("v2/contacts/<ids:ids>", resources.contact_item, name="contact"),
    path("v2/openapi.yaml", schema.openapi_yaml, name="openapi_yaml"),
    path("v2/openapi.json", schema.openapi_json, name="openapi_json"),
]

owner_pages = [
    path("", pages.home, name="home"),
    path("api-clients/new/", pages.client_create, name="client_create"),
    path("login/", owner_session.login, name="login"),
    path("logout/", owner_session.logout, name="logout"),
    path("connected-apps/", pages.connected_apps, name="connected_apps"),
    path("connected-apps/<id:grant_id>/revoke/", pages.revoke, name="revoke"),
    path("outbox/", pages.outbox, name="outbox"),
    path("outbox.json", pages.outbox_json, name="outbox_json"),
    path("faults/", pages.fault_settings, name="faults"),
]

urlpatterns = api + owner_pages
