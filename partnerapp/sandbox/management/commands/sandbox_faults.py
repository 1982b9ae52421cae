import argparse
import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from partnerapp.sandbox import faults
from partnerapp.sandbox.models import FaultProfile, Owner
from partnerapp.sandbox.services import owner_find


def optional_int(value: str) -> int | None:
    """An integer, or "none" to fall back to the default (settings)."""
    return None if value.lower() in {"", "none", "default"} else int(value)


def probability(value: str) -> float:
    number = float(value)
    if not 0 <= number <= 1:
        raise argparse.ArgumentTypeError("a probability is between 0 and 1")
    return number


def on_off(value: str) -> bool:
    if value.lower() in {"on", "yes", "true", "1"}:
        return True
    if value.lower() in {"off", "no", "false", "0"}:
        return False
    raise argparse.ArgumentTypeError("on or off")


# option → (type, help); every one is left out of the changes unless given.
SETTINGS = {
    "latency_ms": (int, "fixed delay of every API answer, in ms"),
    "jitter_ms": (int, "plus a random delay up to this, in ms"),
    "p429": (probability, "probability of an injected 429"),
    "p500": (probability, "probability of an injected 500"),
    "p503": (probability, "probability of an injected 503"),
    "p_lost": (probability, "probability that a write happens and its response is lost"),
    "lost_mode": (str, "how a response is lost: 502, 504 or hold"),
    "lost_hold_seconds": (float, "with --lost-mode hold: how long to hold the response"),
    "expire_next_tokens": (int, "the next N authenticated calls find their token expired"),
    "token_lifetime": (optional_int, "lifetime of new access tokens in s ('none': default)"),
    "rate_limit": (optional_int, "calls per period per (owner, client) ('none': default)"),
    "rate_limit_period": (optional_int, "the rate-limit period in s ('none': default)"),
    "invoice_limit": (optional_int, "plan limit on invoices, then 402 ('none': unlimited)"),
    "missing_features": (str, "space separated features the plan lacks (403), e.g. send_by_post"),
    "seed": (optional_int, "seed of the fault dice ('none': unrepeatable); restarts the count"),
    "token_error_style": (
        str,
        "how the token endpoint refuses: league (its statuses and {error, message, hint}), "
        "wrapped (the same as {code, message, meta}) or legacy (401 for all)",
    ),
    "revoke_access_on_refresh": (
        on_off,
        "on/off: a refresh revokes the access token issued with the used refresh token",
    ),
}


class Command(BaseCommand):
    help = (
        "Show or change the sandbox's faults, globally or for one owner; takes effect at "
        "once in every process serving the sandbox."
    )

    def add_arguments(self, parser):
        parser.add_argument("--owner", help="an owner's email or id; default: the global profile")
        for name, (kind, text) in SETTINGS.items():
            flag = "--" + name.replace("_", "-")
            parser.add_argument(flag, type=kind, help=text, default=argparse.SUPPRESS)
        parser.add_argument(
            "--expire-tokens-now", action="store_true", help="expire every access token of --owner"
        )
        parser.add_argument("--reset", action="store_true", help="forget this profile's settings")
        parser.add_argument("--reset-all", action="store_true", help="forget every profile")

    def handle(self, *args, owner=None, expire_tokens_now=False, reset=False, **options):
        target = _owner(owner) if owner else None
        if options.get("reset_all"):
            faults.profile_reset_all()
        elif reset:
            faults.profile_reset(owner=target)
        changes = {name: options[name] for name in SETTINGS if name in options}
        if changes:
            self._update(target, changes)
        if expire_tokens_now:
            self._expire(target)
        profile = faults.profile_for(target)
        self.stdout.write(json.dumps(faults.describe(profile), indent=2))

    def _update(self, target: Owner | None, changes: dict) -> FaultProfile:
        try:
            return faults.profile_update(owner=target, changes=changes)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc

    def _expire(self, target: Owner | None) -> None:
        if target is None:
            raise CommandError("--expire-tokens-now needs --owner")
        count = faults.tokens_expire_now(owner=target)
        self.stdout.write(f"{count} access tokens of {target.email} expired")


def _owner(value: str) -> Owner:
    owner = owner_find(value)
    if owner is None:
        raise CommandError(f"no sandbox owner {value!r}")
    return owner
