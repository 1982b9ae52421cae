"""Personas of the partner API: a firm with a write key and a read key, and another
organization with its own connection and job (which the firm's keys must not see)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.test import Client

from partnerapp.api.keys import api_key_create
from partnerapp.organizations.models import Membership, Organization
from tests.factories import UserFactory
from tests.jobs.factories import ConnectionFactory, JobFactory


@dataclass
class Firm:
    organization: Organization
    owner: Membership
    write_key: str
    read_key: str
    connection: object
    job: object


def make_firm(name: str, email: str) -> Firm:
    organization = Organization.objects.create(name=name)
    user = UserFactory(email=email)
    owner = Membership.objects.create(organization=organization, user=user, role="owner")
    _key, write_key = api_key_create(membership=owner, name="ERP", scope="write")
    _key, read_key = api_key_create(membership=owner, name="Reports", scope="read")
    connection = ConnectionFactory(user=user, organization=organization)
    job = JobFactory(connection=connection, user=user)
    return Firm(organization, owner, write_key, read_key, connection, job)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()  # the throttle's counts live in the cache: each test starts at zero
    yield
    cache.clear()


@pytest.fixture
def firm(db) -> Firm:
    return make_firm("Treuhand Muster AG", "owner@muster.example")


@pytest.fixture
def other_firm(db) -> Firm:
    return make_firm("Konkurrenz GmbH", "owner@konkurrenz.example")


class ApiClient(Client):
    """Django's test client speaking JSON with an API key."""

    def __init__(self, key: str | None = None, **kwargs) -> None:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        super().__init__(headers=headers, **kwargs)

    def post_json(self, path: str, data=None, **kwargs):
        return self.post(path, data or {}, content_type="application/json", **kwargs)


@pytest.fixture
def api(firm) -> ApiClient:
    return ApiClient(firm.write_key)


@pytest.fixture
def read_api(firm) -> ApiClient:
    return ApiClient(firm.read_key)
