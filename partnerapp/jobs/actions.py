"""The single-step actions every document kind has (send by email, send by post,
change status): a view of the operation registry (`operations/`) for the pages that
offer exactly these."""

from __future__ import annotations

from partnerapp.jobs.operations import OPERATIONS

SEND_BY_EMAIL, SEND_BY_POST, CHANGE_STATUS = "send_by_email", "send_by_post", "change_status"
CLASSIC = (SEND_BY_EMAIL, SEND_BY_POST, CHANGE_STATUS)

ACTIONS = {key: op for key, op in OPERATIONS.items() if op.name in CLASSIC}

__all__ = ["ACTIONS", "CHANGE_STATUS", "SEND_BY_EMAIL", "SEND_BY_POST"]
