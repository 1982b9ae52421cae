"""Item outcomes as a code and parameters: stored once, said in every reader's language."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from partnerapp.jobs import outcomes, services
from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.smartbusiness.errors import (
    BadRequest,
    MissingScope,
    NotFound,
    PaymentRequired,
    ServerError,
    ValidationFailed,
    retry_can_help,
)
from tests.jobs.factories import JobFactory, JobItemFactory

Item, Job = JobItem.State, BatchJob.Status
LANGUAGES = ["en", "de", "fr", "it"]
SAID = "Validation failed — recipients[0].email: Cette valeur n'est pas valide."
# A value per parameter name, as the writers store them; the kinds make them words.
SAMPLES = {
    "s": 15,
    "n": 2,
    "of": 2,
    "job": 4711,
    "a": "anna(at)example.ch",
    "scope": "invoice",
    "feature": "emails",
    "status": 503,
    "when": "2026-12-05T13:03:00+00:00",
    "d": "2026-12-05",
    "step": 1,
    "reason": {"code": "provider.no_answer", "params": {"said": ""}},
    "outcome": {"code": "provider.invalid_data", "params": {"said": SAID}},
}
VERBATIM = {"s": "15", "job": "4711", "a": "anna(at)example.ch", "scope": "invoice"}
VERBATIM |= {"feature": "emails", "status": "503", "when": "05.12.2026", "d": "05.12.2026"}


def params_for(code: str) -> dict:
    with translation.override("en"):
        names = re.findall(r"%\((\w+)\)", str(outcomes.CATALOG[code].text))
    params = {name: SAMPLES[name] for name in names}
    if code == "provider.refused":
        params["status"] = " (409)"
    if code.startswith(outcomes.PROVIDER):
        params["said"] = SAID
    return params


@pytest.mark.parametrize("code", list(outcomes.CATALOG))
def test_every_code_reads_in_all_four_languages_with_its_parameters(db, code):
    job = JobFactory(action="invoice.send_reminders")  # two steps: a step has a name
    params = params_for(code)
    said = {language: _say(code, params, job, language) for language in LANGUAGES}
    for language, text in said.items():
        assert text and "%(" not in text, (language, text)
        for name, shown in VERBATIM.items():
            if name in params and code != "provider.refused":
                assert shown in text, (language, name, text)
        if code.startswith(outcomes.PROVIDER):
            assert SAID in text  # the provider's words, verbatim in any language
        if language != "en":
            assert text != said["en"], f"{code} is not translated to {language}"


def _say(code, params, job, language):
    with translation.override(language):
        return outcomes.Outcome(code, params).say(job=job)


def test_a_stored_outcome_keeps_the_english_sentence_next_to_its_code(db):
    translation.activate("de")  # a worker thread with another language active
    fields = outcomes.record("unreachable_retry", s=15)
    assert fields == {
        "outcome": "Provider unreachable; trying again in 15 s.",
        "outcome_code": "unreachable_retry",
        "outcome_params": {"s": 15},
    }


def test_an_unknown_code_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown outcome code"):
        outcomes.outcome("sent_by_carrier_pigeon")


def test_a_row_from_before_the_codes_shows_its_stored_sentence(db):
    item = JobItemFactory(state=Item.SKIPPED, outcome="Not a draft (status S).")
    with translation.override("it"):
        assert outcomes.render(item) == "Not a draft (status S)."


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (ValidationFailed("Validation failed", status=422), False),
        (BadRequest("Invalid filter", status=400), False),
        (NotFound("Not found", status=404), False),
        (MissingScope("Missing scope", status=400, code=11), True),
        (PaymentRequired("Limit", status=402, code=4001), True),
        (ServerError("Oops", status=500), True),
    ],
)
def test_a_failure_says_whether_retrying_can_help(error, retryable):
    assert retry_can_help(error.status, error.code) is retryable
    assert outcomes.failure(error).params["retryable"] is retryable


def refused_for_address(job, **fields):
    error = ValidationFailed(
        "Validation failed",
        status=422,
        meta={"errors": [{"key": "recipients[0].email", "code": 1000, "message": "not valid"}]},
    )
    return JobItemFactory(
        job=job,
        state=Item.FAILED,
        attempts=1,
        error_status=422,
        error_detail=error.detail(),
        finished_at=timezone.now(),
        **outcomes.failure(error).fields(),
        **fields,
    )


def test_retry_failed_leaves_what_the_provider_refused_for_its_data(db):
    job = JobFactory(status=Job.DONE)
    refused = refused_for_address(job)
    timed_out = JobItemFactory(
        job=job, state=Item.FAILED, **outcomes.record("worker_stopped"), attempts=4
    )
    assert services.job_failed_counts(job) == {"retryable": 1, "not_retryable": 1}
    assert services.job_retry_failed(job=job) == 1
    assert JobItem.objects.get(pk=timed_out.pk).state == Item.PENDING
    assert JobItem.objects.get(pk=refused.pk).state == Item.FAILED


def test_the_job_page_offers_no_retry_for_a_422_and_says_why(db, partner):
    job = JobFactory(connection__user=partner, status=Job.DONE)
    item = refused_for_address(job)
    client = Client()
    client.force_login(partner)
    html = client.get(reverse("dashboard:job", args=[job.pk])).content.decode()
    assert reverse("dashboard:job_control", args=[job.pk, "retry-failed"]) not in html
    assert 'data-testid="not-retryable"' in html
    edit = reverse("dashboard:job_item", args=[job.pk, item.pk]) + "#recipient"
    assert edit in html  # the row links to the item's recipient form


def test_an_outcome_written_in_english_reads_in_each_readers_language(db, partner):
    job = JobFactory(connection__user=partner, status=Job.CANCELLED)
    with translation.override("en"):
        item = JobItemFactory(job=job, state=Item.SKIPPED, **outcomes.record("cancelled"))
    client = Client()
    client.force_login(partner)
    for language in ("de", "fr", "it"):
        with translation.override(language):
            expected = outcomes.outcome("cancelled").say()
        assert expected != item.outcome
        client.cookies["django_language"] = language
        for url in (
            reverse("dashboard:job", args=[job.pk]),
            reverse("dashboard:job_item", args=[job.pk, item.pk]),
        ):
            html = client.get(url).content.decode()
            assert expected in html, (language, url)
            assert item.outcome not in html, (language, url)
