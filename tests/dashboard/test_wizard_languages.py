"""The wizard's email texts per language (issue 11): tabs prefilled with the shipped texts of
the chosen kind, the live rendering per language for a selected document in that language,
untouched texts following the kind, errors on their tab — against the sandbox over HTTP."""

import re
from html import unescape

import pytest
from django.urls import reverse

from partnerapp.jobs.models import BatchJob

LANGUAGES = ("de", "fr", "it", "en")
INVOICE = {
    "de": ("Rechnung {INVOICENO}", "Im Anhang finden Sie"),
    "fr": ("Facture {INVOICENO}", "Veuillez trouver"),
    "it": ("Fattura {INVOICENO}", "In allegato"),
    "en": ("Invoice {INVOICENO}", "Please find attached our invoice"),
}
OFFER_SUBJECTS = {
    "de": "Offerte {INVOICENO}",
    "fr": "Offre {INVOICENO}",
    "it": "Offerta {INVOICENO}",
    "en": "Offer {INVOICENO}",
}


@pytest.fixture
def wizard(client, connect, partner):
    connection = connect(scopes=("profile", "invoice", "contact", "offer"))
    client.force_login(partner)
    url = reverse("dashboard:job_new", args=[connection.pk])
    render_url = reverse("dashboard:job_new_render", args=[connection.pk])

    def _post(**data):
        return client.post(url, {"selection": "filter", "recipients": "contact", **data})

    _post.url, _post.render_url, _post.connection = url, render_url, connection
    return _post


def draft_in(sandbox, language: str):
    """The sendable draft of lowest number whose language is `language`."""
    drafts = sandbox.owner.invoices.filter(
        status="DR", language=language, contact__email__contains="@"
    ).exclude(contact__email__contains="(at)")
    return drafts.order_by("number").first()


def field_value(html: str, name: str) -> str:
    """The value of an <input> or the text of a <textarea> called `name`."""
    found = re.search(rf'<input type="text" name="{name}" value="([^"]*)"', html)
    if found:
        return unescape(found.group(1))
    found = re.search(rf'<textarea name="{name}"[^>]*>\n?(.*?)</textarea>', html, re.S)
    assert found, f"no field {name}"
    return unescape(found.group(1))


def texts(**by_language) -> dict:
    """Posted tab fields: `fr=("subject", "body")` for each language given."""
    data = {}
    for language, (subject, body) in by_language.items():
        data[f"subject_{language}"], data[f"body_{language}"] = subject, body
    return data


def shipped_invoice_texts(html: str) -> dict:
    return {code: field_value(html, f"subject_{code}") for code in LANGUAGES}


def tab(html: str, language: str) -> str:
    found = re.search(rf'<button type="button" role="tab" id="email-tab-{language}"[^>]*>', html)
    assert found, language
    return found.group(0)


# -- the tabs -----------------------------------------------------------------------------------


def test_every_tab_starts_with_the_shipped_text_of_the_chosen_kind(client, wizard):
    invoice = client.get(wizard.url, {"action": "invoice.send_by_email"}).content.decode()
    assert shipped_invoice_texts(invoice) == {code: INVOICE[code][0] for code in LANGUAGES}
    assert all(INVOICE[code][1] in field_value(invoice, f"body_{code}") for code in LANGUAGES)
    offer = client.get(wizard.url, {"action": "offer.send_by_email"}).content.decode()
    assert shipped_invoice_texts(offer) == OFFER_SUBJECTS


def test_the_tabs_are_accessible_and_the_readers_language_is_the_default(client, wizard):
    html = client.get(wizard.url).content.decode()
    assert re.search(r'role="tablist"[^>]*data-tablist hidden', html), "shown by wizard.js"
    assert 'aria-selected="true"' in tab(html, "en") and 'tabindex="0"' in tab(html, "en")
    assert all('aria-selected="false"' in tab(html, code) for code in ("de", "fr", "it"))
    assert all(f'aria-controls="email-panel-{code}"' in tab(html, code) for code in LANGUAGES)
    assert re.search(r'<option value="en" selected>English</option>', html)
    # Each tab's labels are in its language: "Subject" labels only the English subjects
    # (the email's and, in the same tabs, each reminder level's).
    assert re.findall(r'<label for="id_\w+"[^>]*>Subject</label>', html) == [
        f'<label for="id_{level}subject_en" lang="en">Subject</label>'
        for level in ("", "R1_", "R2_", "R3_")
    ]
    assert '<label for="id_subject_fr" lang="fr">Objet</label>' in html
    assert '<label for="id_body_it" lang="it">Messaggio</label>' in html
    for code in LANGUAGES:  # without JavaScript, four fieldsets one below the other
        assert f'data-language-panel="{code}"' in html


