"""Words the search does not search, and the reason the page gives for each: too common
("the"), too long for the index (a word over 60 characters was called "too common"), or past
the number of words a query may have."""

from __future__ import annotations

import html as html_module

from catalogue.search import text
from catalogue.search.query import MAX_WORDS, interpret

LONG = "b" * 64  # the length the defect was found with (anything over text.MAX_WORD)


def page(client, q: str) -> str:
    response = client.get("/search", query_string={"q": q})
    assert response.status_code == 200
    return html_module.unescape(response.get_data(as_text=True))


def test_a_word_too_long_for_the_index_is_said_to_be_too_long(client):
    html = page(client, LONG)
    assert "too common" not in html
    assert (
        f"Not searched, it is longer than {text.MAX_WORD} characters "
        f"(the catalogue indexes no word that long): {LONG}." in html
    )
    assert f"Words longer than {text.MAX_WORD} characters are not searched" in html
    assert "Only very common words or symbols were given" not in html


def test_two_long_words_and_a_common_one_each_get_their_reason(client):
    other = "c" * 61
    html = page(client, f"the {LONG} {other}")
    assert f"they are longer than {text.MAX_WORD} characters" in html
    assert f"{LONG}, {other}." in html
    assert "Not searched (too common): the." in html


def test_a_common_word_is_still_too_common(client):
    html = page(client, "the of")
    assert "Not searched (too common): the, of." in html
    assert "Only very common words or symbols were given" in html


def test_words_past_the_limit_are_said_to_be_past_it(client):
    words = [f"word{n}" for n in range(MAX_WORDS + 2)]
    html = page(client, " ".join(words))
    assert f"Not searched, only the first {MAX_WORDS} words are: {words[-2]}, {words[-1]}." in html
    assert "too common" not in html


def test_the_interpretation_keeps_the_reasons_apart(app):
    with app.app_context():
        meaning = interpret(f"the {LONG} " + " ".join(f"w{n}x" for n in range(MAX_WORDS)))
    assert meaning.too_long == [LONG]
    assert meaning.past_limit == ["w22x", "w23x"]
    assert meaning.too_common == ["the"]
    # the API's "ignored" is, as before, every word not searched
    assert sorted(meaning.ignored) == sorted(["the", LONG, "w22x", "w23x"])


def test_the_api_still_lists_a_long_word_as_ignored(client):
    response = client.get("/api/v1/search", query_string={"q": LONG})
    assert response.status_code == 200
    assert response.get_json()["query"]["ignored"] == [LONG]
