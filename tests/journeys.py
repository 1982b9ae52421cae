"""Test helpers that act like people over real HTTP: the owner at the consent page,
the partner user in the browser (without a browser), and reading the sandbox outbox.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import requests
from django.conf import settings
from django.test import Client as DjangoClient
from django.utils import timezone

from partnerapp.connections.models import Connection
from partnerapp.sandbox.models import Owner
from partnerapp.sandbox.seeding import seed_owner
from partnerapp.sandbox.services import client_register

OWNER_EMAIL = "owner@sandbox.example"
OWNER_PASSWORD = "sandbox-owner"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@dataclass
class Sandbox:
    url: str  # the live server's root, e.g. http://localhost:41234
    owner: Owner

    @classmethod
    def prepare(cls, url: str, *, invoices: int = 40) -> Sandbox:
        client_register(
            client_id=settings.SMARTBUSINESS_CLIENT_ID,
            secret=settings.SMARTBUSINESS_CLIENT_SECRET,
            name="partnerapp (tests)",
            redirect_uris=[f"{url}/connections/callback/"],
            scopes=None,
        )
        owner, _ = seed_owner(
            email=OWNER_EMAIL,
            password=OWNER_PASSWORD,
            name="Anna",
            surname="Keller",
            company="Keller Treuhand AG",
            invoices=invoices,
            seed=7,
            today=timezone.localdate(),
        )
        return cls(url=url, owner=owner)

    @property
    def api(self) -> str:
        return f"{self.url}/sandbox/v2"

    def outbox(self, owner: Owner | None = None) -> dict:
        owner_id = (owner or self.owner).pk
        response = requests.get(
            f"{self.url}/sandbox/outbox.json", params={"owner": owner_id}, timeout=30
        )
        response.raise_for_status()
        return response.json()

    def drafts_with_email(
        self, count: int, owner: Owner | None = None, exclude_contact=None
    ) -> list[int]:
        drafts = (owner or self.owner).invoices.filter(status="DR", contact__email__contains="@")
        if exclude_contact is not None:
            drafts = drafts.exclude(contact=exclude_contact)
        ids = [i.pk for i in drafts.exclude(contact__email__contains="(at)").order_by("pk")]
        assert len(ids) >= count, f"the seeded owner has only {len(ids)} sendable drafts"
        return ids[:count]


def partner_session(live_url: str, user) -> requests.Session:
    """A requests session logged in as `user` at partnerapp."""
    django_client = DjangoClient()
    django_client.force_login(user)
    session = requests.Session()
    cookie = django_client.cookies[settings.SESSION_COOKIE_NAME]
    session.cookies.set(settings.SESSION_COOKIE_NAME, cookie.value)
    return session


def start_consent(session: requests.Session, live_url: str, scopes: list[str]) -> str:
    """Press "Connect" at partnerapp; return the provider's authorize URL."""
    page = session.get(f"{live_url}/connections/connect/")
    response = session.post(
        f"{live_url}/connections/connect/",
        data={"csrfmiddlewaretoken": csrf_token(page.text), "scopes": scopes},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    return response.headers["Location"]


def owner_decides(
    session: requests.Session, authorize_url: str, *, owner_email: str, approve: bool = True
) -> str:
    """The owner signs in at the provider and approves or denies; returns the callback URL."""
    page = session.get(authorize_url)
    if 'name="form" value="login"' in page.text:
        page = session.post(
            authorize_url,
            data={
                "csrfmiddlewaretoken": csrf_token(page.text),
                "form": "login",
                "email": owner_email,
                "password": OWNER_PASSWORD,
            },
        )
    decision = session.post(
        authorize_url,
        data={
            "csrfmiddlewaretoken": csrf_token(page.text),
            "decision": "approve" if approve else "deny",
        },
        allow_redirects=False,
    )
    assert decision.status_code == 302, decision.text[:500]
    return decision.headers["Location"]


def connect_account(sandbox: Sandbox, *, user, scopes: list[str], owner: Owner) -> Connection:
    session = partner_session(sandbox.url, user)
    authorize_url = start_consent(session, sandbox.url, scopes)
    callback = owner_decides(session, authorize_url, owner_email=owner.email)
    landed = session.get(callback)
    assert landed.status_code == 200 and "/connections/" in landed.url, landed.text[:1000]
    return Connection.objects.get(user=user, account_id=str(owner.pk))


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
