import factory

from partnerapp.connections.models import Connection, RateWindow
from partnerapp.jobs.models import BatchJob, JobItem
from tests.factories import UserFactory


class ConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Connection
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    base_url = "http://127.0.0.1:9/sandbox/v2"
    account_id = factory.Sequence(str)
    owner_name = "Anna Keller"
    scopes = "profile invoice contact"

    @factory.post_generation
    def window(self, create, extracted, **kwargs):
        """`ConnectionFactory(window={"limit": 1000, "remaining": 3, "reset_at": …})`."""
        if create and extracted:
            RateWindow.objects.create(connection=self, **extracted)


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BatchJob

    user = factory.LazyAttribute(lambda job: job.connection.user)
    connection = factory.SubFactory(ConnectionFactory)
    action = "invoice.send_by_email"
    parameters = {"subject": "Invoice {INVOICENO}", "body": "Hello"}


class JobItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobItem

    job = factory.SubFactory(JobFactory)
    document_id = factory.Sequence(lambda n: 1000 + n)
    document_number = factory.LazyAttribute(lambda item: f"RE-{item.document_id}")
    document_status = "DR"
    recipient_email = "customer@example.com"
    recipient_name = "Customer"
