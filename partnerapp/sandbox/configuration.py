"""An account's configuration the provider keeps: bank accounts, ISR/QR set-ups, units.

Every owner gets one default bank account and one default QR set-up when seeded
(`configuration_for_owner`); the system units are shared by all (`system_units`).
"""

from __future__ import annotations

from django.db import transaction

from partnerapp.sandbox.models import BankAccount, Isr, Owner, Unit
from partnerapp.sandbox.references import swiss_iban

# (id, name, scope): the provider's system units; positions default to unit 1.
SYSTEM_UNITS = (
    (1, "hour", "s"),
    (2, "piece", "p"),
    (3, "day", "s"),
    (4, "flat rate", "a"),
    (5, "km", "a"),
    (6, "kg", "p"),
    (7, "month", "s"),
    (8, "m", "p"),
)
# PostFinance's institution id, and the QR-IID range a QR-IBAN takes its id from.
POSTFINANCE_IID = 9000
QR_IID = 30000


def system_units() -> list[Unit]:
    """The system units, created on first use (ids fixed: positions refer to them)."""
    rows = [Unit(pk=pk, owner=None, name=name, scope=scope) for pk, name, scope in SYSTEM_UNITS]
    Unit.objects.bulk_create(rows, ignore_conflicts=True)
    return list(Unit.objects.filter(owner=None).order_by("pk"))


@transaction.atomic
def configuration_for_owner(owner: Owner) -> tuple[BankAccount, Isr]:
    """The owner's default bank account and QR set-up, created when missing."""
    account = owner.bank_accounts.filter(default=True).first() or _bank_account(owner)
    isr = owner.isrs.filter(default=True).first() or _isr(owner)
    return account, isr


def _bank_account(owner: Owner) -> BankAccount:
    return BankAccount.objects.create(
        owner=owner,
        default=True,
        description="Business account",
        bank_name="PostFinance AG",
        number=f"{owner.pk % 100:02d}-{owner.pk % 10**6:06d}-{owner.pk % 9}",
        iban=swiss_iban(POSTFINANCE_IID, owner.pk),
        bic="POFICHBEXXX",
        post_account="",
    )


def _isr(owner: Owner) -> Isr:
    company = owner.company_name or f"{owner.name} {owner.surname}"
    return Isr.objects.create(
        owner=owner,
        default=True,
        type="ISR",
        position="A",
        name="QR-bill",
        bank_name="PostFinance AG",
        bank_address="Mingerstrasse 20, 3030 Bern",
        recipient_name=company,
        recipient_street="Bahnhofstrasse 1",
        recipient_city="8001 Zürich",
        delivery_number="",
        iban=swiss_iban(QR_IID + owner.pk % 2000, owner.pk),
        subscriber_number="",
    )
