"""One delivery attempt, in this process, to a local receiver that verifies signatures."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.utils import timezone

from partnerapp.organizations.current import personal_organization
from partnerapp.organizations.models import Membership
from partnerapp.webhooks import delivery, events, services
from partnerapp.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookSecret
from tests.factories import UserFactory

State = WebhookDelivery.State


def one_event(partner, type="job.finished", payload=None):
    """Emit an event for the partner's organization; its (first) pending delivery."""
    organization = personal_organization(partner)
    event = events.emit(organization.pk, type, payload or {"job": {"id": 7}})
    return event.deliveries.get()


def test_a_delivery_is_signed_and_the_receiver_verifies_it(db, partner, subscribe, receiver):
    endpoint = subscribe()
    pending = one_event(partner)

    assert delivery.delivery_attempt(delivery_id=pending.pk) is None
    (request,) = receiver.verified()
    assert request.headers["webhook-id"] == pending.event_id
    assert request.payload == {
        "type": "job.finished",
        "timestamp": pending.event.created_at.isoformat(),
        "data": {"job": {"id": 7}},
    }
    pending.refresh_from_db()
    assert (pending.state, pending.status_code, pending.response_head) == (
        State.SUCCEEDED,
        200,
        "ok",
    )
    assert pending.duration_ms is not None and pending.attempted_at is not None
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_a_500_plans_the_next_attempt_with_the_same_event(db, partner, subscribe, receiver):
    endpoint = subscribe()
    receiver.answers = [500]
    first = one_event(partner)

    following = delivery.delivery_attempt(delivery_id=first.pk)

    first.refresh_from_db()
    assert (first.state, first.status_code) == (State.FAILED, 500)
    assert first.response_head.startswith("receiver error") and len(first.response_head) == 500
    assert (following.attempt, following.state, following.event_id) == (
        2,
        State.PENDING,
        first.event_id,
    )
    assert following.next_attempt_at >= timezone.now() + timedelta(seconds=59)
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None


def test_the_last_attempt_gives_up(db, partner, subscribe, receiver, settings):
    settings.WEBHOOKS_RETRY_DELAYS = [60, 300]
    subscribe()
    receiver.answers = [503]
    last = one_event(partner)
    WebhookDelivery.objects.filter(pk=last.pk).update(attempt=3)

    assert delivery.delivery_attempt(delivery_id=last.pk) is None
    last.refresh_from_db()
    assert last.state == State.GIVEN_UP
    assert WebhookDelivery.objects.count() == 1


def test_a_claimed_delivery_is_not_sent_twice(db, partner, subscribe, receiver):
    subscribe()
    pending = one_event(partner)
    delivery.delivery_attempt(delivery_id=pending.pk)

    assert delivery.delivery_attempt(delivery_id=pending.pk) is None
    assert len(receiver.received) == 1


