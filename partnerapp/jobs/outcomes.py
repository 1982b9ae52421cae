"""What happened to a job item, as a code and its parameters, said in the reader's language.

A worker writes an outcome while some language is active (or none); the reader may read
another. So an item stores the outcome as data — `outcome_code` (a key of `CATALOG`) and
`outcome_params` (JSON) — and every page says it with `render(item)` in the language active
then. `outcome`, the English sentence, is stored next to it for the CSV export, webhooks
and readers that predate the codes; rows written before the codes have only that sentence,
and `render` shows it as it is.

A parameter is shown verbatim (a number, an address, the provider's own words in the
provider's language) unless its entry names its kind: a document status (said as a word),
a date, a moment, a step of the job's operation, or another outcome (a reason inside a
sentence). Provider errors are the `provider.*` codes, one per sentence of
`smartbusiness.describe`, with the provider's words as the `said` parameter.

Every failure carries `retryable` (`failure`): whether trying the same request again can
change anything (`smartbusiness.errors.retry_can_help`); "Retry failed" leaves the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from partnerapp.smartbusiness import describe, vocabulary
from partnerapp.smartbusiness.errors import SmartBusinessError, retry_can_help

PROVIDER = "provider."  # the codes of provider errors: PROVIDER + a key of describe.LEADS


@dataclass(frozen=True)
class Entry:
    text: Promise
    kinds: dict[str, str] = field(default_factory=dict)  # parameter → status|date|moment|…


def _entry(text: Promise, **kinds: str) -> Entry:
    return Entry(text, kinds)


CATALOG: dict[str, Entry] = {
    # the engine: waits (the item goes back to pending)
    "connection_unusable": _entry(
        _("Reconnect the account first; the job resumes by itself then.")
    ),
    "client_refused": _entry(
        _(
            "SmartBusiness refuses partnerapp's client id/secret (invalid_client). The operator "
            "must check SMARTBUSINESS_CLIENT_ID and SMARTBUSINESS_CLIENT_SECRET; jobs wait."
        )
    ),
    "token_refused": _entry(_("The provider refused the access token; trying again shortly.")),
    "pacing_wait": _entry(_("Waiting for the provider's rate limit to reset.")),
    "rate_limited": _entry(_("Rate limit reached; waiting for the provider's reset.")),
    "unreachable_retry": _entry(_("Provider unreachable; trying again in %(s)d s.")),
    "unclear_retry": _entry(
        _("Unclear answer (%(reason)s); trying again in %(s)d s."), reason="outcome"
    ),
    # the engine: ends
    "worker_stopped": _entry(_("The worker stopped.")),
    "worker_stopped_reason": _entry(_("the worker stopped")),
    "confirmed_after_unclear": _entry(
        _("Confirmed done after an unclear answer (%(reason)s)."), reason="outcome"
    ),
    "uncertain": _entry(
        _("Unclear whether it was done (%(reason)s); not repeated automatically. Review it."),
        reason="outcome",
    ),
    "uncertain_step": _entry(
        _(
            "Step %(n)d of %(of)d (%(step)s): unclear whether it was done (%(reason)s); "
            "not repeated automatically. Review it."
        ),
        step="step",
        reason="outcome",
    ),
    # services: a person's decision, and what preparing the job found
    "cancelled": _entry(_("Not sent: the job was cancelled.")),
    "document_missing": _entry(_("The document no longer exists.")),
    "closed_status": _entry(_("Cancelled or deleted (status %(s)s)."), s="status"),
    "deleted_status": _entry(_("Deleted (status %(s)s)."), s="status"),
    "no_email": _entry(_("The contact has no email address.")),
    "invalid_email": _entry(_("“%(a)s” is not a valid email address; correct it in the contact.")),
    "not_draft": _entry(
        _("Not a draft (status %(s)s); tick “resend” to send it again."), s="status"
    ),
    "already_in_status": _entry(_("Already in status %(s)s."), s="status"),
    "paid_meanwhile": _entry(_("Paid meanwhile.")),
    "last_reminder_reached": _entry(
        _("The 3rd reminder is reached; debt collection is a person's decision.")
    ),
    "not_open": _entry(_("Not an open invoice (status %(s)s)."), s="status"),
    "nothing_open": _entry(_("Nothing is open on this invoice.")),
    "not_due": _entry(_("Not yet due for the next reminder (on %(d)s)."), d="date"),
    # the ledger: another item holds the document (said again from the holder as it is now)
    "conflict.earlier": _entry(_("Already done by an earlier job.")),
    "conflict.other_user_done": _entry(
        _("Already done on %(when)s through another partnerapp user's connection."),
        when="moment",
    ),
    "conflict.other_user_busy": _entry(
        _("Another partnerapp user's job holds this document right now.")
    ),
    "conflict.uncertain": _entry(
        _("Job #%(job)d may already have done this (uncertain); review it there.")
    ),
    "conflict.in_progress": _entry(_("In progress in job #%(job)d.")),
    "conflict.sent": _entry(
        _("Already sent by job #%(job)d on %(when)s; tick “resend” to send it again."),
        when="moment",
    ),
    "conflict.done": _entry(_("Already done by job #%(job)d on %(when)s."), when="moment"),
    # receivables: a refused payment given back to its bank file
    "handed_back": _entry(
        _("%(outcome)s Handed back to the bank file for another try."), outcome="outcome"
    ),
    # provider errors (`describe.LEADS`): the provider's words follow verbatim
    **{PROVIDER + key: Entry(text) for key, text in describe.LEADS.items()},
}


@dataclass(frozen=True)
class Outcome:
    """An outcome as data: a code of CATALOG and JSON-able parameters."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in CATALOG:
            raise ValueError(f"unknown outcome code {self.code!r}")

    def say(self, *, job=None) -> str:
        """The sentence in the active language (`job` names steps of its operation)."""
        return say(self.code, self.params, job=job)

    def english(self, *, job=None) -> str:
        with translation.override("en"):
            return self.say(job=job)

    def fields(self, *, job=None) -> dict[str, Any]:
        """What a JobItem stores: the code, its parameters, and the English sentence."""
        return {
            "outcome": self.english(job=job),
            "outcome_code": self.code,
            "outcome_params": self.params,
        }

    def nested(self) -> dict[str, Any]:
        """This outcome as the parameter of another (a reason inside a sentence)."""
        return {"code": self.code, "params": self.params}


