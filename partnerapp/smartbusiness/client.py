"""The SmartBusiness REST API v2 as Python calls.

`SmartBusinessClient` knows HTTP and the provider, nothing of our models: it is
given an access token and two optional hooks — `before_call` (pacing) and
`after_call` (request log, rate-limit state) — and raises the typed errors of
`errors.py`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, BinaryIO

import requests

from partnerapp.smartbusiness.errors import (
    REQUEST_ID_HEADER,
    ProtocolError,
    error_from_response,
    transport_error,
)
from partnerapp.smartbusiness.ratelimit import RateLimit
from partnerapp.smartbusiness.session import ApiConfig, new_session

MAX_PAGE_SIZE = 200
PDF_CHUNK_BYTES = 64 * 1024


class DocumentKind(StrEnum):
    """Documents that share the PATCH actions, by their path under the base URL."""

    INVOICE = "receivables/invoices"
    OFFER = "receivables/offers"
    DELIVERY_NOTE = "receivables/delivery-notes"
    ORDER_CONFIRMATION = "receivables/order-confirmations"
    LETTER = "contacts/letters"


def stable_sort(kind: DocumentKind) -> str:
    """A sort key each kind's list answers to, for paging by offset: letters have no
    number (their list sorts by title by default, DocumentLetterSort), the rest do."""
    return "id" if kind is DocumentKind.LETTER else "number"


class EmailSender(StrEnum):
    COMPANY = "CO"
    USER = "U"
    COMPANY_SMTP = "S"
    CENTRAL_NO_REPLY = "CE"


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str


@dataclass(frozen=True)
class ApiCall:
    """One finished HTTP exchange, for the request log and the limiter."""

    method: str
    path: str  # without query string: it never holds secrets, but may hold customer data
    status: int | None  # None when no response came back
    duration: float  # seconds
    request_id: str
    rate_limit: RateLimit | None


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    raw_pagination: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ActionResult:
    """A PATCH action the provider accepted (204), or a read a job step made (a PDF)."""

    request_id: str
    rate_limit: RateLimit | None


@dataclass(frozen=True)
class PaymentResult(ActionResult):
    """A payment the provider recorded: its id when the answer carried the item (201, or
    200 as some deployments answer), else None (an empty 2xx)."""

    payment_id: int | None = None


class Filter:
    """The provider's JSON filter: `Filter(status="DR") & Filter(currency="CHF")`."""

    def __init__(self, **equals: Any) -> None:
        self._expr: dict[str, Any] | None = (
            None
            if not equals
            else {"and": [{key: value} for key, value in equals.items()]}
            if len(equals) > 1
            else dict(equals)
        )

    @classmethod
    def _of(cls, expr: dict[str, Any] | None) -> Filter:
        instance = cls()
        instance._expr = expr
        return instance

    def _combine(self, other: Filter, op: str) -> Filter:
        parts = [part for part in (self._expr, other._expr) if part]
        return Filter._of({op: parts} if len(parts) > 1 else (parts[0] if parts else None))

    def __and__(self, other: Filter) -> Filter:
        return self._combine(other, "and")

    def __or__(self, other: Filter) -> Filter:
        return self._combine(other, "or")

    def __bool__(self) -> bool:
        return bool(self._expr)

    def to_json(self) -> str:
        return json.dumps(self._expr, separators=(",", ":"), ensure_ascii=False)


BeforeCall = Callable[[str, str], None]
AfterCall = Callable[[ApiCall], None]


