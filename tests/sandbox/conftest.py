import base64
import hashlib
import json
import secrets
from urllib.parse import urlencode

import pytest
from django.test import Client as DjangoClient
from django.utils import timezone

from partnerapp.sandbox.owner_session import SESSION_KEY
from partnerapp.sandbox.seeding import seed_owner
from partnerapp.sandbox.services import client_register
from tests.journeys import query

REDIRECT = "https://partner.example/callback"
SECRET = "client-secret"


@pytest.fixture
def oauth_client(db):
    return client_register(
        client_id="app", secret=SECRET, name="Partner App", redirect_uris=[REDIRECT], scopes=None
    )


@pytest.fixture
def owner(db):
    owner, _ = seed_owner(
        email="owner@sandbox.example",
        password="pw",
        name="Anna",
        surname="Keller",
        company="Keller AG",
        invoices=30,
        seed=3,
        today=timezone.localdate(),
    )
    return owner


@pytest.fixture
def other_owner(db):
    """Another account at the provider, whose data the owner's tokens must not reach."""
    other, _ = seed_owner(
        email="other@sandbox.example",
        password="pw",
        name="Beat",
        surname="Frei",
        company="Frei AG",
        invoices=5,
        seed=1,
        today=timezone.localdate(),
    )
    return other


@pytest.fixture
def browser_of(owner):
    """The owner's browser, signed in at the sandbox."""
    django_client = DjangoClient()
    session = django_client.session
    session[SESSION_KEY] = owner.pk
    session.save()
    return django_client


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def authorize_url(scope="profile invoice", state="st", challenge=None, redirect_uri=REDIRECT):
    params = {
        "response_type": "code",
        "client_id": "app",
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
    }
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    return "/sandbox/v2/auth/authorize?" + urlencode(params)


@pytest.fixture
def obtain_code(browser_of, oauth_client):
    def _obtain(scope="profile invoice", challenge=None):
        url = authorize_url(scope=scope, challenge=challenge)
        response = browser_of.post(url, {"decision": "approve"})
        assert response.status_code == 302, response.content[:300]
        return query(response["Location"])["code"]

    return _obtain


@pytest.fixture
def token_pair(obtain_code, client):
    """A fresh (access, refresh) pair through the authorization-code grant with PKCE."""

    def _pair(scope="profile invoice"):
        verifier, challenge = pkce_pair()
        code = obtain_code(scope=scope, challenge=challenge)
        response = client.post(
            "/sandbox/v2/auth/access-tokens",
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "client_id": "app",
                "client_secret": SECRET,
                "code_verifier": verifier,
            },
        )
        assert response.status_code == 201, response.content
        return response.json()

    return _pair


API = "/sandbox/v2"


@pytest.fixture
def bearer(token_pair):
    """Authorization headers for a fresh access token with `scope`."""

    def _bearer(scope="profile invoice"):
        return {"HTTP_AUTHORIZATION": f"Bearer {token_pair(scope)['access_token']}"}

    return _bearer


ALL_SCOPES = (
    "profile contact letter invoice offer delivery_note order_confirmation catalog configuration"
)


@pytest.fixture
def call(client, bearer):
    """`call(method, path, body=None)` with JSON in, against the API, as the owner with
    every document scope."""
    headers = bearer(ALL_SCOPES)

    def _call(method: str, path: str, body=None, **extra):
        kwargs = {**headers, **extra}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        return getattr(client, method.lower())(API + path, **kwargs)

    return _call


def draft_with_email(owner):
    return (
        owner.invoices.filter(status="DR", contact__email__contains="@")
        .exclude(contact__email__contains="(at)")
        .first()
    )


EMAIL = {
    "subject": "Invoice {INVOICENO}",
    "body": "{SALUTATION}, {INVOICEAMOUNT} by {DATEDUE}",
    "recipients": [{"email": "x@example.com", "name": "X"}],
}