def outcome(code: str, **params: Any) -> Outcome:
    return Outcome(code, params)


def record(code: str, *, job=None, **params: Any) -> dict[str, Any]:
    """The fields to store for an outcome: `outcome` (English), `outcome_code`, `outcome_params`."""
    return Outcome(code, params).fields(job=job)


NONE = {"outcome": "", "outcome_code": "", "outcome_params": {}}  # nothing to say (sent)


# -- provider errors ---------------------------------------------------------------------------


def provider_error(error: SmartBusinessError, *, scope: str = "", step: int | None = None):
    """A provider error as an outcome: its sentence (`describe.explain`) and the provider's
    own words; `step` (an index) names the step it refused in a multi-step operation."""
    key, values, said = describe.explain(error, scope=scope)
    params: dict[str, Any] = {**values, "said": said}
    if step is not None:
        params["step"] = step
    return Outcome(PROVIDER + key, params)


def failure(error: SmartBusinessError, *, scope: str = "", step: int | None = None) -> Outcome:
    """A refusal that ends the item `failed`, marked whether retrying it can help."""
    refused = provider_error(error, scope=scope, step=step)
    params = {**refused.params, "retryable": retry_can_help(error.status, error.code)}
    return Outcome(refused.code, params)


def worker_stopped_reason(error: SmartBusinessError | None) -> Outcome:
    """Why an answer was unclear: the provider's error, or a worker that died."""
    return provider_error(error) if error is not None else outcome("worker_stopped_reason")


