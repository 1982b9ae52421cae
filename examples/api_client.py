"""A partner's program driving partnerapp through its API (requests only).

It creates a job with an Idempotency-Key (a retry after a timeout can never create a
second job), polls it until it finished, and shows how to verify a webhook's signature.

    PARTNERAPP_API_KEY=pa_live_... python examples/api_client.py \\
        --base-url https://partnerapp.example.com --connection 3 --ids 101 102 \\
        --action invoice.change_status --parameters '{"status": "S"}'

Prints the finished job (JSON) and exits 0 when it is done, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid

import requests

FINISHED = {"done", "cancelled", "failed"}
NEEDS_A_PERSON = {"paused"}  # e.g. the client's account must be reconnected


class Api:
    def __init__(self, base_url: str, key: str, *, timeout: float = 30) -> None:
        self.base = base_url.rstrip("/") + "/api/v1"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {key}"
        self.timeout = timeout

    def post(self, path: str, body: dict, *, idempotency_key: str) -> dict:
        """POST, retried on timeouts, 409 (the first try still runs) and 5xx with the SAME
        key and body: partnerapp answers the first result again instead of acting twice."""
        for attempt in range(6):
            try:
                answer = self.session.post(
                    self.base + path,
                    json=body,
                    headers={"Idempotency-Key": idempotency_key},
                    timeout=self.timeout,
                )
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(2**attempt)
                continue
            if answer.status_code == 429:
                time.sleep(float(answer.headers.get("Retry-After", "1")))
                continue
            if answer.status_code == 409 or answer.status_code >= 500:
                time.sleep(2**attempt)
                continue
            answer.raise_for_status()
            return answer.json()
        raise RuntimeError(f"POST {path} did not succeed")

    def get(self, path: str) -> dict:
        answer = self.session.get(self.base + path, timeout=self.timeout)
        if answer.status_code == 429:
            time.sleep(float(answer.headers.get("Retry-After", "1")))
            return self.get(path)
        answer.raise_for_status()
        return answer.json()


def create_job(api: Api, *, connection: int, action: str, ids: list[int], parameters: dict) -> dict:
    """Create and start a job. The idempotency key is made once per intended job and
    reused for every retry (store it with your ERP's record to survive a restart)."""
    body = {
        "connection": connection,
        "action": action,
        "selection": {"ids": ids},
        "parameters": parameters,
        "auto_start": True,
    }
    return api.post("/jobs", body, idempotency_key=str(uuid.uuid4()))


def wait_for(api: Api, job_id: int, *, every: float = 2.0, at_most: float = 600) -> dict:
    """Poll the job until it finished or needs a person; returns its last state."""
    deadline = time.monotonic() + at_most
    while True:
        job = api.get(f"/jobs/{job_id}")
        if job["status"] in FINISHED | NEEDS_A_PERSON or time.monotonic() > deadline:
            return job
        time.sleep(every)


def verify_webhook(secret: str, headers: dict[str, str], body: bytes) -> dict:
    """The event of a webhook delivery, if its signature is partnerapp's (Standard
    Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`); raises otherwise.
    `secret` is the endpoint's signing secret ("whsec_..."), shown when you add it."""
    from standardwebhooks.webhooks import Webhook  # pip install standardwebhooks

    return Webhook(secret).verify(body, headers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--connection", type=int, required=True)
    parser.add_argument("--action", default="invoice.change_status")
    parser.add_argument("--ids", type=int, nargs="+", required=True)
    parser.add_argument("--parameters", default='{"status": "S"}')
    parser.add_argument("--poll-every", type=float, default=2.0)
    args = parser.parse_args(argv)
    api = Api(args.base_url, os.environ["PARTNERAPP_API_KEY"])
    job = create_job(
        api,
        connection=args.connection,
        action=args.action,
        ids=args.ids,
        parameters=json.loads(args.parameters),
    )
    job = wait_for(api, job["id"], every=args.poll_every)
    print(json.dumps(job, indent=2))
    return 0 if job["status"] == "done" else 1


if __name__ == "__main__":
    sys.exit(main())