class SmartBusinessClient:
    def __init__(
        self,
        config: ApiConfig,
        access_token: str,
        *,
        before_call: BeforeCall | None = None,
        after_call: AfterCall | None = None,
    ) -> None:
        self.config = config
        self._session = new_session(config, access_token=access_token)
        self._before_call = before_call
        self._after_call = after_call

    def close(self) -> None:
        self._session.close()

    # -- the account ---------------------------------------------------------------

    def owner(self) -> dict[str, Any]:
        """`{id, name, surname}` of the account owner who granted the token."""
        return self._item("GET", "auth/owner")

    def profile(self) -> dict[str, Any]:
        return self._item("GET", "auth/profile")

    # -- contacts ------------------------------------------------------------------

    def contacts(self, **params: Any) -> Page:
        return self._page("contacts", params)

    def contact(self, contact_id: int) -> dict[str, Any]:
        return self._item("GET", f"contacts/{int(contact_id)}")

    # -- documents (invoices first) --------------------------------------------------

    def documents(self, kind: DocumentKind, **params: Any) -> Page:
        """One page: params `q`, `filter` (Filter), `with_` (list), `limit`, `offset`, `sort`."""
        return self._page(kind.value, params)

    def iter_documents(self, kind: DocumentKind, **params: Any) -> Iterator[dict[str, Any]]:
        """Every matching document, fetched `limit=200` at a time."""
        params = {**params, "limit": params.get("limit", MAX_PAGE_SIZE)}
        offset = params.pop("offset", 0)
        while True:
            page = self.documents(kind, offset=offset, **params)
            yield from page.items
            offset += len(page.items)
            if not page.items or offset >= page.total:
                return

    def document(self, kind: DocumentKind, document_id: int, *, with_: list[str] | None = None):
        query = {"with": ",".join(with_)} if with_ else None
        return self._item("GET", f"{kind.value}/{int(document_id)}", params=query)

    def document_pdf(self, kind: DocumentKind, document_id: int) -> bytes:
        response = self._call("GET", f"{kind.value}/{int(document_id)}/pdf")
        return response.content

    def document_preview(self, kind: DocumentKind, document_id: int) -> tuple[bytes, str]:
        """The document's first page as an image: (its bytes, its content type)."""
        response = self._call("GET", f"{kind.value}/{int(document_id)}/preview")
        return response.content, response.headers.get("Content-Type", "image/png")

    def document_pdf_into(
        self, kind: DocumentKind, document_id: int, destination: BinaryIO
    ) -> ActionResult:
        """Stream the document's PDF into `destination`, a chunk at a time (never whole in
        memory); the answer's request id and rate-limit state, as an action's."""
        path = f"{kind.value}/{int(document_id)}/pdf"
        response = self._call("GET", path, stream=True, headers={"Accept": "application/pdf"})
        with response:
            try:
                for chunk in response.iter_content(PDF_CHUNK_BYTES):
                    destination.write(chunk)
            except requests.RequestException as exc:  # the body broke off midway
                raise transport_error(exc) from exc
        return ActionResult(
            request_id=response.headers.get(REQUEST_ID_HEADER, ""),
            rate_limit=RateLimit.from_headers(response.headers),
        )

    def invoices(self, **params: Any) -> Page:
        return self.documents(DocumentKind.INVOICE, **params)

    def invoice(self, invoice_id: int, *, with_: list[str] | None = None) -> dict[str, Any]:
        return self.document(DocumentKind.INVOICE, invoice_id, with_=with_)

    # -- the irreversible PATCH actions ------------------------------------------------

    def send_by_email(
        self,
        kind: DocumentKind,
        document_id: int,
        *,
        subject: str,
        body: str,
        recipients: list[Recipient],
        receipt: bool = False,
        sender: EmailSender | None = None,
    ) -> ActionResult:
        payload: dict[str, Any] = {
            "subject": subject,
            "body": body,
            "recipients": [{"email": r.email, "name": r.name} for r in recipients],
        }
        if receipt:
            payload["receipt"] = True
        if sender:
            payload["from"] = EmailSender(sender).value
        return self._action(kind, document_id, "send-by-email", payload)

    def send_by_post(
        self, kind: DocumentKind, document_id: int, *, color: bool, duplex: bool, priority: bool
    ) -> ActionResult:
        payload = {
            "palette": "C" if color else "BW",
            "print": "D" if duplex else "S",
            "speed": "P" if priority else "E",
        }
        return self._action(kind, document_id, "send-by-post", payload)

    def change_status(
        self, kind: DocumentKind, document_id: int, *, status: str, date_time: str = ""
    ) -> ActionResult:
        payload = {"status": status, **({"date_time": date_time} if date_time else {})}
        return self._action(kind, document_id, "change-status", payload)

    # -- payments (not idempotent either: each POST records one more payment) -------------

    def invoice_payments(self, invoice_id: int) -> list[dict[str, Any]]:
        """Every payment of an invoice (an invoice has few; paged to be safe)."""
        path = f"{DocumentKind.INVOICE.value}/{int(invoice_id)}/payments"
        found: list[dict[str, Any]] = []
        while True:
            page = self._page(path, {"limit": MAX_PAGE_SIZE, "offset": len(found)})
            found.extend(page.items)
            if not page.items or len(found) >= page.total:
                return found

    def create_payment(
        self,
        invoice_id: int,
        *,
        amount: str,
        date: str,
        type: str = "N",
        channel: str = "T",
        notes: str = "",
    ) -> PaymentResult:
        """POST a payment (`amount` as a decimal string, `date` ISO). Type N(ormal), channel
        T(ransfer) unless told otherwise (§2)."""
        payload: dict[str, Any] = {"type": type, "amount": float(amount), "date": date}
        if channel:
            payload["channel"] = channel
        if notes:
            payload["notes"] = notes
        path = f"{DocumentKind.INVOICE.value}/{int(invoice_id)}/payments"
        response = self._call("POST", path, json=payload)
        item = _json_item(response)
        payment_id = item.get("id") if isinstance(item.get("id"), int) else None
        return PaymentResult(
            request_id=response.headers.get(REQUEST_ID_HEADER, ""),
            rate_limit=RateLimit.from_headers(response.headers),
            payment_id=payment_id,
        )

    # -- plumbing ------------------------------------------------------------------

    def _action(self, kind: DocumentKind, document_id: int, action: str, payload) -> ActionResult:
        response = self._call("PATCH", f"{kind.value}/{int(document_id)}/{action}", json=payload)
        return ActionResult(
            request_id=response.headers.get(REQUEST_ID_HEADER, ""),
            rate_limit=RateLimit.from_headers(response.headers),
        )

    def _item(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        body = self._json(self._call(method, path, **kwargs))
        if not isinstance(body.get("item"), dict):
            raise ProtocolError(f"{path}: the response holds no 'item'.")
        return body["item"]

    def _page(self, path: str, params: dict[str, Any]) -> Page:
        body = self._json(self._call("GET", path, params=_list_query(params)))
        pagination = body.get("pagination") or {}
        if not isinstance(body.get("items"), list):
            raise ProtocolError(f"{path}: the response holds no 'items'.")
        return Page(
            items=body["items"],
            total=int(pagination.get("total", len(body["items"]))),
            page=int(pagination.get("page", 1)),
            pages=int(pagination.get("pages", 1)),
            raw_pagination=pagination,
        )

    def _json(self, response: requests.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as exc:
            raise ProtocolError(
                "The provider answered with something that is not JSON.",
                status=response.status_code,
                request_id=response.headers.get(REQUEST_ID_HEADER, ""),
            ) from exc
        return body if isinstance(body, dict) else {}

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        if self._before_call:
            self._before_call(method, path)
        started = time.monotonic()
        url = f"{self.config.root}/{path}"
        try:
            response = self._session.request(method, url, **kwargs)
        except requests.RequestException as exc:
            self._report(method, path, None, started, {})
            raise transport_error(exc) from exc
        self._report(method, path, response.status_code, started, response.headers)
        if response.status_code >= 400:
            raise error_from_response(response)
        return response

    def _report(self, method, path, status, started, headers) -> None:
        if self._after_call:
            self._after_call(
                ApiCall(
                    method=method,
                    path=f"/{path}",
                    status=status,
                    duration=time.monotonic() - started,
                    request_id=headers.get(REQUEST_ID_HEADER, ""),
                    rate_limit=RateLimit.from_headers(headers),
                )
            )


def _json_item(response: requests.Response) -> dict[str, Any]:
    """The `item` of a 2xx answer when it has one; {} for an empty or odd body (the call
    succeeded all the same: be liberal in what we accept)."""
    try:
        body = response.json() if response.content else {}
    except ValueError:
        return {}
    item = body.get("item") if isinstance(body, dict) else None
    return item if isinstance(item, dict) else {}


def _list_query(params: dict[str, Any]) -> dict[str, str]:
    """Our keyword names to the provider's query string (`with_` → `with`)."""
    query: dict[str, str] = {}
    for key, value in params.items():
        if value is None or value == "" or (isinstance(value, Filter) and not value):
            continue
        if key == "with_":
            query["with"] = ",".join(value) if isinstance(value, list | tuple) else str(value)
        elif key == "sort" and isinstance(value, list | tuple):
            query["sort"] = ",".join(value)
        elif isinstance(value, Filter):
            query[key] = value.to_json()
        else:
            query[key] = str(value)
    return query
