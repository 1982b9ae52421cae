"""Every language the switcher offers is complete and is what the pages speak."""

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

LOCALE = Path(settings.LOCALE_PATHS[0])
TRANSLATED = {
    "de": ("Übersicht", "Rechnung {INVOICENO}"),
    "fr": ("Vue d\u2019ensemble", "Facture {INVOICENO}"),
    "it": ("Panoramica", "Fattura {INVOICENO}"),
}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{[A-Z]+\}")


def catalog(language: str) -> dict:
    with (LOCALE / language / "LC_MESSAGES" / "django.mo").open("rb") as compiled:
        return gettext.GNUTranslations(compiled)._catalog  # the msgid table


def test_the_switcher_offers_exactly_the_translated_languages():
    assert [code for code, _name in settings.LANGUAGES] == ["en", *TRANSLATED]


@pytest.mark.parametrize("language", [code for code in TRANSLATED if code != "de"])
def test_each_catalog_translates_every_message_german_does(language):
    german, other = catalog("de"), catalog(language)
    assert set(other) == set(german)
    for msgid, text in other.items():
        assert text, f"{language}: {msgid!r} is empty"
        # A plural form is checked against German's same form (the catalog keeps no msgid_plural).
        source = german[msgid] if isinstance(msgid, tuple) else msgid
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(source)), (
            f"{language}: {msgid!r} -> {text!r} changes its placeholders"
        )


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_pages_speak_the_chosen_language(db, partner, connect, language):
    connection = connect()
    client = Client()
    client.force_login(partner)
    assert client.post("/i18n/setlang/", {"language": language, "next": "/"}).status_code == 302
    overview = client.get("/").content.decode()
    heading, subject = TRANSLATED[language]
    assert f'<html lang="{language}">' in overview and f"<h1>{heading}</h1>" in overview
    wizard = client.get(f"/connections/{connection.pk}/jobs/new/").content.decode()
    assert f'value="{subject}"' in wizard  # the default email is the customer's language too
