"""Named selections in the browser (forms that work without JavaScript): the list page, making
one (errors beside the field), switching the current one (the add buttons follow), renaming,
deleting, sharing a read-only link and opening it logged out, copying it, and the links to the
combined dictionary and the harmonisation matrix."""

from __future__ import annotations

import html
import re

import pytest

from tests.conftest import csrf_token, login

LIST = "/me/selections"


def text(response) -> str:
    return response.get_data(as_text=True)


def press(client, path, page, **fields):
    data = {"csrf_token": csrf_token(client, page), "next": page, **fields}
    return client.post(path, data=data)


def make(client, name):
    response = press(client, LIST, LIST, name=name)
    assert response.status_code == 302, text(response)
    return response.headers["Location"]  # /me/selections/<id>


def selection_id(path: str) -> str:
    return path.rsplit("/", 1)[1]


def share_link(page: str) -> str:
    match = re.search(r'<code id="share-link">([^<]+)</code>', page)
    assert match, "no share link on the page"
    return match.group(1)


@pytest.fixture
def researcher(client, world):
    assert login(client, world.emails["researcher"]).status_code == 302
    return client


def test_anonymous_visitors_are_sent_to_log_in(client, world):
    for path in (LIST, "/me/selections/" + "0" * 32):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def test_the_empty_list_says_how_a_selection_is_made(researcher):
    page = text(researcher.get(LIST))
    assert "You have no selection yet" in page
    assert "Make the selection" in page


def test_make_a_selection_and_it_becomes_current(researcher):
    path = make(researcher, "AML markers")
    page = text(researcher.get(path))
    assert "<h1>AML markers</h1>" in page
    assert "Current selection" in page
    assert "“AML markers” is your current selection" in page  # the message
    press(researcher, "/me/selection/datasets/sel-aml/add", "/datasets/sel-aml")
    page = text(researcher.get(path))
    assert "AML cohort with molecular markers" in page
    assert "1 dataset." in page
    listing = text(researcher.get(LIST))
    assert "AML markers" in listing and "1 dataset" in listing and ">Current<" in listing


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Give the selection a name."),
        ("x" * 101, "A name has at most 100 characters."),
        ("aml MARKERS", "You already have a selection named “aml MARKERS”."),
    ],
    ids=["empty", "too-long", "taken"],
)
def test_a_bad_name_is_shown_beside_the_field(researcher, name, message):
    make(researcher, "AML markers")
    response = press(researcher, LIST, LIST, name=name)
    assert response.status_code == 422
    page = text(response)
    assert f'<p class="field-error" id="name-error">{message}</p>' in page
    assert 'aria-invalid="true"' in page
    assert f'value="{name}"' in page  # what was typed stays


def test_switch_and_the_add_buttons_follow(researcher):
    aml = make(researcher, "AML markers")
    mds = make(researcher, "MDS prognosis")
    press(researcher, "/me/selection/datasets/sel-mds/add", "/datasets/sel-mds")
    page = text(researcher.get(aml))
    assert "Not your current selection" in page
    assert "Make it my current selection" in page
    response = press(researcher, f"{aml}/current", aml)
    assert response.headers["Location"] == aml
    page = text(researcher.get(aml))
    assert "“AML markers” is your current selection" in page
    press(researcher, "/me/selection/datasets/sel-aml/add", "/datasets/sel-aml")
    assert "AML cohort with molecular markers" in text(researcher.get("/me/selection"))
    assert "AML cohort with molecular markers" not in text(researcher.get(mds))
    assert "The current one: “AML markers”." in text(researcher.get("/datasets/sel-bare"))


def test_the_switcher_lists_the_selections(researcher):
    aml = make(researcher, "AML markers")
    make(researcher, "MDS prognosis")
    page = text(researcher.get(aml))
    assert '<nav class="selection-switcher" aria-label="Your selections">' in page
    assert '<strong aria-current="page">AML markers</strong>' in page
    assert 'MDS prognosis</a> <span class="muted">(current)</span>' in page


def test_a_selection_that_is_not_current_is_changed_on_its_own_page(researcher):
    aml = make(researcher, "AML markers")
    press(researcher, "/me/selection/datasets/sel-aml/add", "/datasets/sel-aml")
    make(researcher, "MDS prognosis")
    page = text(researcher.get(aml))
    remove = f"{aml}/datasets/sel-aml/remove"
    assert f'action="{remove}"' in page
    assert press(researcher, remove, aml).headers["Location"] == aml
    assert "This selection is empty" in text(researcher.get(aml))


def test_rename_with_the_error_beside_the_field(researcher):
    aml = make(researcher, "AML markers")
    make(researcher, "MDS prognosis")
    refused = press(researcher, f"{aml}/rename", aml, name="MDS Prognosis")
    assert refused.status_code == 422
    assert "You already have a selection named “MDS Prognosis”." in text(refused)
    done = press(researcher, f"{aml}/rename", aml, name="AML: FLT3 and NPM1")
    assert done.headers["Location"] == aml
    assert "<h1>AML: FLT3 and NPM1</h1>" in text(researcher.get(aml))


