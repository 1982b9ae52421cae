"""The webhook pages: owners and admins only; another organization's endpoints are 404."""

from __future__ import annotations

import pytest
from django.test import Client

from partnerapp.organizations.models import AuditEvent, Membership, Organization
from partnerapp.webhooks import delivery, events, services
from partnerapp.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.factories import UserFactory


@pytest.fixture
def firm(partner):
    organization = Organization.objects.create(name="Treuhand Muster AG")
    Membership.objects.create(organization=organization, user=partner, role="owner")
    return organization


def member(firm, role: str):
    user = UserFactory(email=f"{role}@muster.example")
    Membership.objects.create(organization=firm, user=user, role=role)
    return user


def signed_in(user, organization) -> Client:
    client = Client()
    client.force_login(user)
    session = client.session
    session["organization_id"] = organization.pk
    session.save()
    return client


@pytest.fixture
def admin_client(firm):
    return signed_in(member(firm, "admin"), firm)


@pytest.fixture
def endpoint(firm, partner, receiver):
    created, secret = services.endpoint_create(
        user=partner, organization_id=firm.pk, url=receiver.url, events=["job.finished"]
    )
    receiver.secrets.append(secret)
    return created


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(firm, admin_client, receiver):
    response = admin_client.post(
        "/organization/webhooks/",
        {"url": receiver.url, "events": ["job.finished", "job.paused"], "description": "ERP"},
        follow=True,
    )
    endpoint = WebhookEndpoint.objects.get(organization=firm)
    assert (endpoint.events, endpoint.description) == (["job.finished", "job.paused"], "ERP")
    page = response.content.decode()
    assert 'data-testid="webhook-secret"' in page
    (secret,) = services.live_secrets(endpoint)
    assert secret in page and secret.startswith("whsec_")
    again = admin_client.get(f"/organization/webhooks/{endpoint.pk}/").content.decode()
    assert secret not in again and 'data-testid="webhook-secret"' not in again
    create = AuditEvent.objects.get(organization=firm, action="webhook.create")
    assert secret not in str(create.after)


def test_the_form_needs_an_event_and_refuses_private_addresses(admin_client, settings):
    response = admin_client.post("/organization/webhooks/", {"url": "https://example.com/h"})
    assert response.status_code == 400 and "Choose at least one event." in response.content.decode()
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    response = admin_client.post(
        "/organization/webhooks/", {"url": "http://127.0.0.1:8000/", "events": ["job.finished"]}
    )
    assert response.status_code == 400 and "private or reserved" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_viewers_and_operators_get_403(firm, endpoint, role):
    client = signed_in(member(firm, role), firm)
    assert client.get("/organization/webhooks/").status_code == 403
    assert client.get(f"/organization/webhooks/{endpoint.pk}/").status_code == 403
    assert client.post(f"/organization/webhooks/{endpoint.pk}/delete/").status_code == 403
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_another_organizations_endpoint_is_404(endpoint, outsider):
    client = Client()
    client.force_login(outsider)
    base = f"/organization/webhooks/{endpoint.pk}"
    pending = events.emit(endpoint.organization_id, "job.finished", {}).deliveries.get()
    for url in (f"{base}/", f"{base}/rotate/", f"{base}/deliveries/{pending.pk}/redeliver/"):
        assert client.post(url).status_code == 404, url
    assert "Treuhand" not in client.get("/organization/webhooks/").content.decode()
    assert endpoint.secrets.count() == 1 and WebhookDelivery.objects.count() == 1


def test_rotating_shows_the_new_secret_and_keeps_the_old_one_signing(
    firm, admin_client, endpoint, receiver
):
    response = admin_client.post(f"/organization/webhooks/{endpoint.pk}/rotate/", follow=True)
    old, new = receiver.secrets[0], None
    live = services.live_secrets(endpoint)
    assert len(live) == 2 and old in live
    new = next(secret for secret in live if secret != old)
    assert new in response.content.decode() and old not in response.content.decode()
    assert "still signing until" in response.content.decode()
    assert AuditEvent.objects.filter(organization=firm, action="webhook.rotate").exists()


def test_switch_off_and_on_again(admin_client, endpoint):
    admin_client.post(f"/organization/webhooks/{endpoint.pk}/enable/")
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.disabled_reason
    admin_client.post(f"/organization/webhooks/{endpoint.pk}/enable/", {"enabled": "on"})
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.disabled_at is None


def test_changing_and_deleting_an_endpoint(firm, admin_client, endpoint):
    admin_client.post(
        f"/organization/webhooks/{endpoint.pk}/",
        {"url": endpoint.url, "events": ["job.paused"], "description": "new"},
    )
    endpoint.refresh_from_db()
    assert endpoint.events == ["job.paused"]
    update = AuditEvent.objects.get(organization=firm, action="webhook.update")
    assert update.before["events"] == ["job.finished"] and update.after["events"] == ["job.paused"]
    response = admin_client.post(f"/organization/webhooks/{endpoint.pk}/delete/")
    assert response.status_code == 302 and not WebhookEndpoint.objects.exists()
    assert AuditEvent.objects.filter(organization=firm, action="webhook.delete").exists()


def test_the_delivery_log_shows_status_time_and_the_answer_and_sends_again(
    firm, admin_client, endpoint, receiver
):
    receiver.answers = [500]
    first = events.emit(firm.pk, "job.finished", {"job": {"id": 3}}).deliveries.get()
    delivery.delivery_attempt(delivery_id=first.pk)

    page = admin_client.get(f"/organization/webhooks/{endpoint.pk}/").content.decode()
    assert "HTTP 500" in page and "receiver error" in page and " ms" in page
    assert page.count('data-testid="webhook-delivery-row"') == 2  # the failure, the retry

    admin_client.post(f"/organization/webhooks/{endpoint.pk}/deliveries/{first.pk}/redeliver/")
    again = WebhookDelivery.objects.filter(event=first.event, attempt=1).exclude(pk=first.pk).get()
    assert again.state == WebhookDelivery.State.PENDING
    assert AuditEvent.objects.filter(organization=firm, action="webhook.redeliver").exists()


def test_a_test_event_goes_to_this_endpoint_only(firm, partner, admin_client, endpoint, receiver):
    services.endpoint_create(
        user=partner, organization_id=firm.pk, url=receiver.url, events=["job.finished"]
    )
    admin_client.post(f"/organization/webhooks/{endpoint.pk}/test/")
    (test,) = WebhookDelivery.objects.filter(event__type="webhook.test")
    assert test.endpoint == endpoint
    delivery.delivery_attempt(delivery_id=test.pk)
    assert receiver.verified()[-1].payload["type"] == "webhook.test"


def test_the_organization_tabs_link_the_webhooks_for_admins_only(firm, admin_client):
    assert "/organization/webhooks/" in admin_client.get("/organization/members/").content.decode()
    viewer = signed_in(member(firm, "viewer"), firm)
    assert "/organization/webhooks/" not in viewer.get("/organization/members/").content.decode()
