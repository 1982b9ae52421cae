"""The provider's resources as thin views: the account, contacts, and every document kind.

Each view parses, calls one service (contacts.py, documents.py) and renders. Document
views are built once per kind (`document_views`), each guarded by its kind's scope.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from partnerapp.sandbox import contacts, documents, listing, pdf, preview, validation
from partnerapp.sandbox.api import endpoint, json_body, parse_ids, require_feature
from partnerapp.sandbox.kinds import DocumentKind
from partnerapp.sandbox.representations import (
    contact_json,
    document_json,
    owner_json,
    profile_json,
)
from partnerapp.sandbox.responses import ApiProblem, empty_response, item_response

CONTACT_LIST = listing.ListSpec(
    filters={
        "id": "pk",
        "number": "number",
        "name": "name",
        "email": "email",
        "type": "type",
        "language": "language",
        "currency": "currency",
        "city": "city",
    },
    sorts={"id": "pk", "number": "number", "name": "name", "created": "created"},
    withs=frozenset({"main_address"}),
    search=("number", "name", "email", "city", "notes"),
    default_sort="number",
)
NO_CONTENT = 204
CONTACT = ("contact",)  # what sending a document reads besides the document (placeholders)


# -- the account -----------------------------------------------------------------------------


@endpoint(methods={"GET"}, scope="profile")
def owner(request: HttpRequest) -> HttpResponse:
    return item_response(owner_json(request.sandbox_owner))


@endpoint(methods={"GET"}, scope="profile")
def profile(request: HttpRequest) -> HttpResponse:
    return item_response(profile_json(request.sandbox_owner))


# -- contacts --------------------------------------------------------------------------------


@endpoint(methods={"GET", "POST"}, scope="contact")
def contact_collection(request: HttpRequest) -> HttpResponse:
    owner = request.sandbox_owner
    if request.method == "POST":
        created = contacts.contact_create(owner=owner, body=json_body(request))
        return item_response(contact_json(created), status=201)
    return listing.respond(request, contacts.contacts_of(owner), CONTACT_LIST, contact_json)


@endpoint(methods={"GET", "PUT", "DELETE"}, scope="contact")
def contact_item(request: HttpRequest, ids: str) -> HttpResponse:
    owner = request.sandbox_owner
    if request.method == "DELETE":
        contacts.contacts_delete(owner=owner, ids=parse_ids(ids))
        return empty_response(NO_CONTENT)
    contact = contacts.contact_get(owner, _single_id(ids))
    if request.method == "PUT":
        contact = contacts.contact_update(contact=contact, body=json_body(request))
    return item_response(contact_json(contact, listing.parse_withs(request, CONTACT_LIST.withs)))


def _single_id(ids: str) -> int:
    parsed = parse_ids(ids)
    if len(parsed) != 1:
        raise ApiProblem(400, "Expected a single id")
    return parsed[0]


# -- documents (invoices, offers, delivery notes, order confirmations, letters) -------------------


def document_views(kind: DocumentKind) -> dict[str, Callable[..., HttpResponse]]:
    """The views of one kind, by URL name suffix."""
    guarded = endpoint(methods={"GET", "POST"}, scope=kind.scope)
    item = endpoint(methods={"GET", "PUT", "DELETE"}, scope=kind.scope)
    read = endpoint(methods={"GET"}, scope=kind.scope)
    action = endpoint(methods={"PATCH"}, scope=kind.scope)
    return {
        "list": guarded(lambda request: _collection(request, kind)),
        "item": item(lambda request, ids: _item(request, kind, ids)),
        "pdf": read(lambda request, document_id: _pdf(request, kind, document_id)),
        "preview": read(lambda request, document_id: _preview(request, kind, document_id)),
        "change_status": action(lambda request, document_id: _status(request, kind, document_id)),
        "send_by_email": action(lambda request, document_id: _email(request, kind, document_id)),
        "send_by_post": action(lambda request, document_id: _post(request, kind, document_id)),
    }


def _render(kind: DocumentKind):
    return lambda document, withs: document_json(kind, document, withs)


def _collection(request: HttpRequest, kind: DocumentKind) -> HttpResponse:
    owner = request.sandbox_owner
    if request.method == "POST":
        created = documents.document_create(
            kind=kind, owner=owner, profile=request.sandbox_profile, body=json_body(request)
        )
        return item_response(document_json(kind, created), status=201)
    queryset = documents.documents_of(kind, owner)
    return listing.respond(request, queryset, kind.listing, _render(kind))


def _item(request: HttpRequest, kind: DocumentKind, ids: str) -> HttpResponse:
    owner = request.sandbox_owner
    if request.method == "DELETE":
        documents.documents_delete(kind=kind, owner=owner, ids=parse_ids(ids))
        return empty_response(NO_CONTENT)
    document = documents.document_get(kind, owner, _single_id(ids))
    if request.method == "PUT":
        document = documents.document_update(kind=kind, document=document, body=json_body(request))
    withs = listing.parse_withs(request, kind.listing.withs)
    return item_response(document_json(kind, document, withs))


def _pdf(request: HttpRequest, kind: DocumentKind, document_id: int) -> HttpResponse:
    document = documents.document_get(kind, request.sandbox_owner, document_id)
    response = HttpResponse(pdf.render(kind, document), content_type="application/pdf")
    name = getattr(document, "number", "") or f"{kind.name}-{document.pk}"
    response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    return response


def _preview(request: HttpRequest, kind: DocumentKind, document_id: int) -> HttpResponse:
    document = documents.document_get(kind, request.sandbox_owner, document_id)
    _, size = preview.parse(request)
    return HttpResponse(preview.render(kind, document, size=size), content_type="image/png")


def _status(request: HttpRequest, kind: DocumentKind, document_id: int) -> HttpResponse:
    body = json_body(request)
    document = documents.document_get(kind, request.sandbox_owner, document_id)
    status, when = validation.status_action(body, kind.statuses)
    changed = documents.document_change_status(
        kind=kind, document=document, status=status, when=when
    )
    return item_response(document_json(kind, changed))


def _email(request: HttpRequest, kind: DocumentKind, document_id: int) -> HttpResponse:
    require_feature(request.sandbox_profile, "send_by_email")
    body = json_body(request)
    document = documents.document_get(kind, request.sandbox_owner, document_id, joined=CONTACT)
    documents.document_send_by_email(
        kind=kind,
        document=document,
        email=validation.email_action(body, receipt_allowed=kind.receipt),
        client=request.sandbox_token.client,
        request_id=request.sandbox_request_id,
    )
    return empty_response(NO_CONTENT)


def _post(request: HttpRequest, kind: DocumentKind, document_id: int) -> HttpResponse:
    require_feature(request.sandbox_profile, "send_by_post")
    body = json_body(request)
    document = documents.document_get(kind, request.sandbox_owner, document_id, joined=CONTACT)
    documents.document_send_by_post(
        kind=kind,
        document=document,
        options=validation.post_action(body),
        client=request.sandbox_token.client,
        request_id=request.sandbox_request_id,
    )
    return empty_response(NO_CONTENT)
