"""The contract: every implemented operation, success and error, over real HTTP, answers
as the public v2 reference documents it, and as the sandbox's own schema says.

The reference lives beside the repository (../shared/reference/); without it these
tests skip, and under REQUIRE_ALL=1 (CI) that is a failure.

Where the reference, a third party's write-up, falls short of what the platform
sends, the test patches it here, in the open:
- it marks no field `nullable`, yet ids and dates that an account never set up are null
  (REFERENCE_NULLABLE);
- its invoice status enum leaves out PP (partially paid) though its own description of
  the field lists it;
- per operation it leaves out some statuses the platform answers with (413, 503, …):
  those bodies must still have the reference's error shapes;
- it marks no related object `nullable` either, yet an invoice without a contact person
  shows `contact_person: null` with `with=contact_person`, and an uncategorised product
  has no category (REFERENCE_NULLABLE);
- its token endpoint documents no refusal at all, where the platform answers as
  league/oauth2-server does, `{error, message, hint}` (or, wrapped, the 401 shape):
  TOKEN_REFUSAL.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
import requests
import yaml
from django.conf import settings
from django.urls import get_resolver
from openapi_spec_validator import validate

from partnerapp.sandbox import faults, kinds, schema
from tests.conftest import ROOT, require
from tests.journeys import owner_decides, query
from tests.sandbox.conftest import ALL_SCOPES, EMAIL
from tests.sandbox.contract import Contract
from tests.sandbox.test_contacts import NEW_CONTACT
from tests.sandbox.test_documents import POSITIONS, POST

REFERENCE = ROOT.parent / "shared" / "reference" / "smallinvoice-openapi-2.0.0.yaml"
REFERENCE_NULLABLE = {
    "gender",
    "contact_prepage_address_id",
    "contact_person_id",
    "period_from",
    "period_to",
    "cash_discount_date",
    "paid_date",
    "bank_account_id",
    "isr_id",
    "signature_id",
    "layout_id",
    "contact_person",
    "bank_account",
    "isr",
    "category_id",
    "auto_sync_direction",  # its enum lists null, its type does not allow it
}
TOKEN_REFUSAL = {
    "anyOf": [
        {
            "type": "object",
            "required": ["error", "message"],
            "properties": {
                "error": {"type": "string"},
                "message": {"type": "string"},
                "hint": {"type": "string"},
            },
        },
        {"$ref": "#/components/schemas/Response401"},
    ]
}
REFERENCE_ERRORS = {
    0: "Response4xx",
    401: "Response401",
    402: "Response402",
    404: "Response404",
    422: "Response422",
}


def patched_reference(document: dict) -> dict:
    for component in document["components"]["schemas"].values():
        for name, prop in (component.get("properties") or {}).items():
            if name in REFERENCE_NULLABLE and isinstance(prop, dict):
                prop["nullable"] = True
    status = document["components"]["schemas"]["DocumentInvoiceStandardGET"]["properties"]
    status["status"]["enum"].append("PP")
    document["components"]["schemas"]["TokenRefusal"] = TOKEN_REFUSAL
    schema_ref = {"$ref": "#/components/schemas/TokenRefusal"}
    refusal = {"content": {"application/json": {"schema": schema_ref}}}
    token = document["paths"]["/auth/access-tokens"]["post"]["responses"]
    token.update({"400": refusal, "401": refusal})
    return document


@pytest.fixture(scope="session")
def reference() -> Contract:
    require(REFERENCE.exists(), f"the v2 reference is not at {REFERENCE} (../shared/reference/)")
    document = yaml.load(REFERENCE.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    return Contract(patched_reference(document), generic_errors=REFERENCE_ERRORS)


@pytest.fixture(scope="session")
def own_schema() -> Contract:
    return Contract(schema.openapi())  # strict: every status must be documented


# -- a partner app, over HTTP -------------------------------------------------------------------


@dataclass
class Peer:
    """The seeded owner's account as a partner app sees it, with two tokens."""

    sandbox: object
    tokens: dict = field(default_factory=dict)

    def authorize(self, scope: str) -> dict:
        params = {
            "response_type": "code",
            "client_id": settings.SMARTBUSINESS_CLIENT_ID,
            "redirect_uri": f"{self.sandbox.url}/connections/callback/",
            "scope": scope,
            "state": uuid.uuid4().hex,
        }
        url = f"{self.sandbox.api}/auth/authorize?{urlencode(params)}"
        callback = owner_decides(requests.Session(), url, owner_email=self.sandbox.owner.email)
        return {**params, "code": query(callback)["code"]}

    def token_request(self, **fields) -> requests.Response:
        body = {
            "client_id": settings.SMARTBUSINESS_CLIENT_ID,
            "client_secret": settings.SMARTBUSINESS_CLIENT_SECRET,
            **fields,
        }
        return requests.post(f"{self.sandbox.api}/auth/access-tokens", data=body, timeout=10)

    def pair(self, scope: str = ALL_SCOPES) -> dict:
        granted = self.authorize(scope)
        response = self.token_request(
            grant_type="authorization_code",
            code=granted["code"],
            redirect_uri=granted["redirect_uri"],
        )
        assert response.status_code == 201, response.text
        return response.json()

    def call(self, method: str, path: str, body=None, *, token="full", **kwargs):  # noqa: S107
        if token not in self.tokens:
            scope = ALL_SCOPES if token == "full" else "profile"
            self.tokens[token] = self.pair(scope)["access_token"]
        headers = {"Authorization": f"Bearer {self.tokens[token]}"} if token else {}
        url = self.sandbox.api + path
        return requests.request(method, url, json=body, headers=headers, timeout=10, **kwargs)

    def first(self, kind: kinds.DocumentKind, **lookup) -> int:
        rows = kind.model.objects.filter(owner=self.sandbox.owner, **lookup).exclude(status="D")
        return rows.order_by("pk").values_list("pk", flat=True).first()

    @property
    def contact_id(self) -> int:
        return self.sandbox.owner.contacts.order_by("pk").first().pk

    def profile(self, **changes) -> None:
        faults.profile_update(owner=self.sandbox.owner, changes=changes)


