"""A production-mode gunicorn (as in docker/): hashed static files via WhiteNoise, security
headers, HTTPS redirects, the health probe, JSON access lines with the request id.

The server runs in a subprocess with PARTNERAPP_ENV=production on a SQLite file of its
own; requests send X-Forwarded-Proto as the TLS proxy in front of it would.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.production.prodenv import ROOT, manage, production_env

HOST = "partnerapp.example.com"
HTTPS = {"Host": HOST, "X-Forwarded-Proto": "https"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, var_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = var_dir / "gunicorn.log"
        self.env = production_env(
            var_dir,
            DATABASE_URL=f"sqlite:///{var_dir / 'production.sqlite3'}",
            CELERY_BROKER_URL="filesystem://",
            CELERY_BROKER_DIR="production-broker",
            PORT=str(self.port),
        )
        self.process: subprocess.Popen | None = None

    def prepare(self) -> None:
        for command in (["collectstatic", "--noinput"], ["migrate", "--noinput"]):
            result = manage(*command, env=self.env)
            assert result.returncode == 0, result.stderr

    def start(self) -> None:
        command = [
            sys.executable, "-m", "gunicorn", "partnerapp.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}", "--workers", "1", "--no-control-socket",
        ]  # fmt: skip
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                requests.get(f"{self.url}/health/?check=database", headers=HTTPS, timeout=2)
                return
            except (requests.ConnectionError, requests.Timeout):  # not up, or still booting
                time.sleep(0.2)
        raise AssertionError(f"gunicorn did not answer; see {self.log}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def get(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("headers", HTTPS)
        kwargs.setdefault("allow_redirects", False)
        return requests.get(self.url + path, timeout=10, **kwargs)

    def json_log_lines(self) -> list[dict]:
        lines = []
        for line in self.log.read_text().splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("production"))
    server.prepare()
    server.start()
    yield server
    server.stop()


def manifest(server: Server) -> dict[str, str]:
    path = Path(server.env["PARTNERAPP_VAR_DIR"]) / "staticfiles" / "staticfiles.json"
    return json.loads(path.read_text())["paths"]


def test_a_hashed_static_file_is_served_with_a_far_future_cache(server):
    hashed = manifest(server)["css/app.css"]
    assert hashed != "css/app.css"  # the name carries the content hash
    response = server.get(f"/static/{hashed}")
    assert response.status_code == 200
    assert response.content == (ROOT / "static" / "css" / "app.css").read_bytes()
    assert "immutable" in response.headers["Cache-Control"]
    assert response.headers["Content-Type"].startswith("text/css")


def test_static_files_are_served_compressed_to_clients_that_accept_it(server):
    hashed = manifest(server)["vendor/htmx/htmx.min.js"]
    response = server.get(f"/static/{hashed}", headers={**HTTPS, "Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"


def test_pages_link_the_hashed_static_files(server):
    page = server.get("/accounts/login/")
    assert page.status_code == 200
    assert f"/static/{manifest(server)['css/app.css']}" in page.text
    assert f"/static/{manifest(server)['js/app.js']}" in page.text


def test_pages_carry_the_security_headers(server):
    response = server.get("/accounts/login/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    csrf_cookie = response.cookies._cookies[HOST]["/"]["csrftoken"]
    assert csrf_cookie.secure


def test_plain_http_is_redirected_to_https(server):
    response = server.get("/accounts/login/", headers={"Host": HOST})
    assert response.status_code == 301
    assert response.headers["Location"] == f"https://{HOST}/accounts/login/"


def test_an_unknown_host_is_refused(server):
    assert (
        server.get("/", headers={"Host": "evil.example", "X-Forwarded-Proto": "https"}).status_code
        == 400
    )


def test_the_health_endpoint_answers_plain_http_for_load_balancers(server):
    response = server.get("/health/?check=database", headers={"Host": HOST})
    assert response.status_code == 200
    assert response.json()["checks"]["database"]["ok"] is True


def test_the_container_health_probe_passes_for_the_web_checks_and_fails_without_workers(server):
    probe = [sys.executable, "-m", "partnerapp.health.probe", "--port", str(server.port)]
    web = subprocess.run(
        [*probe, "--check", "database", "--check", "broker"],
        env=server.env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert web.returncode == 0, web.stderr
    everything = subprocess.run(
        probe, env=server.env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert everything.returncode == 1
    assert json.loads(everything.stderr)["checks"]["worker"]["ok"] is False


def test_each_request_logs_one_json_line_with_its_request_id(server):
    response = server.get("/accounts/login/?next=/secret-search-term/")
    request_id = response.headers["X-Request-Id"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        mine = [line for line in server.json_log_lines() if line.get("request_id") == request_id]
        if mine:
            break
        time.sleep(0.1)
    assert len(mine) == 1, server.log.read_text()[-2000:]
    line = mine[0]
    assert line["logger"] == "partnerapp.request" and line["level"] == "INFO"
    assert line["path"] == "/accounts/login/" and line["status"] == 200
    assert "secret-search-term" not in json.dumps(line)  # no query strings in logs
    assert line["time"].endswith("+00:00") or line["time"].endswith("Z")
