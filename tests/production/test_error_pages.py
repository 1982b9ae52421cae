"""Our own 404 and 500 pages: in the reader's language, never Django's URL list."""

from django.test import Client, RequestFactory
from django.utils import translation

from partnerapp.errorpages import server_error


def test_an_unknown_address_gets_our_404_in_the_readers_language(partner):
    client = Client()
    client.force_login(partner)
    client.post("/i18n/setlang/", {"language": "de", "next": "/"})
    response = client.get("/no/such/page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert '<html lang="de">' in page and "<h1>Seite nicht gefunden</h1>" in page
    assert "URLconf" not in page and "jobs/<int:pk>" not in page
    assert response["X-Request-Id"] in page


def test_another_users_object_reads_like_a_missing_page(client, partner, outsider):
    from tests.jobs.factories import ConnectionFactory, JobFactory

    job = JobFactory(connection=ConnectionFactory(user=partner))
    client.force_login(outsider)
    theirs = client.get(f"/jobs/{job.pk}/")
    missing = client.get("/jobs/987654321/")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.content.replace(theirs["X-Request-Id"].encode(), b"") == missing.content.replace(
        missing["X-Request-Id"].encode(), b""
    )


def test_a_server_error_gets_our_500_page_with_a_reference():
    request = RequestFactory().get("/")
    request.request_id = "abc123"
    with translation.override("fr"):
        response = server_error(request)
    page = response.content.decode()
    assert response.status_code == 500
    assert '<html lang="fr">' in page and "abc123" in page and "Traceback" not in page