@pytest.fixture
def peer(sandbox) -> Peer:
    return Peer(sandbox)


# -- the exchanges: (method, path) of the answer to check, and the expected status -------------

Exchange = Callable[[Peer], tuple[str, str, requests.Response]]


def ask(method: str, path: str, body=None, **kwargs) -> Exchange:
    def exchange(peer: Peer):
        resolved = path.format(peer=peer, contact=peer.contact_id)
        return method, resolved.split("?")[0], peer.call(method, resolved, body, **kwargs)

    return exchange


def token_pair(peer: Peer):
    granted = peer.authorize("profile invoice")
    response = peer.token_request(
        grant_type="authorization_code", code=granted["code"], redirect_uri=granted["redirect_uri"]
    )
    return "POST", "/auth/access-tokens", response


def token_refreshed(peer: Peer):
    old = peer.pair("profile")["refresh_token"]
    return (
        "POST",
        "/auth/access-tokens",
        peer.token_request(grant_type="refresh_token", refresh_token=old),
    )


def token_reused(peer: Peer):
    old = peer.pair("profile")["refresh_token"]
    peer.token_request(grant_type="refresh_token", refresh_token=old)
    return (
        "POST",
        "/auth/access-tokens",
        peer.token_request(grant_type="refresh_token", refresh_token=old),
    )


def token_code_reused(peer: Peer):
    granted = peer.authorize("profile")
    fields = {"grant_type": "authorization_code", "code": granted["code"]}
    fields["redirect_uri"] = granted["redirect_uri"]
    peer.token_request(**fields)
    return "POST", "/auth/access-tokens", peer.token_request(**fields)


def token_wrong_secret(peer: Peer):
    response = peer.token_request(grant_type="client_credentials", client_secret="wrong")
    return "POST", "/auth/access-tokens", response


def styled(exchange: Exchange, style: str) -> Exchange:
    """The exchange with the owner's token endpoint refusing in `style`."""

    def in_style(peer: Peer):
        peer.profile(token_error_style=style)
        return exchange(peer)

    return in_style


def with_profile(exchange: Exchange, **changes) -> Exchange:
    def faulted(peer: Peer):
        peer.call("GET", "/auth/owner")  # tokens first: faults only hit the resource API
        peer.profile(**changes)
        return exchange(peer)

    return faulted


