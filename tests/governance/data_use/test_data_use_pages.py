"""The data-use pages: the form a custodian fills in (errors next to their fields, a stale form
refused without losing what was typed), the badges and the edit link on the dataset page, the
badges on search hits, the dataset JSON's ``data_use``, and the ``data_use`` search facet
(this module runs on both databases)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from catalogue.search import services as search_services
from core.models import Role
from core.policies import SYSTEM
from governance.data_use import services
from tests.conftest import csrf_token, login, shared_world

AML = "NCIT:C3171"
DS_AML = {
    "permission": "DUO:0000007",
    "diseases": [AML],
    "modifiers": [{"term": "DUO:0000024", "date": "2026-06-01"}, {"term": "DUO:0000021"}],
}


@dataclass
class World:
    emails: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def world(app, reference_engine) -> Iterator[World]:
    with shared_world(app, reference_engine) as make:
        leiden = make.organisation(name="Leiden Haematology", country="NL")
        lyon = make.organisation(name="Lyon Blood Registry", country="FR")
        users = {
            "owner": make.user(Role.CUSTODIAN, organisation=leiden),
            "other_custodian": make.user(Role.CUSTODIAN, organisation=lyon),
            "researcher": make.user(Role.RESEARCHER),
        }
        make.dataset(leiden, identifier="aml-ds", title="Leukaemia DS trial", publish=True)
        make.dataset(leiden, identifier="aml-gru", title="Leukaemia GRU registry", publish=True)
        make.dataset(lyon, identifier="aml-none", title="Leukaemia cohort", publish=True)
        make.dataset(leiden, identifier="aml-hidden", title="Leukaemia draft")
        with app.app_context():
            services.set_conditions(SYSTEM, "aml-ds", DS_AML, services_unchecked())
            services.set_conditions(
                SYSTEM,
                "aml-gru",
                {"permission": "DUO:0000042", "modifiers": [{"term": "DUO:0000021"}]},
                services_unchecked(),
            )
            services.set_conditions(
                SYSTEM, "aml-hidden", {"permission": "DUO:0000042"}, services_unchecked()
            )
        yield World(emails={role: u.email for role, u in users.items()})


def services_unchecked() -> str:
    from core.etags import UNCHECKED

    return UNCHECKED


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def badges(text: str) -> dict[str, str]:
    """Each badge's shorthand → its tooltip."""
    found = re.findall(
        r'<span class="du-badge du-(?:permission|modifier)" title="([^"]*)"[^>]*>(\w+)', text
    )
    return {code: html.unescape(tip) for tip, code in found}


# --- the dataset page -----------------------------------------------------------------------


def test_the_dataset_page_shows_badges_with_their_meaning(client, world):
    text = page(client, "/datasets/aml-ds")
    shown = badges(text)
    assert list(shown) == ["DS", "IRB", "MOR"]
    assert "disease specific research" in shown["DS"] and AML in shown["DS"]
    assert "MOR until 2026-06-01" in shown["MOR"] and "publication moratorium" in shown["MOR"]
    assert "ethics committee" in shown["IRB"]  # the plain-language explanation
    assert 'class="du-badge du-permission"' in text and 'class="du-badge du-modifier"' in text
    assert "Revision 1" in text
    assert "data_use.css" in text
    assert "Edit data-use conditions" not in text  # anonymous


@pytest.mark.parametrize(
    ("role", "link"), [("owner", True), ("researcher", False), ("other_custodian", False)]
)
def test_the_edit_link_is_for_those_who_may(client, world, role, link):
    login(client, world.emails[role])
    text = page(client, "/datasets/aml-ds")
    assert ("Edit data-use conditions" in text) is link
    assert ("/datasets/aml-ds/data-use" in text) is link


def test_a_dataset_without_conditions_says_so(client, world):
    assert "has not stated the data-use conditions yet" in page(client, "/datasets/aml-none")
    login(client, world.emails["other_custodian"])  # Lyon's custodian: their own dataset
    text = page(client, "/datasets/aml-none")
    assert "No data-use conditions yet" in text and "Add data-use conditions" in text


