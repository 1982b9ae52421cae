"""Fault injection, set at run time globally or per owner, repeatable under a seed."""

import io
import json
import re
import time
import uuid

import pytest
from django.core.management import CommandError, call_command

from partnerapp.sandbox import faults
from partnerapp.sandbox.models import FaultProfile, Invoice, OutboxEmail
from tests.sandbox.conftest import API, EMAIL, REDIRECT, SECRET, draft_with_email
from tests.sandbox.test_documents import new_invoice

TOKENS = f"{API}/auth/access-tokens"


def set_faults(owner=None, **options):
    """The management command, as an operator would run it; returns what it printed."""
    out = io.StringIO()
    if owner is not None:
        options["owner"] = owner.email
    call_command("sandbox_faults", stdout=out, **options)
    return out.getvalue()


def statuses(call, count):
    return [call("GET", "/auth/owner").status_code for _ in range(count)]


def send(call, invoice):
    return call("PATCH", f"/receivables/invoices/{invoice.pk}/send-by-email", EMAIL)


@pytest.mark.parametrize(
    ("option", "status", "message"),
    [
        ("p429", 429, "Too many requests"),
        ("p500", 500, "Internal server error"),
        ("p503", 503, "Application offline"),
    ],
)
def test_an_injected_error_is_shaped_and_does_not_act(call, owner, option, status, message):
    set_faults(owner, **{option: 1})
    invoice = draft_with_email(owner)
    response = send(call, invoice)
    assert response.status_code == status
    assert response.json() == {"code": status, "message": message}
    assert uuid.UUID(response["X-Request-Id"]).version == 4
    assert response["X-Rate-Limit-Limit"] == "1000" and response["X-Rate-Limit-Remaining"] == "999"
    assert not OutboxEmail.objects.exists()
    assert Invoice.objects.get(pk=invoice.pk).status == "DR"


def test_the_same_seed_gives_the_same_fault_sequence(call, owner):
    set_faults(owner, p500=0.3, p503=0.2, seed=42)
    first = statuses(call, 30)
    set_faults(owner, seed=42)  # setting the seed starts the sequence over
    again = statuses(call, 30)
    set_faults(owner, seed=43)
    other = statuses(call, 30)
    assert first == again
    assert {200, 500, 503} <= set(first)
    assert other != first


def test_an_owners_faults_do_not_touch_other_owners(call, owner, other_owner):
    set_faults(other_owner, p500=1)
    assert statuses(call, 5) == [200] * 5
    assert faults.profile_for(other_owner).p500 == 1 and faults.profile_for(owner).p500 == 0


def test_global_faults_reach_every_owner_without_its_own_profile(call, owner, other_owner):
    set_faults(p503=1)
    assert statuses(call, 2) == [503, 503]
    set_faults(other_owner, latency_ms=0)  # starts as a copy of the global profile
    assert faults.profile_for(other_owner).p503 == 1


def test_settings_give_the_defaults_when_no_profile_is_saved(call, settings):
    settings.SANDBOX_FAULT_P500 = 1
    assert statuses(call, 1) == [500]


def test_a_seed_from_settings_is_counted_in_the_database(call, settings):
    settings.SANDBOX_FAULT_P500, settings.SANDBOX_FAULT_SEED = 0.5, 7
    # 40 draws: the dice depend on the owner's id, and 12 came out all 500 for a few ids
    first = statuses(call, 40)
    FaultProfile.objects.all().delete()
    assert statuses(call, 40) == first and set(first) == {200, 500}


@pytest.mark.parametrize("mode", ["502", "504"])
def test_a_lost_response_comes_after_the_action(call, owner, mode):
    set_faults(owner, p_lost=1, lost_mode=mode)
    invoice = draft_with_email(owner)
    response = send(call, invoice)
    assert response.status_code == int(mode) and response.json()["code"] == int(mode)
    assert response["X-Request-Id"]
    assert OutboxEmail.objects.filter(document_id=invoice.pk).count() == 1
    assert Invoice.objects.get(pk=invoice.pk).status == "S"


def test_reads_never_lose_their_response(call, owner):
    set_faults(owner, p_lost=1)
    assert statuses(call, 3) == [200, 200, 200]


def test_a_refused_write_is_not_lost(call, owner):
    set_faults(owner, p_lost=1)
    invoice = draft_with_email(owner)
    response = call(
        "PATCH", f"/receivables/invoices/{invoice.pk}/send-by-email", {**EMAIL, "subject": ""}
    )
    assert response.status_code == 422


def test_latency_delays_the_answer(call, owner):
    set_faults(owner, latency_ms=150)
    started = time.monotonic()
    assert statuses(call, 2) == [200, 200]
    assert time.monotonic() - started >= 0.3  # a lower bound only: sleeping never ends early


def test_jitter_stays_within_its_bounds_and_repeats_under_a_seed(owner):
    profile = faults.profile_update(
        owner=owner, changes={"latency_ms": 100, "jitter_ms": 50, "seed": 5}
    )
    delays = [faults.plan(profile, owner=owner, method="GET").delay for _ in range(20)]
    assert all(0.1 <= delay <= 0.15 for delay in delays) and len(set(delays)) > 1
    faults.profile_update(owner=owner, changes={"seed": 5})
    assert [faults.plan(profile, owner=owner, method="GET").delay for _ in range(20)] == delays


