"""Every page, in German, French and Italian, asks for no message the catalogs lack.

While the pages render, every gettext lookup is watched; a message id that has no
translation in the active language is recorded with the page. The URLs are the every-URL
walk's (tests/dashboard/test_every_url.py), filled with one object of each kind, read by
the organization's owner. A page that fails here shows English in the middle of German.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation
from django.utils.translation import trans_real

from tests.dashboard.test_every_url import ROUTES, fill, objects_of

LANGUAGES = ["de", "fr", "it"]

# Message ids of other projects whose own catalogs lack them in a language (not ours
# to translate); each with why it may stay.
FOREIGN = {
    "": "gettext('') asks for the catalog header, not a message",
}


class Watch:
    """Records (language, msgid) for lookups that miss the active catalog."""

    def __init__(self) -> None:
        self.missing: set[tuple[str, str]] = set()

    def __enter__(self):
        self._gettext = trans_real.DjangoTranslation.gettext
        self._ngettext = trans_real.DjangoTranslation.ngettext
        watch = self

        def gettext(catalog, message):
            if message not in catalog._catalog and not _translated(catalog, message):
                watch.missing.add((catalog.language(), message))
            return watch._gettext(catalog, message)

        def ngettext(catalog, singular, plural, number):
            if (singular, 0) not in catalog._catalog and catalog.language() != "en":
                watch.missing.add((catalog.language(), singular))
            return watch._ngettext(catalog, singular, plural, number)

        trans_real.DjangoTranslation.gettext = gettext
        trans_real.DjangoTranslation.ngettext = ngettext
        return self

    def __exit__(self, *exc):
        trans_real.DjangoTranslation.gettext = self._gettext
        trans_real.DjangoTranslation.ngettext = self._ngettext


def _translated(catalog, message: str) -> bool:
    """English needs no catalog; and a text that is already a translation, asked for again
    (Django's `get_available_languages` translates the language names LANGUAGES already
    holds translated), is no missing message."""
    if catalog.language() == "en":
        return True
    values = getattr(catalog, "_watch_values", None)
    if values is None:
        values = catalog._watch_values = {
            value for _key, value in catalog._catalog.items() if isinstance(value, str)
        }
    return message in values


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_is_fully_translated(language, partner):
    objects = objects_of(partner, "Zephyrine")
    client = Client()
    client.force_login(partner)
    client.cookies["django_language"] = language
    untranslated: dict[str, set[str]] = {}
    for route in ROUTES:
        url = fill(route, objects)
        with Watch() as watch, translation.override(language):
            response = client.get(url)
            if response.streaming:
                b"".join(response)
        found = {msgid for lang, msgid in watch.missing if lang == language} - set(FOREIGN)
        if found:
            untranslated[url] = found
    assert not untranslated, "\n".join(
        f"{url}: {sorted(found)}" for url, found in sorted(untranslated.items())
    )


def test_the_watch_catches_a_message_the_catalog_lacks():
    from django.template import Context, Template

    page = Template(
        '{% load i18n %}{% translate "Overview" %} · {% translate "A sentence nobody wrote" %}'
        "{% blocktranslate count n=2 %}{{ n }} thing nobody counted{% plural %}"
        "{{ n }} things nobody counted{% endblocktranslate %}"
    )
    with Watch() as watch, translation.override("de"):
        text = page.render(Context())
    assert text.startswith("Übersicht")  # a known message is found, and not recorded
    assert watch.missing == {
        ("de", "A sentence nobody wrote"),
        ("de", "%(n)s thing nobody counted"),
    }
