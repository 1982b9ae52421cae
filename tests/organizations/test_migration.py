"""The organizations migration on a database with data: every user gets a personal
organization (as its owner) and each connection, job, schedule and bank upload moves into
the organization of the user it belonged to.

The schema is taken back to the last migration before organizations, filled with rows
through the historical models (as a production database holds them), and migrated forward.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("connections", "0005_rate_window_row"),
    ("jobs", "0008_operation_choices"),
    ("receivables", "0001_initial"),
    ("organizations", None),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    nodes = [target for target in targets if target[1] is not None]  # (app, None): zero
    return executor.loader.project_state(nodes).apps


def _leaves():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_existing_rows_move_into_their_users_personal_organization():
    leaves = _leaves()
    try:
        old = _migrate(BEFORE)
        rows = _fill(old)
        new = _migrate(leaves)
        _check(new, rows)
    finally:
        _migrate(leaves)


def _fill(apps) -> dict:
    User = apps.get_model("auth", "User")
    Connection = apps.get_model("connections", "Connection")
    BatchJob = apps.get_model("jobs", "BatchJob")
    Schedule = apps.get_model("jobs", "Schedule")
    BankUpload = apps.get_model("receivables", "BankUpload")
    rows = {"users": {}, "connections": {}, "jobs": {}, "schedules": {}, "uploads": {}}
    for n, email in enumerate(["anna@treuhand.example", "beat@agentur.example", "idle@x.example"]):
        user = User.objects.create(username=email, email=email, password="!")
        rows["users"][email] = user.pk
        if email.startswith("idle"):
            continue  # a user without any row gets an organization too
        for account in ("100", "200"):  # two users may hold the same provider account
            conn = Connection.objects.create(
                user=user,
                base_url="https://api.example/v2",
                account_id=account,
                owner_name=f"Kunde {account}",
                scopes="profile invoice",
            )
            rows["connections"][conn.pk] = email
            job = BatchJob.objects.create(
                user=user, connection=conn, action="invoice.send_by_email"
            )
            rows["jobs"][job.pk] = email
            schedule = Schedule.objects.create(
                user=user,
                connection=conn,
                name=f"Run {n}",
                action="invoice.send_by_email",
                cron="0 8 * * 1",
            )
            rows["schedules"][schedule.pk] = email
            upload = BankUpload.objects.create(
                user=user, connection=conn, sha256="0" * 64, format="camt.054"
            )
            rows["uploads"][upload.pk] = email
    return rows


def _check(apps, rows: dict) -> None:
    Membership = apps.get_model("organizations", "Membership")
    personal = {}
    for email, user_id in rows["users"].items():
        memberships = Membership.objects.filter(user_id=user_id).select_related("organization")
        assert [(m.role, m.organization.personal) for m in memberships] == [("owner", True)]
        personal[email] = memberships[0].organization_id
        assert memberships[0].organization.name == email
    assert len(set(personal.values())) == 3, "one organization per user"
    for label, model in (
        ("connections", apps.get_model("connections", "Connection")),
        ("jobs", apps.get_model("jobs", "BatchJob")),
        ("schedules", apps.get_model("jobs", "Schedule")),
        ("uploads", apps.get_model("receivables", "BankUpload")),
    ):
        for pk, email in rows[label].items():
            row = model.objects.get(pk=pk)
            assert row.organization_id == personal[email], f"{label} #{pk} of {email}"
            assert row.user_id == rows["users"][email], f"{label} #{pk} keeps its creator"
