"""Tenant isolation and CSRF over every URL the project serves.

The URL patterns are discovered from the resolver (nested includes walked), so a page
added later is covered without editing this file — unless its URL has an argument the
test cannot fill: then the test for that URL fails and says what to add to the mapping
below. For each URL, with objects owned by `partner`:

- as `outsider` (signed in), GET and POST answer 404 — or 405 when the view refuses the
  method whatever the object — exactly as for objects that do not exist, and nothing of
  the partner's changes;
- as `partner`, the URL with the filled arguments is found (not 404: the filling is right);
- a POST without a CSRF token, signed in as the owner of the objects, is refused (403);
- an anonymous visitor is sent to the login page (or sees a public page).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from partnerapp.api.keys import api_key_create
from partnerapp.api.models import ApiKey
from partnerapp.connections.links import link_create
from partnerapp.connections.models import Connection, ConnectLink, RequestLogEntry
from partnerapp.jobs.models import BatchJob, Schedule
from partnerapp.organizations.current import personal_organization
from partnerapp.organizations.models import Invitation, Membership, Organization
from partnerapp.organizations.services import invitation_create
from partnerapp.receivables.models import BankTransaction, BankUpload
from partnerapp.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from tests.factories import UserFactory
from tests.jobs.factories import ConnectionFactory, JobFactory, JobItemFactory

# Whole URL trees left out, and why.
SKIPPED_PREFIXES = {
    "admin/": "Django admin: staff only, Django's own permission checks",
    "accounts/": "django-allauth: sign up / log in / password pages, tested by allauth",
    "i18n/": "Django's set_language: no objects, session-only",
    "sandbox/": "the embedded fake provider: its own owner login, tested in tests/sandbox",
    "health/": "the health probe: public on purpose, no objects",
    "metrics": "Prometheus metrics: bearer-protected, tested in tests/health",
    "favicon.ico": "a redirect to the static favicon: public, no objects (test_formats.py)",
    "api/v1/": "the partner API: key-authenticated, tested in tests/api",
}
# Pages an anonymous visitor may see (everything else redirects to the login page).
PUBLIC = {
    "dashboard:overview",  # the landing page for visitors
    "organizations:invitation",  # what the invitation offers; accepting needs an account
    "connect:link",  # a client's connect link: what the firm asks for, no login
    "connect:granted",  # what the client granted through it, and how to revoke it
}

# How to fill a URL argument. First by the argument's name …
KWARG_VALUES = {
    "command": lambda objects: "pause",
    "connection_pk": lambda objects: objects.connection.pk,
    "job_pk": lambda objects: objects.job.pk,
    "item_pk": lambda objects: objects.item.pk,
    "schedule_pk": lambda objects: objects.schedule.pk,
    "entry_pk": lambda objects: objects.entry.pk,
    "run_pk": lambda objects: objects.run.pk,
    "transaction_pk": lambda objects: objects.transaction.pk,
    # A provider's id: the connection (first argument) is what must be the partner's.
    "invoice_id": lambda objects: 1,
    "token": lambda objects: objects.invitation_token,
    "link_token": lambda objects: objects.link_token,
    "delivery_pk": lambda objects: objects.delivery.pk,
}
# … then a `pk` / `id` by the literal path segment in front of it ("jobs/<int:pk>/").
SEGMENT_OBJECTS = {
    "connections": lambda objects: objects.connection.pk,
    "jobs": lambda objects: objects.job.pk,
    "items": lambda objects: objects.item.pk,
    "schedules": lambda objects: objects.schedule.pk,
    "requests": lambda objects: objects.entry.pk,
    "runs": lambda objects: objects.run.pk,
    "bank-files": lambda objects: objects.upload.pk,
    "members": lambda objects: objects.member.pk,
    "invitations": lambda objects: objects.invitation.pk,
    "links": lambda objects: objects.link.pk,
    "webhooks": lambda objects: objects.endpoint.pk,
    "api-keys": lambda objects: objects.api_key.pk,
}
MISSING_ID = 987_654_321  # an id no object has


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name", or the route itself when unnamed
    route: str  # the full route, e.g. "jobs/<int:pk>/<slug:command>/"
    kwargs: tuple[str, ...]

    def __str__(self) -> str:
        return self.name


def discover(resolver=None, prefix: str = "", namespace: str = "") -> list[Route]:
    """Every URL pattern of the project, includes walked, as full routes."""
    routes = []
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + _route_text(entry)
        if isinstance(entry, URLResolver):
            inner = ":".join(filter(None, [namespace, entry.namespace]))
            routes += discover(entry, route, inner)
        elif isinstance(entry, URLPattern):
            name = ":".join(filter(None, [namespace, entry.name])) if entry.name else route
            routes.append(Route(name, route, tuple(re.findall(r"<(?:\w+:)?(\w+)>", route))))
    return routes


def _route_text(entry) -> str:
    pattern = entry.pattern
    if hasattr(pattern, "_route"):
        return str(pattern._route)
    return str(pattern.regex.pattern)  # a re_path: left as is; fill() refuses it


def skip_reason(route: Route) -> str | None:
    for prefix, reason in SKIPPED_PREFIXES.items():
        if route.route.startswith(prefix):
            return reason
    return None


ROUTES = [route for route in discover() if not skip_reason(route)]


@dataclass
class Objects:
    """One of each kind of object a URL can name, all owned by the partner."""

    connection: Connection
    job: BatchJob
    item: object
    schedule: Schedule
    entry: RequestLogEntry
    run: object
    upload: BankUpload
    transaction: BankTransaction
    member: Membership  # a colleague of the user's in the organization
    invitation: Invitation
    invitation_token: str
    link: ConnectLink
    link_token: str
    endpoint: WebhookEndpoint | None = None
    delivery: WebhookDelivery | None = None
    api_key: ApiKey | None = None


def objects_of(user, marker: str, organization: Organization | None = None) -> Objects:
    """One object of each kind in `organization` (default: the user's personal one), the
    user its owner; every text field carries `marker`."""
    organization = organization or personal_organization(user)
    owner = Membership.objects.get(organization=organization, user=user)
    connection = ConnectionFactory(
        user=user, organization=organization, owner_name=f"{marker} Treuhand AG"
    )
    job = JobFactory(
        connection=connection,
        parameters={"subject": f"{marker} subject {{INVOICENO}}", "body": f"{marker} body"},
    )
    item = JobItemFactory(
        job=job,
        document_number=f"RE-{marker}-1",
        recipient_email=f"{marker.lower()}@example.com",
        recipient_name=f"{marker} Customer",
        request_id=f"{marker.lower()}-request-id",
        outcome=f"{marker} outcome",
    )
    schedule = Schedule.objects.create(
        user=user,
        connection=connection,
        name=f"{marker} reminders",
        action="invoice.send_by_email",
        cron="0 8 * * 1-5",
        selection={"filter": {"status": "DR"}},
        parameters={"subject": f"{marker} subject", "body": "Hello"},
    )
    run = schedule.runs.create(slot_at=schedule.created_at)
    entry = RequestLogEntry.objects.create(
        connection=connection,
        method="GET",
        path=f"/receivables/invoices?q={marker}",
        status=200,
        duration_ms=12,
        request_id=f"{marker.lower()}-log-request-id",
        job_id=job.pk,
    )
    upload = BankUpload.objects.create(
        user=user,
        connection=connection,
        filename=f"{marker}-camt054.xml",
        sha256="0" * 64,
        format="camt.054",
        state=BankUpload.State.READY,
    )
    transaction = BankTransaction.objects.create(
        base_url=connection.base_url,
        account_id=connection.account_id,
        key=f"acctsvcrref:{marker}",
        amount="100.00",
        currency="CHF",
        payer=f"{marker} Payer AG",
        text=f"{marker} invoice RE-1",
        match_status="matched",
        classification="full",
        candidates=[{"id": 1, "number": f"RE-{marker}-1", "total": "100", "currency": "CHF"}],
        amount_to_record="100.00",
    )
    upload.transactions.add(transaction)
    colleague = UserFactory(email=f"{marker.lower()}-colleague@example.com")
    member = Membership.objects.create(organization=organization, user=colleague, role="viewer")
    invitation, token = invitation_create(
        actor=owner, email=f"{marker.lower()}-invited@example.com", role="operator"
    )
    link, link_token = link_create(
        user=user,
        organization_id=organization.pk,
        client_name=f"{marker} Client GmbH",
        client_email=f"{marker.lower()}-client@example.com",
        scopes=["profile", "invoice"],
        language="de",
    )
    api_key, _raw_key = api_key_create(membership=owner, name=f"{marker} ERP", scope="write")
    endpoint = WebhookEndpoint.objects.create(
        organization=organization,
        url=f"https://{marker.lower()}.example.com/hooks",
        events=["job.finished"],
        description=f"{marker} webhook",
    )
    event = WebhookEvent.objects.create(organization=organization, type="job.finished")
    delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint, state="failed")
    return Objects(
        connection,
        job,
        item,
        schedule,
        entry,
        run,
        upload,
        transaction,
        member,
        invitation,
        token,
        link,
        link_token,
        endpoint=endpoint,
        delivery=delivery,
        api_key=api_key,
    )


PARTNER_MARKER, OUTSIDER_MARKER = "Zephyrine", "Outlander"


@pytest.fixture
def objects(partner) -> Objects:
    return objects_of(partner, PARTNER_MARKER)


def fill(route: Route, objects: Objects | None) -> str:
    """The route with every argument filled (from `objects`, or with ids that do not exist)."""
    if not route.route.isascii() or "^" in route.route or "(?P<" in route.route:
        pytest.fail(f"{route}: a regex route ({route.route!r}); teach fill() to handle it")
    text = route.route

    def value(match: re.Match) -> str:
        kwarg = match.group(1)
        before = text[: match.start()].rstrip("/").rsplit("/", 1)[-1]
        if kwarg in KWARG_VALUES:
            getter = KWARG_VALUES[kwarg]
        elif kwarg in ("pk", "id") and before in SEGMENT_OBJECTS:
            getter = SEGMENT_OBJECTS[before]
        else:
            pytest.fail(
                f"{route} ({route.route}): cannot fill the argument {kwarg!r}. Add it to "
                "KWARG_VALUES (by name) or its path segment to SEGMENT_OBJECTS in "
                f"{__file__}, so the new page is checked for tenant isolation and CSRF."
            )
        if objects is None and kwarg != "command":
            return str(MISSING_ID)
        return str(getter(objects))

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", value, text)


def test_the_walk_finds_the_dashboard_and_connection_pages():
    names = {route.name for route in ROUTES}
    assert {"dashboard:overview", "dashboard:job", "connections:reconnect"} <= names
    assert not any(route.route.startswith("sandbox/") for route in ROUTES)


def test_a_new_url_with_an_argument_nobody_fills_fails_loudly():
    widget = Route("dashboard:widget", "widgets/<int:pk>/parts/<int:part_pk>/", ("pk", "part_pk"))
    with pytest.raises(pytest.fail.Exception, match="cannot fill the argument 'pk'"):
        fill(widget, None)
    job_part = Route("dashboard:job_part", "jobs/<int:pk>/parts/<int:part_pk>/", ("pk", "part_pk"))
    with pytest.raises(pytest.fail.Exception, match="cannot fill the argument 'part_pk'"):
        fill(job_part, None)


# Pages opened by a secret in the URL, not by membership: whoever holds the link sees it.
TOKEN_PAGES = {"organizations:invitation", "connect:link", "connect:granted"}


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if r.kwargs and r.name not in TOKEN_PAGES], ids=str
)
def test_an_outsider_gets_404_for_the_partners_objects(route, objects, partner, outsider):
    url, missing_url = fill(route, objects), fill(route, None)
    as_outsider = Client()
    as_outsider.force_login(outsider)
    before = _snapshot(objects)

    for method in ("get", "post"):
        response = getattr(as_outsider, method)(url)
        missing = getattr(as_outsider, method)(missing_url)
        assert response.status_code in (404, 405), f"{method.upper()} {url}: {response}"
        assert response.status_code == missing.status_code, (
            f"{method.upper()} {url} answers {response.status_code} for the partner's object "
            f"but {missing.status_code} for a missing one: it tells them apart"
        )
    assert _snapshot(objects) == before, f"the outsider's requests to {url} changed something"

    as_partner = Client()
    as_partner.force_login(partner)
    answers = {method: getattr(as_partner, method)(url).status_code for method in ("get", "post")}
    assert any(status not in (404, 405) for status in answers.values()), (
        f"{url}: the partner's own object is not found ({answers}); is the filling right?"
    )


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_an_outsider_sees_no_trace_of_the_partner_on_any_page(route, objects, outsider):
    """Lists and pages of the outsider's own objects show nothing of the partner's, even
    when the query string names the partner's objects."""
    own = objects_of(outsider, OUTSIDER_MARKER)
    client = Client()
    client.force_login(outsider)
    url = fill(route, own)
    names_partners = (
        f"?connection={objects.connection.pk}&job={objects.job.pk}"
        f"&schedule={objects.schedule.pk}&q={PARTNER_MARKER}"
    )
    for address in (url, url + names_partners):
        response = client.get(address)
        if response.status_code != 200:
            continue  # a redirect, a POST-only view, or a refusal of the query: no page
        body = (b"".join(response) if response.streaming else response.content).decode()
        shown = [text for text in _traces(PARTNER_MARKER) if text.lower() in body.lower()]
        assert not shown, f"GET {address} as the outsider shows the partner's {shown}"


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_a_post_without_a_csrf_token_is_refused(route, objects, partner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(partner)
    url = fill(route, objects)
    before = _snapshot(objects)
    response = client.post(url, {"scopes": ["invoice"], "confirm": "yes"})
    assert response.status_code == 403, f"POST {url} without a CSRF token: {response}"
    assert _snapshot(objects) == before


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_an_anonymous_visitor_is_sent_to_the_login_page(route, objects, client):
    url = fill(route, objects)
    response = client.get(url)
    if route.name in PUBLIC:
        assert response.status_code == 200
        return
    assert response.status_code in (302, 405), f"GET {url} as a visitor: {response}"
    if response.status_code == 302:
        assert response["Location"].startswith("/accounts/login/"), response["Location"]
    response = client.post(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def _traces(marker: str) -> list[str]:
    """Texts only the marked user's objects hold (the bare marker may be echoed from `q`)."""
    return [
        f"{marker} Treuhand AG",
        f"{marker} subject",
        f"RE-{marker}-1",
        f"{marker.lower()}@example.com",
        f"{marker} Customer",
        f"{marker.lower()}-request-id",
        f"{marker} outcome",
        f"{marker} reminders",
        f"{marker.lower()}-log-request-id",
        f"{marker.lower()}-colleague@example.com",
        f"{marker.lower()}-invited@example.com",
        f"{marker} Client GmbH",
        f"{marker.lower()}-client@example.com",
        f"{marker.lower()}.example.com/hooks",
        f"{marker} webhook",
    ]


def _snapshot(objects: Objects) -> dict:
    """What an outsider's request must not change."""
    connection = Connection.objects.filter(pk=objects.connection.pk).values().first()
    job = BatchJob.objects.filter(pk=objects.job.pk).values().first()
    return {
        "connection": connection,
        "job": job,
        "items": list(objects.job.items.values()),
        "schedule": Schedule.objects.filter(pk=objects.schedule.pk).values().first(),
        "runs": list(objects.schedule.runs.values()),
        "entries": list(RequestLogEntry.objects.values()),
        "members": list(
            Membership.objects.filter(organization=objects.connection.organization).values()
        ),
        "invitations": list(Invitation.objects.values()),
        "connect_links": list(ConnectLink.objects.values()),
        "webhook_endpoints": list(WebhookEndpoint.objects.values()),
        "webhook_deliveries": list(WebhookDelivery.objects.values()),
        "api_keys": list(ApiKey.objects.values()),
        "organizations": list(Organization.objects.values()),
    }
