"""The sandbox's own OpenAPI 3 description (openapi.yaml beside this file), served as
YAML and JSON so contract tools (schemathesis) can test the sandbox against it."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from django.http import HttpRequest, HttpResponse, JsonResponse

SCHEMA_PATH = Path(__file__).with_name("openapi.yaml")


# libyaml's loader when PyYAML was built with it: the pure-Python one takes about half a
# second of each worker's first request for this document.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def openapi() -> dict[str, Any]:
    return yaml.load(SCHEMA_PATH.read_text(encoding="utf-8"), Loader=LOADER)  # noqa: S506 - a safe loader


def _with_server(request: HttpRequest) -> dict[str, Any]:
    """The document, with this server's base URL, so a tool can call what it reads."""
    base = request.build_absolute_uri("/sandbox/v2")
    return {**openapi(), "servers": [{"url": base, "description": "this sandbox"}]}


def openapi_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_with_server(request))


def openapi_yaml(request: HttpRequest) -> HttpResponse:
    text = yaml.safe_dump(_with_server(request), sort_keys=False, allow_unicode=True)
    return HttpResponse(text, content_type="application/yaml; charset=utf-8")
