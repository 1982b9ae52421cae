import base64
import hashlib
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
