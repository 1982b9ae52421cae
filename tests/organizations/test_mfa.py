"""Two-factor sign-in (allauth.mfa) and an organization's rule that asks it of every member.

Everything goes through the real pages with Django's test client: the member signs in
with the login form, reads the authenticator secret off allauth's activation page and
computes the code as an authenticator app would (RFC 6238).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.test import Client
from django.urls import reverse

from partnerapp.organizations.current import personal_organization
from partnerapp.organizations.models import Membership, Organization
from tests.dashboard.test_every_url import PUBLIC, ROUTES, _snapshot, fill, objects_of
from tests.factories import PASSWORD, UserFactory

MFA_REQUIRED = reverse("organizations:mfa_required")
# Open to a member the rule blocks: where the rule sends them, a way out (switch, leave),
# a new organization, and the pages a link opens for anyone (an invitation's, a client's
# connect link); the overview, public for visitors, is the organization's for members.
OPEN_WHILE_BLOCKED = {
    "organizations:mfa_required",
    "organizations:switch",
    "organizations:leave",
    "organizations:create",
} | (PUBLIC - {"dashboard:overview"})


@pytest.fixture(autouse=True)
def _one_step_of_clock_drift(settings):
    # A code computed just before a 30-second step ends is checked just after it: accept
    # the neighbouring step too, as real servers do, so no test depends on the clock.
    settings.MFA_TOTP_TOLERANCE = 1


def totp_code(secret: str) -> str:
    """What an authenticator app shows now for `secret` (RFC 6238: SHA-1, 30 s, 6 digits)."""
    key = base64.b32decode(secret, casefold=True)
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def sign_in(client: Client, user):
    """The login form with e-mail and password, as a person fills it in."""
    return client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def activation_page(client: Client):
    """allauth asks for the password again before a change to sign-in; then the
    activation page shows a new secret (beside its QR code) each time it is opened."""
    asked = client.get(reverse("mfa_activate_totp"))
    if asked.status_code == 302 and asked["Location"].startswith(reverse("account_reauthenticate")):
        client.post(asked["Location"], {"password": PASSWORD})
        asked = client.get(reverse("mfa_activate_totp"))
    assert asked.status_code == 200
    return asked


def secret_on(page) -> str:
    return re.search(r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"', page.text)[1]


def activation_secret(client: Client) -> str:
    return secret_on(activation_page(client))


def activate_totp(client: Client) -> str:
    """Set up an authenticator app through allauth's page; returns its secret."""
    secret = activation_secret(client)
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302, response.text
    return secret


def user_with_totp(client: Client, user) -> str:
    sign_in(client, user)
    secret = activate_totp(client)
    client.post(reverse("account_logout"))
    return secret


# -- the member's own second factor -----------------------------------------------------


def test_a_member_activates_an_authenticator_app_with_a_code_from_its_secret(partner):
    client = Client()
    sign_in(client, partner)
    page = activation_page(client)
    assert 'src="data:image/svg+xml;base64,' in page.text  # the QR code, allowed by the CSP
    secret = secret_on(page)

    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})

    assert response["Location"] == reverse("mfa_view_recovery_codes")
    assert Authenticator.objects.filter(user=partner, type=Authenticator.Type.TOTP).exists()
    codes = client.get(response["Location"])
    unused = RecoveryCodes(Authenticator.objects.get(user=partner, type="recovery_codes"))
    assert unused.get_unused_codes()[0] in codes.text


def test_a_wrong_code_activates_nothing(partner):
    client = Client()
    sign_in(client, partner)
    secret = activation_secret(client)
    wrong = f"{(int(totp_code(secret)) + 1) % 1_000_000:06d}"

    response = client.post(reverse("mfa_activate_totp"), {"code": wrong})

    assert response.status_code == 200
    assert "Incorrect code." in response.text
    assert not Authenticator.objects.filter(user=partner).exists()


def test_signing_in_with_a_password_alone_asks_for_the_code(partner):
    secret = user_with_totp(Client(), partner)
    client = Client()

    asked = sign_in(client, partner)

    assert asked["Location"] == reverse("mfa_authenticate")
    assert not signed_in(client)
    done = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert done["Location"] == reverse("dashboard:overview")
    assert signed_in(client)


def test_a_wrong_code_at_sign_in_is_refused(partner):
    secret = user_with_totp(Client(), partner)
    client = Client()
    sign_in(client, partner)
    wrong = f"{(int(totp_code(secret)) + 500_000) % 1_000_000:06d}"

    response = client.post(reverse("mfa_authenticate"), {"code": wrong})

    assert response.status_code == 200
    assert "Incorrect code." in response.text
    assert not signed_in(client)


def test_each_recovery_code_signs_in_once(partner):
    user_with_totp(Client(), partner)
    codes = RecoveryCodes(Authenticator.objects.get(user=partner, type="recovery_codes"))
    first, second = codes.get_unused_codes()[:2]

    for code, works in ((first, True), (first, False), (second, True)):
        client = Client()
        sign_in(client, partner)
        client.post(reverse("mfa_authenticate"), {"code": code})
        assert signed_in(client) is works, f"{code}: works {works}"


# -- the organization's rule ------------------------------------------------------------


