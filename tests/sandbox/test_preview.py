"""`GET .../{id}/preview`: a PNG of the page, as wide as `size` asks, for every kind."""

import io

import pytest
from PIL import Image

from partnerapp.sandbox import kinds


def first(kind, owner):
    return kind.model.objects.filter(owner=owner).exclude(status="D").first()


@pytest.mark.parametrize("kind", kinds.KINDS, ids=lambda kind: kind.name)
def test_each_kind_previews_as_a_png_972_pixels_wide(call, owner, kind):
    response = call("GET", f"/{kind.path}/{first(kind, owner).pk}/preview")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG" and image.width == 972 and image.height > image.width


@pytest.mark.parametrize("size", [240, 595, 600, 1240])
def test_the_size_is_the_width(call, owner, size):
    invoice = first(kinds.INVOICE, owner)
    response = call("GET", f"/receivables/invoices/{invoice.pk}/preview?size={size}&page=1")
    assert Image.open(io.BytesIO(response.content)).width == size


@pytest.mark.parametrize(
    "query", ["size=500", "size=big", "page=0", "page=2", "page=-1", "size=", "page=1.5"]
)
def test_a_size_or_page_the_reference_does_not_allow_is_a_400(call, owner, query):
    invoice = first(kinds.INVOICE, owner)
    response = call("GET", f"/receivables/invoices/{invoice.pk}/preview?{query}")
    assert response.status_code == 400 and response.json()["message"].startswith("Invalid")


def test_another_owners_document_has_no_preview(call, other_owner):
    theirs = first(kinds.LETTER, other_owner)
    response = call("GET", f"/contacts/letters/{theirs.pk}/preview")
    assert response.status_code == 404 and response.json()["meta"]["entity_type"] == "letter"


def test_the_preview_needs_the_kinds_scope(client, bearer, owner):
    offer = first(kinds.OFFER, owner)
    url = f"/sandbox/v2/receivables/offers/{offer.pk}/preview"
    assert client.get(url, **bearer("profile invoice")).json()["code"] == 11
