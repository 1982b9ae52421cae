"""What the transport repeats and what it never repeats, against a real flaky HTTP server.

A tiny local server stands in for a provider having a bad minute: it answers 500
(or 503) a given number of times, then succeeds. Real sockets, real retries.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from partnerapp.smartbusiness import errors
from partnerapp.smartbusiness.client import DocumentKind, Recipient, SmartBusinessClient
from partnerapp.smartbusiness.session import ApiConfig


class FlakyProvider(BaseHTTPRequestHandler):
    failures_left = 0
    failure_status = 500
    seen: list[str] = []

    def _answer(self) -> None:
        type(self).seen.append(self.command)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if type(self).failures_left > 0:
            type(self).failures_left -= 1
            self._send(type(self).failure_status, {"code": 500, "message": "boom"})
        elif self.command == "PATCH":
            self._send(204, None)
        else:
            self._send(200, {"item": {"id": 1, "name": "Anna", "surname": "Keller"}})

    def _send(self, status: int, body) -> None:
        self.send_response(status)
        self.send_header("X-Request-Id", "00000000-0000-4000-8000-000000000000")
        payload = json.dumps(body).encode() if body is not None else b""
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_PATCH = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def provider():
    FlakyProvider.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FlakyProvider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    config = ApiConfig(
        base_url=f"http://127.0.0.1:{server.server_port}/v2",
        client_id="c",
        client_secret="s",
        allow_http=True,
        get_retries=3,
    )
    yield SmartBusinessClient(config, "token")
    server.shutdown()


def send(client):
    return client.send_by_email(
        DocumentKind.INVOICE,
        1,
        subject="s",
        body="b",
        recipients=[Recipient(email="a@b.ch", name="A")],
    )


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_get_is_retried_through_a_bad_minute(provider, status):
    FlakyProvider.failures_left, FlakyProvider.failure_status = 2, status
    assert provider.owner()["name"] == "Anna"
    assert FlakyProvider.seen == ["GET"] * 3


def test_a_get_gives_up_after_its_retries(provider):
    FlakyProvider.failures_left = 10
    with pytest.raises(errors.ServerError):
        provider.owner()
    assert FlakyProvider.seen == ["GET"] * 4


def test_an_action_is_never_repeated_by_the_transport(provider):
    FlakyProvider.failures_left = 1
    with pytest.raises(errors.ServerError):
        send(provider)
    assert FlakyProvider.seen == ["PATCH"]


def test_an_action_after_a_bad_minute_goes_through_once(provider):
    assert send(provider).request_id == "00000000-0000-4000-8000-000000000000"
    assert FlakyProvider.seen == ["PATCH"]
