import pytest

from partnerapp.organizations.current import personal_organization
from partnerapp.webhooks import services
from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver():
    """A local receiver; give it the endpoint's secret(s) and answers in the test."""
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def subscribe(partner, receiver):
    """An endpoint of the partner's organization pointing at the receiver, which verifies
    with its secret. Returns the endpoint."""

    def _subscribe(events=("job.finished",), *, organization=None, user=None):
        endpoint, secret = services.endpoint_create(
            user=user or partner,
            organization_id=(organization or personal_organization(partner)).pk,
            url=receiver.url,
            events=list(events),
        )
        receiver.secrets.append(secret)
        return endpoint

    return _subscribe
