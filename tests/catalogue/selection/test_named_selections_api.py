"""Several named selections through the API: make, list, rename, switch the current one (where
``/me/selection`` and the add buttons act), delete; the same item operations per selection;
another user's selection is 404; names are refused naming the field."""

from __future__ import annotations

import pytest

from catalogue.selection import services
from tests.catalogue.selection.conftest import bearer

SELECTIONS = "/api/v1/me/selections"
CURRENT = "/api/v1/me/selection"


def call(client, world, method, path, body=None, role="researcher", **headers):
    return client.open(path, method=method, json=body, headers={**bearer(world, role), **headers})


def make(client, world, name, role="researcher"):
    response = call(client, world, "POST", SELECTIONS, {"name": name}, role)
    assert response.status_code == 201, response.json
    return response


def names(client, world, role="researcher"):
    response = call(client, world, "GET", SELECTIONS, role=role)
    assert response.status_code == 200
    return [(s["name"], s["is_current"]) for s in response.json["items"]]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", SELECTIONS),
        ("POST", SELECTIONS),
        ("GET", f"{SELECTIONS}/abc"),
        ("PATCH", f"{SELECTIONS}/abc"),
        ("DELETE", f"{SELECTIONS}/abc"),
        ("DELETE", f"{SELECTIONS}/abc/datasets"),
        ("PUT", f"{SELECTIONS}/abc/datasets/sel-aml"),
        ("DELETE", f"{SELECTIONS}/abc/datasets/sel-aml"),
        ("DELETE", f"{SELECTIONS}/abc/datasets/sel-aml/variables/npm1"),
        ("POST", f"{SELECTIONS}/abc/share"),
        ("DELETE", f"{SELECTIONS}/abc/share"),
        ("GET", f"{SELECTIONS}/abc/dictionary.csv"),
        ("GET", f"{SELECTIONS}/abc/dictionary.xlsx"),
        ("POST", "/api/v1/shared-selections/" + "a" * 43 + "/copy"),
    ],
)
def test_anonymous_callers_are_asked_to_log_in(client, world, method, path):
    response = client.open(path, method=method, json={})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_a_new_selection_is_listed_and_becomes_current(client, world):
    assert names(client, world) == []
    first = make(client, world, "AML markers")
    assert first.headers["ETag"]
    assert first.headers["Location"].endswith(f"{SELECTIONS}/{first.json['id']}")
    assert first.json["is_current"] is True and first.json["datasets"] == []
    make(client, world, "MDS prognosis")
    assert names(client, world) == [("MDS prognosis", True), ("AML markers", False)]
    # the add buttons and /me/selection act on the current one
    call(client, world, "PUT", f"{CURRENT}/datasets/sel-mds")
    current = call(client, world, "GET", CURRENT).json
    assert current["name"] == "MDS prognosis" and current["is_current"] is True
    aml = call(client, world, "GET", f"{SELECTIONS}/{first.json['id']}").json
    assert aml["datasets"] == [] and aml["is_current"] is False


def test_the_list_counts_datasets_and_variables(client, world):
    made = make(client, world, "AML markers").json
    call(client, world, "PUT", f"{CURRENT}/datasets/sel-aml", {"variables": ["npm1", "karyotype"]})
    call(client, world, "PUT", f"{CURRENT}/datasets/sel-bare")
    (item,) = call(client, world, "GET", SELECTIONS).json["items"]
    assert item["id"] == made["id"]
    assert (item["dataset_total"], item["variable_total"], item["is_shared"]) == (2, 2, False)


def test_switch_the_current_selection(client, world):
    aml = make(client, world, "AML markers").json
    make(client, world, "MDS prognosis")
    response = call(client, world, "PATCH", f"{SELECTIONS}/{aml['id']}", {"is_current": True})
    assert response.status_code == 200 and response.json["is_current"] is True
    assert call(client, world, "GET", CURRENT).json["id"] == aml["id"]
    assert names(client, world)[0] == ("AML markers", True)
    call(client, world, "PUT", f"{CURRENT}/datasets/sel-aml")
    assert [d["identifier"] for d in call(client, world, "GET", CURRENT).json["datasets"]] == [
        "sel-aml"
    ]


