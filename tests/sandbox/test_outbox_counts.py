from django.utils import timezone

from partnerapp.sandbox.models import OutboxEmail
from partnerapp.sandbox.seeding import seed_owner


def test_sends_per_document_counts_every_send_of_the_same_invoice(client, db):
    owner, _ = seed_owner(
        email="o@sandbox.example",
        password="pw",
        name="A",
        surname="B",
        company="C AG",
        invoices=3,
        seed=1,
        today=timezone.localdate(),
    )
    first, second = owner.invoices.order_by("pk")[:2]
    for invoice in (first, first, second):
        OutboxEmail.objects.create(
            owner=owner,
            document_id=invoice.pk,
            recipients=[],
            document_number=invoice.number,
            subject="s",
            body="b",
            request_id="r",
        )
    body = client.get("/sandbox/outbox.json", {"owner": owner.pk}).json()
    assert body["count"] == 3
    assert body["sends_per_document"] == {f"invoice:{first.pk}": 2, f"invoice:{second.pk}": 1}