def document_exchanges(kind: kinds.DocumentKind) -> dict[str, tuple[Exchange, int]]:
    base = f"/{kind.path}"

    def on(suffix: str, method: str, body=None) -> Exchange:
        def exchange(peer: Peer):
            path = f"{base}/{peer.first(kind)}{suffix}"
            return method, path.split("?")[0], peer.call(method, path, body)

        return exchange

    create = {"contact_id": None, "date": "2025-03-01", "language": "de"}
    if kind.priced:
        create.update(currency="CHF", positions=POSITIONS)
    if kind is kinds.INVOICE:
        create["due"] = "2025-03-31"
    if kind is kinds.OFFER:
        create["valid_until"] = "2025-03-31"

    def created(peer: Peer):
        body = {**create, "contact_id": peer.contact_id, "contact_address_id": peer.contact_id}
        return "POST", base, peer.call("POST", base, body)

    return {
        f"{kind.name}: list": (ask("GET", f"{base}?with=contact&limit=5&sort=-date"), 200),
        f"{kind.name}: get": (on("", "GET"), 200),
        f"{kind.name}: create": (created, 201),
        f"{kind.name}: update": (on("", "PUT", {"notes": "Danke"}), 200),
        f"{kind.name}: pdf": (on("/pdf", "GET"), 200),
        f"{kind.name}: preview": (on("/preview?size=240&page=1", "GET"), 200),
        f"{kind.name}: preview, bad size": (on("/preview?size=100", "GET"), 400),
        f"{kind.name}: change status at a time": (
            on("/change-status", "PATCH", {"status": "S", "date_time": "2025-03-04 08:15:00"}),
            200,
        ),
        f"{kind.name}: change status, bad time": (
            on("/change-status", "PATCH", {"status": "S", "date_time": "2025-03-04"}),
            422,
        ),
        f"{kind.name}: change status": (on("/change-status", "PATCH", {"status": "S"}), 200),
        f"{kind.name}: send by email": (on("/send-by-email", "PATCH", EMAIL), 204),
        f"{kind.name}: send by post": (on("/send-by-post", "PATCH", POST), 204),
        f"{kind.name}: delete": (on("", "DELETE"), 204),
        f"{kind.name}: not found": (ask("GET", f"{base}/987654"), 404),
    }


INVOICES = "/receivables/invoices"
SCENARIOS: dict[str, tuple[Exchange, int]] = {
    "token: authorization code": (token_pair, 201),
    "token: refresh": (token_refreshed, 201),
    "token: refresh token used twice": (token_reused, 401),
    "token: refresh token used twice, wrapped": (styled(token_reused, "wrapped"), 401),
    "token: refresh token used twice, legacy": (styled(token_reused, "legacy"), 401),
    "token: code used twice": (token_code_reused, 400),
    "token: code used twice, wrapped": (styled(token_code_reused, "wrapped"), 400),
    "token: code used twice, legacy": (styled(token_code_reused, "legacy"), 401),
    "token: wrong client secret": (token_wrong_secret, 401),
    "owner": (ask("GET", "/auth/owner"), 200),
    "profile": (ask("GET", "/auth/profile"), 200),
    "owner: no token": (ask("GET", "/auth/owner", token=None), 401),
    "owner: wrong method": (ask("DELETE", "/auth/owner"), 405),
    "owner: over budget": (with_profile(ask("GET", "/auth/owner"), rate_limit=0), 429),
    "owner: injected 500": (with_profile(ask("GET", "/auth/owner"), p500=1), 500),
    "owner: injected 503": (with_profile(ask("GET", "/auth/owner"), p503=1), 503),
    "contacts: list": (ask("GET", "/contacts?limit=3"), 200),
    "contacts: bad sort": (ask("GET", "/contacts?sort=shoe_size"), 400),
    "contacts: get": (ask("GET", "/contacts/{contact}?with=main_address"), 200),
    "contacts: create": (ask("POST", "/contacts", NEW_CONTACT), 201),
    "contacts: invalid": (ask("POST", "/contacts", {**NEW_CONTACT, "email": "x"}), 422),
    "contacts: update": (ask("PUT", "/contacts/{contact}", {"phone": "+41 44 000 00 00"}), 200),
    "contacts: not found": (ask("GET", "/contacts/987654"), 404),
    "invoices: bad limit": (ask("GET", f"{INVOICES}?limit=0"), 400),
    "invoices: bad filter": (ask("GET", f"{INVOICES}?filter=%7Bnope"), 400),
    "invoices: no scope": (ask("GET", INVOICES, token="narrow"), 400),
    "invoices: plan limit": (
        with_profile(
            ask(
                "POST",
                INVOICES,
                {
                    "contact_id": 1,
                    "date": "2025-01-01",
                    "due": "2025-01-31",
                    "language": "de",
                    "currency": "CHF",
                    "positions": POSITIONS,
                },
            ),
            invoice_limit=0,
        ),
        402,
    ),
    "invoices: send by email, invalid": (
        lambda peer: ask(
            "PATCH",
            f"{INVOICES}/{peer.first(kinds.INVOICE, status='DR')}/send-by-email",
            {**EMAIL, "subject": "", "recipients": [{"email": "nope", "name": "X"}]},
        )(peer),
        422,
    ),
    "invoices: send by post, feature missing": (
        with_profile(
            lambda peer: ask("PATCH", f"{INVOICES}/{peer.first(kinds.INVOICE)}/send-by-post", POST)(
                peer
            ),
            missing_features="send_by_post",
        ),
        403,
    ),
    "invoices: body too large": (
        lambda peer: ask(
            "PATCH",
            f"{INVOICES}/{peer.first(kinds.INVOICE, status='DR')}/send-by-email",
            {**EMAIL, "body": "x" * (settings.SANDBOX_MAX_BODY_BYTES + 1)},
        )(peer),
        413,
    ),
    "invoices: lost response": (
        with_profile(
            lambda peer: ask(
                "PATCH",
                f"{INVOICES}/{peer.first(kinds.INVOICE, status='DR')}/send-by-email",
                EMAIL,
            )(peer),
            p_lost=1,
            lost_mode="504",
        ),
        504,
    ),
}
for _kind in kinds.KINDS:
    SCENARIOS.update(document_exchanges(_kind))