# Failed items "Retry failed" leaves alone: the provider refused the request itself. A key
# lookup (SQLite has no JSON containment); its negation is spelt out in MAY_RETRY, since
# NOT (key = false) is NULL, not true, for an outcome without the key.
NOT_RETRYABLE = Q(outcome_params__retryable=False)
MAY_RETRY = Q(outcome_params__retryable=True) | Q(outcome_params__retryable__isnull=True)


# -- saying it ---------------------------------------------------------------------------------


def render(item, job=None) -> str:
    """The item's outcome in the active language; the stored sentence for rows without a
    code. A ledger skip names its holder as it stands now ("in progress in job #13"
    becomes "already sent by job #13 on …")."""
    conflict = item.state == "skipped" and item.conflict_item_id
    if job is None and (conflict or _names_step(item.outcome_params)):
        job = item.job  # loaded only when the sentence needs it
    if conflict:
        from partnerapp.jobs import ledger

        return ledger.conflict_outcome(item.conflict_item, job).say(job=job)
    if item.outcome_code in CATALOG:
        return say(item.outcome_code, item.outcome_params or {}, job=job)
    return item.outcome


def say(code: str, params: dict[str, Any], *, job=None) -> str:
    entry = CATALOG[code]
    values = {name: _value(entry.kinds.get(name), value, job) for name, value in params.items()}
    if code.startswith(PROVIDER):
        text = describe.sentence(code.removeprefix(PROVIDER), values, str(params.get("said", "")))
    else:
        text = str(entry.text) % values if values else str(entry.text)
    if code.startswith(PROVIDER) and params.get("step") is not None and _steps(job) > 1:
        label = _step_label(params["step"], job)
        text = f"{label[:1].upper()}{label[1:]}: {text}"
    return text


def _names_step(params: Any) -> bool:
    """Whether the parameters (or an outcome inside them) name a step of the operation."""
    if not isinstance(params, dict):
        return False
    inner = (value.get("params") for value in params.values() if isinstance(value, dict))
    return params.get("step") is not None or any(_names_step(value) for value in inner)


def _steps(job) -> int:
    return len(job.operation.steps) if job is not None else 0


def _step_label(index: Any, job) -> str:
    if job is None or not isinstance(index, int):
        return str(index)
    return str(job.operation.step_label(index))


def _nested(value: Any, job) -> str:
    """Another outcome inside a sentence, or (from rows before the codes) its text."""
    if isinstance(value, dict) and value.get("code") in CATALOG:
        return say(value["code"], value.get("params") or {}, job=job)
    if isinstance(value, dict):
        return str(value.get("text", ""))
    return str(value)


def _date(value: Any, job) -> str:
    try:
        return date.fromisoformat(str(value)).strftime("%d.%m.%Y")
    except ValueError:
        return str(value)


def _moment(value: Any, job) -> str:
    try:
        return timezone.localtime(datetime.fromisoformat(str(value))).strftime("%d.%m.%Y %H:%M")
    except (TypeError, ValueError):
        return "?"


KINDS: dict[str, Callable[[Any, Any], str]] = {
    "status": lambda value, job: str(vocabulary.status_label(str(value))),
    "date": _date,
    "moment": _moment,
    "step": _step_label,
    "outcome": _nested,
}


def _value(kind: str | None, value: Any, job) -> Any:
    return KINDS[kind](value, job) if kind else value


def moment(value: datetime | None) -> str | None:
    """A moment as a parameter (ISO, said in the reader's time format and zone)."""
    return value.isoformat() if value else None


def as_parameter(item) -> dict[str, Any]:
    """The item's outcome as the parameter of another; its sentence for rows without a code."""
    if item.outcome_code in CATALOG:
        return {"code": item.outcome_code, "params": item.outcome_params or {}}
    return {"text": item.outcome}
