"""Payments of an invoice as thin views (scope `invoice`): list, record, get, change
the notes, delete by comma-separated ids. The service is payments.py."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from partnerapp.sandbox import documents, listing, payments, validation
from partnerapp.sandbox.api import endpoint, json_body, parse_ids
from partnerapp.sandbox.kinds import INVOICE
from partnerapp.sandbox.representations import payment_json
from partnerapp.sandbox.responses import ApiProblem, empty_response, item_response

PAYMENT_LIST = listing.ListSpec(
    filters={"id": "pk", "type": "type", "channel": "channel", "date": "date", "amount": "amount"},
    sorts={"id": "pk", "date": "date", "amount": "amount", "type": "type", "created": "created"},
    withs=frozenset(),
    search=("notes",),
    default_sort="-date",
)


@endpoint(methods={"GET", "POST"}, scope=INVOICE.scope)
def payment_collection(request: HttpRequest, document_id: int) -> HttpResponse:
    invoice = documents.document_get(INVOICE, request.sandbox_owner, document_id)
    if request.method == "POST":
        values = validation.payment(json_body(request))
        created = payments.payment_create(
            invoice=invoice, values=values, request_id=request.sandbox_request_id
        )
        return item_response(payment_json(created), status=201)
    return listing.respond(request, payments.payments_of(invoice), PAYMENT_LIST, payment_json)


@endpoint(methods={"GET", "PUT", "DELETE"}, scope=INVOICE.scope)
def payment_item(request: HttpRequest, document_id: int, ids: str) -> HttpResponse:
    invoice = documents.document_get(INVOICE, request.sandbox_owner, document_id)
    if request.method == "DELETE":
        payments.payments_delete(invoice=invoice, ids=parse_ids(ids))
        return empty_response(204)
    parsed = parse_ids(ids)
    if len(parsed) != 1:
        raise ApiProblem(400, "Expected a single id")
    payment = payments.payment_get(invoice, parsed[0])
    if request.method == "PUT":
        notes = validation.payment_notes(json_body(request))
        payment = payments.payment_update(payment=payment, notes=notes)
    listing.parse_withs(request, PAYMENT_LIST.withs)
    return item_response(payment_json(payment))
