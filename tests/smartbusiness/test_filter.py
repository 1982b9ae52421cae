import json

from partnerapp.smartbusiness.client import Filter, _list_query


def test_one_term_is_a_plain_object():
    assert json.loads(Filter(status="DR").to_json()) == {"status": "DR"}


def test_terms_combine_with_and_and_or():
    expr = (Filter(status="DR") & Filter(currency="CHF")) | Filter(status="S")
    assert json.loads(expr.to_json()) == {
        "or": [{"and": [{"status": "DR"}, {"currency": "CHF"}]}, {"status": "S"}]
    }


def test_several_keywords_mean_and():
    assert json.loads(Filter(status="DR", currency="EUR").to_json()) == {
        "and": [{"status": "DR"}, {"currency": "EUR"}]
    }


def test_query_names_follow_the_provider():
    query = _list_query(
        {"with_": ["contact"], "sort": ["-date", "number"], "q": "", "limit": 5, "filter": Filter()}
    )
    assert query == {"with": "contact", "sort": "-date,number", "limit": "5"}
