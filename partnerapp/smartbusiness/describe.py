"""One sentence for a person per provider error: `describe(error)`.

Every page, job outcome and API answer that explains a provider error calls this,
so an error reads the same everywhere and in the reader's language. The provider's
own message and per-field errors follow the sentence (they are the provider's words,
in the provider's language).

`explain(error)` gives the same as data — which sentence (a key of `LEADS`), its
values, and the provider's words — for what is stored and said later in another
language (a job item's outcome: `jobs/outcomes.py`); `sentence()` says it.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from partnerapp.smartbusiness.errors import (
    ConnectFailed,
    Forbidden,
    MissingScope,
    NotFound,
    PaymentRequired,
    ProtocolError,
    ResponseLost,
    ServerError,
    SmartBusinessError,
    TooManyRequests,
    TransportError,
    Unauthorized,
    ValidationFailed,
)

# The lead sentence of each kind of error, by key; `%(…)s` values come from `explain`.
LEADS = {
    "missing_scope": gettext_lazy(
        "This connection lacks the scope %(scope)s — reconnect and grant it."
    ),
    "unreachable": gettext_lazy("SmartBusiness could not be reached."),
    "no_answer": gettext_lazy(
        "SmartBusiness did not answer in time; the request may have arrived."
    ),
    "unreadable": gettext_lazy("SmartBusiness answered with something partnerapp cannot read."),
    "rate_limit": gettext_lazy("SmartBusiness's rate limit is reached."),
    "server_error": gettext_lazy("SmartBusiness had an internal error (%(status)s)."),
    "token_refused": gettext_lazy("SmartBusiness refused the access token."),
    "plan_limit_of": gettext_lazy(
        "The SmartBusiness plan's limit for %(feature)s is reached (402)."
    ),
    "plan_limit": gettext_lazy("A limit of the SmartBusiness plan is reached (402)."),
    "plan_lacks": gettext_lazy("The SmartBusiness plan does not include %(feature)s (403)."),
    "forbidden": gettext_lazy("SmartBusiness does not allow this for this account (403)."),
    "not_found": gettext_lazy("SmartBusiness does not know this document (404)."),
    "invalid_data": gettext_lazy("SmartBusiness refused the data (422)."),
    "refused": gettext_lazy("SmartBusiness refused the request%(status)s."),
}


def missing_scope_message(scope: str) -> str:
    """What a person reads when a connection lacks the scope an action needs."""
    return str(LEADS["missing_scope"]) % {"scope": scope}


def describe(error: SmartBusinessError, *, scope: str = "") -> str:
    """The error as a sentence: what happened, then the provider's words and fields.

    `scope` names the scope the call needed, for a bare 403 that means a missing grant.
    """
    return sentence(*explain(error, scope=scope))


def explain(error: SmartBusinessError, *, scope: str = "") -> tuple[str, dict[str, Any], str]:
    """The error as data: the key of its lead sentence (`LEADS`), the lead's values, and
    the provider's own words (verbatim, in the provider's language; "" when none)."""
    if isinstance(error, MissingScope) or (scope and isinstance(error, Forbidden)):
        return "missing_scope", {"scope": getattr(error, "scope", "") or scope}, ""
    key, values = _lead(error)
    return key, values, _provider_words(error)


def sentence(key: str, values: dict[str, Any], said: str = "") -> str:
    """The lead in the active language, followed by the provider's words."""
    lead = str(LEADS[key]) % values if values else str(LEADS[key])
    return f"{lead} {said}".strip() if said and said not in lead else lead


def _lead(error: SmartBusinessError) -> tuple[str, dict[str, Any]]:
    simple = (
        (ConnectFailed, "unreachable"),
        (ResponseLost | TransportError, "no_answer"),
        (ProtocolError, "unreadable"),
        (TooManyRequests, "rate_limit"),
    )
    for kind, key in simple:
        if isinstance(error, kind):
            return key, {}
    if isinstance(error, ServerError):
        return "server_error", {"status": error.status}
    if isinstance(error, Unauthorized):
        return "token_refused", {}
    feature = str(error.meta.get("feature") or "")
    if isinstance(error, PaymentRequired):
        return ("plan_limit_of", {"feature": feature}) if feature else ("plan_limit", {})
    if isinstance(error, Forbidden):
        return ("plan_lacks", {"feature": feature}) if feature else ("forbidden", {})
    if isinstance(error, NotFound):
        return "not_found", {}
    if isinstance(error, ValidationFailed):
        return "invalid_data", {}
    return "refused", {"status": f" ({error.status})" if error.status else ""}


def _provider_words(error: SmartBusinessError) -> str:
    """The provider's message and field errors: "Validation failed — email: invalid"."""
    fields = "; ".join(f"{e.key}: {e.message}" for e in error.field_errors)
    message = error.message if error.message and not error.message.startswith("HTTP ") else ""
    return " — ".join(part for part in (message, fields) if part)