def test_the_dataset_json_carries_the_conditions(client, world):
    body = client.get("/api/v1/datasets/aml-ds").json
    data_use = body["data_use"]
    assert data_use["permission"] == "DUO:0000007" and data_use["code"] == "DS"
    assert data_use["diseases"] == [AML] and data_use["revision"] == 1
    assert {"term": "DUO:0000024", "code": "MOR", "label": "publication moratorium",
            "date": "2026-06-01"} in data_use["modifiers"]  # fmt: skip
    assert client.get("/api/v1/datasets/aml-none").json["data_use"] is None


# --- the form -------------------------------------------------------------------------------


def form_page(client, identifier: str = "aml-gru") -> str:
    return page(client, f"/datasets/{identifier}/data-use")


def submit(client, data: dict, identifier: str = "aml-gru", revision: str | None = None):
    path = f"/datasets/{identifier}/data-use"
    text = page(client, path)
    etag = revision or html.unescape(re.search(r'name="revision" value="([^"]*)"', text).group(1))
    return client.post(
        path, data={**data, "revision": etag, "csrf_token": csrf_token(client, path)}
    )


def test_the_form_explains_every_code_and_shows_the_current_conditions(client, world):
    login(client, world.emails["owner"])
    text = form_page(client)
    assert text.count('type="radio"') == 5
    for code in ("NRES", "GRU", "HMB", "DS", "POA", "NPU", "GS", "MOR", "TS", "US", "RTN", "NPOA"):
        assert f">{code}</span>" in text
    assert "Only not-for-profit organisations" in text  # NPU's explanation
    assert re.search(r'value="DUO:0000042" checked', text)  # GRU, as stored
    assert re.search(r'id="modifier-IRB" name="modifiers" value="DUO:0000021" checked', text)
    assert "data-autocomplete=" in text and 'id="disease_add"' in text  # the disease autocomplete
    assert 'id="MOR_date"' in text and 'type="date"' in text


@pytest.mark.parametrize(
    ("role", "identifier", "status"),
    [("researcher", "aml-gru", 403), ("other_custodian", "aml-gru", 403),
     ("other_custodian", "aml-hidden", 404), ("owner", "aml-hidden", 200)],
)  # fmt: skip
def test_only_those_who_may_change_conditions_get_the_form(client, world, role, identifier, status):
    login(client, world.emails[role])
    assert client.get(f"/datasets/{identifier}/data-use").status_code == status


