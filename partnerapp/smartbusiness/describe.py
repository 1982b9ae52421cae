"""One sentence for a person per provider error: `describe(error)`.

Every page, job outcome and API answer that explains a provider error calls this,
so an error reads the same everywhere and in the reader's language. The provider's
own message and per-field errors follow the sentence (they are the provider's words,
in the provider's language).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

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


def missing_scope_message(scope: str) -> str:
    """What a person reads when a connection lacks the scope an action needs."""
    return _("This connection lacks the scope %(scope)s — reconnect and grant it.") % {
        "scope": scope
    }


def describe(error: SmartBusinessError, *, scope: str = "") -> str:
    """The error as a sentence: what happened, then the provider's words and fields.

    `scope` names the scope the call needed, for a bare 403 that means a missing grant.
    """
    if isinstance(error, MissingScope) or (scope and isinstance(error, Forbidden)):
        return missing_scope_message(getattr(error, "scope", "") or scope)
    lead = _lead(error)
    said = _provider_words(error)
    return f"{lead} {said}".strip() if said and said not in lead else lead


def _lead(error: SmartBusinessError) -> str:
    if isinstance(error, ConnectFailed):
        return _("SmartBusiness could not be reached.")
    if isinstance(error, ResponseLost | TransportError):
        return _("SmartBusiness did not answer in time; the request may have arrived.")
    if isinstance(error, ProtocolError):
        return _("SmartBusiness answered with something partnerapp cannot read.")
    if isinstance(error, TooManyRequests):
        return _("SmartBusiness's rate limit is reached.")
    if isinstance(error, ServerError):
        return _("SmartBusiness had an internal error (%(status)s).") % {"status": error.status}
    if isinstance(error, Unauthorized):
        return _("SmartBusiness refused the access token.")
    if isinstance(error, PaymentRequired):
        return _plan_limit(error)
    if isinstance(error, Forbidden):
        return _forbidden(error)
    if isinstance(error, NotFound):
        return _("SmartBusiness does not know this document (404).")
    if isinstance(error, ValidationFailed):
        return _("SmartBusiness refused the data (422).")
    status = f" ({error.status})" if error.status else ""
    return _("SmartBusiness refused the request%(status)s.") % {"status": status}


def _plan_limit(error: PaymentRequired) -> str:
    feature = str(error.meta.get("feature") or "")
    if feature:
        return _("The SmartBusiness plan's limit for %(feature)s is reached (402).") % {
            "feature": feature
        }
    return _("A limit of the SmartBusiness plan is reached (402).")


def _forbidden(error: Forbidden) -> str:
    feature = str(error.meta.get("feature") or "")
    if feature:
        return _("The SmartBusiness plan does not include %(feature)s (403).") % {
            "feature": feature
        }
    return _("SmartBusiness does not allow this for this account (403).")


def _provider_words(error: SmartBusinessError) -> str:
    """The provider's message and field errors: "Validation failed — email: invalid"."""
    fields = "; ".join(f"{e.key}: {e.message}" for e in error.field_errors)
    message = error.message if error.message and not error.message.startswith("HTTP ") else ""
    return " — ".join(part for part in (message, fields) if part)