def test_a_redirect_is_not_followed_and_counts_as_a_failure(db, partner, subscribe, receiver):
    subscribe()
    receiver.answers = ["http://169.254.169.254/latest/meta-data/"]
    pending = one_event(partner)

    assert delivery.delivery_attempt(delivery_id=pending.pk) is not None
    pending.refresh_from_db()
    assert (pending.state, pending.status_code) == (State.FAILED, 302)
    assert len(receiver.received) == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0/hook",
        "http://100.64.0.1/hook",  # carrier-grade NAT: shared, not global
    ],
)
def test_private_and_reserved_addresses_are_refused_when_the_setting_is_off(url, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    with pytest.raises(delivery.AddressRefused):
        delivery.url_check(url)


def test_a_refused_address_is_never_called_and_the_log_says_why(
    db, partner, subscribe, receiver, settings
):
    subscribe()
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    pending = one_event(partner)

    following = delivery.delivery_attempt(delivery_id=pending.pk)

    assert receiver.received == []
    pending.refresh_from_db()
    assert pending.state == State.FAILED and pending.status_code is None
    assert "private or reserved address" in pending.error
    assert following is not None  # the address may change; tried again like any failure


def test_a_public_address_passes_the_check(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    delivery.url_check("https://93.184.215.14/hook")  # no exception


def test_only_http_and_https_urls_are_accepted():
    with pytest.raises(delivery.AddressRefused):
        delivery.url_check("file:///etc/passwd")


def test_during_a_rotation_both_secrets_verify_and_after_it_only_the_new(
    db, partner, subscribe, receiver
):
    endpoint = subscribe()
    old = receiver.secrets[0]
    new = services.endpoint_rotate_secret(user=partner, endpoint=endpoint)
    receiver.secrets.append(new)
    assert new.startswith("whsec_") and new != old

    delivery.delivery_attempt(delivery_id=one_event(partner).pk)
    assert receiver.received[-1].verified_with == [old, new]
    assert len(receiver.received[-1].headers["webhook-signature"].split(" ")) == 2

    WebhookSecret.objects.filter(endpoint=endpoint).exclude(expires_at=None).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    delivery.delivery_attempt(delivery_id=one_event(partner).pk)
    assert receiver.received[-1].verified_with == [new]


def test_the_old_secret_stays_valid_for_the_overlap(db, partner, subscribe, settings):
    settings.WEBHOOKS_SECRET_OVERLAP_HOURS = 24
    endpoint = subscribe()
    services.endpoint_rotate_secret(user=partner, endpoint=endpoint)
    old = endpoint.secrets.exclude(expires_at=None).get()
    expected = timezone.now() + timedelta(hours=24)
    assert abs((old.expires_at - expected).total_seconds()) < 60
    assert len(services.live_secrets(endpoint)) == 2


def test_an_endpoint_failing_for_three_days_is_switched_off_and_admins_are_told(
    db, partner, subscribe, receiver, mailoutbox, django_capture_on_commit_callbacks
):
    endpoint = subscribe()
    organization = endpoint.organization
    admin = UserFactory(email="admin@example.com")
    viewer = UserFactory(email="viewer@example.com")
    Membership.objects.create(organization=organization, user=admin, role="admin")
    Membership.objects.create(organization=organization, user=viewer, role="viewer")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(days=3, minutes=1)
    )
    receiver.answers = [500]
    pending = one_event(partner)

    with django_capture_on_commit_callbacks(execute=True):
        following = delivery.delivery_attempt(delivery_id=pending.pk)

    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.disabled_at is not None
    assert "no successful delivery since" in endpoint.disabled_reason
    assert following is None  # switched off: no further attempt
    assert sorted(m.to[0] for m in mailoutbox) == ["admin@example.com", "partner@example.com"]
    assert endpoint.url in mailoutbox[0].subject
    assert organization.audit_events.filter(action="webhook.disable").exists()


def test_two_days_of_failures_leave_the_endpoint_on(db, partner, subscribe, receiver):
    endpoint = subscribe()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(days=2)
    )
    receiver.answers = [500]
    delivery.delivery_attempt(delivery_id=one_event(partner).pk)
    endpoint.refresh_from_db()
    assert endpoint.enabled


def test_a_success_stops_the_failure_clock(db, partner, subscribe):
    endpoint = subscribe()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now())
    delivery.delivery_attempt(delivery_id=one_event(partner).pk)
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_the_sweep_switches_off_an_endpoint_without_new_events(db, partner, subscribe):
    endpoint = subscribe()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(days=4)
    )
    assert services.endpoints_disable_failing() == [endpoint.pk]
    assert services.endpoints_disable_failing() == []


def test_the_sweep_finds_lost_and_stuck_deliveries(db, partner, subscribe, settings):
    subscribe()
    lost = one_event(partner)
    stuck = one_event(partner)
    fresh = one_event(partner)
    long_ago = timezone.now() - timedelta(hours=1)
    WebhookDelivery.objects.filter(pk=lost.pk).update(next_attempt_at=long_ago)
    WebhookDelivery.objects.filter(pk=stuck.pk).update(attempted_at=long_ago)

    overdue = delivery.deliveries_overdue()

    stuck.refresh_from_db()
    assert stuck.state == State.FAILED and "worker stopped" in stuck.error
    retry = WebhookDelivery.objects.get(event=stuck.event, attempt=2)
    assert set(overdue) == {lost.pk, retry.pk}
    assert fresh.pk not in overdue


def test_a_switched_off_endpoint_gets_nothing(db, partner, subscribe, receiver):
    endpoint = subscribe()
    pending = one_event(partner)
    services.endpoint_set_enabled(user=partner, endpoint=endpoint, enabled=False)

    assert delivery.delivery_attempt(delivery_id=pending.pk) is None
    pending.refresh_from_db()
    assert pending.state == State.GIVEN_UP and receiver.received == []
    assert events.emit(endpoint.organization_id, "job.finished", {}) is None


def test_the_body_is_json_with_type_timestamp_and_data(db, partner, subscribe):
    subscribe()
    pending = one_event(partner, payload={"job": {"id": 1, "name": "Zürich"}})
    body = json.loads(delivery.event_body(pending.event))
    assert body["type"] == "job.finished" and body["data"]["job"]["name"] == "Zürich"


def test_a_token_key_rotation_keeps_the_signing_secrets_readable(db, partner, subscribe, settings):
    endpoint = subscribe()
    before = services.live_secrets(endpoint)
    new_key = Fernet.generate_key().decode()
    settings.TOKEN_ENCRYPTION_KEYS = [new_key, *settings.TOKEN_ENCRYPTION_KEYS]
    call_command("rotate_token_keys", stdout=io.StringIO())
    settings.TOKEN_ENCRYPTION_KEYS = [new_key]  # the old key is gone
    assert services.live_secrets(endpoint) == before
