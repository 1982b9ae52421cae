"""The invoices browser (paging, sort, filters, selection) and the job wizard, against the
sandbox over real HTTP."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from partnerapp.jobs.actions import ACTIONS
from partnerapp.jobs.models import BatchJob
from partnerapp.jobs.operations import operation_choices
from tests.journeys import csrf_token

EMAIL = {"subject": "Rechnung {INVOICENO}", "body": "{SALUTATION}\nBetrag {INVOICEAMOUNT}"}
EVERY_DOCUMENT = ("profile", "contact", "invoice", "offer", "delivery_note", "order_confirmation")
EVERY_DOCUMENT += ("letter",)


def numbers(html: str) -> list[str]:
    return re.findall(r'data-testid="invoice-number">([^<]+)<', html)


def visible(owner):
    """The invoices the provider lists (deleted ones never appear)."""
    return owner.invoices.exclude(status="D")


@pytest.fixture
def scopes():
    """What the owner grants; a test parametrizes `scopes` to grant something else."""
    return ("profile", "invoice", "contact")


@pytest.fixture
def browse(client, connect, partner, scopes):
    connection = connect(scopes=scopes)
    client.force_login(partner)
    url = reverse("dashboard:invoices", args=[connection.pk])

    def _browse(**params):
        return client.get(url, params)

    _browse.connection = connection
    return _browse


@pytest.fixture
def wizard(client, browse):
    url = reverse("dashboard:job_new", args=[browse.connection.pk])

    def _post(**data):
        return client.post(url, {"selection": "filter", "recipients": "contact", **data})

    _post.url = url
    _post.connection = browse.connection
    return _post


# -- the invoices browser ---------------------------------------------------------------------


def test_the_browser_sorts_by_total_through_the_provider(browse, sandbox):
    page = browse(status="DR", sort="total")
    drafts = visible(sandbox.owner).filter(status="DR").order_by("total", "pk")
    assert page.status_code == 200
    assert numbers(page.content.decode()) == [i.number for i in drafts[:25]]
    descending = browse(status="DR", sort="-total").content.decode()
    assert numbers(descending) == [i.number for i in drafts.reverse()[:25]]


@pytest.mark.parametrize("sort", ["number", "-date", "due", "-status"])
def test_every_sort_reaches_the_provider(browse, sandbox, sort):
    html = browse(sort=sort, per_page=50).content.decode()
    expected = visible(sandbox.owner).order_by(sort, "pk")
    assert numbers(html) == [i.number for i in expected[:50]]


def test_the_browser_pages_with_the_chosen_page_size(browse, sandbox):
    everything = visible(sandbox.owner).order_by("-number", "pk")
    total = everything.count()
    assert total > 25
    second = browse(per_page=25, page=2).content.decode()
    assert numbers(second) == [i.number for i in everything[25:50]]
    assert f"{total} invoices · page 2 of 2" in second


def test_search_and_date_range_reach_the_provider(browse, sandbox):
    invoices = visible(sandbox.owner).order_by("date", "pk")
    start, end = invoices[5].date, invoices[20].date
    expected = invoices.filter(date__gte=start, date__lte=end)
    html = browse(date_from=start.isoformat(), date_to=end.isoformat(), sort="date", per_page=200)
    assert numbers(html.content.decode()) == [i.number for i in expected]
    one = invoices[3]
    found = numbers(browse(q=one.number).content.decode())
    assert found == [one.number]


@pytest.mark.parametrize(
    "params, message",
    [
        ({"date_from": "31.02.2026"}, "Enter a valid date"),
        ({"date_from": "2026-05-02", "date_to": "2026-05-01"}, "end date lies before"),
        ({"sort": "price"}, "Select a valid choice"),
        ({"per_page": "7"}, "Select a valid choice"),
        ({"page": "0"}, "greater than or equal to 1"),
        ({"status": "XX"}, "Select a valid choice"),
    ],
)
def test_bad_browser_input_is_a_clear_400(browse, params, message):
    page = browse(**params)
    html = page.content.decode()
    assert page.status_code == 400 and message in html
    assert 'data-testid="filter-errors"' in html
    assert not browse.connection.calls.exists(), "nothing is asked of the provider"


def test_ticked_invoices_are_kept_across_pages(browse, sandbox):
    first = numbers(browse().content.decode())
    ids = list(visible(sandbox.owner).order_by("-number", "pk").values_list("pk", flat=True))
    html = browse(page=2, ids=[ids[0], ids[1], ids[30]]).content.decode()
    assert first and f'name="ids" value="{ids[30]}" id="invoice-{ids[30]}"' in html
    assert re.search(rf'value="{ids[30]}" id="invoice-{ids[30]}"[^>]*checked', html)
    for kept in ids[:2]:
        assert f'<input type="hidden" name="ids" value="{kept}">' in html
    assert "2 ticked invoices from other pages are kept" in html


def test_the_bulk_buttons_open_the_wizard_with_the_selection(browse, client, sandbox):
    html = browse(status="DR").content.decode()
    form = re.search(r'<form method="post" action="([^"]+)" id="selection-form"', html)
    assert form and form.group(1) == reverse("dashboard:job_new", args=[browse.connection.pk])
    assert 'name="action" value="invoice.send_by_email"' in html
    assert 'name="all_matching"' in html and 'data-select-all="ids"' in html
    drafts = sandbox.drafts_with_email(2)
    data = {"ids": drafts, "action": "invoice.send_by_email", "from_browser": "1"}
    page = client.post(form.group(1), data)
    wizard_html = page.content.decode()
    assert page.status_code == 200 and "2 documents ticked." in wizard_html
    assert all(f'name="ids" value="{i}"' in wizard_html for i in drafts)
    assert re.search(r'value="ids"[^>]*checked', wizard_html)
    assert not BatchJob.objects.exists(), "opening the wizard creates nothing"


def test_hundreds_of_ticked_invoices_travel_by_post(browse, client, sandbox):
    ids = list(range(1_000_000, 1_000_600))  # more than fits in a URL
    url = reverse("dashboard:invoices", args=[browse.connection.pk])
    html = client.post(url, {"ids": ids, "page": "2", "per_page": "25"}).content.decode()
    assert "600 ticked invoices from other pages are kept" in html
    assert html.count('type="hidden" name="ids"') == 600
    wizard = client.post(
        reverse("dashboard:job_new", args=[browse.connection.pk]),
        {"ids": ids, "from_browser": "1", "action": "invoice.send_by_email"},
    )
    assert "600 documents ticked." in wizard.content.decode()


# -- the wizard ----------------------------------------------------------------------------------


def test_select_all_matching_creates_a_job_whose_selection_is_the_filter(client, wizard, partner):
    query = {"status": "DR", "date_from": "2026-01-01", "q": "RE", "all_matching": "1", "ids": "5"}
    page = client.get(wizard.url, {**query, "action": "invoice.send_by_email"})
    html = page.content.decode()
    assert re.search(r'value="filter"[^>]*checked', html)
    assert 'value="2026-01-01"' in html and 'value="RE"' in html
    response = wizard(
        action="invoice.send_by_email", status="DR", date_from="2026-01-01", q="RE", **EMAIL
    )
    assert response.status_code == 302
    job = BatchJob.objects.get()
    assert job.selection == {"filter": {"status": "DR", "date_from": "2026-01-01", "q": "RE"}}
    assert response["Location"] == reverse("dashboard:job", args=[job.pk])
    assert job.status == BatchJob.Status.DRAFT and not job.auto_start


@pytest.mark.parametrize("scopes", [EVERY_DOCUMENT])
def test_the_wizard_creates_every_action_with_its_parameters(wizard, sandbox):
    ids = sandbox.drafts_with_email(2)
    expected = {
        "send_by_email": {
            **{key: value for key, value in EMAIL.items()},
            "sender": "CE",
            "receipt": False,
            "resend": True,
        },
        "send_by_post": {"color": True, "duplex": False, "priority": True, "resend": False},
        "change_status": {"status": "P"},
    }
    form = {
        **EMAIL,
        "sender": "CE",
        "resend": "on",
        "color": "on",
        "priority": "on",
        "new_status": "P",
    }
    for key, spec in ACTIONS.items():
        data = dict(form)
        if spec.operation == "send_by_post":
            data.pop("resend")
        if spec.document == "invoice":
            response = wizard(action=key, selection="ids", ids=ids, **data)
        else:
            response = wizard(action=key, selection="filter", status="DR", **data)
        assert response.status_code == 302, (key, response.content.decode()[:2000])
        job = BatchJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
        selection = {"ids": ids} if spec.document == "invoice" else {"filter": {"status": "DR"}}
        assert job.action == key and job.selection == selection
        assert job.parameters == expected[spec.operation], key
    assert BatchJob.objects.count() == 15


def test_override_recipients_are_validated_and_stored_as_a_list(wizard):
    bad = wizard(
        action="invoice.send_by_email",
        recipients="override",
        recipient_override="a@example.com, not-an-address",
        **EMAIL,
    )
    assert bad.status_code == 400 and "Not an email address: not-an-address" in bad.content.decode()
    assert 'value="a@example.com, not-an-address"' in bad.content.decode()
    good = wizard(
        action="invoice.send_by_email",
        recipients="override",
        recipient_override="a@example.com; b@example.org",
        **EMAIL,
    )
    assert good.status_code == 302
    job = BatchJob.objects.get()
    assert job.parameters["recipient_override"] == ["a@example.com", "b@example.org"]


def test_the_live_rendering_expands_placeholders_for_a_real_invoice(client, wizard, sandbox):
    invoice = sandbox.owner.invoices.get(pk=sandbox.drafts_with_email(1)[0])
    url = reverse("dashboard:job_new_render", args=[wizard.connection.pk])
    data = {"action": "invoice.send_by_email", "selection": "ids", "ids": [invoice.pk], **EMAIL}
    page = client.post(url, data, headers={"HX-Request": "true"})
    html = unescape(page.content.decode())
    assert page.status_code == 200
    assert f'data-testid="rendered-subject">Rechnung {invoice.number}<' in html
    amount = f"{invoice.currency} {invoice.total:,.2f}".replace(",", "'")
    assert f"Betrag {amount}" in html
    assert invoice.contact.email in html and "<html" not in html


def test_the_live_rendering_follows_the_filter(client, wizard, sandbox):
    first_draft = visible(sandbox.owner).filter(status="DR").order_by("number").first()
    url = reverse("dashboard:job_new_render", args=[wizard.connection.pk])
    data = {"action": "invoice.send_by_email", "selection": "filter", "status": "DR", **EMAIL}
    html = client.post(url, data).content.decode()
    assert f"Rechnung {first_draft.number}" in html


def test_the_render_button_works_without_javascript(client, wizard, sandbox):
    invoice_id = sandbox.drafts_with_email(1)[0]
    number = sandbox.owner.invoices.get(pk=invoice_id).number
    page = wizard(
        action="invoice.send_by_email", selection="ids", ids=[invoice_id], render="1", **EMAIL
    )
    html = page.content.decode()
    assert page.status_code == 200 and f"Rechnung {number}" in html
    assert not BatchJob.objects.exists()


def test_an_unknown_placeholder_is_a_clear_error_and_keeps_the_input(client, wizard, sandbox):
    body = "Hallo {CLIENTNAME}, Ihre Rechnung {INVOICENR}"
    page = wizard(action="invoice.send_by_email", subject="Typed subject", body=body)
    html = page.content.decode()
    assert page.status_code == 400 and "Unknown placeholder {INVOICENR}" in html
    assert "Typed subject" in html and "Ihre Rechnung {INVOICENR}" in html
    assert not BatchJob.objects.exists()
    url = reverse("dashboard:job_new_render", args=[wizard.connection.pk])
    live = client.post(url, {"action": "invoice.send_by_email", "subject": "x", "body": body})
    assert "Unknown placeholder: {INVOICENR}" in live.content.decode()


@pytest.mark.parametrize(
    "data, message",
    [
        ({"action": "invoice.change_status"}, "Choose the status to change to"),
        ({"action": "offer.send_by_email", "receipt": "on", **EMAIL}, "Only invoices"),
        ({"action": "invoice.send_by_email", "subject": "", "body": "x"}, "This field is required"),
        ({"action": "invoice.send_by_email", "selection": "ids", **EMAIL}, "No documents are"),
        ({"action": "invoice.send_by_email", "date_from": "2026-13-01", **EMAIL}, "valid date"),
        ({"action": "nothing", **EMAIL}, "Select a valid choice"),
        ({"action": "offer.send_by_post", "selection": "ids", "ids": "7"}, "choose an invoice"),
    ],
)
@pytest.mark.parametrize("scopes", [EVERY_DOCUMENT])
def test_wizard_errors_are_clear_and_create_nothing(wizard, data, message):
    page = wizard(**data)
    assert page.status_code == 400 and message in page.content.decode()
    assert not BatchJob.objects.exists()


def option(html: str, action: str) -> str:
    found = re.search(rf'<option value="{re.escape(action)}"[^>]*>', html)
    assert found, action
    return found.group(0)


def missing(scope: str) -> str:
    return f"This connection lacks the scope {scope} — reconnect and grant it."


def test_actions_whose_scope_the_connection_lacks_are_disabled_with_the_reason(client, wizard):
    html = unescape(client.get(wizard.url).content.decode())
    for key, spec in ACTIONS.items():
        granted = spec.document == "invoice"
        assert ("disabled" in option(html, key)) is not granted, key
    for scope in ("offer", "delivery_note", "order_confirmation", "letter"):
        actions = sum(key.startswith(f"{scope}.") for key, _label in operation_choices())
        assert html.count(missing(scope)) == 1 + actions, "once on the page, once per action"
    assert missing("invoice") not in html
    assert html.count('data-testid="missing-scope"') == 4


@pytest.mark.parametrize("scopes", [("profile", "contact", "offer")])
def test_an_action_is_enabled_once_its_scope_is_granted(client, wizard):
    html = unescape(client.get(wizard.url).content.decode())
    assert "disabled" not in option(html, "offer.send_by_email")
    assert "disabled" in option(html, "invoice.send_by_email")
    assert html.count('data-testid="missing-scope"') == 4 and missing("offer") not in html


@pytest.mark.parametrize(
    "data",
    [
        {"action": "offer.send_by_email", **EMAIL},
        {"action": "letter.send_by_post"},
        {"action": "delivery_note.change_status", "new_status": "S"},
    ],
)
def test_a_posted_action_without_its_scope_is_refused(wizard, data):
    page = wizard(status="DR", **data)
    scope = data["action"].split(".")[0]
    assert page.status_code == 400 and missing(scope) in unescape(page.content.decode())
    assert not BatchJob.objects.exists()


@pytest.mark.parametrize("scopes", [("profile", "contact")])
def test_an_action_without_its_scope_is_not_preselected(client, wizard):
    html = client.get(wizard.url, {"action": "invoice.send_by_email"}).content.decode()
    assert "selected" not in option(html, "invoice.send_by_email")
    assert "disabled" in option(html, "invoice.send_by_email")


def test_the_live_rendering_asks_nothing_without_the_scope(client, wizard):
    url = reverse("dashboard:job_new_render", args=[wizard.connection.pk])
    calls = wizard.connection.calls.count()
    html = client.post(url, {"action": "offer.send_by_email", **EMAIL}).content.decode()
    assert missing("offer") in unescape(html)
    assert wizard.connection.calls.count() == calls, "nothing is asked of the provider"


def test_an_outsider_gets_404_on_someone_elses_wizard(client, browse, outsider, sandbox):
    client.force_login(outsider)
    pk = browse.connection.pk
    assert client.get(reverse("dashboard:job_new", args=[pk])).status_code == 404
    post = client.post(reverse("dashboard:job_new", args=[pk]), {"action": "x", **EMAIL})
    render = client.post(reverse("dashboard:job_new_render", args=[pk]), EMAIL)
    assert post.status_code == 404 and render.status_code == 404
    assert not BatchJob.objects.exists()


def test_posting_without_the_csrf_token_is_refused(browse, partner):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(partner)
    url = reverse("dashboard:job_new", args=[browse.connection.pk])
    data = {"action": "invoice.send_by_email", "selection": "filter", "recipients": "contact"}
    assert strict.post(url, {**data, **EMAIL}).status_code == 403
    render_url = reverse("dashboard:job_new_render", args=[browse.connection.pk])
    assert strict.post(render_url, EMAIL).status_code == 403
    token = csrf_token(strict.get(url).content.decode())
    accepted = strict.post(url, {**data, **EMAIL, "csrfmiddlewaretoken": token})
    assert accepted.status_code == 302 and BatchJob.objects.count() == 1


def test_a_date_range_in_the_wizard_becomes_the_provider_filter(wizard, sandbox):
    today = sandbox.owner.invoices.order_by("-date").first().date
    start = (today - timedelta(days=30)).isoformat()
    response = wizard(action="invoice.change_status", new_status="S", date_from=start, status="DR")
    assert response.status_code == 302
    job = BatchJob.objects.get()
    assert job.selection == {"filter": {"status": "DR", "date_from": start}}
    assert job.parameters == {"status": "S"}


# -- a reminder run: days per level, each level's text per language ----------------------------


def created(response) -> BatchJob:
    assert response.status_code == 302, response.content.decode()[:2000]
    return BatchJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def test_a_reminder_run_from_ticked_invoices_keeps_the_shipped_texts(wizard, sandbox):
    ids = sandbox.drafts_with_email(2)
    job = created(wizard(action="invoice.send_reminders", selection="ids", ids=ids))
    assert job.action == "invoice.send_reminders" and job.selection == {"ids": ids}
    assert job.parameters["days"] == {"R1": 10, "R2": 10, "R3": 10}
    texts = job.parameters["texts"]
    assert texts["R1"]["fr"]["subject"] == "Rappel de paiement : facture {INVOICENO}"
    assert texts["R3"]["de"]["subject"] == "Letzte Mahnung: Rechnung {INVOICENO}"


def test_the_days_and_a_text_of_one_language_can_be_changed(wizard, sandbox):
    ids = sandbox.drafts_with_email(1)
    job = created(
        wizard(
            action="invoice.send_reminders",
            selection="ids",
            ids=ids,
            days_R1="20",
            R2_subject_it="Sollecito {INVOICENO}",
            R2_body_it="Aperto: {CURRENCY} {OPENAMOUNT}",
        )
    )
    assert job.parameters["days"]["R1"] == 20
    assert job.parameters["texts"]["R2"]["it"] == {
        "subject": "Sollecito {INVOICENO}",
        "body": "Aperto: {CURRENCY} {OPENAMOUNT}",
    }


def test_a_half_given_text_or_an_unknown_placeholder_is_refused(wizard, sandbox):
    ids = sandbox.drafts_with_email(1)
    page = wizard(
        action="invoice.send_reminders", selection="ids", ids=ids, R1_subject_de="Nur Betreff"
    )
    assert page.status_code == 400 and "Give both subject and message" in page.content.decode()
    page = wizard(
        action="invoice.send_reminders",
        selection="ids",
        ids=ids,
        R1_subject_de="{OFFEN}",
        R1_body_de="x",
    )
    assert page.status_code == 400 and "Unknown placeholder {OFFEN}" in page.content.decode()
    assert not BatchJob.objects.exists()


def test_the_wizard_offers_the_reminder_fields_in_a_template(client, wizard):
    html = client.get(wizard.url).content.decode()
    assert 'data-testid="reminder-fields"' in html
    template = html.split('id="reminder-texts-template"')[1].split("</template>")[0]
    assert 'name="R3_body_fr"' in template and "{OPENAMOUNT}" in template
    assert reverse("dashboard:job_new_render", args=[wizard.connection.pk]) in html
