"""Every URL, for every role: each GET and each POST answers what the role allows.

The expectations are written here, route by route, and not read from the views: a view
that asks for the wrong permission fails. A route missing from `EXPECTED` fails too, so
a new page gets its row. Personas in one firm: owner, admin, operator, viewer; plus a
member of another organization (404 for the firm's objects: tests/dashboard/test_every_url.py)
and a visitor (sent to the login page: the same file).

- a role without the permission gets 403 and nothing changes;
- a role with it is let through (anything but 403 and 404).
"""

from __future__ import annotations

import pytest
from django.test import Client

from partnerapp.organizations.models import Membership, Organization
from tests.dashboard.test_every_url import ROUTES, _snapshot, fill, objects_of
from tests.factories import UserFactory

PERSONAS = ["owner", "admin", "operator", "viewer"]
ALLOWED = {
    "view": {"owner", "admin", "operator", "viewer"},
    "operate": {"owner", "admin", "operator"},
    "connect": {"owner", "admin"},
    "members": {"owner", "admin"},
    "settings": {"owner", "admin"},
    "own": {"owner"},
    "any": set(PERSONAS),  # no role needed (a member's own choices, a link's own page)
}

# route name → (permission for GET, permission for POST)
EXPECTED = {
    "dashboard:overview": ("view", "view"),
    "dashboard:connection": ("view", "view"),
    "dashboard:invoices": ("view", "view"),
    "dashboard:invoice": ("view", "view"),
    "dashboard:invoice_preview": ("view", "view"),
    "dashboard:invoice_pdf": ("view", "view"),
    "dashboard:job_new": ("operate", "operate"),
    "dashboard:job_new_render": ("operate", "operate"),
    "dashboard:request_log": ("view", "view"),
    "dashboard:bank_files": ("view", "operate"),
    "dashboard:bank_file": ("view", "view"),
    "dashboard:bank_file_confirm": ("operate", "operate"),
    "dashboard:bank_file_rematch": ("operate", "operate"),
    "dashboard:bank_file_release": ("operate", "operate"),
    "dashboard:activity": ("view", "view"),
    "dashboard:jobs": ("view", "view"),
    "dashboard:job": ("view", "view"),
    "dashboard:job_progress": ("view", "view"),
    "dashboard:job_export": ("view", "view"),
    "dashboard:job_archive": ("view", "view"),
    "dashboard:job_items": ("view", "view"),
    "dashboard:job_item": ("view", "view"),
    "dashboard:job_item_resend": ("operate", "operate"),
    "dashboard:job_item_recipient": ("operate", "operate"),
    "dashboard:job_rename": ("operate", "operate"),
    "dashboard:job_control": ("view", "operate"),
    "dashboard:schedules": ("view", "view"),
    "dashboard:schedule_create": ("operate", "operate"),
    "dashboard:schedule_weekly_reminders": ("operate", "operate"),
    "dashboard:schedule": ("view", "operate"),
    "dashboard:schedule_toggle": ("operate", "operate"),
    "dashboard:schedule_delete": ("operate", "operate"),
    "connections:connect": ("connect", "connect"),
    "connections:callback": ("view", "view"),
    "connections:own_account": ("connect", "connect"),
    "connections:reconnect": ("connect", "connect"),
    "connections:disconnect": ("connect", "connect"),
    "connections:links": ("view", "operate"),
    "connections:link_revoke": ("operate", "operate"),
    "connections:link_send": ("operate", "operate"),
    "connect:link": ("any", "any"),
    "connect:granted": ("any", "any"),
    "organizations:switch": ("any", "any"),
    "organizations:create": ("any", "any"),
    "organizations:settings": ("settings", "settings"),
    "organizations:members": ("view", "members"),
    "organizations:member_role": ("members", "members"),
    "organizations:member_remove": ("members", "members"),
    "organizations:leave": ("view", "view"),
    "organizations:invitation_revoke": ("members", "members"),
    "organizations:invitation": ("any", "any"),
    "organizations:notifications": ("view", "view"),
    "organizations:delete": ("own", "own"),
    "organizations:mfa_required": ("any", "any"),
    "organizations:audit": ("settings", "settings"),
    "organizations:audit_csv": ("settings", "settings"),
    "webhooks:list": ("settings", "settings"),
    "webhooks:endpoint": ("settings", "settings"),
    "webhooks:rotate": ("settings", "settings"),
    "webhooks:enable": ("settings", "settings"),
    "webhooks:delete": ("settings", "settings"),
    "webhooks:test": ("settings", "settings"),
    "webhooks:redeliver": ("settings", "settings"),
    "api_keys:list": ("settings", "settings"),
    "api_keys:revoke": ("settings", "settings"),
}


# What a form posts where an empty POST names no object (the connection is in the body).
POST_DATA = {
    "dashboard:schedule_weekly_reminders": lambda objects: {"connection": objects.connection.pk},
}


@pytest.fixture
def firm(partner):
    """A firm whose owner is the partner, with an admin, an operator and a viewer."""
    organization = Organization.objects.create(name="Treuhand Muster AG")
    users = {"owner": partner}
    Membership.objects.create(organization=organization, user=partner, role="owner")
    for role in ("admin", "operator", "viewer"):
        users[role] = UserFactory(email=f"{role}@muster.example")
        Membership.objects.create(organization=organization, user=users[role], role=role)
    objects = objects_of(partner, "Zephyrine", organization)
    return organization, users, objects


def test_every_route_has_its_expected_permissions():
    missing = sorted(route.name for route in ROUTES if route.name not in EXPECTED)
    assert not missing, f"add these routes to EXPECTED with the role each needs: {missing}"


def test_the_table_names_no_route_that_is_gone():
    names = {route.name for route in ROUTES}
    gone = sorted(set(EXPECTED) - names)
    assert not gone, f"EXPECTED names routes that no longer exist: {gone}"


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_each_role_gets_what_it_may_and_a_403_for_the_rest(route, persona, firm):
    organization, users, objects = firm
    get_perm, post_perm = EXPECTED[route.name]
    client = Client()
    client.force_login(users[persona])
    session = client.session
    session["organization_id"] = organization.pk
    session.save()
    url = fill(route, objects)

    for method, perm in (("get", get_perm), ("post", post_perm)):
        before = _snapshot(objects)
        data = (
            POST_DATA[route.name](objects) if method == "post" and route.name in POST_DATA else {}
        )
        response = getattr(client, method)(url, data)
        status = response.status_code
        if persona in ALLOWED[perm]:
            assert status not in (403, 404), f"{persona} {method.upper()} {url}: {status}"
        else:
            assert status in (403, 405), f"{persona} {method.upper()} {url}: {status}, not 403"
            assert _snapshot(objects) == before, f"{persona}'s refused {method} changed data"