def _payment_on(suffix: str, method: str, body=None, *, status="S", pay=True) -> Exchange:
    """`method` on the payments of a sent invoice (paid 1.00 first, so one exists)."""

    def exchange(peer: Peer):
        invoice = peer.first(kinds.INVOICE, status=status, total__gt=5)
        base = f"{INVOICES}/{invoice}/payments"
        payment = peer.call("POST", base, PAYMENT).json()["item"]["id"] if pay else 0
        path = base + suffix.format(payment=payment)
        return method, path.split("?")[0], peer.call(method, path, body)

    return exchange


PAYMENT = {"type": "N", "channel": "T", "amount": 1.0, "date": "2025-03-01"}


def payment_exchanges() -> dict[str, tuple[Exchange, int]]:
    return {
        "payments: list": (_payment_on("?sort=-date", "GET"), 200),
        "payments: create": (_payment_on("", "POST", PAYMENT, pay=False), 201),
        "payments: get": (_payment_on("/{payment}", "GET"), 200),
        "payments: update": (_payment_on("/{payment}", "PUT", {"notes": "Bank"}), 200),
        "payments: delete": (_payment_on("/{payment}", "DELETE"), 204),
        "payments: invalid": (_payment_on("", "POST", {"type": "Z", "amount": -1}, pay=False), 422),
        "payments: draft": (_payment_on("", "POST", PAYMENT, status="DR", pay=False), 422),
        "payments: not found": (_payment_on("/987654", "GET"), 404),
        "payments: lost response": (
            with_profile(_payment_on("", "POST", PAYMENT, pay=False), p_lost=1, lost_mode="504"),
            504,
        ),
    }


def _person(peer: Peer, suffix: str):
    contact = peer.sandbox.owner.contacts.filter(people__isnull=False).first()
    person = contact.people.first()
    path = f"/contacts/{contact.pk}/people{suffix.format(person=person.pk)}"
    return "GET", path, peer.call("GET", path)


def _first_of(base: str, suffix: str = "") -> Exchange:
    """GET the first item of a list, by its id."""

    def exchange(peer: Peer):
        listed = peer.call("GET", base.format(contact=peer.contact_id)).json()["items"][0]
        path = f"{base.format(contact=peer.contact_id)}/{listed['id']}"
        return "GET", path, peer.call("GET", path + suffix)

    return exchange


