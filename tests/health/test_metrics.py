"""/metrics in Prometheus format, read from our tables and the real broker."""

import pytest
from django.urls import reverse
from prometheus_client.parser import text_string_to_metric_families

from partnerapp.celery import app
from partnerapp.connections.services import connection_call
from partnerapp.health.metrics import queue_depth
from partnerapp.smartbusiness.errors import NotFound
from tests.jobs.factories import JobItemFactory

TOKEN = "scrape-token-123"


def scrape(client, **headers) -> dict[tuple, float]:
    response = client.get(reverse("metrics"), **headers)
    assert response.status_code == 200, response.status_code
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


@pytest.fixture
def scraper(settings):
    settings.METRICS_TOKEN = TOKEN
    return {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}


def test_provider_calls_are_counted_by_status(client, connect, scraper):
    connection = connect()
    connection_call(connection, lambda api: api.owner())
    with pytest.raises(NotFound):
        connection_call(connection, lambda api: api.invoice(999999))
    samples = scrape(client, **scraper)
    assert samples[("partnerapp_provider_calls_recent", (("status", "200"),))] == 1
    assert samples[("partnerapp_provider_calls_recent", (("status", "404"),))] == 1
    assert samples[("partnerapp_connections", (("status", "active"),))] == 1


def test_refreshes_are_counted_by_outcome(client, connect, scraper):
    from partnerapp.connections.services import connection_refresh

    connection = connect()
    connection_refresh(connection_id=connection.pk, force=True)
    assert scrape(client, **scraper)[("partnerapp_token_refreshes_24h", (("outcome", "ok"),))] == 1


def test_job_items_are_counted_by_state(client, db, scraper):
    JobItemFactory(state="sent")
    JobItemFactory(state="uncertain")
    samples = scrape(client, **scraper)
    assert samples[("partnerapp_job_items", (("state", "sent"),))] == 1
    assert samples[("partnerapp_job_items", (("state", "uncertain"),))] == 1
    assert samples[("partnerapp_job_items", (("state", "pending"),))] == 0


def test_the_queue_depth_is_read_from_the_broker(client, db, scraper, settings):
    queue = f"{settings.CELERY_TASK_DEFAULT_QUEUE}-depth"
    with app.connection_for_write() as connection:
        waiting = connection.SimpleQueue(queue)  # a real queue on the configured broker
        for n in range(3):
            waiting.put({"n": n})
        try:
            assert queue_depth(queue) == 3
        finally:
            waiting.clear()
            waiting.close()


LOOPBACK = ("127.0.0.1", "::1")


def status(client, address, **headers) -> int:
    return client.get(reverse("metrics"), REMOTE_ADDR=address, **headers).status_code


def test_with_a_token_configured_loopback_without_it_is_refused(client, db, scraper):
    assert [status(client, address) for address in LOOPBACK] == [403, 403]
    assert status(client, "10.1.2.3") == 403


def test_the_right_token_is_accepted_from_loopback_and_elsewhere(client, db, scraper):
    assert [status(client, address, **scraper) for address in LOOPBACK] == [200, 200]
    assert status(client, "10.1.2.3", **scraper) == 200


@pytest.mark.parametrize(
    "authorization", ["Bearer nope", f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN, "Bearer "]
)
def test_a_wrong_token_is_refused_even_from_loopback(client, db, scraper, authorization):
    wrong = {"HTTP_AUTHORIZATION": authorization}
    assert [status(client, address, **wrong) for address in LOOPBACK] == [403, 403]
    assert status(client, "10.1.2.3", **wrong) == 403


def test_without_a_token_only_loopback_in_development(client, db, settings):
    settings.METRICS_TOKEN = ""
    assert [status(client, address) for address in LOOPBACK] == [200, 200]
    assert status(client, "10.1.2.3") == 403
    settings.PRODUCTION = True
    assert status(client, "127.0.0.1") == 403
