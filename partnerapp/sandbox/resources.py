"""The provider's resources: owner, profile, invoices and the send-by-email action."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from partnerapp.sandbox import listing
from partnerapp.sandbox.api import endpoint, json_body
from partnerapp.sandbox.models import Invoice, OutboxEmail
from partnerapp.sandbox.placeholders import expand
from partnerapp.sandbox.representations import invoice_json, owner_json, profile_json
from partnerapp.sandbox.responses import ApiProblem, item_response, validation_problem

INVOICE_LIST = listing.ListSpec(
    filters={
        "id": "pk",
        "status": "status",
        "currency": "currency",
        "contact_id": "contact_id",
        "number": "number",
        "language": "language",
        "date": "date",
        "due": "due",
        "total": "total",
    },
    sorts={
        "id": "pk",
        "number": "number",
        "date": "date",
        "due": "due",
        "total": "total",
        "status": "status",
    },
    withs=frozenset({"contact"}),
    search=("number", "contact__name", "contact__email", "notes"),
    default_sort="-number",
)
SENDERS = {"CO", "U", "S", "CE"}


@endpoint(methods={"GET"}, scope="profile")
def owner(request: HttpRequest) -> HttpResponse:
    return item_response(owner_json(request.sandbox_owner))


@endpoint(methods={"GET"}, scope="profile")
def profile(request: HttpRequest) -> HttpResponse:
    return item_response(profile_json(request.sandbox_owner))


def _invoices(request: HttpRequest):
    return Invoice.objects.filter(owner=request.sandbox_owner).exclude(status="D")


@endpoint(methods={"GET"}, scope="invoice")
def invoice_list(request: HttpRequest) -> HttpResponse:
    queryset, query = listing.parse(
        request, _invoices(request).select_related("contact"), INVOICE_LIST
    )
    try:
        total = queryset.count()
        rows = list(queryset[query.offset : query.offset + query.limit])
    except (ValidationError, ValueError, TypeError) as exc:
        raise ApiProblem(400, "Invalid filter value") from exc
    items = [invoice_json(row, query.withs) for row in rows]
    return JsonResponse(listing.page_body(request, items, total, query))


def _invoice(request: HttpRequest, invoice_id: int) -> Invoice:
    found = _invoices(request).select_related("contact", "owner").filter(pk=invoice_id).first()
    if found is None:
        raise ApiProblem(404, "Invoice not found", meta={"entity_type": "invoice"})
    return found


@endpoint(methods={"GET"}, scope="invoice")
def invoice_detail(request: HttpRequest, invoice_id: int) -> HttpResponse:
    withs = frozenset(w for w in request.GET.get("with", "").split(",") if w)
    if unknown := withs - INVOICE_LIST.withs:
        raise ApiProblem(400, f"Invalid 'with' key: {sorted(unknown)[0]}")
    return item_response(invoice_json(_invoice(request, invoice_id), withs))


@endpoint(methods={"PATCH"}, scope="invoice")
def invoice_send_by_email(request: HttpRequest, invoice_id: int) -> HttpResponse:
    body = json_body(request)
    invoice = _invoice(request, invoice_id)
    recipients = _validated_email(body)
    if invoice.status == "C":
        raise validation_problem([("status", "A cancelled invoice cannot be sent.")])
    with transaction.atomic():
        OutboxEmail.objects.create(
            owner=invoice.owner,
            client=request.sandbox_token.client,
            document_type="invoice",
            document_id=invoice.pk,
            document_number=invoice.number,
            recipients=recipients,
            subject=expand(body["subject"], invoice),
            body=expand(body["body"], invoice),
            sender=body.get("from") or "",
            receipt=bool(body.get("receipt")),
            request_id=request.sandbox_request_id,
        )
        if invoice.status == "DR":
            Invoice.objects.filter(pk=invoice.pk, status="DR").update(status="S")
    return HttpResponse(status=204)


def _validated_email(body: dict) -> list[dict[str, str]]:
    """The recipients of a valid send-by-email body; 422 with every field error otherwise."""
    errors: list[tuple[str, str]] = []
    for key in ("subject", "body"):
        if not isinstance(body.get(key), str) or not body[key].strip():
            errors.append((key, "This value should not be blank."))
    recipients = body.get("recipients")
    if not isinstance(recipients, list) or not recipients:
        errors.append(("recipients", "At least one recipient is required."))
        recipients = []
    for index, recipient in enumerate(recipients):
        email = recipient.get("email") if isinstance(recipient, dict) else None
        try:
            validate_email(email or "")
        except ValidationError:
            errors.append(
                (f"recipients[{index}].email", "This value is not a valid email address.")
            )
        if isinstance(recipient, dict) and not isinstance(recipient.get("name", ""), str):
            errors.append((f"recipients[{index}].name", "This value should be of type string."))
    if "from" in body and body["from"] not in SENDERS:
        errors.append(("from", "The value you selected is not a valid choice."))
    if "receipt" in body and not isinstance(body["receipt"], bool):
        errors.append(("receipt", "This value should be of type bool."))
    if errors:
        raise validation_problem(errors)
    return [{"email": r["email"], "name": r.get("name") or ""} for r in recipients]
