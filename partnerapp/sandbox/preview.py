"""A document's page as a PNG (Pillow), as `GET .../{id}/preview` serves it.

The reference allows widths of 240, 595, 600, 972 (default) and 1240 pixels and pages
from 1; the sandbox's documents have one page (`page_amount`), so another page is a 400.
The picture is an A4 page with the letterhead, the recipient and the document's title
and total: enough for a thumbnail, not a rendering of the PDF.
"""

from __future__ import annotations

import io

from django.http import HttpRequest
from PIL import Image, ImageDraw, ImageFont

from partnerapp.sandbox.kinds import LETTER, DocumentKind
from partnerapp.sandbox.models import Document
from partnerapp.sandbox.pdf import TITLES
from partnerapp.sandbox.placeholders import swiss_amount, swiss_date
from partnerapp.sandbox.responses import ApiProblem

SIZES = (240, 595, 600, 972, 1240)
DEFAULT_SIZE = 972
PAGES = 1  # what `page_amount` says of every sandbox document
A4_RATIO = 297 / 210


def parse(request: HttpRequest) -> tuple[int, int]:
    """(page, size) from the query; 400 for a value the reference does not allow."""
    page = _integer(request.GET.get("page", "1"), "page")
    size = _integer(request.GET.get("size", str(DEFAULT_SIZE)), "size")
    if not 1 <= page <= PAGES:
        raise ApiProblem(400, f"Invalid page: the document has {PAGES} page")
    if size not in SIZES:
        raise ApiProblem(400, f"Invalid size: must be one of {', '.join(map(str, SIZES))}")
    return page, size


def _integer(raw: str, name: str) -> int:
    if not raw.isdigit():
        raise ApiProblem(400, f"Invalid {name}: must be an integer")
    return int(raw[:6])


def render(kind: DocumentKind, document: Document, *, size: int) -> bytes:
    """The page `size` pixels wide, as PNG bytes."""
    height = round(size * A4_RATIO)
    image = Image.new("RGB", (size, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(8, size // 45))
    margin, line = size // 12, max(10, size // 32)
    for index, text in enumerate(_lines(kind, document)):
        draw.text((margin, margin + index * line), text, fill="black", font=font)
    draw.rectangle((0, 0, size - 1, height - 1), outline="#999999")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _lines(kind: DocumentKind, document) -> list[str]:
    owner, contact = document.owner, document.contact
    lines = [owner.company_name, "", contact.name, contact.street]
    lines += [f"{contact.postcode} {contact.city}", ""]
    if kind is LETTER:
        return [*lines, document.title, swiss_date(document.date)]
    title = TITLES[kind.name].get(document.language, TITLES[kind.name]["en"])
    total = f"{document.currency} {swiss_amount(document.total)}"
    return [*lines, f"{title} {document.number}", swiss_date(document.date), "", total]
