"""Organizations, members, roles and invitations, as the people of a firm meet them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from partnerapp.organizations import services
from partnerapp.organizations.current import personal_organization
from partnerapp.organizations.models import Invitation, Membership, Organization
from partnerapp.organizations.notifications import notify, recipients
from partnerapp.organizations.services import OrganizationError
from tests.factories import PASSWORD, UserFactory
from tests.jobs.factories import ConnectionFactory, JobFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def firm(partner):
    organization = services.organization_create(user=partner, name="Treuhand Muster AG")
    return organization


def member(organization, role: str, email: str | None = None) -> Membership:
    user = UserFactory(email=email or f"{role}-{organization.pk}@muster.example")
    return Membership.objects.create(organization=organization, user=user, role=role)


def owner_of(organization) -> Membership:
    return organization.memberships.filter(role="owner").first()


def client_for(user, organization=None) -> Client:
    client = Client()
    client.force_login(user)
    if organization is not None:
        session = client.session
        session["organization_id"] = organization.pk
        session.save()
    return client


# -- sign-up and the personal organization ----------------------------------------------------


def test_signing_up_creates_a_personal_organization_owned_by_the_new_user(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "neu@kanzlei.example", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user__email="neu@kanzlei.example")
    assert membership.role == "owner" and membership.organization.personal


def test_a_connection_made_in_the_firm_is_seen_by_colleagues_and_not_by_the_personal_one(
    partner, firm
):
    viewer = member(firm, "viewer")
    ConnectionFactory(user=partner, organization=firm, owner_name="Bäckerei Brunner GmbH")
    ConnectionFactory(user=partner, owner_name="Privat Konto")  # the partner's personal one
    page = client_for(viewer.user, firm).get(reverse("dashboard:overview")).content.decode()
    assert "Bäckerei Brunner GmbH" in page and "Privat Konto" not in page
    own = client_for(partner, personal_organization(partner)).get("/").content.decode()
    assert "Privat Konto" in own and "Bäckerei Brunner GmbH" not in own


def test_switching_organizations_changes_what_the_overview_shows(partner, firm):
    ConnectionFactory(user=partner, organization=firm, owner_name="Bäckerei Brunner GmbH")
    client = client_for(partner, personal_organization(partner))
    assert "Bäckerei Brunner GmbH" not in client.get("/").content.decode()
    response = client.post(reverse("organizations:switch"), {"organization": firm.pk})
    assert response.status_code == 302
    assert "Bäckerei Brunner GmbH" in client.get("/").content.decode()


def test_switching_to_an_organization_one_is_not_in_answers_404(partner, outsider):
    theirs = personal_organization(outsider)
    client = client_for(partner)
    response = client.post(reverse("organizations:switch"), {"organization": theirs.pk})
    assert response.status_code == 404
    assert client.session.get("organization_id") != theirs.pk


def test_a_link_to_a_job_of_another_of_ones_organizations_switches_there(partner, firm):
    job = JobFactory(connection=ConnectionFactory(user=partner, organization=firm))
    client = client_for(partner, personal_organization(partner))
    assert client.get(reverse("dashboard:job", args=[job.pk])).status_code == 200
    assert client.session["organization_id"] == firm.pk


# -- roles ---------------------------------------------------------------------------------------


def test_an_admin_cannot_make_anyone_owner_nor_change_an_owner(firm):
    admin, viewer = member(firm, "admin"), member(firm, "viewer")
    with pytest.raises(PermissionDenied):
        services.member_role_change(actor=admin, member=viewer, role="owner")
    with pytest.raises(PermissionDenied):
        services.member_role_change(actor=admin, member=owner_of(firm), role="viewer")
    services.member_role_change(actor=admin, member=viewer, role="operator")
    assert Membership.objects.get(pk=viewer.pk).role == "operator"


def test_the_last_owner_can_neither_be_demoted_nor_leave(firm):
    owner = owner_of(firm)
    with pytest.raises(OrganizationError, match="needs an owner"):
        services.member_role_change(actor=owner, member=owner, role="admin")
    with pytest.raises(OrganizationError, match="needs an owner"):
        services.member_remove(actor=owner, member=owner)
    second = member(firm, "admin")
    services.member_role_change(actor=owner, member=second, role="owner")
    services.member_role_change(actor=owner, member=owner, role="admin")  # now allowed
    assert firm.memberships.filter(role="owner").count() == 1


def test_an_operator_may_not_change_roles_or_remove_members_and_nothing_changes(firm):
    operator, viewer = member(firm, "operator"), member(firm, "viewer")
    client = client_for(operator.user, firm)
    role_url = reverse("organizations:member_role", args=[viewer.pk])
    remove_url = reverse("organizations:member_remove", args=[viewer.pk])
    assert client.post(role_url, {"role": "admin"}).status_code == 403
    assert client.post(remove_url).status_code == 403
    assert Membership.objects.get(pk=viewer.pk).role == "viewer"


def test_a_personal_organization_cannot_be_left_or_deleted(partner):
    own = Membership.objects.get(user=partner, organization__personal=True)
    with pytest.raises(OrganizationError):
        services.member_remove(actor=own, member=own)
    with pytest.raises(OrganizationError):
        services.organization_delete(actor=own)


def test_deleting_a_firm_takes_its_connections_and_jobs_along(partner, firm):
    job = JobFactory(connection=ConnectionFactory(user=partner, organization=firm))
    client = client_for(partner, firm)
    response = client.post(reverse("organizations:delete"), {"name": "wrong name"})
    assert response.status_code == 200 and Organization.objects.filter(pk=firm.pk).exists()
    response = client.post(reverse("organizations:delete"), {"name": "Treuhand Muster AG"})
    assert response.status_code == 302
    assert not Organization.objects.filter(pk=firm.pk).exists()
    assert not type(job).objects.filter(pk=job.pk).exists()


# -- invitations -----------------------------------------------------------------------------


def _invite(client, email="kollegin@muster.example", role="operator") -> str:
    response = client.post(reverse("organizations:members"), {"email": email, "role": role})
    assert response.status_code == 302, response.content.decode()[:2000]
    body = mail.outbox[-1].body
    return re.search(r"https?://\S+/organization/join/\S+/", body).group(0)


def test_an_invited_colleague_signs_up_through_the_link_and_joins_with_the_role(
    partner, firm, client
):
    link = _invite(client_for(partner, firm))
    assert mail.outbox[-1].to == ["kollegin@muster.example"]
    path = link.split("testserver", 1)[-1]
    page = client.get(path)
    assert "Treuhand Muster AG" in page.content.decode()
    signup = client.post(
        f"{reverse('account_signup')}?next={path}",
        {"email": "kollegin@muster.example", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert signup.status_code == 302 and signup["Location"] == path
    assert client.post(path).status_code == 302
    membership = Membership.objects.get(user__email="kollegin@muster.example", organization=firm)
    assert membership.role == "operator"
    assert Invitation.objects.get().state == "accepted"


def test_an_invitation_works_once(partner, firm):
    link = _invite(client_for(partner, firm))
    path = link.split("testserver", 1)[-1]
    first, second = UserFactory(), UserFactory()
    assert client_for(first).post(path).status_code == 302
    again = client_for(second).post(path)
    assert "already used" in again.content.decode()
    assert not Membership.objects.filter(user=second, organization=firm).exists()


def test_an_expired_or_withdrawn_invitation_explains_itself_and_admits_nobody(partner, firm):
    owner = owner_of(firm)
    expired, expired_token = services.invitation_create(
        actor=owner, email="a@x.example", role="viewer"
    )
    Invitation.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    revoked, revoked_token = services.invitation_create(
        actor=owner, email="b@x.example", role="viewer"
    )
    assert services.invitation_revoke(actor=owner, invitation=revoked)
    visitor = UserFactory()
    for token, words in ((expired_token, "expired"), (revoked_token, "withdrawn")):
        response = client_for(visitor).post(reverse("organizations:invitation", args=[token]))
        assert words in response.content.decode()
    assert not Membership.objects.filter(user=visitor, organization=firm).exists()


def test_an_unknown_invitation_token_is_a_404_page():
    response = Client().get(reverse("organizations:invitation", args=["no-such-token"]))
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_only_the_hash_of_an_invitation_token_is_stored(firm):
    invitation, token = services.invitation_create(
        actor=owner_of(firm), email="c@x.example", role="viewer"
    )
    assert token not in str(Invitation.objects.filter(pk=invitation.pk).values().first())


def test_an_admin_may_not_invite_an_owner(firm):
    admin = member(firm, "admin")
    with pytest.raises(PermissionDenied):
        services.invitation_create(actor=admin, email="boss@x.example", role="owner")


# -- notifications ---------------------------------------------------------------------------


def addresses(organization_id, event, **kwargs) -> list[str]:
    return [address for address, _language in recipients(organization_id, event, **kwargs)]


def test_notifications_go_to_members_who_opted_in_and_to_the_jobs_creator(partner, firm):
    operator, viewer = member(firm, "operator"), member(firm, "viewer")
    services.notify_set(membership=viewer, events=["job_finished"])
    services.notify_set(membership=operator, events=[])
    services.notify_set(membership=owner_of(firm), events=[])
    assert addresses(firm.pk, "job_finished") == [viewer.user.email]
    both = addresses(firm.pk, "job_finished", creator=operator.user)
    assert sorted(both) == sorted([viewer.user.email, operator.user.email])
    assert addresses(firm.pk, "job_paused") == []


def test_a_member_who_left_hears_nothing_even_about_their_own_job(partner, firm):
    operator = member(firm, "operator")
    services.member_remove(actor=owner_of(firm), member=operator)
    assert operator.user.email not in addresses(firm.pk, "job_paused", creator=operator.user)


def test_each_member_reads_the_mail_in_the_language_they_chose(partner, firm, client, mailoutbox):
    """The language switch (and a sign-in) is remembered on the memberships; a notification
    is written in each recipient's language, whoever's language the sender had."""
    german, french = member(firm, "operator"), member(firm, "viewer")
    for membership in (german, french):
        services.notify_set(membership=membership, events=["job_finished"])
    services.notify_set(membership=owner_of(firm), events=[])
    client.force_login(german.user)
    assert client.post("/i18n/setlang/", {"language": "de", "next": "/"}).status_code == 302
    client.force_login(french.user)
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    client.post("/i18n/setlang/", {"language": "xx", "next": "/"})  # not ours: ignored
    french.refresh_from_db()
    assert french.language == "fr"

    with translation.override("it"):  # the sender's language plays no part
        sent = notify(
            firm.pk,
            "job_finished",
            compose=lambda: (gettext("Job finished: %(job)s") % {"job": "X"}, gettext("paused")),
        )
    assert sent == 2
    said = {message.to[0]: message.subject for message in mailoutbox}
    with translation.override("de"):
        assert said[german.user.email] == gettext("Job finished: %(job)s") % {"job": "X"}
    with translation.override("fr"):
        assert said[french.user.email] == gettext("Job finished: %(job)s") % {"job": "X"}
    assert said[german.user.email] != said[french.user.email]
