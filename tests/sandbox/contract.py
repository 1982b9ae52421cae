"""Checking sandbox responses against an OpenAPI 3.0 document with jsonschema.

`Contract(document)` finds the operation a (method, path) belongs to and validates a
response body against the schema documented for its status, resolving `$ref`s inside
the document. OpenAPI 3.0's `nullable: true` becomes JSON Schema's `"null"` type.
"""

from __future__ import annotations

import copy
import re
from functools import cached_property
from typing import Any

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

BASE_URI = "urn:openapi"
METHODS = ("get", "post", "put", "patch", "delete")


def allow_null(schema: Any) -> Any:
    """`{type: integer, nullable: true}` → `{anyOf: [{type: integer}, {type: null}]}`."""
    if isinstance(schema, list):
        return [allow_null(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: allow_null(value) for key, value in schema.items() if key != "nullable"}
    if schema.get("nullable") is True:
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


class Contract:
    """`generic_errors`: for a status the operation does not list, the schema (by status,
    0 for any other) its body must still follow; None: such a status is a violation."""

    def __init__(
        self, document: dict[str, Any], *, generic_errors: dict[int, str] | None = None
    ) -> None:
        self.document = allow_null(copy.deepcopy(document))
        self.generic_errors = generic_errors

    @cached_property
    def _registry(self) -> Registry:
        resource = Resource(contents=self.document, specification=DRAFT4)
        return Registry().with_resource(BASE_URI, resource)

    @cached_property
    def _templates(self) -> list[tuple[re.Pattern, str]]:
        """Path templates, most specific (fewest parameters) first."""
        templates = sorted(self.document["paths"], key=lambda path: (path.count("{"), path))
        return [(re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", t) + "$"), t) for t in templates]

    def operation(self, method: str, path: str, status: int = 200) -> tuple[str, dict[str, Any]]:
        """(template, operation) serving `method path`; AssertionError when none does.

        A 405 answers a method the path does not have: any operation of the path
        documents it."""
        for pattern, template in self._templates:
            if not pattern.match(path):
                continue
            item = self.document["paths"][template]
            operation = item.get(method.lower())
            if operation is None and status == 405:
                operation = next((item[m] for m in METHODS if m in item), None)
            if operation:
                return template, operation
        raise AssertionError(f"{method} {path} is not an operation of the document")

    def response_schema(self, method: str, path: str, status: int) -> dict[str, Any] | None:
        """The documented schema of this answer; None when it documents no content."""
        _, operation = self.operation(method, path, status)
        # YAML reads an unquoted `200:` as a number, a quoted one as text.
        responses = {str(key): value for key, value in operation["responses"].items()}
        response = responses.get(str(status))
        if response is None:
            if self.generic_errors is None:
                raise AssertionError(f"{method} {path} does not document status {status}")
            name = self.generic_errors.get(status, self.generic_errors[0])
            return {"$ref": f"#/components/schemas/{name}"}
        response = self._resolve(response)
        content = response.get("content") or {}
        media = content.get("application/json") or next(iter(content.values()), None)
        return media.get("schema") if media else None

    def errors(self, schema: dict[str, Any], instance: Any) -> list[str]:
        """Every way `instance` breaks `schema` (empty: it conforms)."""
        rooted = {"$ref": BASE_URI + schema["$ref"]} if "$ref" in schema else schema
        validator = Draft4Validator(rooted, registry=self._registry)
        return [
            f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
            for error in validator.iter_errors(instance)
        ]

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = self._registry.resolver(BASE_URI).lookup(node["$ref"]).contents
        return node
