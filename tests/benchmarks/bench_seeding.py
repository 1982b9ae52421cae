"""Benchmark: seeding 10,000 realistic invoices on SQLite, against row-by-row saving.

A script, not a test (pytest collects test_*.py only):

    .venv/bin/python tests/benchmarks/bench_seeding.py [--invoices 10000] [--owners 10]

Runs on a fresh SQLite file in a temporary folder, with the real settings and
migrations. Both sides build the same rows with the same realism (names, addresses,
positions, totals); the baseline saves them one by one for a smaller N and is
extrapolated. Prints the times side by side and their ratio.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def setup_django(folder: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "partnerapp.settings"
    os.environ["PARTNERAPP_VAR_DIR"] = folder
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)


def seed_bulk(invoices: int, owners: int, *, other_documents: int | None, first: int = 0) -> float:
    from django.utils import timezone

    from partnerapp.sandbox.management.commands.sandbox_seed import owner_fields
    from partnerapp.sandbox.seeding import seed_owner

    started = time.perf_counter()
    for index in range(first, first + owners):
        seed_owner(
            **owner_fields(index),
            password="sandbox-owner",
            invoices=invoices // owners,
            seed=42,
            today=timezone.localdate(),
            other_documents=other_documents,
        )
    return time.perf_counter() - started


def seed_row_by_row(invoices: int) -> float:
    """The same realistic rows, each saved on its own (the naive way)."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from partnerapp.sandbox import seeding  # its row builders, to compare like with like
    from partnerapp.sandbox.models import Owner

    started = time.perf_counter()
    owner = Owner.objects.create(
        email="naive@sandbox.example",
        password=make_password("sandbox-owner"),
        name="Naive",
        surname="Owner",
        company_name="Naive AG",
    )
    rng, today = random.Random(1), timezone.localdate()
    contacts = []
    for number in range(1, max(10, invoices // 4) + 1):
        contact = seeding._contact(rng, owner, number)
        contact.save()
        contacts.append(contact)
    people = seeding._people(1, owner, contacts)
    setup = seeding.Setup(*seeding.configuration_for_owner(owner), people=people)
    for number in range(1, invoices + 1):
        seeding._invoice(rng, rng.choice(contacts), number, today, setup).save()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--owners", type=int, default=10)
    parser.add_argument("--baseline-invoices", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-seeding-") as folder:
        setup_django(folder)
        # Like with like: contacts and invoices only, as the baseline builds them …
        bulk = seed_bulk(args.invoices, args.owners, other_documents=0)
        # … and what `sandbox_seed` really does: also offers, delivery notes, order
        # confirmations and letters (a tenth of the invoices each).
        full = seed_bulk(args.invoices, args.owners, other_documents=None, first=args.owners)
        naive = seed_row_by_row(args.baseline_invoices)
    naive_extrapolated = naive * args.invoices / args.baseline_invoices
    print(f"seeding {args.invoices} realistic invoices for {args.owners} owners on SQLite")
    print(
        f"  bulk, contacts + invoices:     {bulk:7.2f} s  ({args.invoices / bulk:,.0f} invoices/s)"
    )
    print(
        f"  row by row (baseline), same:   {naive_extrapolated:7.2f} s  "
        f"(measured {naive:.2f} s for {args.baseline_invoices}, extrapolated)"
    )
    print(f"  ratio: bulk is {naive_extrapolated / bulk:.1f}x faster than row by row")
    print(
        f"  bulk, with the other kinds:    {full:7.2f} s  "
        f"(goal: under 10 s: {'met' if full < 10 else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
