"""Property tests: templates, filters, ids and CSV cells, for any input hypothesis finds."""

import csv
import io
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from partnerapp.jobs import selection, services
from partnerapp.jobs.export import FORMULA_START, cell, csv_lines
from partnerapp.jobs.models import BatchJob
from partnerapp.smartbusiness.client import Filter
from partnerapp.smartbusiness.placeholders import PLACEHOLDERS, expand, unknown_placeholders
from tests.jobs.factories import ConnectionFactory, JobFactory, JobItemFactory

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
plain_text = st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=40)
documents = st.fixed_dictionaries(
    {},
    optional={
        "number": plain_text,
        "date": plain_text,
        "due": plain_text,
        "total": st.one_of(st.decimals(allow_nan=False, allow_infinity=False), plain_text),
        "currency": plain_text,
        "language": plain_text,
        "contact_name": plain_text,
        "contact": st.fixed_dictionaries(
            {}, optional={"number": plain_text, "name": plain_text, "salutation": plain_text}
        ),
    },
)
template = st.lists(
    st.one_of(
        plain_text, st.sampled_from(PLACEHOLDERS), st.from_regex(r"\{[A-Z]{1,12}\}", fullmatch=True)
    ),
    max_size=8,
).map("".join)


@given(text=template, document=documents, creator=plain_text)
def test_expanding_never_fails_and_leaves_no_known_placeholder(text, document, creator):
    rendered = expand(text, document, creator_name=creator)
    assert not any(placeholder in rendered for placeholder in PLACEHOLDERS)


@given(text=template)
def test_unknown_placeholders_are_exactly_the_unknown_brace_words(text):
    words = set(re.findall(r"\{[A-Z]+\}", text))
    assert set(unknown_placeholders(text)) == words - set(PLACEHOLDERS)


@pytest.mark.django_db
@given(subject=st.text(max_size=30), body=st.text(max_size=30))
@settings(max_examples=60)
def test_job_create_refuses_blank_or_misspelt_templates_and_stores_nothing(subject, body):
    connection = ConnectionFactory()
    bad = (
        not subject.strip()
        or not body.strip()
        or unknown_placeholders(subject + body)
        or "\x00" in subject + body
    )
    try:
        services.job_create(
            user=connection.user,
            connection=connection,
            action="invoice.send_by_email",
            selection_spec={"ids": [1]},
            parameters={"subject": subject, "body": body},
        )
    except services.JobInputError:
        assert bad
        assert not BatchJob.objects.filter(connection=connection).exists()
    else:
        assert not bad


terms = st.dictionaries(
    st.sampled_from(["status", "currency", "contact_id"]),
    st.one_of(st.text(max_size=5), st.integers()),
    min_size=1,
    max_size=2,
)


filters = st.recursive(
    terms.map(
        lambda equals: (
            Filter(**equals),
            equals if len(equals) == 1 else {"and": [{k: v} for k, v in equals.items()]},
        )
    ),
    lambda inner: st.tuples(inner, inner, st.sampled_from(["and", "or"])).map(
        lambda t: (
            (t[0][0] & t[1][0]) if t[2] == "and" else (t[0][0] | t[1][0]),
            {t[2]: [t[0][1], t[1][1]]},
        )
    ),
    max_leaves=6,
)


@given(pair=filters)
def test_a_filter_serialises_to_the_json_of_its_combination(pair):
    built, expected = pair
    assert json.loads(built.to_json()) == expected


@given(spec=st.dictionaries(st.sampled_from(selection.FILTER_KEYS), json_values, max_size=5))
def test_a_selection_filter_is_built_or_refused_with_a_value_error(spec):
    from django.utils import timezone

    try:
        result = selection.provider_filter(spec, today=timezone.localdate())
    except (ValueError, TypeError):
        return
    assert isinstance(result, Filter)


@pytest.mark.django_db
@given(ids=st.lists(json_values, max_size=5) | st.lists(st.integers(), min_size=995, max_size=1010))
@settings(max_examples=40)
def test_job_create_takes_only_a_bounded_list_of_real_ids(ids):
    connection = ConnectionFactory()
    valid = 0 < len(ids) <= selection.MAX_IDS and all(
        isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**63 for i in ids
    )
    try:
        services.job_create(
            user=connection.user,
            connection=connection,
            action="invoice.send_by_email",
            selection_spec={"ids": ids},
            parameters={"subject": "S", "body": "B"},
        )
    except services.JobInputError:
        assert not valid
    else:
        assert valid


# Item text comes from the provider through job preparation, which drops NUL characters
# (PostgreSQL text cannot hold them); everything else goes.
any_text = st.text(
    alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=30
)
# Text that looks like a formula where a spreadsheet may start a cell: after whitespace, a
# line break, a semicolon (Excel in Switzerland splits there) or a quote.
formula_like_text = st.text(alphabet=st.sampled_from(" \t\r\n\xa0;,\"'=+-@a"), max_size=12)
cell_text = (
    any_text
    | formula_like_text
    | st.sampled_from(FORMULA_START).flatmap(lambda start: any_text.map(lambda rest: start + rest))
)
FORMULA_CHARACTERS = ("=", "+", "-", "@")


def looks_like_a_formula(shown: str) -> bool:
    return shown.startswith(FORMULA_START) or shown.lstrip().startswith(FORMULA_CHARACTERS)


@given(value=cell_text)
def test_a_cell_never_starts_a_formula_and_keeps_the_text(value):
    shown = cell(value)
    assert not looks_like_a_formula(shown)
    assert shown.replace("'", "") == value.replace("'", ""), "only apostrophes are added"
    if not any(character in value for character in "=+-@\t\r"):
        assert shown == value


@pytest.mark.django_db
@given(rows=st.lists(st.tuples(cell_text, cell_text, cell_text), min_size=1, max_size=6))
@settings(max_examples=40)
def test_the_export_has_one_parsable_row_per_item_whatever_the_text(rows):
    job = JobFactory()
    for name, outcome, email in rows:
        JobItemFactory(job=job, contact_name=name, outcome=outcome, recipient_email=email)
    exported = "".join(csv_lines(job))
    parsed = list(csv.DictReader(io.StringIO(exported)))
    assert len(parsed) == len(rows)
    for row, (name, outcome, email) in zip(parsed, rows, strict=True):
        assert row["contact"] == cell(name)
        assert row["outcome"] == cell(outcome)
        assert row["recipient_email"] == cell(email)
    # Excel in Switzerland, Germany, France and Italy splits the lines at ";" instead: the
    # pieces may start with white space (a line break of ours), never with a formula.
    split = csv.reader(io.StringIO(exported, newline=""), delimiter=";")
    pieces = [shown.lstrip() for row in split for shown in row]
    assert not [shown for shown in pieces if shown.startswith(FORMULA_CHARACTERS)]
