import json

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from partnerapp.smartbusiness import errors


def response(status: int, body=None, headers=None) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r._content = json.dumps(body).encode() if body is not None else b""
    r.headers.update({"Content-Type": "application/json", **(headers or {})})
    return r


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.BadRequest),
        (401, errors.Unauthorized),
        (402, errors.PaymentRequired),
        (403, errors.Forbidden),
        (404, errors.NotFound),
        (405, errors.MethodNotAllowed),
        (413, errors.PayloadTooLarge),
        (422, errors.ValidationFailed),
        (429, errors.TooManyRequests),
        (500, errors.ServerError),
        (502, errors.ServerError),
        (503, errors.ServiceUnavailable),
        (504, errors.ServerError),
    ],
)
def test_every_documented_status_maps_to_its_type(status, cls):
    error = errors.error_from_response(response(status, {"code": status, "message": "m"}))
    assert type(error) is cls
    assert error.status == status


def test_it_keeps_code_message_meta_and_request_id():
    body = {"code": 4001, "message": "Limit reached", "meta": {"feature": "invoices", "limit": 5}}
    error = errors.error_from_response(response(402, body, {"X-Request-Id": "abc-123"}))
    assert (error.code, error.message, error.meta["limit"]) == (4001, "Limit reached", 5)
    assert error.request_id == "abc-123"


def test_it_lists_per_field_errors_of_a_422():
    body = {
        "code": 422,
        "message": "Validation failed",
        "meta": {
            "errors": [{"key": "recipients[0].email", "code": 1000, "message": "not a valid email"}]
        },
    }
    error = errors.error_from_response(response(422, body))
    assert error.field_errors == [
        errors.FieldError(key="recipients[0].email", message="not a valid email", code=1000)
    ]


def league(status: int, error: str, message: str, hint: str = "", code: int = 0):
    """league/oauth2-server's body, and the same in the provider's wrapped shape."""
    flat = {"error": error, "message": message, **({"hint": hint} if hint else {})}
    wrapped = {"code": code, "message": message, "meta": {"error_type": error, "hint": hint}}
    return [response(status, flat), response(status, wrapped)]


TOKEN_ANSWERS = [
    # a revoked, reused, expired or foreign refresh token (league's invalidRefreshToken)
    *[
        (answer, errors.GrantRefused, hint)
        for hint in ("Token has been revoked", "Token has expired", "Token is not linked to client")
        for answer in league(401, "invalid_request", "The refresh token is invalid.", hint, 8)
    ],
    *[
        (answer, errors.GrantRefused, "Authorization code has been revoked")
        for answer in league(
            400,
            "invalid_request",
            "The request is missing a required parameter, includes an invalid parameter value.",
            "Authorization code has been revoked",
            3,
        )
    ],
    *[
        (answer, errors.GrantRefused, "Failed to verify `code_verifier`.")
        for answer in league(
            400,
            "invalid_grant",
            "The provided authorization grant is invalid.",
            "Failed to verify `code_verifier`.",
            10,
        )
    ],
    *[
        (answer, errors.ClientRefused, "")
        for answer in league(401, "invalid_client", "Client authentication failed", "", 4)
    ],
    *[
        (answer, errors.ScopeRefused, "Check the `payroll` scope")
        for answer in league(
            400,
            "invalid_scope",
            "The requested scope is invalid, unknown, or malformed",
            "Check the `payroll` scope",
            5,
        )
    ],
    # the legacy answer: 401 with meta.error_type invalid_grant
    (
        response(401, {"code": 401, "message": "x", "meta": {"error_type": "invalid_grant"}}),
        errors.GrantRefused,
        "",
    ),
]


@pytest.mark.parametrize(("answer", "cls", "hint"), TOKEN_ANSWERS)
def test_token_refusals_are_typed_in_either_body_shape(answer, cls, hint):
    error = errors.token_error_from_response(answer)
    assert type(error) is cls
    assert error.hint == hint
    assert error.status == answer.status_code


def test_a_token_request_without_the_refresh_token_message_is_not_a_dead_grant():
    answer = response(
        400, {"error": "invalid_request", "message": "Check the `grant_type`", "hint": ""}
    )
    assert type(errors.token_error_from_response(answer)) is errors.TokenRefused


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_token_endpoint_in_trouble_stays_transient(status):
    assert errors.token_error_from_response(response(status, {"message": "down"})).transient


def test_invalid_grant_is_still_known_by_its_old_name():
    assert errors.InvalidGrant is errors.GrantRefused


@pytest.mark.parametrize(
    "body",
    [
        {
            "code": 11,
            "message": "Some of the required scopes are missing in the request",
            "meta": {
                "error_type": "required_scopes_missing",
                "hint": "End user has to generate access token with: [`invoice`] scopes included",
            },
        },
        {"code": 11, "message": "Required scopes are missing", "meta": {"hint": "invoice"}},
        {"code": 400, "message": "x", "meta": {"error_type": "required_scopes_missing"}},
    ],
)
def test_a_missing_scope_is_its_own_type(body):
    error = errors.error_from_response(response(400, body))
    assert isinstance(error, errors.MissingScope) and isinstance(error, errors.BadRequest)
    assert error.scope == ("invoice" if "hint" in body["meta"] else "")


def test_a_plain_bad_request_is_not_a_missing_scope():
    error = errors.error_from_response(response(400, {"code": 400, "message": "Invalid limit"}))
    assert type(error) is errors.BadRequest


def test_a_403_without_body_is_still_forbidden():
    error = errors.error_from_response(response(403))
    assert isinstance(error, errors.Forbidden) and error.message


def test_429_waits_for_the_reset_header():
    headers = {
        "X-Rate-Limit-Limit": "50",
        "X-Rate-Limit-Remaining": "0",
        "X-Rate-Limit-Reset": "17",
    }
    error = errors.error_from_response(response(429, {"code": 429, "message": "slow"}, headers))
    assert error.retry_after == 17 and error.transient


def test_a_refused_connection_never_arrived_but_a_reset_may_have():
    refused = requests.ConnectionError(
        MaxRetryError(None, "/", NewConnectionError(None, "refused"))
    )
    reset = requests.ConnectionError(ProtocolError("Connection aborted."))
    assert errors.transport_error(refused).may_have_arrived is False
    assert errors.transport_error(reset).may_have_arrived is True
    assert errors.transport_error(requests.ReadTimeout()).may_have_arrived is True


def test_a_429_with_budget_left_backs_off_briefly():
    headers = {
        "X-Rate-Limit-Limit": "50",
        "X-Rate-Limit-Remaining": "12",
        "X-Rate-Limit-Reset": "900",
    }
    error = errors.error_from_response(response(429, {"code": 429, "message": "slow"}, headers))
    assert error.retry_after == 5
