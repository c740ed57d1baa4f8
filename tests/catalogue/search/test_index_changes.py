"""A dictionary change re-indexes only the variables whose text changed: re-importing a
dictionary with one label changed writes one search row, not one per variable (which made a
re-import of 100,000 variables slower than the first import), and search sees the change."""

from __future__ import annotations

from typing import Any

import pytest

from catalogue.search import indexer
from tests.catalogue.dictionary.test_import_api import new_custodian, sample, upload


@pytest.fixture
def custodian(make, vocabularies) -> dict[str, Any]:
    return new_custodian(make)


def test_one_changed_label_rewrites_one_search_row(client, make, custodian, monkeypatch):
    identifier = make.dataset(custodian["organisation"])
    data = sample("aml_trial_redcap.csv")
    first = upload(client, identifier, data, "trial.csv", custodian["headers"])
    assert first.status_code == 200, first.json
    written: list[int] = []
    original = indexer.insert_rows

    def counting(model: Any, columns: Any, rows: Any, **kwargs: Any) -> int:
        rows = list(rows)
        if model is indexer.SearchVariable:
            written.append(len(rows))
        return original(model, columns, rows, **kwargs)

    monkeypatch.setattr(indexer, "insert_rows", counting)
    changed = data.replace(b",Age at diagnosis,", b",Age when diagnosed zqxj,", 1)
    again = upload(client, identifier, changed, "trial.csv", custodian["headers"])
    assert again.status_code == 200, again.json
    assert (again.json["changed"], again.json["unchanged"]) == (1, first.json["variables"] - 1)
    assert sum(written) == 1
    hits = client.get(
        f"/api/v1/datasets/{identifier}/variables",
        query_string={"q": "zqxj"},
        headers=custodian["headers"],
    ).json
    assert [v["name"] for v in hits["items"]] == ["age_dx"]
    unchanged = upload(client, identifier, changed, "trial.csv", custodian["headers"])
    assert unchanged.json["changed"] == 0
    assert sum(written) == 1
