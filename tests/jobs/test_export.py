import csv
import io

from django.urls import reverse

from partnerapp.jobs.export import cell, csv_lines
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


def test_a_formula_behind_whitespace_or_a_line_break_is_quoted_away():
    assert [cell(v) for v in (" =1+1", "\n=1+1", "\t@SUM(A1)", "  -2", "\r\n+1")] == [
        "' =1+1",
        "'\n'=1+1",
        "'\t@SUM(A1)",
        "'  -2",
        "'\r'\n'+1",
    ]
    assert cell("Müller AG; Zürich") == "Müller AG; Zürich"
    assert cell("1 - 2 = -1") == "1 - 2 = -1", "a formula character inside the text is fine"


def test_every_field_is_quoted(db):
    job = JobFactory()
    JobItemFactory(job=job, contact_name="Acme", attempts=2)
    header, line = "".join(csv_lines(job)).splitlines()
    assert header.startswith('"document_id","document_number","contact",')
    assert line.startswith('"') and '"Acme"' in line and ',"2",' in line


def test_a_formula_after_a_semicolon_stays_text_where_excel_splits_at_semicolons(db):
    job = JobFactory()
    JobItemFactory(job=job, contact_name=";=1+1", outcome='x;"=2', error_status=None)
    JobItemFactory(job=job, contact_name="a\n=1+1;\t@SUM(A1)")
    exported = "".join(csv_lines(job))
    # How Swiss, German, French and Italian Excel reads a comma-separated file.
    cells = [c for row in csv.reader(io.StringIO(exported, newline=""), delimiter=";") for c in row]
    assert len(cells) > 3, "the lines were split at the semicolons"
    assert not [shown for shown in cells if shown.lstrip().startswith(("=", "+", "-", "@"))]
    contact = next(csv.DictReader(io.StringIO(exported)))["contact"]
    assert contact == ";'=1+1", "read with commas, the name is the name"


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