def test_an_etag_of_the_former_current_selection_is_stale_after_a_switch(client, world):
    aml = make(client, world, "AML markers")
    mds = make(client, world, "MDS prognosis")
    etag = call(client, world, "GET", CURRENT).headers["ETag"]
    assert etag == mds.headers["ETag"]
    call(client, world, "PATCH", f"{SELECTIONS}/{aml.json['id']}", {"is_current": True})
    stale = call(client, world, "PUT", f"{CURRENT}/datasets/sel-aml", **{"If-Match": etag})
    assert stale.status_code == 412
    assert call(client, world, "GET", f"{SELECTIONS}/{mds.json['id']}").json["datasets"] == []


def test_making_current_is_not_a_change_but_renaming_is(client, world):
    aml = make(client, world, "AML markers")
    make(client, world, "MDS prognosis")
    etag = aml.headers["ETag"]
    switched = call(client, world, "PATCH", f"{SELECTIONS}/{aml.json['id']}", {"is_current": True})
    assert switched.headers["ETag"] == etag
    renamed = call(
        client,
        world,
        "PATCH",
        f"{SELECTIONS}/{aml.json['id']}",
        {"name": "AML: FLT3 and NPM1"},
        **{"If-Match": etag},
    )
    assert renamed.status_code == 200 and renamed.json["name"] == "AML: FLT3 and NPM1"
    assert renamed.headers["ETag"] != etag
    again = call(
        client,
        world,
        "PATCH",
        f"{SELECTIONS}/{aml.json['id']}",
        {"name": "Other"},
        **{"If-Match": etag},
    )
    assert again.status_code == 412


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": ""}, None),
        ({"name": "   "}, None),
        ({"name": "x" * 101}, None),
        ({}, None),
        ({"name": "aml MARKERS"}, "You already have a selection named “aml MARKERS”."),
        ({"name": "AML markers", "colour": "red"}, None),
    ],
    ids=["empty", "blank", "too-long", "missing", "taken-in-another-case", "unknown-field"],
)
def test_a_bad_name_is_refused_naming_the_field(client, world, body, message):
    make(client, world, "AML markers")
    response = call(client, world, "POST", SELECTIONS, body)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert set(response.json["errors"]) <= {"name", "colour"}
    if message:
        assert response.json["errors"]["name"] == [message]
    assert len(names(client, world)) == 1


def test_renaming_to_another_selection_s_name_is_refused(client, world):
    make(client, world, "AML markers")
    mds = make(client, world, "MDS prognosis").json
    response = call(client, world, "PATCH", f"{SELECTIONS}/{mds['id']}", {"name": "AML Markers"})
    assert response.status_code == 422
    assert "already have a selection" in response.json["errors"]["name"][0]
    same = call(client, world, "PATCH", f"{SELECTIONS}/{mds['id']}", {"name": "MDS prognosis"})
    assert same.status_code == 200


def test_is_current_false_is_refused(client, world):
    aml = make(client, world, "AML markers").json
    response = call(client, world, "PATCH", f"{SELECTIONS}/{aml['id']}", {"is_current": False})
    assert response.status_code == 422
    assert "is_current" in response.json["errors"]


def test_one_keeps_a_limited_number_of_selections(client, world, monkeypatch):
    monkeypatch.setattr(services, "MAX_SELECTIONS", 2)
    make(client, world, "One")
    make(client, world, "Two")
    response = call(client, world, "POST", SELECTIONS, {"name": "Three"})
    assert response.status_code == 422
    assert "at most 2 selections" in response.json["errors"]["name"][0]


def test_deleting_the_current_selection_makes_the_previous_one_current(client, world):
    aml = make(client, world, "AML markers").json
    mds = make(client, world, "MDS prognosis").json
    call(client, world, "PUT", f"{CURRENT}/datasets/sel-mds")
    response = call(client, world, "DELETE", f"{SELECTIONS}/{mds['id']}")
    assert response.status_code == 204
    assert names(client, world) == [("AML markers", True)]
    assert call(client, world, "GET", CURRENT).json["id"] == aml["id"]
    assert call(client, world, "GET", f"{SELECTIONS}/{mds['id']}").status_code == 404
    assert call(client, world, "DELETE", f"{SELECTIONS}/{mds['id']}").status_code == 404


