"""Turning a job's selection into provider documents (reads only).

A selection is explicit ids and/or a filter: `{"ids": [...], "filter": {"status": "DR",
"date_from": "2026-11-01" | "today", "date_to": ..., "contact_id": 12, "q": "..."}}`.
A filter is resolved by listing 200 at a time; explicit ids one by one (the list
filter on ids is not a documented provider feature). Both together mean the union.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from partnerapp.connections.services import CallContext, connection_call
from partnerapp.smartbusiness.client import MAX_PAGE_SIZE, DocumentKind, Filter, stable_sort
from partnerapp.smartbusiness.errors import NotFound

MAX_IDS = 1000
FILTER_KEYS = ("status", "date_from", "date_to", "contact_id", "q")


def provider_filter(spec: dict[str, Any], *, today: date) -> Filter:
    """The provider's JSON filter for our filter fields; dates may say "today"."""

    def day(value: str) -> str:
        return today.isoformat() if value == "today" else date.fromisoformat(value).isoformat()

    combined = Filter()
    if spec.get("status"):
        combined &= Filter(status=spec["status"])
    bounds = {}
    if spec.get("date_from"):
        bounds["gte"] = day(spec["date_from"])
    if spec.get("date_to"):
        bounds["lte"] = day(spec["date_to"])
    if bounds:
        combined &= Filter(date=bounds)
    if spec.get("contact_id"):
        combined &= Filter(contact_id=int(spec["contact_id"]))
    return combined


def pages(job, *, today: date, context: CallContext) -> Iterator[list[dict]]:
    """The selected documents with their contact, a page at a time.

    Missing explicit ids come back as `{"id": n, "missing": True}`. A filter is the
    user's and the operation's together (a reminder run lists only open invoices).
    """
    selection, kind = job.selection, job.operation.kind
    ids = [int(i) for i in selection.get("ids", [])][:MAX_IDS]
    for start in range(0, len(ids), 50):
        yield [_one(job, kind, document_id, context) for document_id in ids[start : start + 50]]
    spec = selection.get("filter")
    if spec is None:
        return
    offset = 0
    while True:
        page = connection_call(
            job.connection,
            lambda api, offset=offset: api.documents(
                kind,
                filter=job_filter(job, spec, today=today),
                q=spec.get("q") or None,
                with_=["contact"],
                limit=MAX_PAGE_SIZE,
                offset=offset,
                sort=stable_sort(kind),
            ),
            context,
        )
        yield page.items
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return


def job_filter(job, spec: dict[str, Any], *, today: date) -> Filter:
    own = job.operation.selection_filter(job.parameters)
    user = provider_filter(spec, today=today)
    return user & own if own else user


def _one(job, kind: DocumentKind, document_id: int, context: CallContext) -> dict[str, Any]:
    try:
        return connection_call(
            job.connection, lambda api: api.document(kind, document_id, with_=["contact"]), context
        )
    except NotFound:
        return {"id": document_id, "missing": True}
