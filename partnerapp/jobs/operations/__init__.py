"""The operations partnerapp runs, one module each; this registry is all that knows them.

`OPERATIONS` maps a key ("invoice.send_by_email") to its operation. Adding an
operation is one module with an `Operation` subclass, listed in `KINDS`, plus its
tests; the engine, wizard, schedules, preview and exports need no change.
"""

from __future__ import annotations

from partnerapp.jobs.operations.archive import DownloadPdfs
from partnerapp.jobs.operations.base import (
    DOCUMENTS,
    Context,
    JobInputError,
    Operation,
    Step,
    first_error,
)
from partnerapp.jobs.operations.email import SendByEmail
from partnerapp.jobs.operations.payments import RecordPayments
from partnerapp.jobs.operations.post import SendByPost
from partnerapp.jobs.operations.reminders import PaymentReminders
from partnerapp.jobs.operations.status import ChangeStatus

KINDS: tuple[type[Operation], ...] = (
    SendByEmail,
    SendByPost,
    ChangeStatus,
    PaymentReminders,
    RecordPayments,
    DownloadPdfs,
)

OPERATIONS: dict[str, Operation] = {
    operation.key: operation
    for kind in KINDS
    for document in DOCUMENTS
    if document in kind.documents
    for operation in [kind(document)]
}
# The model field's choices; labels are looked up per request (they are translated).
OPERATION_CHOICES = [(key, key) for key in OPERATIONS]


def operation_for(key: str) -> Operation:
    """The operation of a job's `action` key; KeyError for one partnerapp does not know."""
    return OPERATIONS[key]


def operation_choices(keys=None) -> list[tuple[str, str]]:
    """(key, label) pairs for a form, in the active language: the operations a person
    runs over a selection (recording payments starts from a bank file instead)."""
    return [
        (key, op.label)
        for key, op in OPERATIONS.items()
        if op.reads_selection and (keys is None or key in keys)
    ]


def parameter_fields() -> dict:
    """Every operation form's fields by name (operations share names like `resend`)."""
    fields: dict = {}
    for kind in KINDS:
        if not kind.reads_selection:
            continue
        form = kind(kind.documents[0]).form()
        for name, field in form.fields.items():
            fields.setdefault(name, field)
    return fields


__all__ = [
    "OPERATIONS",
    "OPERATION_CHOICES",
    "Context",
    "JobInputError",
    "Operation",
    "Step",
    "first_error",
    "operation_choices",
    "operation_for",
    "parameter_fields",
]
