"""The audit log: every state-changing action leaves one append-only row with who, when,
from where, on what and what changed; owners and admins read it per organization."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from partnerapp.connections.models import Connection
from partnerapp.connections.services import (
    ConnectionUnusable,
    connection_call,
    connection_disconnect,
)
from partnerapp.jobs import schedules
from partnerapp.jobs import services as jobs
from partnerapp.jobs.models import BatchJob, JobItem, Schedule
from partnerapp.organizations import audit, services
from partnerapp.organizations.models import (
    AppendOnlyError,
    AuditEvent,
    Invitation,
    Membership,
    Organization,
)
from partnerapp.receivables import services as receivables
from partnerapp.sandbox.models import Grant, Invoice, Payment
from partnerapp.sandbox.services import grant_revoke
from tests.dashboard.test_schedules_ui import form_data
from tests.factories import PASSWORD, UserFactory
from tests.jobs.factories import ConnectionFactory, JobFactory, JobItemFactory
from tests.jobs.test_send_job import EMAIL

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"
ADDRESS = "203.0.113.7"


@pytest.fixture
def firm(partner):
    """A firm owned by the partner, with an admin, an operator and a viewer."""
    organization = Organization.objects.create(name="Treuhand Muster AG")
    Membership.objects.create(organization=organization, user=partner, role="owner")
    for role in ("admin", "operator", "viewer"):
        user = UserFactory(email=f"{role}@muster.example")
        Membership.objects.create(organization=organization, user=user, role=role)
    return organization


def membership(organization, role: str) -> Membership:
    return organization.memberships.select_related("user").get(role=role)


def client_in(organization, user) -> Client:
    client = Client(REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT=BROWSER)
    client.force_login(user)
    session = client.session
    session["organization_id"] = organization.pk
    session.save()
    return client


def events(organization, action: str | None = None):
    found = AuditEvent.objects.filter(organization=organization)
    return found.filter(action=action) if action else found


def only(organization, action: str) -> AuditEvent:
    found = list(events(organization, action))
    assert len(found) == 1, [event.action for event in events(organization)]
    return found[0]


def firm_connection(firm, partner) -> Connection:
    return ConnectionFactory(user=partner, organization=firm)


# -- the row ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_change_in_a_request_records_who_when_ip_user_agent_and_what_changed(firm, partner):
    client = client_in(firm, partner)
    settings_url = reverse("organizations:settings")
    form = {"name": "Treuhand Muster GmbH", "audit_retention_days": 400}
    response = client.post(settings_url, form)
    assert response.status_code == 302
    event = only(firm, "organization.settings")
    assert event.actor == partner and event.actor_label == "partner@example.com"
    assert event.ip == ADDRESS and event.user_agent == BROWSER
    assert event.organization == firm and event.object_type == "organizations.organization"
    assert event.object_id == str(firm.pk) and event.object_label == "Treuhand Muster GmbH"
    assert event.before == {"name": "Treuhand Muster AG"}
    assert event.after == {"name": "Treuhand Muster GmbH"}
    assert len(event.request_id) == 32
    assert timezone.now() - event.created_at < timedelta(minutes=1)


@pytest.mark.django_db
def test_saving_unchanged_settings_records_nothing(firm, partner):
    client = client_in(firm, partner)
    form = {"name": firm.name, "audit_retention_days": 400}
    assert client.post(reverse("organizations:settings"), form).status_code == 302
    assert not events(firm, "organization.settings").exists()


@pytest.mark.django_db
def test_outside_a_request_the_actor_is_partnerapp(firm):
    event = audit.record("job.pause", organization=firm.pk, after={"status": "paused"})
    assert event.actor is None and event.actor_label == audit.SYSTEM
    assert event.ip is None and event.user_agent == "" and event.request_id == ""


@pytest.mark.django_db
def test_redact_drops_every_key_naming_a_secret_at_any_depth_and_cuts_long_texts(firm):
    event = audit.record(
        "connection.connect",
        organization=firm,
        before={"access_token": "a", "Refresh_Token": "r", "status": "disconnected"},
        after={
            "nested": [{"client_secret": "s", "password1": "p", "kept": 1}],
            "own": {"own_client_secret_ciphertext": "c", "code_verifier": "v"},
            "body": "x" * 500,
        },
    )
    event.refresh_from_db()
    assert event.before == {"status": "disconnected"}
    assert event.after["nested"] == [{"kept": 1}] and event.after["own"] == {}
    assert len(event.after["body"]) == audit.MAX_TEXT


# -- append-only ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_events_can_be_neither_changed_nor_deleted_from_the_application(firm):
    event = audit.record("job.pause", organization=firm)
    event.action = "job.resume"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="job.resume")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "job.pause"


@pytest.mark.django_db
def test_a_deleted_user_stays_in_the_log_by_the_email_of_the_time(firm):
    viewer = membership(firm, "viewer").user
    audit.record("member.notify", organization=firm, actor=viewer)
    viewer.delete()
    event = only(firm, "member.notify")
    assert event.actor is None and event.actor_label == "viewer@muster.example"


@pytest.mark.django_db
def test_the_purge_drops_rows_older_than_each_organizations_retention_and_keeps_the_young(
    firm, outsider
):
    elsewhere = Organization.objects.get(memberships__user=outsider)
    Organization.objects.filter(pk=firm.pk).update(audit_retention_days=30)
    now = timezone.now()
    for organization in (firm, elsewhere):
        for days in (10, 100):
            event = audit.record(f"job.{days}", organization=organization)
            AuditEvent._base_manager.filter(pk=event.pk).update(
                created_at=now - timedelta(days=days)
            )
    assert audit.audit_purge(now=now) == 1
    assert list(events(firm).values_list("action", flat=True)) == ["job.10"]
    kept = events(elsewhere).order_by("action").values_list("action", flat=True)
    assert list(kept) == ["job.10", "job.100"]  # the default 400 days


# -- sign-in ----------------------------------------------------------------------------------


def sign_in(client: Client, email: str, password: str):
    return client.post(reverse("account_login"), {"login": email, "password": password})


@pytest.mark.django_db
def test_signing_in_is_recorded_in_each_organization_of_the_user(firm, partner):
    client = Client(REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT=BROWSER)
    assert sign_in(client, "partner@example.com", PASSWORD).status_code == 302
    personal = Organization.objects.get(memberships__user=partner, personal=True)
    for organization in (firm, personal):
        event = only(organization, "auth.login")
        assert event.actor == partner and event.ip == ADDRESS and event.user_agent == BROWSER
    client.post(reverse("account_logout"))
    assert only(firm, "auth.logout").actor == partner


@pytest.mark.django_db
def test_a_failed_sign_in_is_recorded_for_an_existing_account_only(firm, partner):
    client = Client(REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT=BROWSER)
    assert sign_in(client, "partner@example.com", "wrong-password").status_code == 200
    event = only(firm, "auth.login_failed")
    assert event.actor is None and event.actor_label == audit.ANONYMOUS
    assert event.object_label == "partner@example.com" and event.ip == ADDRESS
    assert "wrong-password" not in json.dumps([event.before, event.after])
    recorded = AuditEvent.objects.count()
    sign_in(client, "nobody@example.com", "wrong-password")
    assert AuditEvent.objects.count() == recorded


# -- organizations, members, invitations --------------------------------------------------------


@pytest.mark.django_db
def test_creating_an_organization_is_recorded_in_it(partner):
    organization = services.organization_create(user=partner, name="Kanzlei Beispiel")
    event = only(organization, "organization.create")
    assert event.actor == partner and event.after == {"name": "Kanzlei Beispiel"}


@pytest.mark.django_db
def test_deleting_an_organization_leaves_the_trace_in_the_owners_personal_log(firm, partner):
    services.organization_delete(actor=membership(firm, "owner"))
    personal = Organization.objects.get(memberships__user=partner, personal=True)
    event = only(personal, "organization.delete")
    assert event.object_label == "Treuhand Muster AG" and event.actor == partner
    assert not AuditEvent.objects.filter(organization_id=firm.pk).exists()


@pytest.mark.django_db
def test_invitations_are_recorded_when_sent_withdrawn_and_accepted_never_with_the_token(firm):
    admin = membership(firm, "admin")
    invitation, token = services.invitation_create(
        actor=admin, email="Neu@Muster.example", role="operator"
    )
    sent = only(firm, "invitation.create")
    assert sent.actor == admin.user and sent.after == {
        "email": "neu@muster.example",
        "role": "operator",
    }
    assert (
        sent.object_type == "organizations.invitation" and sent.object_label == "neu@muster.example"
    )
    assert services.invitation_revoke(actor=admin, invitation=invitation)
    revoked = only(firm, "invitation.revoke")
    assert revoked.before == {"state": "pending"} and revoked.after == {"state": "revoked"}

    second, second_token = services.invitation_create(
        actor=admin, email="b@x.example", role="viewer"
    )
    newcomer = UserFactory(email="b@x.example")
    services.invitation_accept(user=newcomer, invitation=second)
    accepted = only(firm, "invitation.accept")
    assert accepted.actor == newcomer and accepted.after["role"] == "viewer"
    everything = json.dumps(list(events(firm).values("before", "after", "object_label")))
    assert token not in everything and second_token not in everything
    assert Invitation.objects.get(pk=second.pk).token_hash not in everything


@pytest.mark.django_db
def test_role_changes_removals_and_leaving_are_recorded_with_the_role(firm):
    owner, viewer = membership(firm, "owner"), membership(firm, "viewer")
    services.member_role_change(actor=owner, member=viewer, role="operator")
    changed = only(firm, "member.role_change")
    assert changed.before == {"role": "viewer"} and changed.after == {"role": "operator"}
    assert changed.object_label == "viewer@muster.example" and changed.actor == owner.user

    services.member_remove(actor=owner, member=membership(firm, "admin"))
    assert only(firm, "member.remove").before == {"role": "admin"}
    operator = firm.memberships.get(user__email="operator@muster.example")
    services.member_remove(actor=operator, member=operator)
    left = only(firm, "member.leave")
    assert left.object_label == "operator@muster.example"


@pytest.mark.django_db
def test_a_members_notification_choice_is_recorded(firm):
    viewer = membership(firm, "viewer")
    services.notify_set(membership=viewer, events=[])
    event = only(firm, "member.notify")
    assert event.after == {"notify": []} and event.before["notify"]


# -- connections ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_connect_reconnect_needs_reauth_and_disconnect_are_recorded_without_any_token(
    connect, sandbox, partner
):
    connection = connect()
    organization = connection.organization
    connected = only(organization, "connection.connect")
    assert connected.actor == partner and connected.after["status"] == "active"
    assert connected.object_type == "connections.connection"
    tokens = [connection.access_token, connection.refresh_token]

    grant_revoke(Grant.objects.get(owner=sandbox.owner))
    with pytest.raises(ConnectionUnusable):
        connection_call(connection, lambda api: api.owner())
    lost = only(organization, "connection.needs_reauth")
    assert lost.actor_label == audit.SYSTEM and lost.after["status"] == "needs_reauth"

    connection = connect()
    reconnected = only(organization, "connection.reconnect")
    assert reconnected.before == {"status": "needs_reauth"}
    tokens += [connection.access_token, connection.refresh_token]

    connection_disconnect(connection)
    gone = only(organization, "connection.disconnect")
    assert gone.before == {"status": "active"} and gone.after == {"status": "disconnected"}

    stored = json.dumps(
        list(AuditEvent.objects.values("before", "after", "object_label", "actor_label"))
    )
    assert all(token and token not in stored for token in tokens)


@pytest.mark.django_db
def test_key_rotation_is_recorded_per_organization_by_partnerapp(firm, partner, outsider):
    firm_connection(firm, partner)
    firm_connection(firm, partner)
    ConnectionFactory(user=outsider)
    call_command("rotate_token_keys", stdout=io.StringIO())
    assert only(firm, "connection.key_rotation").after == {"connections": 2}
    elsewhere = Organization.objects.get(memberships__user=outsider)
    rotated = only(elsewhere, "connection.key_rotation")
    assert rotated.after == {"connections": 1} and rotated.actor_label == audit.SYSTEM


# -- jobs -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_creating_a_job_is_recorded_with_its_action(firm, partner):
    connection = firm_connection(firm, partner)
    job = jobs.job_create(
        user=partner,
        connection=connection,
        action="invoice.send_by_email",
        selection_spec={"ids": [1, 2]},
        parameters=EMAIL,
    )
    event = only(firm, "job.create")
    assert event.actor == partner and event.object_id == str(job.pk)
    assert event.after["action"] == "invoice.send_by_email" and event.after["status"] == "draft"


@pytest.mark.django_db
def test_confirm_pause_resume_and_cancel_are_recorded_with_the_status_move(firm, partner):
    job = JobFactory(connection=firm_connection(firm, partner), prepared_at=timezone.now())
    JobItemFactory(job=job)
    assert jobs.job_start(job=job)
    assert only(firm, "job.confirm").after == {"status": "queued"}
    assert jobs.job_pause(job=job)
    assert only(firm, "job.pause").before == {"status": "queued"}
    assert jobs.job_resume(job=job)
    resumed = only(firm, "job.resume")
    assert resumed.before == {"status": "paused"} and resumed.after == {"status": "queued"}
    assert not events(firm, "job.confirm").exclude(pk=only(firm, "job.confirm").pk).exists()
    assert jobs.job_cancel(job=job)
    assert only(firm, "job.cancel").after == {"status": "cancelled"}


@pytest.mark.django_db
def test_retrying_failed_items_and_resending_uncertain_ones_are_recorded(firm, partner):
    job = JobFactory(
        connection=firm_connection(firm, partner),
        prepared_at=timezone.now(),
        status=BatchJob.Status.DONE,
    )
    JobItemFactory(job=job, state=JobItem.State.FAILED)
    JobItemFactory(job=job, state=JobItem.State.UNCERTAIN)
    assert jobs.job_retry_failed(job=job) == 1
    retried = only(firm, "job.retry")
    assert retried.after["items"] == 1 and retried.after["source"] == "failed"
    assert jobs.job_resend_uncertain(job=job, confirmed=True) == 1
    assert only(firm, "job.resend").after["source"] == "uncertain"


@pytest.mark.django_db
def test_downloading_a_jobs_results_is_recorded_as_an_export(firm, partner):
    job = JobFactory(connection=firm_connection(firm, partner))
    client = client_in(firm, membership(firm, "viewer").user)
    response = client.get(reverse("dashboard:job_export", args=[job.pk]))
    assert response.status_code == 200
    b"".join(response.streaming_content)
    event = only(firm, "job.export")
    assert event.actor.email == "viewer@muster.example" and event.after == {"format": "csv"}


# -- schedules --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_schedule_create_update_toggle_and_delete_are_recorded(firm, partner):
    connection = firm_connection(firm, partner)
    client = client_in(firm, membership(firm, "operator").user)
    response = client.post(reverse("dashboard:schedule_create"), form_data(connection))
    assert response.status_code == 302, response.content.decode()[:2000]
    schedule = Schedule.objects.get(organization=firm)
    created = only(firm, "schedule.create")
    assert created.after["cron"] == "0 8 * * 1-5" and created.after["enabled"] is True

    url = reverse("dashboard:schedule", args=[schedule.pk])
    client.post(url, form_data(connection, cron="30 6 * * 1-5"))
    updated = only(firm, "schedule.update")
    assert updated.before == {"cron": "0 8 * * 1-5"} and updated.after == {"cron": "30 6 * * 1-5"}

    client.post(reverse("dashboard:schedule_toggle", args=[schedule.pk]))
    toggled = only(firm, "schedule.toggle")
    assert toggled.before == {"enabled": True} and toggled.after == {"enabled": False}

    client.post(reverse("dashboard:schedule_delete", args=[schedule.pk]))
    assert not Schedule.objects.filter(pk=schedule.pk).exists()
    deleted = only(firm, "schedule.delete")
    assert deleted.object_label == "Drafts of the day" and deleted.before["cron"] == "30 6 * * 1-5"
    assert deleted.actor.email == "operator@muster.example"


@pytest.mark.django_db
def test_the_weekly_reminder_run_is_recorded_as_a_schedule_created(firm, partner):
    connection = firm_connection(firm, partner)
    schedules.weekly_reminders_create(user=partner, connection=connection)
    assert only(firm, "schedule.create").after["action"] == "invoice.send_reminders"


@pytest.mark.django_db
def test_a_scheduled_run_creates_its_job_as_partnerapp(firm, partner):
    connection = firm_connection(firm, partner)
    schedule = schedules.schedule_save(
        schedule=Schedule(user=partner),
        fields={
            "name": "Nightly",
            "connection": connection,
            "action": "invoice.send_by_email",
            "cron": "* * * * *",
            "time_zone": "UTC",
            "selection": {"filter": {"status": "DR"}},
            "parameters": EMAIL,
        },
    )
    Schedule.objects.filter(pk=schedule.pk).update(created_at=timezone.now() - timedelta(hours=1))
    assert schedules.schedules_tick()
    assert only(firm, "job.create").actor_label == audit.SYSTEM


# -- bank files -------------------------------------------------------------------------------


def bank_file(tmp_path: Path, owner, **counts) -> bytes:
    path = tmp_path / "camt054.xml"
    call_command(
        "sandbox_bank_file", owner=owner.email, format="camt054", output=str(path), **counts
    )
    return path.read_bytes()


@pytest.mark.django_db(transaction=True)
def test_bank_file_upload_rematch_confirm_and_release_are_recorded(
    connect, sandbox, partner, tmp_path
):
    Payment.objects.filter(invoice__owner=sandbox.owner).delete()
    invoices = list(sandbox.owner.invoices.filter(currency="CHF").order_by("pk")[:2])
    Invoice.objects.filter(pk__in=[i.pk for i in invoices]).update(
        status="S", total_paid=0, paid_date=None
    )
    connection = connect()
    organization = connection.organization
    upload = receivables.upload_receive(
        user=partner,
        connection=connection,
        data=bank_file(tmp_path, sandbox.owner, paid=2),
        filename="camt054.xml",
    )
    uploaded = only(organization, "import.upload")
    assert uploaded.after["entries"] == 2 and uploaded.object_label == "camt054.xml"
    receivables.upload_match(upload_id=upload.pk)
    upload.refresh_from_db()
    receivables.upload_rematch(upload=upload)
    assert only(organization, "import.rematch").after == {"state": "matching"}
    receivables.upload_match(upload_id=upload.pk)
    upload.refresh_from_db()

    review = receivables.review(upload)
    picks = {row.transaction.pk: row.invoice["id"] for row in review.ready}
    job = receivables.payments_confirm(upload=upload, user=partner, picks=picks)
    confirmed = only(organization, "import.confirm")
    assert confirmed.after["payments"] == 2 and confirmed.after["job"] == job.pk

    jobs.job_prepare(job_id=job.pk)
    JobItem.objects.filter(job=job).update(state=JobItem.State.FAILED)
    released_tx = next(iter(picks))
    assert receivables.transaction_release(upload=upload, user=partner, transaction_id=released_tx)
    released = only(organization, "import.release")
    assert released.before["state"] == "submitted" and released.after["state"] == "open"


# -- the page ---------------------------------------------------------------------------------


def page_of(client: Client, **filters) -> str:
    response = client.get(reverse("organizations:audit"), filters)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_the_page_shows_the_organizations_events_newest_first_with_readable_names(firm, partner):
    audit.record("job.pause", organization=firm, label="Send by email #7", actor=partner)
    audit.record(
        "member.role_change",
        organization=firm,
        label="viewer@muster.example",
        before={"role": "viewer"},
        after={"role": "admin"},
    )
    html = page_of(client_in(firm, partner))
    table = html[html.index("<tbody>") :]
    assert table.index("Role changed") < table.index("Job paused")
    assert "viewer → admin" in html and "Send by email #7" in html
    assert timezone.localtime().strftime("%d.%m.%Y") in html


@pytest.mark.django_db
def test_the_page_filters_by_action_member_and_date_and_searches(firm, partner):
    admin = membership(firm, "admin").user
    audit.record("job.pause", organization=firm, label="Send by email #7", actor=partner)
    audit.record("job.cancel", organization=firm, label="Reminders #8", actor=admin)
    old = audit.record("job.create", organization=firm, label="Archive #1")
    AuditEvent._base_manager.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=10)
    )
    client = client_in(firm, partner)

    def shown(**filters) -> set[str]:
        html = page_of(client, **filters)
        return {label for label in ("#7", "#8", "Archive #1") if label in html}

    assert shown(action="job.cancel") == {"#8"}
    assert shown(actor=str(admin.pk)) == {"#8"}
    assert shown(actor=audit.SYSTEM) == {"Archive #1"}
    assert shown(date_to=(timezone.localdate() - timedelta(days=5)).isoformat()) == {"Archive #1"}
    assert shown(date_from=timezone.localdate().isoformat()) == {"#7", "#8"}
    assert shown(q="reminders") == {"#8"}
    assert shown(q="admin@muster") == {"#8"}
    assert shown(q="paused") == {"#7"}  # the action's name, as the page shows it


@pytest.mark.django_db
def test_the_page_shows_fifty_a_page_and_keeps_the_filters_across_pages(firm, partner):
    for number in range(60):
        audit.record("job.pause", organization=firm, label=f"Job #{number}")
    audit.record("job.cancel", organization=firm, label="Not this one")
    client = client_in(firm, partner)
    html = page_of(client, action="job.pause")
    assert html.count('data-testid="audit-row"') == 50 and "60 events" in html
    assert "?action=job.pause&amp;page=2" in html
    second = page_of(client, action="job.pause", page=2)
    assert second.count('data-testid="audit-row"') == 10 and "Not this one" not in second


@pytest.mark.django_db
def test_the_csv_holds_the_filtered_events_and_defuses_formulas(firm, partner):
    audit.record("job.pause", organization=firm, label="=HYPERLINK(1)", after={"status": "paused"})
    audit.record("job.cancel", organization=firm, label="Other")
    response = client_in(firm, partner).get(reverse("organizations:audit_csv"), {"q": "HYPER"})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:5] == ["time", "actor", "ip", "user_agent", "action"]
    assert len(rows) == 2
    assert rows[1][4] == "job.pause" and rows[1][8] == "'=HYPERLINK(1)"
    assert json.loads(rows[1][10]) == {"status": "paused"}


@pytest.mark.django_db
def test_another_organizations_events_are_never_shown(firm, partner, outsider):
    audit.record("job.pause", organization=firm, label="Firm secret job")
    personal = Organization.objects.get(memberships__user=outsider)
    audit.record("job.cancel", organization=personal, label="Outsider job")
    client = client_in(firm, outsider)  # the session names the firm: not theirs
    html = page_of(client)
    assert "Outsider job" in html and "Firm secret job" not in html
    exported = b"".join(client.get(reverse("organizations:audit_csv")).streaming_content)
    assert b"Firm secret job" not in exported
    assert "Outsider job" not in page_of(client_in(firm, partner))


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_operators_and_viewers_get_403_and_no_link(firm, role):
    client = client_in(firm, membership(firm, role).user)
    assert client.get(reverse("organizations:audit")).status_code == 403
    assert client.get(reverse("organizations:audit_csv")).status_code == 403
    members_page = client.get(reverse("organizations:members")).content.decode()
    assert reverse("organizations:audit") not in members_page


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owners_and_admins_find_the_page_in_the_organization_tabs(firm, role):
    client = client_in(firm, membership(firm, role).user)
    assert (
        reverse("organizations:audit")
        in client.get(reverse("organizations:members")).content.decode()
    )


def test_a_visitor_is_sent_to_sign_in(client, db):
    response = client.get(reverse("organizations:audit"))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