def test_after_the_last_is_deleted_the_next_add_makes_a_default_one(client, world):
    aml = make(client, world, "AML markers").json
    call(client, world, "DELETE", f"{SELECTIONS}/{aml['id']}")
    assert call(client, world, "GET", CURRENT).json["id"] is None
    call(client, world, "PUT", f"{CURRENT}/datasets/sel-aml")
    assert names(client, world) == [("My selection", True)]


def test_items_of_a_selection_that_is_not_current(client, world):
    aml = make(client, world, "AML markers").json
    make(client, world, "MDS prognosis")
    base = f"{SELECTIONS}/{aml['id']}/datasets"
    added = call(client, world, "PUT", f"{base}/sel-aml", {"variables": ["npm1", "karyotype"]})
    assert added.status_code == 200 and added.json["id"] == aml["id"]
    assert added.json["is_current"] is False
    assert call(client, world, "GET", CURRENT).json["datasets"] == []
    gone = call(client, world, "DELETE", f"{base}/sel-aml/variables/npm1")
    assert gone.status_code == 204
    view = call(client, world, "GET", f"{SELECTIONS}/{aml['id']}").json
    assert [v["name"] for v in view["datasets"][0]["variables"]] == ["karyotype"]
    missing = call(client, world, "DELETE", f"{base}/sel-mds")
    assert missing.status_code == 404
    assert "“AML markers”" in missing.json["detail"]
    assert call(client, world, "DELETE", f"{base}/sel-aml").status_code == 204
    call(client, world, "PUT", f"{base}/sel-bare")
    assert call(client, world, "DELETE", base).status_code == 204
    assert call(client, world, "GET", f"{SELECTIONS}/{aml['id']}").json["datasets"] == []


def test_a_stale_etag_of_a_named_selection_is_refused(client, world):
    aml = make(client, world, "AML markers")
    base = f"{SELECTIONS}/{aml.json['id']}"
    etag = aml.headers["ETag"]
    fresh = call(client, world, "PUT", f"{base}/datasets/sel-aml", **{"If-Match": etag})
    assert fresh.status_code == 200
    assert call(client, world, "DELETE", base, **{"If-Match": etag}).status_code == 412
    assert (
        call(client, world, "DELETE", base, **{"If-Match": fresh.headers["ETag"]}).status_code
        == 204
    )


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"name": "Mine now"}),
        ("PATCH", "", {"is_current": True}),
        ("DELETE", "", None),
        ("DELETE", "/datasets", None),
        ("PUT", "/datasets/sel-mds", None),
        ("DELETE", "/datasets/sel-aml", None),
        ("DELETE", "/datasets/sel-aml/variables/npm1", None),
        ("POST", "/share", None),
        ("DELETE", "/share", None),
        ("GET", "/dictionary.csv", None),
        ("GET", "/dictionary.xlsx", None),
    ],
)
def test_another_user_s_selection_is_404(client, world, method, suffix, body):
    aml = make(client, world, "AML markers").json
    call(
        client, world, "PUT", f"{SELECTIONS}/{aml['id']}/datasets/sel-aml", {"variables": ["npm1"]}
    )
    response = call(
        client, world, method, f"{SELECTIONS}/{aml['id']}{suffix}", body, "other_researcher"
    )
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    view = call(client, world, "GET", f"{SELECTIONS}/{aml['id']}").json
    assert view["name"] == "AML markers" and view["is_shared"] is False
    assert [d["identifier"] for d in view["datasets"]] == ["sel-aml"]


@pytest.mark.parametrize("query", ["sort=colour", "per_page=0", "page=0", "per_page=201"])
def test_a_bad_list_query_is_refused_naming_the_field(client, world, query):
    response = call(client, world, "GET", f"{SELECTIONS}?{query}")
    assert response.status_code == 422
    assert set(response.json["errors"]) <= {"sort", "per_page", "page"}


def test_the_list_sorts_by_name(client, world):
    for name in ("b second", "A first", "c third"):
        make(client, world, name)
    response = call(client, world, "GET", f"{SELECTIONS}?sort=name&per_page=2")
    assert [s["name"] for s in response.json["items"]] == ["A first", "b second"]
    assert response.json["total"] == 3