def test_delete_a_selection(researcher):
    aml = make(researcher, "AML markers")
    page = text(researcher.get(aml))
    revision = html.unescape(re.search(r'name="revision" value="([^"]+)"', page).group(1))
    response = press(researcher, f"{aml}/delete", aml, revision=revision)
    assert response.headers["Location"] == LIST
    listing = text(researcher.get(LIST))
    assert "The selection “AML markers” is deleted." in listing
    assert "You have no selection yet" in listing
    assert researcher.get(aml).status_code == 404


def test_a_stale_delete_is_refused_with_a_message(researcher):
    aml = make(researcher, "AML markers")
    page = text(researcher.get(aml))
    revision = html.unescape(re.search(r'name="revision" value="([^"]+)"', page).group(1))
    press(researcher, "/me/selection/datasets/sel-aml/add", "/datasets/sel-aml")
    response = press(researcher, f"{aml}/delete", aml, revision=revision)
    assert response.headers["Location"] == aml
    assert "AML cohort with molecular markers" in text(researcher.get(aml))


def test_share_open_logged_out_and_stop_sharing(client, world):
    login(client, world.emails["researcher"])
    aml = make(client, "AML markers")
    client.post(
        "/me/selection/datasets/sel-aml/variables",
        data={
            "csrf_token": csrf_token(client, "/datasets/sel-aml"),
            "variables": ["npm1"],
        },
    )
    response = press(client, f"{aml}/share", aml)
    assert response.status_code == 201
    page = text(response)
    link = share_link(page)
    assert "it is shown only this once" in page
    assert link.endswith(tuple("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"))
    path = "/shared/selections/" + link.rsplit("/", 1)[1]
    # the link is not shown again on the selection's page
    again = text(client.get(aml))
    assert link not in again and "Shared since" in again and "Stop sharing" in again
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    shared = client.get(path)
    assert shared.status_code == 200
    assert shared.headers["Cache-Control"] == "no-store"
    body = text(shared)
    assert "<h1>AML markers</h1>" in body
    assert "AML cohort with molecular markers" in body and "NPM1 mutation" in body
    assert world.emails["researcher"] not in body
    assert '<meta name="robots" content="noindex">' in body
    assert "Log in</a> to copy it" in body
    assert "/dictionary.csv" in body
    assert "Remove from selection" not in body
    login(client, world.emails["researcher"])
    press(client, f"{aml}/unshare", aml)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.get(path).status_code == 404


def test_copy_from_the_shared_page(client, world):
    login(client, world.emails["researcher"])
    aml = make(client, "AML markers")
    press(client, "/me/selection/datasets/sel-aml/add", "/datasets/sel-aml")
    path = (
        "/shared/selections/"
        + share_link(text(press(client, f"{aml}/share", aml))).rsplit("/", 1)[1]
    )
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    anonymous = press(client, f"{path}/copy", path)
    assert anonymous.headers["Location"] == f"/login?next={path}"
    login(client, world.emails["other_researcher"])
    assert "Copy into my selections" in text(client.get(path))
    response = press(client, f"{path}/copy", path)
    assert response.status_code == 302
    mine = text(client.get(response.headers["Location"]))
    assert "<h1>AML markers</h1>" in mine and "Current selection" in mine
    assert "AML cohort with molecular markers" in mine


def test_the_page_links_to_the_dictionary_and_the_matrix(researcher):
    aml = make(researcher, "AML markers")
    press(researcher, "/me/selection/datasets/sel-aml/add", "/datasets/sel-aml")
    page = text(researcher.get(aml))
    sid = selection_id(aml)
    assert f'href="/api/v1/me/selections/{sid}/dictionary.csv"' in page
    assert f'href="/api/v1/me/selections/{sid}/dictionary.xlsx"' in page
    assert re.search(
        rf'href="/harmonisation[^"?]*\?selection={sid}">Compare in the harmonisation', page
    )


def test_other_areas_panels_show_on_the_current_selection_only(researcher):
    aml = make(researcher, "AML markers")
    press(researcher, "/me/selection/datasets/sel-aml/add", "/datasets/sel-aml")
    assert "Request access for this selection" in text(researcher.get(aml))
    make(researcher, "MDS prognosis")
    page = text(researcher.get(aml))
    assert "Request access for this selection" not in page
    assert "make this one current to request access" in page


def test_another_user_s_selection_pages_are_404(client, world):
    login(client, world.emails["researcher"])
    aml = make(client, "AML markers")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, world.emails["other_researcher"])
    assert client.get(aml).status_code == 404
    for action in ("current", "share", "rename", "delete", "unshare", "clear"):
        response = press(client, f"{aml}/{action}", "/me/selections", name="Mine")
        assert response.status_code == 404, action
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, world.emails["researcher"])
    assert "<h1>AML markers</h1>" in text(client.get(aml))


def test_reopening_the_share_address_leads_to_the_selection_without_the_link(researcher):
    aml = make(researcher, "AML markers")
    link = share_link(text(press(researcher, f"{aml}/share", aml)))
    response = researcher.get(f"{aml}/share")
    assert response.status_code == 302 and response.headers["Location"] == aml
    assert link not in text(researcher.get(aml))
