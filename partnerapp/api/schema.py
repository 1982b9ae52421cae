"""The OpenAPI document's shared parts: every operation names the error answers it may
give, in the one error shape (`errors.py`), so clients and contract tests know them."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension

ERRORS = {
    "400": "The request is malformed or a field is not valid.",
    "401": "No API key, or an unknown, revoked or expired one.",
    "403": "The key may only read.",
    "404": "No such object in the key's organization.",
    "405": "The method is not allowed here.",
    "406": "The Accept header asks for a format this endpoint does not give.",
    "409": "The Idempotency-Key is in flight, or the job's state allows nothing.",
    "415": "The body's media type is not supported.",
    "422": "The request cannot be carried out (e.g. the Idempotency-Key was used with "
    "another body, or the operation refuses the parameters).",
    "429": "Too many calls for this key: wait Retry-After seconds.",
    "500": "Our error; quote the request_id.",
}
POST_ONLY = {"409", "415", "422"}


def add_error_responses(result, generator, request, public):
    """Postprocessing hook: the Error schema, and the error answers on every operation."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    reference = {"$ref": "#/components/schemas/Error"}
    if "Error" not in schemas:
        schemas["Error"] = _error_schema()
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            for status, text in ERRORS.items():
                if status in POST_ONLY and method not in {"post", "put", "patch", "delete"}:
                    continue
                operation["responses"].setdefault(
                    status,
                    {"description": text, "content": {"application/json": {"schema": reference}}},
                )
    return result


def _error_schema() -> dict:
    string = {"type": "string"}
    return {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "fields", "request_id"],
                "properties": {
                    "code": string,
                    "message": string,
                    "fields": {"type": "object", "additionalProperties": True},
                    "request_id": string,
                },
            }
        },
    }


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """`Authorization: Bearer pa_live_…` in the document (loaded by ApiConfig.ready)."""

    target_class = "partnerapp.api.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key of your organization (Organization → API keys).",
        }
