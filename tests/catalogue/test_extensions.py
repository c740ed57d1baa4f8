"""What another area adds to the catalogue through catalogue.extensions shows where a user
looks: in the dataset JSON (single and lists, one call per page), on the dataset page, and in
the current DCAT record — and nothing breaks when nobody adds anything."""

from __future__ import annotations

import datetime as dt

import pytest
from rdflib import Literal, URIRef

from catalogue import extensions

pytestmark = pytest.mark.usefixtures("vocabularies")

MARK = URIRef("https://example.org/test#mark")


def test_dataset_json_carries_the_defaults_when_nobody_fills_them(client, make, monkeypatch):
    monkeypatch.setattr(extensions, "_facts", [])
    identifier = make.dataset(make.organisation(), publish=True)
    body = client.get(f"/api/v1/datasets/{identifier}").json
    assert body["data_use"] is None
    assert body["requestable"] is False
    assert body["requestable_until"] is None


def test_providers_fill_the_dataset_json_in_one_call_per_page(client, make, monkeypatch):
    calls: list[list[int]] = []

    def provider(actor, dataset_ids):
        calls.append(list(dataset_ids))
        return {
            i: {
                "requestable": True,
                "requestable_until": dt.date(2028, 3, 31),
                "data_use": {"permission": "DUO:0000042", "code": "GRU", "revision": 2},
            }
            for i in dataset_ids
        }

    monkeypatch.setattr(extensions, "_facts", [provider])
    organisation = make.organisation()
    first = make.dataset(organisation, publish=True)
    make.dataset(organisation, publish=True)

    one = client.get(f"/api/v1/datasets/{first}").json
    assert one["requestable"] is True
    assert one["requestable_until"] == "2028-03-31"
    assert one["data_use"]["permission"] == "DUO:0000042"
    assert one["data_use"]["revision"] == 2

    calls.clear()
    listed = client.get(f"/api/v1/datasets?custodian={organisation.id}").json
    assert len(listed["items"]) == 2
    assert all(item["requestable_until"] == "2028-03-31" for item in listed["items"])
    assert len(calls) == 1 and len(calls[0]) == 2


def test_a_panel_shows_on_the_dataset_page_and_can_leave_itself_out(app, client, make, monkeypatch):
    seen = []

    def context(actor, dataset, version):
        seen.append(dataset.identifier)
        return None if dataset.identifier == hidden else {"word": f"panel-of-{dataset.identifier}"}

    from jinja2 import ChoiceLoader, DictLoader

    monkeypatch.setattr(
        app.jinja_env,
        "loader",
        ChoiceLoader(
            [
                DictLoader({"test/_panel.html": "<p class='test-panel'>{{ panel.word }}</p>"}),
                app.jinja_env.loader,
            ]
        ),
    )
    app.jinja_env.cache.clear()
    monkeypatch.setattr(
        extensions, "_panels", [extensions.Panel("dataset", "test/_panel.html", context)]
    )
    organisation = make.organisation()
    shown = make.dataset(organisation, publish=True)
    hidden = make.dataset(organisation, publish=True)

    page = client.get(f"/datasets/{shown}").get_data(as_text=True)
    assert f"<p class='test-panel'>panel-of-{shown}</p>" in page
    assert "test-panel" not in client.get(f"/datasets/{hidden}").get_data(as_text=True)
    assert seen == [shown, hidden]


def test_a_dcat_contributor_adds_to_the_current_record_only(client, make, monkeypatch):
    def contributor(graph, subject, record, iris):
        graph.add((subject, MARK, Literal(record.identifier)))

    monkeypatch.setattr(extensions, "_dcat", [contributor])
    identifier = make.dataset(make.organisation(), publish=True)
    turtle = client.get(f"/datasets/{identifier}", headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200
    assert "https://example.org/test#mark" in turtle.get_data(as_text=True)