def test_forced_expiry_makes_the_client_refresh(client, token_pair, owner):
    pair = token_pair()
    set_faults(owner, expire_next_tokens=1)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {pair['access_token']}"}
    expired = client.get(f"{API}/auth/owner", **headers)
    assert expired.status_code == 401
    assert expired.json()["meta"] == {
        "error_type": "access_denied",
        "hint": "Access token is expired",
    }
    assert client.get(f"{API}/auth/owner", **headers).status_code == 401  # it stays expired
    refreshed = client.post(
        TOKENS,
        {
            "grant_type": "refresh_token",
            "refresh_token": pair["refresh_token"],
            "client_id": "app",
            "client_secret": SECRET,
        },
    ).json()
    fresh = {"HTTP_AUTHORIZATION": f"Bearer {refreshed['access_token']}"}
    assert client.get(f"{API}/auth/owner", **fresh).status_code == 200


def test_expiring_every_token_now(client, token_pair, owner):
    tokens = [token_pair()["access_token"] for _ in range(2)]
    printed = set_faults(owner, expire_tokens_now=True)
    assert "2 access tokens" in printed
    for token in tokens:
        response = client.get(f"{API}/auth/owner", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.json()["meta"]["hint"] == "Access token is expired"


def test_a_short_token_lifetime_shows_in_expires_in(token_pair, owner):
    set_faults(owner, token_lifetime=60)
    assert token_pair()["expires_in"] == 60


def test_the_rate_limit_budget_changes_at_run_time(call, owner):
    set_faults(rate_limit=2, rate_limit_period=60)
    responses = [call("GET", "/auth/owner") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert responses[0]["X-Rate-Limit-Limit"] == "2"
    assert 0 < int(responses[2]["X-Rate-Limit-Reset"]) <= 60
    assert responses[2].json() == {"code": 429, "message": "Too many requests"}
    set_faults(rate_limit=50)
    assert call("GET", "/auth/owner")["X-Rate-Limit-Limit"] == "50"


def test_a_plan_limit_on_invoices_is_a_402(call, owner):
    set_faults(owner, invoice_limit=owner.invoices.count())
    response = call("POST", "/receivables/invoices", new_invoice(owner))
    assert response.status_code == 402
    assert response.json() == {
        "code": 4001,
        "message": "The invoice limit of your plan is reached",
        "meta": {"feature": "invoices", "limit": owner.invoices.count()},
    }


def test_a_missing_feature_is_a_403_with_the_plans_that_have_it(call, owner):
    set_faults(owner, missing_features="send_by_post")
    invoice = owner.invoices.filter(status="DR").first()
    body = {"palette": "C", "print": "S", "speed": "E"}
    response = call("PATCH", f"/receivables/invoices/{invoice.pk}/send-by-post", body)
    assert response.status_code == 403
    assert response.json()["meta"] == {
        "feature": "send_by_post",
        "plans": ["business", "enterprise"],
    }


def test_the_command_prints_and_resets_the_profile(owner):
    shown = json.loads(set_faults(owner, p500=0.25, seed=9))
    assert (shown["p500"], shown["seed"], shown["scope"]) == (0.25, 9, f"owner {owner.pk}")
    after_reset = json.loads(set_faults(owner, reset=True))
    assert after_reset["scope"] == "global" and after_reset["p500"] == 0


def test_the_command_refuses_what_is_not_a_fault(owner):
    with pytest.raises(CommandError):
        set_faults(owner, lost_mode="drop")
    with pytest.raises(CommandError):
        call_command("sandbox_faults", owner="nobody@example.com")


def test_the_owner_sets_faults_on_the_faults_page(browser_of, owner):
    page = browser_of.get("/sandbox/faults/")
    assert page.status_code == 200 and b"the global settings apply" in page.content
    form = {name: "" for name in faults.EDITABLE}
    form.update(
        action="save",
        latency_ms=0,
        jitter_ms=0,
        p429=0,
        p500=0.5,
        p503=0,
        p_lost=0,
        lost_mode="hold",
        lost_hold_seconds=40,
        expire_next_tokens=0,
        seed=11,
        token_error_style="wrapped",
    )  # revoke_access_on_refresh left out: an unticked checkbox
    assert browser_of.post("/sandbox/faults/", form).status_code == 302
    saved = FaultProfile.objects.get(owner=owner)
    assert (saved.p500, saved.lost_mode, saved.seed, saved.rate_limit) == (0.5, "hold", 11, None)
    assert (saved.token_error_style, saved.revoke_access_on_refresh) == ("wrapped", False)
    assert not FaultProfile.objects.filter(is_global=True).exists()
    browser_of.post("/sandbox/faults/", {"action": "reset"})
    assert not FaultProfile.objects.filter(owner=owner).exists()


def test_the_faults_page_offers_the_token_endpoint_settings(browser_of, owner):
    page = browser_of.get("/sandbox/faults/").content.decode()
    assert 'name="token_error_style"' in page and '<option value="league" selected>' in page
    checkbox = re.search(r'<input type="checkbox" name="revoke_access_on_refresh"[^>]*>', page)
    assert checkbox and "checked" in checkbox.group(0)


def test_the_faults_page_refuses_a_probability_above_one(browser_of, owner):
    form = {name: "" for name in faults.EDITABLE}
    form.update(
        action="save",
        latency_ms=0,
        jitter_ms=0,
        p429=2,
        p500=0,
        p503=0,
        p_lost=0,
        lost_mode="504",
        lost_hold_seconds=1,
        expire_next_tokens=0,
    )
    page = browser_of.post("/sandbox/faults/", form)
    assert page.status_code == 200 and not FaultProfile.objects.exists()


def test_authorization_code_redirect_still_works_under_faults(obtain_code, client, owner):
    # Faults hit the resource API, not the consent page or the token endpoint.
    set_faults(p500=1, p503=0)
    code = obtain_code()
    response = client.post(
        TOKENS,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": "app",
            "client_secret": SECRET,
        },
    )
    assert response.status_code == 201