def test_a_german_reader_starts_with_german_as_the_default(client, wizard):
    html = client.get(wizard.url, headers={"Accept-Language": "de"}).content.decode()
    assert re.search(r'<option value="de" selected>Deutsch</option>', html)
    assert 'aria-selected="true"' in tab(html, "de")
    assert html.count(">Betreff</label>") == 4  # the email's and three reminder levels'


def test_a_job_stores_each_languages_text_and_the_default(wizard, sandbox):
    ids = [draft_in(sandbox, "de").pk, draft_in(sandbox, "fr").pk]
    posted = texts(
        de=("Rechnung {INVOICENO}", "Guten Tag"),
        fr=("Votre facture {INVOICENO}", "Bonjour"),
        it=("", ""),  # emptied: Italian emails get the default language's text
        en=("Invoice {INVOICENO}", "Hello"),
    )
    response = wizard(
        action="invoice.send_by_email", selection="ids", ids=ids, language="de", **posted
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    job = BatchJob.objects.get()
    assert job.parameters["language"] == "de"
    assert (job.parameters["subject"], job.parameters["body"]) == (
        "Rechnung {INVOICENO}",
        "Guten Tag",
    )
    assert job.parameters["templates"] == {
        "de": {"subject": "Rechnung {INVOICENO}", "body": "Guten Tag"},
        "fr": {"subject": "Votre facture {INVOICENO}", "body": "Bonjour"},
        "en": {"subject": "Invoice {INVOICENO}", "body": "Hello"},
    }


def test_switching_the_kind_swaps_untouched_texts_and_keeps_typed_ones(wizard):
    untouched = texts(**{code: INVOICE[code] for code in ("de", "it")})
    untouched["body_de"] = "{SALUTATION}\r\n\r\nIm Anhang finden Sie"  # typed: stays
    untouched["body_it"] = ""
    page = wizard(
        action="offer.send_by_email",
        status="DR",
        language="de",
        render="1",
        **untouched,
        **texts(fr=("Mon offre {INVOICENO}", "Bonjour")),
    )
    html = page.content.decode()
    assert page.status_code == 200 and not BatchJob.objects.exists()
    assert field_value(html, "subject_de") == "Offerte {INVOICENO}"
    assert field_value(html, "subject_it") == "Offerta {INVOICENO}"
    assert field_value(html, "subject_fr") == "Mon offre {INVOICENO}"
    assert field_value(html, "body_de").replace("\r\n", "\n") == (
        "{SALUTATION}\n\nIm Anhang finden Sie"
    )
    assert field_value(html, "body_it") == "", "an emptied text stays empty"


# -- the live rendering -------------------------------------------------------------------------


def rendered(page) -> list[tuple[str, str]]:
    """(language, rendered subject) of each rendering on the page."""
    html = unescape(page.content.decode())
    return re.findall(
        r'data-language="(\w+)">.*?data-testid="rendered-subject">([^<]*)<', html, re.S
    )


def test_the_live_rendering_uses_a_selected_document_in_the_tabs_language(client, wizard, sandbox):
    german, french = draft_in(sandbox, "de"), draft_in(sandbox, "fr")
    data = {
        "action": "invoice.send_by_email",
        "selection": "ids",
        "ids": [german.pk, french.pk],
        "language": "de",
        **texts(de=INVOICE["de"], fr=("Votre facture {INVOICENO}", "{SALUTATION}")),
    }
    page = client.post(wizard.render_url, {**data, "render_language": "fr"})
    html = unescape(page.content.decode())
    assert rendered(page) == [("fr", f"Votre facture {french.number}")]
    assert f"As the recipient of {french.number}" in html
    assert 'data-testid="rendered-other-language"' not in html
    german_page = client.post(wizard.render_url, {**data, "render_language": "de"})
    assert rendered(german_page) == [("de", f"Rechnung {german.number}")]
    italian = client.post(wizard.render_url, {**data, "render_language": "it"})
    html = unescape(italian.content.decode())
    assert rendered(italian) == [("it", f"Rechnung {german.number}")], "the default's text"
    assert "No selected document is in Italiano; this one's email goes in Deutsch." in html


def test_the_live_rendering_follows_the_filter_to_a_document_in_the_language(
    client, wizard, sandbox
):
    english = draft_in(sandbox, "en")
    data = {"action": "invoice.send_by_email", "status": "DR", "render_language": "en"}
    page = client.post(wizard.render_url, {**data, **texts(en=("Hi {INVOICENO}", "x"))})
    assert rendered(page) == [("en", f"Hi {english.number}")]


def test_the_render_button_renders_every_language_without_javascript(wizard, sandbox):
    drafts = [draft_in(sandbox, code) for code in ("de", "fr", "en")]  # no Italian draft
    by_language = {code: (f"{code.upper()} {{INVOICENO}}", "x") for code in LANGUAGES}
    page = wizard(
        action="invoice.send_by_email",
        selection="ids",
        ids=[draft.pk for draft in drafts],
        language="de",
        render="1",
        **texts(**by_language),
    )
    german, french, english = (draft.number for draft in drafts)
    assert page.status_code == 200 and not BatchJob.objects.exists()
    assert rendered(page) == [
        ("de", f"DE {german}"),
        ("fr", f"FR {french}"),
        ("it", f"IT {german}"),  # the first selected stands in
        ("en", f"EN {english}"),
    ]
    assert "No selected document is in Italiano" in unescape(page.content.decode())


# -- errors on their tab ------------------------------------------------------------------------


def test_an_error_shows_on_its_tab_which_is_marked_and_opens(wizard):
    page = wizard(
        action="invoice.send_by_email",
        status="DR",
        language="de",
        **texts(de=INVOICE["de"], fr=("Facture {FACTURENO}", "x"), it=INVOICE["it"]),
    )
    html = unescape(page.content.decode())
    assert page.status_code == 400 and not BatchJob.objects.exists()
    panel = html.split('data-language-panel="fr"')[1].split("</fieldset>")[0]
    assert "Unknown placeholder {FACTURENO}" in panel
    assert "has-error" in tab(html, "fr") and 'aria-selected="true"' in tab(html, "fr")
    assert "has-error" not in tab(html, "de") and 'aria-selected="false"' in tab(html, "de")
    assert field_value(html, "subject_fr") == "Facture {FACTURENO}", "the input is kept"


def test_a_half_given_text_is_refused_on_its_tab(wizard):
    page = wizard(
        action="invoice.send_by_email",
        status="DR",
        language="de",
        **texts(de=INVOICE["de"], it=("Fattura {INVOICENO}", "")),
    )
    html = page.content.decode()
    assert page.status_code == 400
    panel = html.split('data-language-panel="it"')[1].split("</fieldset>")[0]
    assert "Give both subject and message, or neither." in panel
    assert "has-error" in tab(html, "it")


def test_the_default_languages_text_is_required_when_another_is_given(wizard):
    page = wizard(
        action="invoice.send_by_email",
        status="DR",
        language="it",
        **texts(de=INVOICE["de"], it=("", "")),
    )
    html = page.content.decode()
    assert page.status_code == 400 and not BatchJob.objects.exists()
    panel = html.split('data-language-panel="it"')[1].split("</fieldset>")[0]
    assert "Write the default language&#x27;s subject and message" in panel
    assert "has-error" in tab(html, "it") and "has-error" not in tab(html, "de")


def test_no_text_at_all_is_required_on_the_default_tab(wizard):
    page = wizard(action="invoice.send_by_email", status="DR", language="fr")
    html = page.content.decode()
    assert page.status_code == 400
    panel = html.split('data-language-panel="fr"')[1].split("</fieldset>")[0]
    assert "This field is required." in panel and "has-error" in tab(html, "fr")


def test_a_scripts_one_text_shows_in_the_default_tab(wizard):
    page = wizard(action="invoice.send_by_email", subject="Typed {BAD}", body="Body")
    html = page.content.decode()
    assert page.status_code == 400
    panel = html.split('data-language-panel="de"')[1].split("</fieldset>")[0]
    assert 'name="subject" value="Typed {BAD}"' in panel and "Unknown placeholder {BAD}" in panel
