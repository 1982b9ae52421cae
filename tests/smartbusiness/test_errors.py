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


def test_invalid_grant_is_its_own_type():
    body = {"code": 401, "message": "x", "meta": {"error_type": "invalid_grant", "hint": "h"}}
    error = errors.error_from_response(response(401, body))
    assert isinstance(error, errors.InvalidGrant)
    assert (error.error_type, error.hint) == ("invalid_grant", "h")


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
