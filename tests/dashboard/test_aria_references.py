"""Every page's ARIA and label references point at elements that are on the page.

A screen reader follows `aria-describedby`, `aria-labelledby`, `aria-controls` and a
label's `for` to another element by id; an id that is not there reads as nothing at all
(the field's hint or error is lost). The pages are the every-URL walk's, as its owner sees
them; the ids are checked in the page's HTML as served.
"""

from __future__ import annotations

import re

from django.test import Client

from tests.dashboard.test_every_url import ROUTES, fill, objects_of

IDS = re.compile(r'\sid="([^"]+)"')
REFERENCES = re.compile(r'\s(aria-describedby|aria-labelledby|aria-controls|for)="([^"]*)"')


def dangling(html: str) -> list[str]:
    """The references in `html` whose target id is missing, as 'attribute=id'."""
    ids = set(IDS.findall(html))
    return [
        f"{attribute}={target}"
        for attribute, value in REFERENCES.findall(html)
        for target in value.split()
        if target not in ids
    ]


def test_every_reference_on_every_page_finds_its_element(partner):
    objects = objects_of(partner, "Zephyrine")
    client = Client()
    client.force_login(partner)
    broken = {}
    for route in ROUTES:
        url = fill(route, objects)
        response = client.get(url)
        if response.streaming or "html" not in response.get("Content-Type", ""):
            continue
        found = dangling(response.content.decode())
        if found:
            broken[url] = found
    assert not broken, "\n".join(f"{url}: {found}" for url, found in broken.items())


def test_a_reference_to_a_missing_id_is_found():
    page = '<input id="a" aria-describedby="a-help a-error"><p id="a-help"></p>'
    assert dangling(page) == ["aria-describedby=a-error"]
