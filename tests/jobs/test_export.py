import csv
import io

from django.urls import reverse

from partnerapp.jobs.export import cell
from tests.jobs.factories import JobFactory, JobItemFactory


def test_formula_characters_are_quoted_away():
    assert [cell(v) for v in ("=1+1", "+41 44", "-x", "@SUM(A1)", "\tx", "ok", None, 3)] == [
        "'=1+1",
        "'+41 44",
        "'-x",
        "'@SUM(A1)",
        "'\tx",
        "ok",
        "",
        "3",
    ]


def test_the_export_has_one_row_per_item_with_its_outcome(client, partner):
    job = JobFactory(connection__user=partner)
    JobItemFactory(
        job=job, contact_name='=HYPERLINK("http://evil")', state="sent", request_id="rid-1"
    )
    JobItemFactory(
        job=job,
        state="failed",
        error_status=422,
        outcome="422 Validation failed",
        error_detail={
            "message": "Validation failed",
            "meta": {"errors": [{"key": "recipients[0].email", "message": "not valid"}]},
        },
    )
    client.force_login(partner)
    response = client.get(reverse("dashboard:job_export", args=[job.pk]))
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["state"] for row in rows] == ["sent", "failed"]
    assert rows[0]["contact"].startswith("'=HYPERLINK") and rows[0]["x_request_id"] == "rid-1"
    assert rows[1]["field_errors"] == "recipients[0].email: not valid"


def test_an_outsider_cannot_export(client, partner, outsider):
    job = JobFactory(connection__user=partner)
    client.force_login(outsider)
    assert client.get(reverse("dashboard:job_export", args=[job.pk])).status_code == 404
