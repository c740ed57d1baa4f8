"""Looking terms up, walking the hierarchy and autocomplete, through the API."""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest

from core.models import Role
from tests.ontologies.conftest import tiny_ttl


def test_term_by_curie_or_iri_in_any_spelling(client, tiny):
    for identifier in (
        "NCIT:C3171",
        "ncit:C3171",
        quote("http://purl.obolibrary.org/obo/NCIT_C3171", safe=""),
    ):
        response = client.get(f"/api/v1/terms/{identifier}")
        assert response.status_code == 200, identifier
        body = response.json
        assert body["curie"] == "NCIT:C3171"
        assert body["iri"] == "http://purl.obolibrary.org/obo/NCIT_C3171"
        assert body["ontology"] == "TINY" and body["obsolete"] is False
        assert {"text": "AML", "type": "abbreviation"} in body["synonyms"]
        assert body["xrefs"] == ["ONCOTREE:AML"]
        assert [p["curie"] for p in body["parents"]] == ["NCIT:C27134"]
        assert {c["curie"] for c in body["children"]} == {"NCIT:C3182", "NCIT:C9999"}


def test_unknown_term_is_404(client, tiny):
    assert client.get("/api/v1/terms/NCIT:C0000000").status_code == 404
    assert client.get("/api/v1/terms/not-a-curie").status_code == 404


def test_descendants_and_ancestors(client, tiny):
    below = client.get("/api/v1/terms/NCIT:C27134/descendants").json
    assert below["total"] == 4
    assert [(t["curie"], t["depth"]) for t in below["items"]][:2] == [
        ("NCIT:C3171", 1),
        ("NCIT:C3247", 1),
    ]
    near = client.get("/api/v1/terms/NCIT:C27134/descendants?max_depth=1").json
    assert near["total"] == 2
    above = client.get("/api/v1/terms/NCIT:C9999/ancestors").json
    assert {(t["curie"], t["depth"]) for t in above["items"]} == {
        ("NCIT:C3171", 1),
        ("NCIT:C3247", 1),
        ("NCIT:C27134", 2),
    }
    paged = client.get("/api/v1/terms/NCIT:C27134/descendants?per_page=3&page=2").json
    assert paged["total"] == 4 and len(paged["items"]) == 1


@pytest.mark.parametrize(
    ("q", "first", "match"),
    [
        ("Acute Myeloid Leukemia", "NCIT:C3171", "exact_label"),
        ("aml", "NCIT:C3171", "exact_synonym"),
        ("acute myeloid leukaemia", "NCIT:C3171", "exact_synonym"),
        ("myelodys", "NCIT:C3247", "prefix"),
        ("promyelo", "NCIT:C3182", "word_prefix"),
        ("leukemai", "NCIT:C3171", "fuzzy"),
        ("NCIT:C3247", "NCIT:C3247", "identifier"),
    ],
)
def test_autocomplete_ranking(client, tiny, q, first, match):
    body = client.get("/api/v1/terms", query_string={"q": q}).json
    assert body["items"], q
    assert body["items"][0]["curie"] == first
    assert body["items"][0]["match"] == match


def test_autocomplete_orders_exact_before_prefix_before_word_prefix(client, tiny):
    items = client.get("/api/v1/terms", query_string={"q": "acute"}).json["items"]
    curies = [i["curie"] for i in items]
    # "Acute Myeloid Leukemia" starts with the word; "Acute Promyelocytic…" too; nothing else does
    assert set(curies[:2]) == {"NCIT:C3171", "NCIT:C3182"}
    items = client.get("/api/v1/terms", query_string={"q": "leukemia"}).json["items"]
    assert {i["match"] for i in items} == {"word_prefix"}


def test_autocomplete_filters_by_ontology_and_limit(client, tiny, app):
    from tests.ontologies.conftest import load_bytes

    load_bytes(app, tiny_ttl().replace(b"NCIT_", b"OTHER_"), "other.ttl", prefix="OTHER")
    everything = client.get("/api/v1/terms", query_string={"q": "aml"}).json["items"]
    assert {i["ontology"] for i in everything} == {"TINY", "OTHER"}
    only = client.get("/api/v1/terms", query_string={"q": "aml", "ontology": "other"}).json
    assert {i["ontology"] for i in only["items"]} == {"OTHER"}
    limited = client.get("/api/v1/terms", query_string={"q": "a", "limit": 2}).json
    assert len(limited["items"]) == 2 and limited["per_page"] == 2


def test_autocomplete_needs_a_query(client):
    response = client.get("/api/v1/terms")
    assert response.status_code == 422 and "q" in response.json["errors"]
    assert client.get("/api/v1/terms?q=x&limit=1000").status_code == 422


def test_ontologies_list_and_detail(client, tiny):
    listed = client.get("/api/v1/ontologies").json
    tiny_entry = next(o for o in listed if o["prefix"] == "TINY")
    assert tiny_entry["name"] == "Tiny haem" and tiny_entry["term_count"] == 5
    assert tiny_entry["licence"] == "https://creativecommons.org/licenses/by/4.0/"
    assert client.get("/api/v1/ontologies/tiny").json["version"] == "1"
    assert client.get("/api/v1/ontologies/NOPE").status_code == 404


def _admin(make):
    return {"Authorization": f"Bearer {make.token(make.user(Role.ADMIN))}"}


def test_admin_uploads_an_ontology(client, make):
    headers = _admin(make)
    response = client.post(
        "/api/v1/ontologies",
        data={"file": (io.BytesIO(tiny_ttl()), "tiny.ttl"), "prefix": "UPL"},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.json
    assert response.json["status"] == "loaded" and response.json["added"] == 5
    again = client.post(
        "/api/v1/ontologies",
        data={"file": (io.BytesIO(tiny_ttl()), "tiny.ttl"), "prefix": "UPL"},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert again.json["status"] == "unchanged"


def test_upload_errors(client, make, app):
    headers = _admin(make)
    unknown = client.post(
        "/api/v1/ontologies",
        data={"file": (io.BytesIO(b"x"), "terms.docx")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert unknown.status_code == 415
    broken = client.post(
        "/api/v1/ontologies",
        data={"file": (io.BytesIO(b"@prefix x: <y> .\nnonsense"), "b.ttl")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert broken.status_code == 422 and "line 2" in broken.json["errors"]["file"][0]
    missing = client.post(
        "/api/v1/ontologies", data={}, headers=headers, content_type="multipart/form-data"
    )
    assert missing.status_code == 422 and "file" in missing.json["errors"]
    app.config["MAX_CONTENT_LENGTH"], limit = 1000, app.config["MAX_CONTENT_LENGTH"]
    try:
        too_big = client.post(
            "/api/v1/ontologies",
            data={"file": (io.BytesIO(b"#" * 5000), "big.ttl")},
            headers=headers,
            content_type="multipart/form-data",
        )
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert too_big.status_code == 413


def test_only_admins_upload(client, make):
    token = make.token(make.user(Role.CUSTODIAN))
    response = client.post(
        "/api/v1/ontologies",
        data={"file": (io.BytesIO(tiny_ttl()), "tiny.ttl")},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
