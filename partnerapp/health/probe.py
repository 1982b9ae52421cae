"""`python -m partnerapp.health.probe`: the container healthcheck for the web service.

Asks this host's /health/ (by default only the checks the web process itself
needs) and exits 0 when it answers 200. Uses the standard library only, and sends
a Host header from ALLOWED_HOSTS, which production enforces.
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.request
from urllib.parse import urlencode


def probe_host() -> str:
    hosts = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    host = hosts[0].lstrip(".") if hosts else "localhost"
    return "localhost" if host == "*" else host


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--check", action="append", default=[], help="database, broker, worker")
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args(argv)
    query = urlencode([("check", name) for name in args.check])
    url = f"http://127.0.0.1:{args.port}/health/" + (f"?{query}" if query else "")
    request = urllib.request.Request(
        url, headers={"Host": probe_host(), "X-Forwarded-Proto": "https"}
    )
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as response:  # noqa: S310
            print(response.read().decode())
            return 0 if response.status == 200 else 1
    except urllib.error.HTTPError as error:
        print(error.read().decode(), file=sys.stderr)
    except OSError as error:
        print(f"health probe failed: {error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