def setup_exchanges() -> dict[str, tuple[Exchange, int]]:
    withs = (
        "contact_person,contact_prepage_address,bank_account,isr,custom_fields,texts,"
        "free_texts,workflow,permissions"
    )
    with_person = {"contact_person__isnull": False}
    invoice_fields = {
        "vat_included": True,
        "discount_rate": 5,
        "discount_type": "P",
        "period_from": "2025-02-01",
        "period_to": "2025-02-28",
        "cash_discount_rate": 2,
        "cash_discount_date": "2025-03-10",
        "isr_position": "F",
    }

    def created_with_fields(peer: Peer):
        body = {
            "contact_id": peer.contact_id,
            "contact_address_id": peer.contact_id,
            "date": "2025-03-01",
            "due": "2025-03-31",
            "language": "de",
            "currency": "CHF",
            "positions": POSITIONS,
            **invoice_fields,
        }
        return "POST", INVOICES, peer.call("POST", INVOICES, body)

    def invoice_with(peer: Peer):
        path = f"{INVOICES}/{peer.first(kinds.INVOICE, **with_person)}"
        return "GET", path, peer.call("GET", f"{path}?with={withs}")

    def invoice_list_with(peer: Peer):
        return "GET", INVOICES, peer.call("GET", f"{INVOICES}?with={withs}&limit=20")

    return {
        "invoices: create with every field": (created_with_fields, 201),
        "invoices: get with every with key": (invoice_with, 200),
        "invoices: list with every with key": (invoice_list_with, 200),
        "addresses: list": (ask("GET", "/contacts/{contact}/addresses"), 200),
        "addresses: get": (_first_of("/contacts/{contact}/addresses"), 200),
        "addresses: contact not found": (ask("GET", "/contacts/987654/addresses"), 404),
        "people: list": (lambda peer: _person(peer, ""), 200),
        "people: get": (lambda peer: _person(peer, "/{person}"), 200),
        "people: not found": (ask("GET", "/contacts/{contact}/people/987654"), 404),
        "bank accounts: list": (ask("GET", "/configuration/bank-accounts"), 200),
        "bank accounts: get": (_first_of("/configuration/bank-accounts"), 200),
        "bank accounts: no scope": (
            ask("GET", "/configuration/bank-accounts", token="narrow"),
            400,
        ),
        "isrs: list": (ask("GET", "/receivables/configuration/isrs?sort=-id"), 200),
        "isrs: get": (_first_of("/receivables/configuration/isrs"), 200),
        "isrs: not found": (ask("GET", "/receivables/configuration/isrs/987654"), 404),
        "units: list": (ask("GET", "/catalog/configuration/units"), 200),
        "units: get": (_first_of("/catalog/configuration/units"), 200),
        "products: list": (ask("GET", "/catalog/products?q=a"), 200),
        "products: get": (_first_of("/catalog/products"), 200),
        "products: bad sort": (ask("GET", "/catalog/products?sort=colour"), 400),
        "services: list": (ask("GET", "/catalog/services"), 200),
        "services: get": (_first_of("/catalog/services"), 200),
        "services: not found": (ask("GET", "/catalog/services/987654"), 404),
    }


SCENARIOS.update(payment_exchanges())
SCENARIOS.update(setup_exchanges())


def check(contract: Contract, method: str, path: str, response: requests.Response) -> list[str]:
    schema_of = contract.response_schema(method, path, response.status_code)
    if response.status_code == 204 and response.content:
        return [f"a 204 with a body: {path}"]
    if not response.content or schema_of is None:
        # No body (a 403 for no permission) or no content documented: the reference
        # writes `content: {}` for 500 too, where the platform sends {code, message}.
        return []
    if response.headers["Content-Type"].startswith("application/pdf"):
        return [] if response.content.startswith(b"%PDF") else ["not a PDF"]
    if response.headers["Content-Type"] == "image/png":
        return [] if response.content.startswith(b"\x89PNG\r\n\x1a\n") else ["not a PNG"]
    return contract.errors(schema_of, response.json())


@pytest.mark.parametrize("name", SCENARIOS)
def test_each_answer_follows_the_reference_and_our_schema(peer, reference, own_schema, name):
    exchange, expected = SCENARIOS[name]
    method, path, response = exchange(peer)
    assert response.status_code == expected, response.text[:500]
    assert uuid.UUID(response.headers["X-Request-Id"]).version == 4
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    for header in ("X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"):
        assert response.headers[header].isdigit()
    assert check(reference, method, path, response) == []
    assert check(own_schema, method, path, response) == []


def test_our_schema_is_valid_openapi_and_served(sandbox):
    served = requests.get(f"{sandbox.api}/openapi.json", timeout=10).json()
    validate(served)
    assert served["servers"] == [{"url": sandbox.api, "description": "this sandbox"}]
    as_yaml = requests.get(f"{sandbox.api}/openapi.yaml", timeout=10)
    assert yaml.safe_load(as_yaml.text)["paths"] == served["paths"]


def test_our_schema_describes_every_api_route():
    routes = {
        re.sub(r"<[^>]+>", "{}", str(pattern.pattern).removeprefix("v2"))
        for pattern in get_resolver("partnerapp.sandbox.urls").url_patterns
        if str(pattern.pattern).startswith("v2/")
    }
    documented = {re.sub(r"\{[^}]+\}", "{}", path) for path in schema.openapi()["paths"]}
    not_json_api = {"/auth/authorize", "/openapi.yaml", "/openapi.json"}  # HTML, and itself
    assert routes - not_json_api == documented
