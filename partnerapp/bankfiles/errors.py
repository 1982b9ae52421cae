"""The one error a bank file can raise."""

from __future__ import annotations


class BankFileError(ValueError):
    """The upload is not a bank file partnerapp can read.

    `str(error)` tells a person what is wrong and what to do, in the language active when
    it was raised; `code` names the case for programs ('empty', 'too_large', 'unsafe_xml',
    'broken_xml', 'wrong_message', 'not_a_bank_file', 'bad_value', …).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def shown(value: str, limit: int = 40) -> str:
    """A value from the file as it may appear in a message: one line, not too long."""
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
