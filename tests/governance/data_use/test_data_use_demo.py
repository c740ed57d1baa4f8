"""The demo catalogue comes with data-use conditions of every kind (``harmony demo load``)."""

from __future__ import annotations

from core import demo as core_demo
from core.policies import SYSTEM
from governance.data_use import demo, services, vocabulary


def test_the_demo_datasets_get_their_conditions_once(app, client, vocabularies):
    with app.app_context():
        assert core_demo.load_demo(password="demo data use test password 42", with_steps=True)
        assert demo.set_demo_conditions() == []  # the step ran; a second load changes nothing
        codes = {}
        for identifier in demo.DEMO_CONDITIONS:
            row = services.get_conditions(SYSTEM, identifier).row
            assert row is not None and row.revision == 1, identifier
            codes[identifier] = [
                vocabulary.TERMS[t].code
                for t in [row.permission, *(m["term"] for m in row.modifiers)]
            ]
    assert codes["aml-ic-2016"] == ["DS", "PUB", "IRB"]
    assert codes["mds-registry-it"] == ["HMB", "NPU"]
    assert codes["mm-te-2015"] == ["DS", "GS", "MOR"]
    assert {c[0] for c in codes.values()} == {"NRES", "GRU", "HMB", "DS"}
    facet = client.get("/api/v1/search").json["facets"]["data_use"]
    assert {v["value"] for v in facet} >= {"DUO:0000007", "DUO:0000045", "DUO:0000024"}
