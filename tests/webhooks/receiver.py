"""A local webhook receiver: a threaded HTTP server that verifies every request's
signature with `standardwebhooks` and answers as the test scripts it."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified_with: list[str]  # the secrets (of those given) whose signature matched
    payload: dict | None


@dataclass
class Receiver:
    """`answers`: one per request in order, the last repeated — an int status, or
    ("sleep", seconds) to hold the request past the sender's read timeout, then 200."""

    secrets: list[str] = field(default_factory=list)
    answers: list = field(default_factory=lambda: [200])
    received: list[Received] = field(default_factory=list)

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                answer = receiver._record(dict(self.headers.items()), body)
                if isinstance(answer, tuple):
                    time.sleep(answer[1])
                    answer = 200
                if isinstance(answer, str):  # a redirect to this address
                    self.send_response(302)
                    self.send_header("Location", answer)
                    self.end_headers()
                    return
                text = b"ok" if answer < 300 else b"receiver error " + b"x" * 2000
                self.send_response(answer)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def _record(self, headers: dict[str, str], body: bytes):
        verified, payload = [], None
        for secret in self.secrets:
            try:
                payload = Webhook(secret).verify(body, headers)
                verified.append(secret)
            except WebhookVerificationError:
                pass
        self.received.append(Received(headers, body, verified, payload))
        index = min(len(self.received), len(self.answers)) - 1
        return self.answers[index]

    def verified(self) -> list[Received]:
        return [request for request in self.received if request.verified_with]
