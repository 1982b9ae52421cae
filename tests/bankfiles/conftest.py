"""Hand-written bank files (fixtures/) and invoices as the provider returns them."""

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def invoice(number: str, total: float, **fields) -> dict:
    """An invoice dict with the keys the provider's list returns (the ones matching reads)."""
    return {
        "id": fields.pop("id", abs(hash(number)) % 10**9),
        "number": number,
        "status": "S",
        "total": total,
        "total_paid": 0.0,
        "currency": "CHF",
        "isr_reference_number": "",
        "contact_name": "Kunde AG",
        "date": "2026-02-01",
        "due": "2026-03-03",
        **fields,
    }


@pytest.fixture
def read():
    return fixture_bytes
