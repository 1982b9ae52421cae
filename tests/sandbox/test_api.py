"""The sandbox's resources, headers and error bodies (DESIGN §2)."""

import json
import uuid

import pytest

from partnerapp.sandbox.models import OutboxEmail
from partnerapp.sandbox.responses import ApiProblem, problem_response
from tests.sandbox.conftest import API, EMAIL, draft_with_email


def patch_json(client, path, body, headers):
    return client.patch(path, json.dumps(body), content_type="application/json", **headers)


@pytest.mark.parametrize("path", ["/auth/owner", "/receivables/invoices", "/no/such/path"])
def test_every_response_has_request_id_rate_limit_and_cors_headers(client, bearer, path):
    response = client.get(API + path, **bearer())
    assert uuid.UUID(response["X-Request-Id"]).version == 4
    for header in ("X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"):
        assert response[header].isdigit()
    assert response["Access-Control-Allow-Origin"] == "*"


def test_request_ids_are_fresh(client, bearer):
    headers = bearer()
    ids = {client.get(API + "/auth/owner", **headers)["X-Request-Id"] for _ in range(3)}
    assert len(ids) == 3


def test_an_unknown_path_is_a_json_404(client):
    response = client.get(API + "/nothing/here")
    assert response.status_code == 404 and response.json()["code"] == 404


def test_a_wrong_method_is_a_json_405(client, bearer):
    response = client.delete(API + "/auth/owner", **bearer())
    assert response.status_code == 405 and response.json() == {
        "code": 405,
        "message": "Method not allowed",
    }


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("delete", "/auth/owner", "GET"),
        ("patch", "/receivables/invoices", "GET, POST"),
        ("post", "/receivables/invoices/1", "DELETE, GET, PUT"),
        ("get", "/receivables/invoices/1/send-by-email", "PATCH"),
    ],
)
def test_a_405_names_the_allowed_methods(client, bearer, method, path, allowed):
    response = getattr(client, method)(API + path, **bearer())
    assert (response.status_code, response["Allow"]) == (405, allowed)


def test_an_empty_answer_has_no_content_type(client, bearer, owner):
    invoice = draft_with_email(owner)
    sent = patch_json(
        client, f"{API}/receivables/invoices/{invoice.pk}/send-by-email", EMAIL, bearer()
    )
    preflight = client.options(API + "/auth/owner")
    for response in (sent, preflight):
        assert response.status_code == 204 and response.content == b""
        assert "Content-Type" not in response


def test_no_permission_is_a_403_without_body_or_content_type():
    response = problem_response(ApiProblem(403))
    assert (response.status_code, response.content) == (403, b"")
    assert "Content-Type" not in response


@pytest.mark.parametrize("action", ["change-status", "send-by-email", "send-by-post"])
def test_an_empty_json_array_is_an_empty_object(call, owner, action):
    # the PHP wrapper JSON-encodes empty options as []
    invoice = draft_with_email(owner)
    path = f"/receivables/invoices/{invoice.pk}/{action}"
    as_array = call("PATCH", path, [])
    as_object = call("PATCH", path, {})
    assert as_array.status_code == 422
    assert as_array.json() == as_object.json()


def test_a_json_array_with_items_is_still_a_400(call, owner):
    invoice = draft_with_email(owner)
    response = call("PATCH", f"/receivables/invoices/{invoice.pk}/change-status", ["S"])
    assert response.status_code == 400


def test_no_token_is_a_401_with_error_type_and_hint(client):
    body = client.get(API + "/auth/owner").json()
    assert body["code"] == 401
    assert body["meta"] == {"error_type": "access_denied", "hint": 'Missing "Authorization" header'}


def test_a_missing_scope_is_a_400_with_code_11_as_the_wrapper_words_it(client, bearer):
    response = client.get(API + "/receivables/invoices", **bearer(scope="profile"))
    assert response.status_code == 400
    assert response.json() == {
        "code": 11,
        "message": "Some of the required scopes are missing in the request",
        "meta": {
            "error_type": "required_scopes_missing",
            "hint": "End user has to generate access token with: [`invoice`] scopes included",
        },
    }


