"""API keys: created by admins, shown once, stored hashed, revocable, expiring, scoped."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from partnerapp.api.keys import api_key_create, api_key_revoke
from partnerapp.api.models import ApiKey
from partnerapp.organizations.models import AuditEvent, Membership
from tests.api.conftest import ApiClient
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_key_is_stored_as_its_hash_with_only_the_prefix_visible(firm):
    key, raw = api_key_create(membership=firm.owner, name="CRM", scope="read")
    stored = ApiKey.objects.get(pk=key.pk)
    assert raw.startswith(f"pa_live_{stored.prefix}_")
    assert stored.secret_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.split("_", 3)[3] not in {stored.prefix, stored.secret_hash, stored.name}


def test_an_operator_cannot_create_a_key(firm):
    operator = Membership.objects.create(
        organization=firm.organization, user=UserFactory(), role="operator"
    )
    with pytest.raises(PermissionDenied):
        api_key_create(membership=operator, name="mine", scope="write")


def test_an_admin_creates_a_key_on_the_page_and_sees_it_once(client, firm):
    client.force_login(firm.owner.user)
    created = client.post(
        "/organization/api-keys/", {"name": "ERP", "scope": "write", "expires_on": ""}
    )
    assert created.status_code == 201
    raw = created.context["created"]["raw"]
    assert raw in created.content.decode()
    again = client.get("/organization/api-keys/")
    assert raw not in again.content.decode()
    assert ApiKey.objects.get(prefix=raw.split("_")[2]).label in again.content.decode()
    assert ApiClient(raw).get("/api/v1/connections").status_code == 200


def test_a_viewer_cannot_open_the_keys_page(client, firm):
    viewer = UserFactory()
    Membership.objects.create(organization=firm.organization, user=viewer, role="viewer")
    client.force_login(viewer)
    client.post("/organization/switch/", {"organization": firm.organization.pk})
    assert client.get("/organization/api-keys/").status_code == 403


def test_a_revoked_key_answers_401(firm):
    api = ApiClient(firm.write_key)
    assert api.get("/api/v1/jobs").status_code == 200
    key = ApiKey.objects.get(prefix=firm.write_key.split("_")[2])
    assert api_key_revoke(membership=firm.owner, key=key)
    answer = api.get("/api/v1/jobs")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "invalid_api_key"


def test_an_expired_key_answers_401(firm):
    _key, raw = api_key_create(
        membership=firm.owner,
        name="short",
        scope="read",
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    assert ApiClient(raw).get("/api/v1/jobs").status_code == 401


def test_an_unknown_or_forged_key_answers_401(firm):
    forged = firm.write_key[:-4] + "AAAA"
    assert ApiClient(forged).get("/api/v1/jobs").status_code == 401
    assert ApiClient("pa_live_00000000_nothing").get("/api/v1/jobs").status_code == 401


def test_no_key_answers_401_with_the_scheme(client, firm):
    answer = client.get("/api/v1/jobs")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "missing_api_key"
    assert answer["WWW-Authenticate"].startswith("Bearer")


def test_a_read_key_cannot_write(read_api, firm):
    answer = read_api.post(
        f"/api/v1/jobs/{firm.job.pk}/pause", {"confirm": True}, content_type="application/json"
    )
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "forbidden"
    assert read_api.get(f"/api/v1/jobs/{firm.job.pk}").status_code == 200


def test_another_organizations_ids_are_not_found(api, other_firm):
    for path in (
        f"/api/v1/connections/{other_firm.connection.pk}",
        f"/api/v1/connections/{other_firm.connection.pk}/health",
        f"/api/v1/jobs/{other_firm.job.pk}",
        f"/api/v1/jobs/{other_firm.job.pk}/items",
        f"/api/v1/jobs/{other_firm.job.pk}/csv",
    ):
        answer = api.get(path)
        assert answer.status_code == 404, path
        assert answer.json()["error"]["code"] == "not_found"
    paused = api.post_json(f"/api/v1/jobs/{other_firm.job.pk}/cancel", {"confirm": True})
    assert paused.status_code == 404
    listed = api.get("/api/v1/jobs").json()["results"]
    assert other_firm.job.pk not in [job["id"] for job in listed]


def test_every_call_is_in_the_audit_log_with_the_key_as_actor(api, firm):
    api.get(f"/api/v1/jobs/{firm.job.pk}")
    event = AuditEvent.objects.filter(action="api.call").latest("pk")
    prefix = firm.write_key.split("_")[2]
    assert event.actor is None
    assert event.actor_label == f"pa_live_{prefix}"
    assert event.after == {"method": "GET", "path": f"/api/v1/jobs/{firm.job.pk}", "status": 200}
    key = ApiKey.objects.get(prefix=prefix)
    assert key.last_used_at is not None
    assert key.last_used_ip == "127.0.0.1"
