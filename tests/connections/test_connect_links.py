"""Connect links: a member asks a client to connect; the client (no partnerapp login)
consents at the sandbox provider over real HTTP; the connection lands in the firm."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import requests
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client
from django.utils import timezone

from partnerapp.connections import links
from partnerapp.connections.models import Connection, ConnectLink
from partnerapp.organizations.models import AuditEvent, Membership, Organization
from tests import journeys
from tests.factories import UserFactory


@pytest.fixture
def firm(partner):
    """Treuhand Muster AG: the partner owns it; an operator and a viewer work there."""
    organization = Organization.objects.create(name="Treuhand Muster AG")
    Membership.objects.create(organization=organization, user=partner, role="owner")
    return organization


@pytest.fixture
def operator(firm):
    user = UserFactory(email="operator@muster.example")
    Membership.objects.create(organization=firm, user=user, role="operator")
    return user


@pytest.fixture
def viewer(firm):
    user = UserFactory(email="viewer@muster.example")
    Membership.objects.create(organization=firm, user=user, role="viewer")
    return user


def make_link(firm, user, **fields) -> tuple[ConnectLink, str]:
    values = {
        "client_name": "Bäckerei Brunner GmbH",
        "client_email": "brunner@example.com",
        "scopes": ["profile", "invoice"],
        "message": "Für die Monatsabschlüsse brauchen wir Ihre Rechnungen.",
        "language": "de",
    }
    return links.link_create(user=user, organization_id=firm.pk, **(values | fields))


def member_client(user, organization) -> Client:
    client = Client()
    client.force_login(user)
    session = client.session
    session["organization_id"] = organization.pk
    session.save()
    return client


# -- services and member pages ---------------------------------------------------------------


def test_an_operator_creates_a_pending_link_that_only_its_token_finds(firm, operator):
    link, token = make_link(firm, operator)
    assert link.state == ConnectLink.State.SENT and link.is_pending
    assert link.created_by == operator and link.scope_list == ["profile", "invoice"]
    assert link.expires_at - link.created_at == timedelta(days=14)
    assert links.link_for_token(token) == link and links.link_for_token(token + "x") is None
    assert token not in link.token_hash and token not in link.token_ciphertext
    assert link.token == token  # members may copy a pending link again
    event = AuditEvent.objects.get(action="connect_link.create")
    assert event.organization == firm and event.actor == operator
    assert token not in str(event.after) and event.after["client"] == "Bäckerei Brunner GmbH"


def test_a_viewer_cannot_create_a_link(firm, viewer):
    with pytest.raises(PermissionDenied):
        make_link(firm, viewer)
    response = member_client(viewer, firm).post(
        "/connections/links/",
        {"client_name": "Bäckerei Brunner GmbH", "scopes": ["profile"], "language": "de"},
    )
    assert response.status_code == 403 and not ConnectLink.objects.exists()


def test_the_links_page_creates_links_and_shows_state_and_the_pending_link(firm, operator):
    client = member_client(operator, firm)
    response = client.post(
        "/connections/links/",
        {
            "client_name": "Bäckerei Brunner GmbH",
            "scopes": ["profile", "invoice"],
            "message": "Für den Abschluss",
            "language": "fr",
        },
        follow=True,
    )
    link = ConnectLink.objects.get()
    assert link.organization == firm and link.language == "fr" and link.created_by == operator
    page = response.content.decode()
    assert "Bäckerei Brunner GmbH" in page and 'data-status="sent"' in page
    assert f"/connect/{link.token}/" in page
    withdrawn, _token = make_link(firm, operator, client_name="Metzgerei Huber")
    links.link_revoke(user=operator, link=withdrawn)
    page = client.get("/connections/links/").content.decode()
    assert 'data-status="revoked"' in page and withdrawn.token not in page


def test_a_viewer_sees_the_links_but_neither_the_secret_nor_the_form(firm, operator, viewer):
    _link, token = make_link(firm, operator)
    page = member_client(viewer, firm).get("/connections/links/").content.decode()
    assert "Bäckerei Brunner GmbH" in page
    assert token not in page and 'data-testid="link-form"' not in page


def test_the_profile_scope_is_required(firm, operator):
    response = member_client(operator, firm).post(
        "/connections/links/",
        {"client_name": "Bäckerei Brunner GmbH", "scopes": ["invoice"], "language": "de"},
    )
    assert response.status_code == 400 and "profile scope is needed" in response.content.decode()
    assert not ConnectLink.objects.exists()


def test_another_organization_cannot_see_or_revoke_the_link(firm, operator, outsider):
    link, _token = make_link(firm, operator)
    client = Client()
    client.force_login(outsider)
    assert "Bäckerei Brunner" not in client.get("/connections/links/").content.decode()
    assert client.post(f"/connections/links/{link.pk}/revoke/").status_code == 404
    assert client.post(f"/connections/links/{link.pk}/send/").status_code == 404
    link.refresh_from_db()
    assert link.revoked_at is None and not mail.outbox
    with pytest.raises(Http404):  # the service asks too: to an outsider it does not exist
        links.link_revoke(user=outsider, link=link)


def test_a_revoked_link_explains_itself_and_does_not_start(firm, operator, client):
    link, token = make_link(firm, operator)
    response = member_client(operator, firm).post(f"/connections/links/{link.pk}/revoke/")
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.state == ConnectLink.State.REVOKED
    assert AuditEvent.objects.filter(action="connect_link.revoke", actor=operator).count() == 1
    page = client.get(f"/connect/{token}/?lang=en")
    assert "withdrawn by Treuhand Muster AG" in page.content.decode()
    started = client.post(f"/connect/{token}/")
    assert started.status_code == 200 and "withdrawn" in started.content.decode()


def test_an_expired_link_explains_itself(firm, operator, client):
    link, token = make_link(firm, operator, language="en")
    ConnectLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    page = client.get(f"/connect/{token}/").content.decode()
    assert "This link has expired. Ask Treuhand Muster AG for a new one." in page
    assert 'data-status="expired"' in (
        member_client(operator, firm).get("/connections/links/").content.decode()
    )


def test_an_unknown_token_is_a_404_that_says_so(client, db):
    response = client.get("/connect/not-a-real-token/?lang=en")
    assert response.status_code == 404 and "This link is not valid" in response.content.decode()


def test_sending_by_email_uses_the_links_language(firm, operator):
    link, token = make_link(firm, operator, language="de")
    response = member_client(operator, firm).post(f"/connections/links/{link.pk}/send/")
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == ["brunner@example.com"]
    assert f"/connect/{token}/" in message.body
    assert "Monatsabschlüsse" in message.body and "Bäckerei Brunner GmbH" in message.body


def test_the_client_page_opens_without_login_in_german_and_french(firm, operator, client):
    link, token = make_link(firm, operator, language="de")
    page = client.get(f"/connect/{token}/").content.decode()
    assert 'lang="de"' in page and "Weiter zu SmartBusiness" in page
    assert "Treuhand Muster AG" in page and "Monatsabschlüsse" in page
    link.refresh_from_db()
    assert link.state == ConnectLink.State.OPENED
    assert AuditEvent.objects.filter(action="connect_link.open").count() == 1
    french = client.get(f"/connect/{token}/?lang=fr").content.decode()
    assert 'lang="fr"' in french and "Continuer vers SmartBusiness" in french
    # the client's choice stays for the following pages
    assert 'lang="fr"' in client.get(f"/connect/{token}/granted/").content.decode()


def test_the_granted_page_of_an_unused_link_says_nothing_was_granted(firm, operator, client):
    _link, token = make_link(firm, operator, language="en")
    page = client.get(f"/connect/{token}/granted/").content.decode()
    assert "Nothing has been granted through this link." in page
    assert client.post(f"/connect/{token}/granted/").status_code == 405


def test_a_member_checking_the_link_does_not_mark_it_opened(firm, operator):
    link, token = make_link(firm, operator)
    assert member_client(operator, firm).get(f"/connect/{token}/").status_code == 200
    link.refresh_from_db()
    assert link.state == ConnectLink.State.SENT


def test_a_member_callback_still_needs_a_login(client, db):
    response = client.get("/connections/callback/?state=unknown&code=x")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# -- the client's consent over HTTP at the sandbox -------------------------------------------


def open_and_continue(sandbox, token: str) -> tuple[requests.Session, str]:
    """An anonymous browser opens the link and presses Continue: the provider's URL."""
    browser = requests.Session()
    page = browser.get(f"{sandbox.url}/connect/{token}/")
    assert page.status_code == 200, page.text[:500]
    response = browser.post(
        f"{sandbox.url}/connect/{token}/",
        data={"csrfmiddlewaretoken": journeys.csrf_token(page.text)},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    return browser, response.headers["Location"]


def client_consents(sandbox, token: str, *, approve: bool = True) -> tuple[requests.Session, str]:
    browser, authorize_url = open_and_continue(sandbox, token)
    callback = journeys.owner_decides(
        browser, authorize_url, owner_email=sandbox.owner.email, approve=approve
    )
    return browser, callback


def test_the_client_connects_and_the_connection_lands_in_the_firm(sandbox, firm, operator):
    link, token = make_link(firm, operator)
    browser, callback = client_consents(sandbox, token)
    landed = browser.get(callback)
    assert landed.status_code == 200 and landed.url == f"{sandbox.url}/connect/{token}/"
    assert 'data-testid="link-connected"' in landed.text and f"/connect/{token}/granted/" in (
        landed.text
    )

    connection = Connection.objects.get()
    assert connection.organization == firm and connection.user == operator
    assert connection.owner_name == "Anna Keller" and connection.scope_list == [
        "profile",
        "invoice",
    ]
    link.refresh_from_db()
    assert link.state == ConnectLink.State.CONNECTED and link.connection == connection
    actions = list(AuditEvent.objects.filter(organization=firm).values_list("action", flat=True))
    assert {"connect_link.open", "connect_link.complete"} <= set(actions)
    # the link's creator, and the owner who kept the default notification choices
    notices = [m for m in mail.outbox if f"/connections/{connection.pk}/" in m.body]
    assert sorted(m.to[0] for m in notices) == sorted([operator.email, "partner@example.com"])
    assert all(f"/connections/{connection.pk}/" in m.body for m in notices)

    granted = browser.get(f"{sandbox.url}/connect/{token}/granted/?lang=en")
    assert "Treuhand Muster AG" in granted.text and "Anna Keller" in granted.text
    assert "read your invoices and send them by e-mail" in granted.text
    assert f"{sandbox.url}/sandbox/connected-apps/" in granted.text

    member_page = member_client(operator, firm).get(f"/connections/{connection.pk}/")
    assert "Connected by Bäckerei Brunner GmbH through a connect link" in (
        member_page.content.decode()
    )


def test_a_reload_of_the_callback_shows_the_confirmation_again(sandbox, firm, operator):
    _link, token = make_link(firm, operator)
    browser, callback = client_consents(sandbox, token)
    assert browser.get(callback).status_code == 200
    stored = Connection.objects.get().access_token_ciphertext
    again = browser.get(callback)
    assert again.status_code == 200 and again.url.endswith(f"/connect/{token}/")
    assert Connection.objects.get().access_token_ciphertext == stored


def test_the_client_denies_and_may_try_again_until_expiry(sandbox, firm, operator):
    link, token = make_link(firm, operator, language="fr")
    browser, callback = client_consents(sandbox, token, approve=False)
    page = browser.get(callback)
    assert page.status_code == 400 and 'lang="fr"' in page.text
    assert "a été refusé dans SmartBusiness" in page.text and "Réessayer" in page.text
    assert f'href="/connect/{token}/"' in page.text
    assert not Connection.objects.exists()
    link.refresh_from_db()
    assert link.state == ConnectLink.State.DENIED
    assert AuditEvent.objects.filter(action="connect_link.deny").count() == 1

    _again, callback = client_consents(sandbox, token)
    assert _again.get(callback).status_code == 200
    link.refresh_from_db()
    assert link.state == ConnectLink.State.CONNECTED


def test_a_provider_error_is_explained_kept_on_the_link_and_may_be_retried(
    sandbox, firm, operator, settings
):
    link, token = make_link(firm, operator, language="en")
    browser, callback = client_consents(sandbox, token)
    settings.SMARTBUSINESS_CLIENT_SECRET = "wrong-secret"
    page = browser.get(callback)
    assert page.status_code == 400 and "Client authentication failed" in page.text
    assert f'href="/connect/{token}/"' in page.text and not Connection.objects.exists()
    link.refresh_from_db()
    assert link.is_pending and "Client authentication failed" in link.last_error
    listing = member_client(operator, firm).get("/connections/links/").content.decode()
    assert "Client authentication failed" in listing


def test_a_link_works_only_once(sandbox, firm, operator):
    _link, token = make_link(firm, operator, language="en")
    browser, callback = client_consents(sandbox, token)
    browser.get(callback)
    page = requests.get(f"{sandbox.url}/connect/{token}/", timeout=30)
    assert 'data-testid="link-connected"' in page.text  # the used link explains itself
    started = Client().post(f"/connect/{token}/")  # Continue again: no way to the provider
    assert started.status_code == 200 and 'data-testid="link-connected"' in started.content.decode()
    assert Connection.objects.count() == 1


def test_a_consent_started_before_the_link_was_used_is_refused(sandbox, firm, operator):
    _link, token = make_link(firm, operator, language="en")
    first, first_callback = client_consents(sandbox, token)
    second, second_callback = client_consents(sandbox, token)
    assert first.get(first_callback).status_code == 200
    refused = second.get(second_callback)
    assert refused.status_code == 400
    assert "This link was already used: the account is connected." in refused.text
    assert Connection.objects.count() == 1


def test_a_link_revoked_during_the_consent_stores_nothing(sandbox, firm, operator):
    link, token = make_link(firm, operator, language="en")
    browser, callback = client_consents(sandbox, token)
    links.link_revoke(user=operator, link=link)
    refused = browser.get(callback)
    assert refused.status_code == 400 and "withdrawn by Treuhand Muster AG" in refused.text
    assert not Connection.objects.exists()


def test_a_link_expiring_during_the_consent_stores_nothing(sandbox, firm, operator):
    link, token = make_link(firm, operator, language="en")
    browser, callback = client_consents(sandbox, token)
    ConnectLink.objects.filter(pk=link.pk).update(expires_at=timezone.now())
    refused = browser.get(callback)
    assert refused.status_code == 400 and "This link has expired" in refused.text
    assert not Connection.objects.exists()


def test_concurrent_callbacks_for_one_link_make_one_connection(sandbox, firm, operator):
    link, token = make_link(firm, operator, language="en")
    consents = [client_consents(sandbox, token) for _ in range(2)]
    barrier = threading.Barrier(2)
    answers: list[requests.Response] = []

    def finish(browser: requests.Session, callback: str) -> None:
        barrier.wait()
        answers.append(browser.get(callback))

    threads = [threading.Thread(target=finish, args=consent) for consent in consents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200, 400], statuses
    refused = next(answer for answer in answers if answer.status_code == 400)
    assert "already used" in refused.text
    assert Connection.objects.count() == 1
    link.refresh_from_db()
    assert link.connection == Connection.objects.get()
    assert AuditEvent.objects.filter(action="connect_link.complete").count() == 1
