"""A real PDF of a document (fpdf2): sender, recipient address, number, positions, total.

Plain, one page per document, in the document's language for the few fixed words.
fpdf2's core fonts cover Latin-1 (enough for German, French and Italian names);
anything beyond is replaced rather than failing the request.
"""

from __future__ import annotations

from fpdf import FPDF

from partnerapp.sandbox.kinds import LETTER, DocumentKind
from partnerapp.sandbox.models import Document
from partnerapp.sandbox.placeholders import swiss_amount, swiss_date

TITLES = {
    "invoice": {"de": "Rechnung", "fr": "Facture", "it": "Fattura", "en": "Invoice"},
    "offer": {"de": "Offerte", "fr": "Offre", "it": "Offerta", "en": "Offer"},
    "delivery_note": {
        "de": "Lieferschein",
        "fr": "Bulletin de livraison",
        "it": "Bollettino di consegna",
        "en": "Delivery note",
    },
    "order_confirmation": {
        "de": "Auftragsbestätigung",
        "fr": "Confirmation de commande",
        "it": "Conferma d'ordine",
        "en": "Order confirmation",
    },
}
WORDS = {
    "date": {"de": "Datum", "fr": "Date", "it": "Data", "en": "Date"},
    "due": {"de": "Zahlbar bis", "fr": "Payable jusqu'au", "it": "Pagabile entro", "en": "Due"},
    "total": {"de": "Total", "fr": "Total", "it": "Totale", "en": "Total"},
}


def _text(value: str) -> str:
    """What the core fonts can draw."""
    return value.encode("latin-1", "replace").decode("latin-1")


def _word(table: dict[str, str], language: str) -> str:
    return table.get(language, table["en"])


def render(kind: DocumentKind, document: Document) -> bytes:
    page = FPDF(format="A4")
    page.set_title(_text(getattr(document, "number", "") or getattr(document, "title", "")))
    page.set_creator("SmartBusiness sandbox")
    page.add_page()
    _letterhead(page, document)
    if kind is LETTER:
        _letter_body(page, document)
    else:
        _priced_body(page, kind, document)
    return bytes(page.output())


def _letterhead(page: FPDF, document: Document) -> None:
    owner, contact = document.owner, document.contact
    page.set_font("Helvetica", size=9)
    page.cell(text=_text(f"{owner.company_name} · {owner.company_email}"), new_x="LMARGIN")
    page.ln(20)
    page.set_font("Helvetica", size=11)
    for line in (contact.name, contact.street, f"{contact.postcode} {contact.city}"):
        page.cell(text=_text(line), new_x="LMARGIN", new_y="NEXT")
    page.ln(12)


def _letter_body(page: FPDF, letter) -> None:
    page.set_font("Helvetica", style="B", size=14)
    page.cell(text=_text(letter.title), new_x="LMARGIN", new_y="NEXT")
    page.set_font("Helvetica", size=11)
    page.cell(text=swiss_date(letter.date), new_x="LMARGIN", new_y="NEXT")
    page.ln(6)
    page.multi_cell(w=0, text=_text(letter.content))


def _priced_body(page: FPDF, kind: DocumentKind, document) -> None:
    language = document.language
    page.set_font("Helvetica", style="B", size=14)
    title = f"{_word(TITLES[kind.name], language)} {document.number}"
    page.cell(text=_text(title), new_x="LMARGIN", new_y="NEXT")
    page.set_font("Helvetica", size=10)
    page.cell(text=f"{_word(WORDS['date'], language)}: {swiss_date(document.date)}")
    if due := getattr(document, "due", None):
        page.cell(text=f"   {_word(WORDS['due'], language)}: {swiss_date(due)}")
    page.ln(12)
    for position in document.positions:
        _position_row(page, position)
    page.ln(4)
    page.set_font("Helvetica", style="B", size=11)
    total = f"{document.currency} {swiss_amount(document.total)}"
    page.cell(w=140, text=_word(WORDS["total"], language))
    page.cell(w=40, text=total, align="R", new_x="LMARGIN", new_y="NEXT")


def _position_row(page: FPDF, position: dict) -> None:
    if position.get("type") != "N":
        return
    amount = f"{position['amount']:g} x {swiss_amount(position['price'])}"
    page.cell(w=100, text=_text(position.get("name", ""))[:60])
    page.cell(w=40, text=amount, align="R")
    page.cell(w=40, text=swiss_amount(position["total"]), align="R", new_x="LMARGIN")
    page.ln(6)
