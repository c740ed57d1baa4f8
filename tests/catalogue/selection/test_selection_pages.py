"""The selection in the browser: the page and its empty state, the header's count, the buttons
on search hits and dataset pages (forms that work without JavaScript), the variable
checkboxes, and a selection that outlives the session."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.conftest import csrf_token, login

PAGE = "/me/selection"


def text(response) -> str:
    return response.get_data(as_text=True)


def press(client, path, page, **fields):
    """Submit a button's form as the browser does: the page's CSRF token, its ``next``."""
    data = {"csrf_token": csrf_token(client, page), "next": page, **fields}
    return client.post(path, data=data)


def header_count(client, page="/") -> str | None:
    match = re.search(r">Selection \((\d+)\)</a>", text(client.get(page)))
    return match.group(1) if match else None


@pytest.fixture
def researcher(client, world):
    assert login(client, world.emails["researcher"]).status_code == 302
    return client


def test_anonymous_visitors_are_sent_to_log_in(client, world):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    button = press(client, "/me/selection/datasets/sel-aml/add", "/datasets/sel-aml")
    assert button.status_code == 302
    assert button.headers["Location"] == "/login?next=/datasets/sel-aml"
    assert header_count(client) is None
    assert "Add to selection" not in text(client.get("/datasets/sel-aml"))


def test_the_empty_selection_says_how_to_fill_it(researcher):
    page = text(researcher.get(PAGE))
    assert "Your selection is empty" in page
    assert "Search and add datasets" in page
    assert 'href="/search"' in page
    assert "Clear the selection" not in page


def test_the_header_counts_the_selected_datasets(researcher):
    assert header_count(researcher) == "0"
    press(researcher, "/me/selection/datasets/sel-aml/add", "/datasets/sel-aml")
    press(researcher, "/me/selection/datasets/sel-mds/add", "/datasets/sel-mds")
    assert header_count(researcher, "/datasets") == "2"


def test_add_and_remove_on_a_dataset_page(researcher):
    page = text(researcher.get("/datasets/sel-aml"))
    assert "Add to selection" in page and "In selection ✓" not in page
    response = press(researcher, "/me/selection/datasets/sel-aml/add", "/datasets/sel-aml")
    assert response.status_code == 302 and response.headers["Location"] == "/datasets/sel-aml"
    page = text(researcher.get("/datasets/sel-aml"))
    assert "In selection ✓" in page and "is in your selection" in page
    assert "Remove from selection" in page
    press(researcher, "/me/selection/datasets/sel-aml/remove", "/datasets/sel-aml")
    page = text(researcher.get("/datasets/sel-aml"))
    assert "Add to selection" in page and "is no longer in your selection" in page


def test_add_and_remove_on_a_search_hit(researcher):
    search = "/search?q=MDS+registry"
    page = text(researcher.get(search))
    assert 'formaction="/me/selection/datasets/sel-mds/add"' in page
    response = press(researcher, "/me/selection/datasets/sel-mds/add", search)
    assert response.headers["Location"] == search  # back to the same results
    page = text(researcher.get(search))
    assert 'formaction="/me/selection/datasets/sel-mds/remove"' in page
    assert "In selection ✓" in page
    press(researcher, "/me/selection/datasets/sel-mds/remove", search)
    assert 'formaction="/me/selection/datasets/sel-mds/add"' in text(researcher.get(search))


class _Forms(HTMLParser):
    """Where each form starts and ends, and which form each submit button belongs to."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[dict[str, str | None]] = []
        self.nested = 0
        self.forms: dict[str, dict[str, str | None]] = {}
        self.buttons: list[dict[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "form":
            self.nested += bool(self.open)
            self.open.append(values)
            if values.get("id"):
                self.forms[values["id"]] = values
        elif tag == "button" and values.get("form"):
            self.buttons.append(values)

    def handle_endtag(self, tag):
        if tag == "form" and self.open:
            self.open.pop()


def test_the_search_page_s_selection_buttons_post_their_own_form_not_the_search(researcher):
    """Forms do not nest in HTML: a POST form inside the search page's GET form would be
    dropped by the browser, and the button would submit the search instead."""
    parser = _Forms()
    parser.feed(text(researcher.get("/search?q=MDS+registry")))
    assert parser.nested == 0
    mine = [b for b in parser.buttons if "/me/selection/" in (b.get("formaction") or "")]
    assert mine
    for button in mine:
        form = parser.forms[button["form"]]
        assert form["method"] == "post" and form["id"].startswith("selection-")


def test_drafts_offer_no_button_and_cannot_be_added(client, world):
    login(client, world.emails["custodian"])
    page = text(client.get("/datasets/sel-draft"))
    assert "Add to selection" not in page
    response = press(client, "/me/selection/datasets/sel-draft/add", "/datasets/sel-draft")
    assert response.status_code == 404
    assert header_count(client) == "0"


def test_tick_variables_on_the_dataset_page(researcher):
    page = text(researcher.get("/datasets/sel-aml"))
    assert 'form="selection-variables" name="variables" value="npm1"' in page
    assert '<span class="visually-hidden">npm1 in my selection</span>' in page
    shown = ["flt3_itd", "npm1", "karyotype"]
    data = {"csrf_token": csrf_token(researcher, "/datasets/sel-aml"), "next": "/datasets/sel-aml"}
    response = researcher.post(
        "/me/selection/datasets/sel-aml/variables",
        data={**data, "variables": ["npm1", "karyotype"], "shown": shown},
    )
    assert response.status_code == 302
    page = text(researcher.get("/datasets/sel-aml"))
    assert "with 2 variables" in page
    assert 'value="npm1" checked>' in page
    assert 'value="flt3_itd">' in page
    # untick one: it goes; the dataset stays
    researcher.post(
        "/me/selection/datasets/sel-aml/variables",
        data={**data, "variables": ["karyotype"], "shown": shown},
    )
    listing = text(researcher.get(PAGE))
    assert "Karyotype" in listing and "NPM1 mutation" not in listing


def test_an_unknown_variable_from_the_form_is_named_on_the_page(researcher):
    response = press(
        researcher,
        "/me/selection/datasets/sel-aml/variables",
        "/datasets/sel-aml",
        variables="not_there",
    )
    assert response.status_code == 302
    page = text(researcher.get(response.headers["Location"]))
    assert "sel-aml has no variable named “not_there”." in page
    assert header_count(researcher) == "0"


def test_the_page_lists_datasets_and_variables_with_remove_buttons(researcher):
    press(researcher, "/me/selection/datasets/sel-aml/add", "/datasets/sel-aml")
    researcher.post(
        "/me/selection/datasets/sel-aml/variables",
        data={
            "csrf_token": csrf_token(researcher, "/datasets/sel-aml"),
            "variables": ["flt3_itd", "npm1"],
        },
    )
    press(researcher, "/me/selection/datasets/sel-bare/add", "/datasets/sel-bare")
    page = text(researcher.get(PAGE))
    assert "AML cohort with molecular markers" in page and "Myeloma trial" in page
    assert "FLT3-ITD status" in page and "NPM1 mutation" in page
    assert "The whole dataset" in page  # sel-bare, without variables
    assert 'action="/me/selection/datasets/sel-aml/variables/npm1/remove"' in page
    response = press(researcher, "/me/selection/datasets/sel-aml/variables/npm1/remove", PAGE)
    assert response.headers["Location"] == PAGE
    page = text(researcher.get(PAGE))
    assert "NPM1 mutation" not in page and "FLT3-ITD status" in page
    # pressed again (another tab): done already, no error page
    again = press(researcher, "/me/selection/datasets/sel-aml/variables/npm1/remove", PAGE)
    assert again.status_code == 302
    press(researcher, "/me/selection/datasets/sel-aml/remove", PAGE)
    page = text(researcher.get(PAGE))
    assert "AML cohort with molecular markers" not in page and "Myeloma trial" in page


def test_clear_the_selection(researcher):
    press(researcher, "/me/selection/datasets/sel-aml/add", "/datasets/sel-aml")
    press(researcher, "/me/selection/datasets/sel-mds/add", "/datasets/sel-mds")
    assert "Clear the selection" in text(researcher.get(PAGE))
    response = press(researcher, "/me/selection/clear", PAGE)
    assert response.headers["Location"] == PAGE
    page = text(researcher.get(PAGE))
    assert "Your selection is empty" in page
    assert header_count(researcher) == "0"


def test_a_button_goes_back_only_to_a_page_of_this_site(researcher):
    response = press(
        researcher, "/me/selection/datasets/sel-aml/add", "/", next="https://evil.example/"
    )
    assert response.headers["Location"] == PAGE


def test_the_selection_survives_logging_out(client, world):
    login(client, world.emails["researcher"])
    press(client, "/me/selection/datasets/sel-aml/add", "/datasets/sel-aml")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.get(PAGE).status_code == 302  # logged out
    login(client, world.emails["researcher"])
    assert "AML cohort with molecular markers" in text(client.get(PAGE))
    assert header_count(client) == "1"


def test_another_user_sees_their_own_selection(client, world):
    login(client, world.emails["researcher"])
    press(client, "/me/selection/datasets/sel-aml/add", "/datasets/sel-aml")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, world.emails["other_researcher"])
    assert "Your selection is empty" in text(client.get(PAGE))