@pytest.fixture
def firm(partner):
    """A firm that asks for two-factor sign-in; the partner owns it, with one object of
    each kind; `operator` is a member who has not set it up yet."""
    organization = Organization.objects.create(name="Treuhand Muster AG", require_mfa=True)
    Membership.objects.create(organization=organization, user=partner, role="owner")
    operator = UserFactory(email="operator@muster.example")
    Membership.objects.create(organization=organization, user=operator, role="operator")
    return organization, operator, objects_of(partner, "Zephyrine", organization)


def working_in(organization, user) -> Client:
    client = Client()
    sign_in(client, user)
    session = client.session
    session["organization_id"] = organization.pk
    session.save()
    return client


BLOCKED_ROUTES = [route for route in ROUTES if route.name not in OPEN_WHILE_BLOCKED]


@pytest.mark.parametrize("route", BLOCKED_ROUTES, ids=str)
def test_every_page_sends_a_member_without_a_second_factor_to_set_it_up(route, firm):
    organization, operator, objects = firm
    client = working_in(organization, operator)
    url = fill(route, objects)

    for method in ("get", "post"):
        before = _snapshot(objects)
        response = getattr(client, method)(url)
        assert response.status_code == 302, f"{method.upper()} {url}: {response.status_code}"
        assert response["Location"] == MFA_REQUIRED, f"{method.upper()} {url}"
        assert _snapshot(objects) == before, f"a blocked {method} changed data"


def test_the_page_names_the_organization_and_offers_set_up_switch_and_leave(firm):
    organization, operator, _ = firm
    client = working_in(organization, operator)

    page = client.get(MFA_REQUIRED)

    assert page.status_code == 200
    assert "Treuhand Muster AG asks every member to sign in with a second factor" in page.text
    for link in ("mfa_activate_totp", "mfa_index", "organizations:switch", "organizations:leave"):
        assert f'="{reverse(link)}"' in page.text, link


def test_a_blocked_member_can_switch_to_another_organization(firm):
    organization, operator, _ = firm
    client = working_in(organization, operator)
    personal = personal_organization(operator)

    switched = client.post(reverse("organizations:switch"), {"organization": personal.pk})

    assert client.get(switched["Location"]).status_code == 200
    assert client.get(reverse("dashboard:jobs")).status_code == 200


def test_a_blocked_member_can_leave(firm):
    organization, operator, _ = firm
    client = working_in(organization, operator)

    client.post(reverse("organizations:leave"))

    assert not organization.memberships.filter(user=operator).exists()
    assert client.get(reverse("dashboard:overview")).status_code == 200


def test_a_link_to_an_object_of_the_blocking_organization_leads_to_the_set_up_page(firm):
    organization, operator, objects = firm
    client = Client()
    sign_in(client, operator)  # working in the personal organization

    response = client.get(reverse("dashboard:job", args=[objects.job.pk]))

    assert response["Location"] == MFA_REQUIRED
    assert client.session["organization_id"] == organization.pk  # the page names the firm


def test_after_setting_up_an_authenticator_app_the_member_gets_in(firm):
    organization, operator, objects = firm
    client = working_in(organization, operator)
    assert client.get(reverse("dashboard:jobs"))["Location"] == MFA_REQUIRED
    assert client.get(reverse("mfa_index")).status_code == 200  # allauth's pages stay open

    activate_totp(client)

    assert client.get(reverse("dashboard:jobs")).status_code == 200
    assert client.get(reverse("dashboard:job", args=[objects.job.pk])).status_code == 200
    assert client.get(MFA_REQUIRED)["Location"] == reverse("dashboard:overview")


def test_recovery_codes_alone_do_not_satisfy_the_rule(firm):
    organization, operator, _ = firm
    RecoveryCodes.activate(operator)
    client = working_in(organization, operator)

    assert client.get(reverse("dashboard:overview"))["Location"] == MFA_REQUIRED


# -- the setting ------------------------------------------------------------------------


def settings_form(organization, **changes) -> dict:
    form = {"name": organization.name, "audit_retention_days": 400, "require_mfa": "on"}
    return form | changes


def test_an_admin_without_a_second_factor_cannot_turn_the_rule_on(partner):
    organization = personal_organization(partner)
    client = Client()
    sign_in(client, partner)

    response = client.post(reverse("organizations:settings"), settings_form(organization))

    assert response.status_code == 200
    assert "Set up two-factor sign-in for yourself first" in response.text
    organization.refresh_from_db()
    assert not organization.require_mfa


def test_an_admin_with_a_second_factor_turns_the_rule_on(partner):
    organization = personal_organization(partner)
    client = Client()
    sign_in(client, partner)
    activate_totp(client)

    response = client.post(reverse("organizations:settings"), settings_form(organization))

    assert response["Location"] == reverse("organizations:settings")
    organization.refresh_from_db()
    assert organization.require_mfa


def test_the_settings_page_links_to_ones_own_two_factor_sign_in(partner):
    client = Client()
    sign_in(client, partner)

    page = client.get(reverse("organizations:settings"))

    assert f'href="{reverse("mfa_index")}" data-testid="mfa-settings-link"' in page.text
    assert f'href="{reverse("mfa_index")}" data-testid="mfa-link"' in page.text  # the header


def test_the_two_factor_pages_speak_german_inside_our_layout(partner):
    client = Client(HTTP_ACCEPT_LANGUAGE="de")
    sign_in(client, partner)

    page = client.get(reverse("mfa_index"))

    assert "Zwei-Faktor-Authentifizierung" in page.text  # allauth's own translation
    assert 'data-testid="org-link"' in page.text  # our header around it
