"""List parameters as the provider reads them: q, filter, with, limit, offset, sort."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db import DataError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, JsonResponse

from partnerapp.sandbox.responses import ApiProblem

MAX_OFFSET = 1_000_000_000  # far beyond any account; bigger numbers overflow the database
OPERATORS = {"eq": "exact", "in": "in", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte"}


@dataclass(frozen=True)
class ListSpec:
    """What a resource allows: filter keys (→ ORM lookups), sort keys, `with` keys, q fields."""

    filters: dict[str, str]
    sorts: dict[str, str]
    withs: frozenset[str]
    search: tuple[str, ...]
    default_sort: str


@dataclass(frozen=True)
class ListQuery:
    limit: int
    offset: int
    withs: frozenset[str]


def respond(
    request: HttpRequest, queryset: QuerySet, spec: ListSpec, render: Callable[..., dict]
) -> JsonResponse:
    """The list answer: `render(row, withs)` for each row of the requested page."""
    queryset, query = parse(request, queryset, spec)
    try:
        total = queryset.count()
        rows = list(queryset[query.offset : query.offset + query.limit])
    except (ValidationError, ValueError, TypeError, DataError) as exc:
        raise ApiProblem(400, "Invalid filter value") from exc
    items = [render(row, query.withs) for row in rows]
    return JsonResponse(page_body(request, items, total, query))


def parse_withs(request: HttpRequest, allowed: frozenset[str]) -> frozenset[str]:
    """The `with` keys asked for; 400 for one the resource does not know."""
    withs = frozenset(w.strip() for w in request.GET.get("with", "").split(",") if w.strip())
    if unknown := withs - allowed:
        raise ApiProblem(400, f"Invalid 'with' key: {sorted(unknown)[0]}")
    return withs


def parse(request: HttpRequest, queryset: QuerySet, spec: ListSpec) -> tuple[QuerySet, ListQuery]:
    params = request.GET
    limit = _int(params.get("limit", "100"), "limit", low=1, high=200)
    offset = _int(params.get("offset", "0"), "offset", low=0, high=MAX_OFFSET)
    withs = parse_withs(request, spec.withs)
    if q := params.get("q", "").strip():
        match = Q()
        for field in spec.search:
            match |= Q(**{f"{field}__icontains": q})
        queryset = queryset.filter(match)
    if raw_filter := params.get("filter", "").strip():
        try:
            queryset = queryset.filter(_filter_q(_json(raw_filter), spec))
        except (ValidationError, ValueError, TypeError, DataError) as exc:
            raise ApiProblem(400, "Invalid filter value") from exc
    queryset = queryset.order_by(*_ordering(params.get("sort", spec.default_sort), spec), "pk")
    return queryset, ListQuery(limit=limit, offset=offset, withs=withs)


def page_body(request: HttpRequest, items: list[dict[str, Any]], total: int, query: ListQuery):
    """`{items, pagination}` with the first/last/next/previous URLs."""
    pages = max(1, math.ceil(total / query.limit))
    page = query.offset // query.limit + 1
    last_offset = (pages - 1) * query.limit
    pagination: dict[str, Any] = {
        "page": page,
        "pages": pages,
        "total": total,
        "first": _page_url(request, 0),
        "last": _page_url(request, last_offset),
    }
    if query.offset + query.limit < total:
        pagination["next"] = _page_url(request, query.offset + query.limit)
    if query.offset > 0:
        pagination["previous"] = _page_url(request, max(0, query.offset - query.limit))
    return {"items": items, "pagination": pagination}


def _page_url(request: HttpRequest, offset: int) -> str:
    params = request.GET.copy()
    params["offset"] = str(offset)
    return request.build_absolute_uri(request.path) + "?" + urlencode(sorted(params.items()))


def _int(raw: str, name: str, *, low: int, high: int | None = None) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ApiProblem(400, f"Invalid {name}: must be an integer") from None
    if value < low or (high is not None and value > high):
        bounds = f"[{low}-{high}]" if high is not None else f">= {low}"
        raise ApiProblem(400, f"Invalid {name}: must be in {bounds}")
    return value


def _json(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiProblem(400, "Invalid filter: not valid JSON") from None


def _filter_q(expr: Any, spec: ListSpec) -> Q:
    """`{"and": [...]}`, `{"or": [...]}` or `{key: value}` / `{key: {op: value}}` terms."""
    if not isinstance(expr, dict) or not expr:
        raise ApiProblem(400, "Invalid filter: expected a JSON object")
    combined = Q()
    for key, value in expr.items():
        if key in ("and", "or"):
            if not isinstance(value, list) or not value:
                raise ApiProblem(400, f"Invalid filter: '{key}' needs a non-empty list")
            parts = [_filter_q(part, spec) for part in value]
            term = parts[0]
            for part in parts[1:]:
                term = (term & part) if key == "and" else (term | part)
        else:
            term = _term(key, value, spec)
        combined &= term
    return combined


def _term(key: str, value: Any, spec: ListSpec) -> Q:
    if key not in spec.filters:
        raise ApiProblem(400, f"Invalid filter key: {key}")
    field = spec.filters[key]
    if isinstance(value, list):
        return Q(**{f"{field}__in": value})
    if isinstance(value, dict):
        term = Q()
        for op, operand in value.items():
            if op not in OPERATORS:
                raise ApiProblem(400, f"Invalid filter operator: {op}")
            term &= Q(**{f"{field}__{OPERATORS[op]}": operand})
        return term
    return Q(**{field: value})


def _ordering(raw: str, spec: ListSpec) -> list[str]:
    ordering = []
    for key in (k.strip() for k in raw.split(",") if k.strip()):
        name = key.lstrip("-")
        if name not in spec.sorts:
            raise ApiProblem(400, f"Invalid sort key: {name}")
        ordering.append(("-" if key.startswith("-") else "") + spec.sorts[name])
    return ordering