def test_the_list_has_the_pagination_object(client, bearer, owner):
    body = client.get(API + "/receivables/invoices?limit=10&offset=10", **bearer()).json()
    pagination = body["pagination"]
    assert len(body["items"]) == 10 and pagination["total"] == owner.invoices.count()
    assert (pagination["page"], pagination["pages"]) == (2, 3)
    assert "offset=0" in pagination["previous"] and "offset=20" in pagination["next"]
    assert "offset=20" in pagination["last"] and "offset=0" in pagination["first"]


def test_the_list_filters_on_status(client, bearer, owner):
    query = "filter=" + json.dumps({"and": [{"status": "DR"}]})
    body = client.get(f"{API}/receivables/invoices?{query}&limit=200", **bearer()).json()
    assert {i["status"] for i in body["items"]} == {"DR"}
    assert body["pagination"]["total"] == owner.invoices.filter(status="DR").count()


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=201",
        "limit=x",
        "offset=-1",
        "sort=colour",
        "with=everything",
        "filter=notjson",
        'filter={"colour":"red"}',
        'filter={"date":"yesterday"}',
    ],
)
def test_bad_list_parameters_are_400(client, bearer, query):
    response = client.get(f"{API}/receivables/invoices?{query}", **bearer())
    assert response.status_code == 400 and response.json()["message"]


def test_a_missing_invoice_is_404_with_entity_type(client, bearer):
    body = client.get(API + "/receivables/invoices/987654", **bearer()).json()
    assert body["code"] == 404 and body["meta"] == {"entity_type": "invoice"}


def test_send_by_email_records_the_email_and_marks_the_draft_sent(client, bearer, owner):
    invoice = draft_with_email(owner)
    response = patch_json(
        client,
        f"{API}/receivables/invoices/{invoice.pk}/send-by-email",
        {
            "subject": "Invoice {INVOICENO}",
            "body": "{SALUTATION}, {INVOICEAMOUNT} by {DATEDUE}",
            "recipients": [{"email": "x@example.com", "name": "X"}],
            "from": "CE",
        },
        bearer(),
    )
    assert response.status_code == 204 and response.content == b""
    email = OutboxEmail.objects.get()
    assert email.subject == f"Invoice {invoice.number}"
    assert invoice.currency in email.body and "{" not in email.body
    assert email.request_id == response["X-Request-Id"] and email.sender == "CE"
    invoice.refresh_from_db()
    assert invoice.status == "S"


def test_send_by_email_validates_every_field(client, bearer, owner):
    invoice = draft_with_email(owner)
    response = patch_json(
        client,
        f"{API}/receivables/invoices/{invoice.pk}/send-by-email",
        {
            "subject": " ",
            "body": "",
            "recipients": [{"email": "nope", "name": "X"}],
            "from": "ZZ",
        },
        bearer(),
    )
    assert response.status_code == 422
    keys = {e["key"] for e in response.json()["meta"]["errors"]}
    assert keys == {"subject", "body", "recipients[0].email", "from"}
    assert not OutboxEmail.objects.exists()


def test_a_body_that_is_not_json_is_400(client, bearer, owner):
    invoice = draft_with_email(owner)
    response = client.patch(
        f"{API}/receivables/invoices/{invoice.pk}/send-by-email",
        "{oops",
        content_type="application/json",
        **bearer(),
    )
    assert response.status_code == 400


def test_an_oversized_body_is_413(client, bearer, owner, settings):
    settings.SANDBOX_MAX_BODY_BYTES = 1000
    invoice = draft_with_email(owner)
    body = {"subject": "s", "body": "x" * 2000, "recipients": [{"email": "a@b.ch", "name": ""}]}
    response = patch_json(
        client, f"{API}/receivables/invoices/{invoice.pk}/send-by-email", body, bearer()
    )
    assert response.status_code == 413


def test_over_budget_is_429_with_remaining_zero(client, bearer, settings):
    settings.SANDBOX_RATE_LIMIT = 3
    headers = bearer()
    statuses = [client.get(API + "/auth/owner", **headers).status_code for _ in range(4)]
    last = client.get(API + "/auth/owner", **headers)
    assert statuses == [200, 200, 200, 429]
    assert last["X-Rate-Limit-Remaining"] == "0" and int(last["X-Rate-Limit-Reset"]) > 0