def test_anonymous_visitors_are_sent_to_log_in(client, world):
    response = client.get("/datasets/aml-gru/data-use")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_saving_the_form_sets_the_conditions(client, world):
    login(client, world.emails["owner"])
    response = submit(
        client,
        {
            "permission": "DUO:0000007",
            "disease_add": "NCIT:C3171",
            "modifiers": ["DUO:0000022", "DUO:0000025", "DUO:0000028"],
            "GS_regions": "EEA, ch",
            "TS_months": "24",
            "IS_institutions": "Erasmus MC\nCharité",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    body = client.get("/api/v1/datasets/aml-gru/data-use").json
    assert body["permission"] == "DUO:0000007" and body["diseases"] == [AML]
    assert body["revision"] == 2
    by_code = {m["code"]: m for m in body["modifiers"]}
    assert by_code["GS"]["regions"] == ["CH", "EEA"] and by_code["TS"]["months"] == 24
    assert by_code["IS"]["institutions"] == ["Charité", "Erasmus MC"]
    assert "Data-use conditions saved (revision 2)" in page(client, "/datasets/aml-gru")


def test_errors_are_shown_next_to_their_fields(client, world):
    login(client, world.emails["owner"])
    response = submit(
        client,
        {
            "permission": "DUO:0000007",
            "modifiers": ["DUO:0000024", "DUO:0000025"],
            "TS_months": "0",
        },
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    for name in ("diseases", "MOR_date", "TS_months"):
        assert f'id="{name}-error"' in text, name
    assert 'id="error-summary"' in text
    # what was chosen stays chosen
    assert re.search(r'value="DUO:0000007" checked', text)
    assert re.search(r'id="modifier-MOR" name="modifiers" value="DUO:0000024" checked', text)
    assert client.get("/api/v1/datasets/aml-gru/data-use").json["revision"] == 1


def test_a_stale_form_is_refused_keeping_what_was_typed(client, world, app):
    login(client, world.emails["owner"])
    text = form_page(client)
    old = html.unescape(re.search(r'name="revision" value="([^"]*)"', text).group(1))
    with app.app_context():
        services.set_conditions(
            SYSTEM, "aml-gru", {"permission": "DUO:0000004"}, services_unchecked()
        )
    response = submit(client, {"permission": "DUO:0000006"}, revision=old)
    assert response.status_code == 412
    text = response.get_data(as_text=True)
    assert "Someone changed these conditions" in text
    assert re.search(r'value="DUO:0000006" checked', text)
    assert client.get("/api/v1/datasets/aml-gru/data-use").json["permission"] == "DUO:0000004"


# --- search ---------------------------------------------------------------------------------


def search(client, **params):
    response = client.get("/api/v1/search", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def test_the_facet_filters_and_counts(client, world):
    everything = search(client, q="leukaemia")
    counts = {v["value"]: (v["count"], v["label"]) for v in everything["facets"]["data_use"]}
    assert counts["DUO:0000007"] == (1, "DS – disease specific research")  # noqa: RUF001
    assert counts["DUO:0000021"][0] == 2 and counts["DUO:0000042"][0] == 1
    assert "DUO:0000004" not in counts  # nobody uses NRES
    ds = search(client, q="leukaemia", data_use="DUO:0000007")
    assert [h["identifier"] for h in ds["items"]] == ["aml-ds"]
    either = search(
        client,
        q="leukaemia",
        data_use=["DUO:0000007", "http://purl.obolibrary.org/obo/DUO_0000042"],
    )
    assert {h["identifier"] for h in either["items"]} == {"aml-ds", "aml-gru"}  # OR
    irb = search(client, data_use="IRB")
    assert {h["identifier"] for h in irb["items"]} == {"aml-ds", "aml-gru"}


def test_one_statement_serves_every_selection_of_the_facet(client, world):
    search_services.STATEMENTS.clear()
    search(client, q="leukaemia", data_use="DUO:0000007")
    reused = search(client, q="leukaemia", data_use=["DUO:0000042", "DUO:0000021"])
    assert len(search_services.STATEMENTS._built) == 1
    search_services.STATEMENTS.clear()
    assert reused == search(client, q="leukaemia", data_use=["DUO:0000042", "DUO:0000021"])


@pytest.mark.parametrize("value", ["DUO:0000005", "DUO:9999999", "NCIT:C3171", "nonsense"])
def test_an_unknown_term_is_refused(client, world, value):
    response = client.get("/api/v1/search", query_string={"data_use": value})
    assert response.status_code == 422
    assert "data_use" in response.json["errors"]


def test_drafts_conditions_are_counted_for_their_editors_only(client, world):
    values = {v["value"]: v["count"] for v in search(client, q="leukaemia")["facets"]["data_use"]}
    assert values["DUO:0000042"] == 1  # the draft's GRU is not counted
    login(client, world.emails["owner"])
    headers = {"X-CSRFToken": csrf_token(client, "/")}
    own = client.get("/api/v1/search", query_string={"q": "leukaemia"}, headers=headers).json
    assert {v["value"]: v["count"] for v in own["facets"]["data_use"]}["DUO:0000042"] == 2


def test_hits_carry_their_conditions_and_show_badges(client, world):
    hits = {h["identifier"]: h for h in search(client, q="leukaemia")["items"]}
    assert hits["aml-ds"]["data_use"]["permission"] == "DUO:0000007"
    assert {"term": "DUO:0000024", "code": "MOR", "label": "publication moratorium",
            "date": "2026-06-01"} in hits["aml-ds"]["data_use"]["modifiers"]  # fmt: skip
    assert hits["aml-none"]["data_use"] is None
    text = page(client, "/search?q=leukaemia")
    assert text.count('class="du-badge du-permission"') == 2  # aml-ds and aml-gru
    assert text.count("data_use.css") == 1  # one stylesheet link for the whole page
