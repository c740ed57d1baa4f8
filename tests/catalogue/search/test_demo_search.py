"""``harmony demo load`` leaves a searchable catalogue: the index follows the demo's changes."""

from __future__ import annotations

from core import demo as core_demo
from tests.catalogue.search.conftest import MYELOID


def test_the_demo_catalogue_is_searchable(app, client, vocabularies):
    with app.app_context():
        assert core_demo.load_demo(password="demo search password 1234", with_steps=True)

    def search(**params):
        response = client.get("/api/v1/search", query_string=params)
        assert response.status_code == 200
        return response.json

    everything = search()
    assert everything["total"] == 7  # the published demo datasets; the draft stays hidden
    myeloid = search(q="myeloid neoplasm")
    assert {"aml-ic-2016", "flt3-mido-2017", "mds-registry-it"} <= {
        i["identifier"] for i in myeloid["items"]
    }
    assert (
        myeloid["total"]
        == {v["value"]: v["count"] for v in everything["facets"]["disease"]}[MYELOID]
    )
    hb = search(q="Hb")
    assert hb["total"] == 7  # every demo dictionary maps a haemoglobin variable
    assert all(i["variables"]["mapped_to_terms"] for i in hb["items"])
    assert search(q="leukaemia")["total"] == search(q="leukemia")["total"] > 0
