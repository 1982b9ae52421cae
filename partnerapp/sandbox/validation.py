"""Request bodies checked the way the provider does: every invalid field in one 422.

`Fields` reads a JSON body and collects `(key, message)` errors instead of stopping
at the first; `raise_if_any()` turns them into the 422 with `meta.errors`.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from partnerapp.sandbox.responses import validation_problem

BLANK = "This value should not be blank."
MISSING = "This field is missing."
LANGUAGES = ("de", "en", "es", "fr", "it")
SENDERS = ("CO", "U", "S", "CE")
POSITION_TYPES = ("N", "T", "PB", "H", "SI", "SNI")
NUMBER_LIMIT = Decimal(10) ** 9
INTEGER_LIMIT = 2**63
PAYMENT_TYPES = ("N", "C", "D", "W")
PAYMENT_CHANNELS = ("T", "C", "PP", "PF", "CC", "PR", "SC")
DATETIME_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")


class Fields:
    """Typed reads from a body; each bad or missing field becomes one error."""

    def __init__(self, body: dict[str, Any], *, partial: bool = False, prefix: str = "") -> None:
        self.body = body
        self.partial = partial  # PUT: nothing is required, what is given must be valid
        self.prefix = prefix
        self.errors: list[tuple[str, str]] = []

    def error(self, key: str, message: str) -> None:
        self.errors.append((self.prefix + key, message))

    def raise_if_any(self) -> None:
        if self.errors:
            raise validation_problem(self.errors)

    def _present(self, key: str, required: bool) -> bool:
        if key in self.body and self.body[key] is not None:
            return True
        if required and not self.partial:
            self.error(key, MISSING)
        return False

    def string(self, key: str, *, required=False, max_length=200, blank=True) -> str | None:
        if not self._present(key, required):
            return None
        value = self.body[key]
        if not isinstance(value, str):
            self.error(key, "This value should be of type string.")
        elif not blank and not value.strip():
            self.error(key, BLANK)
        elif len(value) > max_length:
            self.error(
                key, f"This value is too long. It should have {max_length} characters or less."
            )
        else:
            return value
        return None

    def choice(self, key: str, choices: tuple[str, ...], *, required=False) -> str | None:
        if not self._present(key, required):
            return None
        value = self.body[key]
        if value not in choices:
            self.error(key, "The value you selected is not a valid choice.")
            return None
        return value

    def integer(self, key: str, *, required=False) -> int | None:
        if not self._present(key, required):
            return None
        value = self.body[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(key, "This value should be of type integer.")
            return None
        if not -INTEGER_LIMIT < value < INTEGER_LIMIT:
            self.error(key, "This value is out of range.")
            return None
        return value

    def number(self, key: str, *, required=False, low: float | None = None) -> Decimal | None:
        if not self._present(key, required):
            return None
        value = self.body[key]
        try:
            if isinstance(value, bool):
                raise InvalidOperation
            number = Decimal(str(value))
            if not number.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            self.error(key, "This value should be of type number.")
            return None
        if low is not None and number < Decimal(str(low)):
            self.error(key, f"This value should be greater than or equal to {low}.")
            return None
        if abs(number) >= NUMBER_LIMIT:  # amounts are stored with 12 digits at most
            self.error(key, f"This value should be less than {NUMBER_LIMIT:,}.")
            return None
        return number

    def boolean(self, key: str) -> bool | None:
        if not self._present(key, False):
            return None
        if not isinstance(self.body[key], bool):
            self.error(key, "This value should be of type bool.")
            return None
        return self.body[key]

    def date(self, key: str, *, required=False) -> date | None:
        if not self._present(key, required):
            return None
        value = self.body[key]
        try:
            if isinstance(value, str) and len(value) == 10:
                return date.fromisoformat(value)
        except ValueError:
            pass
        self.error(key, "This value is not a valid date (YYYY-MM-DD).")
        return None

    def datetime(self, key: str, *, required=False) -> datetime | None:
        """ "Y-m-d H:i:s" (PHP's date format), read in the sandbox's time zone."""
        if not self._present(key, required):
            return None
        value = self.body[key]
        try:
            if isinstance(value, str) and DATETIME_PATTERN.fullmatch(value):
                parsed = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")  # noqa: DTZ007
                return timezone.make_aware(parsed)
        except ValueError:
            pass
        self.error(key, "This value is not a valid datetime (Y-m-d H:i:s).")
        return None

    def amount(self, key: str, *, required=False) -> Decimal | None:
        """A positive amount with at most two decimals (Rappen, cents)."""
        value = self.number(key, required=required)
        if value is None:
            return None
        if value <= 0:
            self.error(key, "This value should be greater than 0.")
        elif value != value.quantize(Decimal("0.01")):
            self.error(key, "This value should have at most 2 decimals.")
        else:
            return value
        return None

    def email(self, key: str, *, required=False, blank=True) -> str | None:
        value = self.string(key, required=required, max_length=254, blank=blank)
        if value:
            try:
                validate_email(value)
            except ValidationError:
                self.error(key, "This value is not a valid email address.")
                return None
        return value

    def object(self, key: str, *, required=False) -> dict[str, Any] | None:
        if not self._present(key, required):
            return None
        if not isinstance(self.body[key], dict):
            self.error(key, "This value should be of type object.")
            return None
        return self.body[key]

    def array(self, key: str, *, required=False, non_empty=False) -> list[Any] | None:
        if not self._present(key, required):
            return None
        value = self.body[key]
        if not isinstance(value, list):
            self.error(key, "This value should be of type array.")
            return None
        if non_empty and not value:
            self.error(key, "This collection should contain 1 element or more.")
            return None
        return value

    def nested(self, key: str, value: dict[str, Any]) -> Fields:
        """Fields of a nested object; its errors land here, keyed `key.field`."""
        return _Nested(value, parent=self, prefix=f"{self.prefix}{key}.")


class _Nested(Fields):
    def __init__(self, body: dict[str, Any], *, parent: Fields, prefix: str) -> None:
        super().__init__(body, partial=parent.partial, prefix=prefix)
        self.errors = parent.errors  # shared: one 422 lists every field


# -- the PATCH actions ----------------------------------------------------------------------


def email_action(body: dict[str, Any], *, receipt_allowed: bool) -> dict[str, Any]:
    """The valid send-by-email body (subject, body, recipients, from, receipt), or a 422."""
    fields = Fields(body)
    subject = fields.string("subject", required=True, blank=False, max_length=1000)
    text = fields.string("body", required=True, blank=False, max_length=100_000)
    recipients = []
    for index, raw in enumerate(fields.array("recipients", required=True, non_empty=True) or []):
        if not isinstance(raw, dict):
            fields.error(f"recipients[{index}]", "This value should be of type object.")
            continue
        recipient = fields.nested(f"recipients[{index}]", raw)
        email = recipient.email("email", required=True, blank=False)
        name = recipient.string("name", max_length=200)
        recipients.append({"email": email, "name": name or ""})
    sender = fields.choice("from", SENDERS)
    receipt = fields.boolean("receipt")
    if receipt and not receipt_allowed:
        fields.error("receipt", "Only invoices can be sent as a receipt.")
    fields.raise_if_any()
    return {
        "subject": subject,
        "body": text,
        "recipients": recipients,
        "from": sender or "",
        "receipt": bool(receipt),
    }


def post_action(body: dict[str, Any]) -> dict[str, str]:
    fields = Fields(body)
    values = {
        "palette": fields.choice("palette", ("C", "BW"), required=True),
        "print": fields.choice("print", ("D", "S"), required=True),
        "speed": fields.choice("speed", ("P", "E"), required=True),
    }
    fields.raise_if_any()
    return values


def status_action(body: dict[str, Any], statuses: dict[str, str]) -> tuple[str, datetime | None]:
    """(status, date_time): `date_time` as the provider writes it, "Y-m-d H:i:s"."""
    fields = Fields(body)
    status = fields.choice("status", tuple(statuses), required=True)
    when = fields.datetime("date_time")
    fields.raise_if_any()
    return status, when


def payment(body: dict[str, Any]) -> dict[str, Any]:
    """The valid payment POST body (type, channel, amount, date, notes), or a 422."""
    fields = Fields(body)
    values = {
        "type": fields.choice("type", PAYMENT_TYPES, required=True),
        "channel": fields.choice("channel", PAYMENT_CHANNELS) or "T",
        "amount": fields.amount("amount", required=True),
        "date": fields.date("date", required=True),
        "notes": fields.string("notes", max_length=1000) or "",
    }
    if values["date"] and values["date"] > timezone.localdate():
        fields.error("date", "The payment date cannot be in the future.")
    fields.raise_if_any()
    return values


# -- positions ----------------------------------------------------------------------------


def positions(fields: Fields, *, required: bool) -> list[dict[str, Any]] | None:
    """Normalised position objects with their `total`, or None when not given."""
    raw = fields.array("positions", required=required, non_empty=required)
    if raw is None:
        return None
    result = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            fields.error(f"positions[{index}]", "This value should be of type object.")
            continue
        result.append(_position(fields.nested(f"positions[{index}]", item)))
    return result


def _position(fields: Fields) -> dict[str, Any]:
    kind = fields.choice("type", POSITION_TYPES, required=True) or "N"
    normal = kind == "N"
    price = fields.number("price", required=normal) or Decimal(0)
    amount = fields.number("amount", required=normal) or Decimal(0)
    vat = fields.number("vat", required=normal, low=0) or Decimal(0)
    discount = fields.number("discount_rate", low=0) or Decimal(0)
    discount_type = fields.choice("discount_type", ("A", "P")) or "P"
    line = price * amount
    line -= discount if discount_type == "A" else line * discount / 100
    return {
        "type": kind,
        "catalog_type": fields.choice("catalog_type", ("P", "S"), required=True) or "S",
        "number": fields.string("number", max_length=50) or "",
        "name": fields.string("name", max_length=200) or "",
        "description": fields.string("description", max_length=5000) or "",
        "price": float(price),
        "vat": float(vat),
        "amount": float(amount),
        "unit_id": fields.integer("unit_id") or 1,
        "discount_rate": float(discount),
        "discount_type": discount_type,
        "total": float(round(line, 2)) if normal else 0.0,
        "show_only_total": bool(fields.boolean("show_only_total")),
    }


def payment_notes(body: dict[str, Any]) -> str | None:
    """A payment PUT: only `notes` may change (the reference's DocumentInvoicePaymentPUT)."""
    fields = Fields(body)
    notes = fields.string("notes", max_length=1000)
    for key in sorted(set(body) - {"notes"}):
        fields.error(key, "This field cannot be changed.")
    fields.raise_if_any()
    return notes
