"""SSSOM/TSV export (one dataset, the whole catalogue), read back by the reference ``sssom``
tooling, and SSSOM import with its problems reported by line and column."""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

import pytest

from catalogue.mappings import services as mappings
from core.models import Role
from core.policies import SYSTEM

VARIABLES = [
    {
        "name": "hb_dx",
        "label": "Haemoglobin at diagnosis",
        "value_type": "decimal",
        "mappings": ["HV:0000045"],
    },
    {
        "name": "karyotype",
        "label": "Karyotype",
        "value_type": "categorical",
        "permissible_values": [{"code": "1", "label": "Normal"}, {"code": "2", "label": "Complex"}],
    },
    {
        "name": "aml_type",
        "label": "AML type",
        "value_type": "categorical",
        "mappings": ["NCIT:C3171"],
    },
    {"name": "flt3itd", "label": "FLT3-ITD", "value_type": "categorical"},
]


def parse_sssom(text: str, tmp_path: Path) -> Any:
    """The reference reader (sssom-py). Importing it sets a pandas option that pandas 3
    deprecates, which this test run would otherwise turn into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sssom.parsers import parse_sssom_table

        path = tmp_path / "mappings.sssom.tsv"
        path.write_text(text, encoding="utf-8")
        return parse_sssom_table(path)


def _rows(msdf: Any) -> list[dict[str, Any]]:
    """The table's rows, empty cells as "" (pandas reads them as NaN)."""
    return [
        {k: ("" if v != v else v) for k, v in record.items()}  # NaN is not equal to itself
        for record in msdf.df.to_dict("records")
    ]


@pytest.fixture
def world(app, make, vocabularies):
    organisation = make.organisation(name="Leukaemia Trials Group")
    custodian = make.user(Role.CUSTODIAN, organisation=organisation, name="Cora Custodian")
    identifier = make.dataset(organisation, variables=VARIABLES, identifier="aml-trial")
    with app.app_context():
        mappings.create_mapping(
            custodian,
            identifier,
            {
                "variable": "karyotype",
                "subject_value": "2",
                "object_id": "HV:0000094",
                "predicate_id": "skos:closeMatch",
                "confidence": 0.75,
                "comment": "complex\tmeans ≥3 abnormalities",
            },
            "*",
        )
        mappings.suggest(custodian, identifier, "*")
    return identifier, custodian, {"Authorization": f"Bearer {make.token(custodian)}"}


def test_a_dataset_export_is_valid_sssom_with_its_accepted_mappings(client, world, tmp_path):
    identifier, _, auth = world
    response = client.get(f"/api/v1/datasets/{identifier}/mappings.sssom.tsv", headers=auth)
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/tab-separated-values"
    assert "aml-trial-v1.sssom.tsv" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("# curie_map:")
    msdf = parse_sssom(text, tmp_path)
    assert msdf.metadata["mapping_set_id"] == (
        "http://127.0.0.1:8000/api/v1/datasets/aml-trial/mappings.sssom.tsv"
    )
    assert msdf.metadata["license"].startswith("https://creativecommons.org/")
    prefixes = msdf.converter.bimap
    assert prefixes["harmonyvar"] == "http://127.0.0.1:8000/datasets/aml-trial/variables/"
    assert prefixes["HV"] == "https://w3id.org/harmony/hv/HV_"
    assert prefixes["NCIT"] == "http://purl.obolibrary.org/obo/NCIT_"
    rows = sorted(_rows(msdf), key=lambda r: r["subject_id"])
    assert [(r["subject_id"], r["predicate_id"], r["object_id"]) for r in rows] == [
        ("harmonyvar:aml_type", "skos:exactMatch", "NCIT:C3171"),
        ("harmonyvar:hb_dx", "skos:exactMatch", "HV:0000045"),
        ("harmonyvar:karyotype/values/2", "skos:closeMatch", "HV:0000094"),
    ]
    value = rows[2]
    assert value["subject_label"] == "Karyotype = Complex"
    assert value["object_label"] == "Complex karyotype"
    assert value["confidence"] == 0.75
    assert value["author_label"] == "Cora Custodian"
    assert value["comment"] == "complex means ≥3 abnormalities"  # a tab cannot break the row
    assert value["mapping_justification"] == "semapv:ManualMappingCuration"


def test_suggestions_and_rejections_are_exported_on_request(client, world, tmp_path):
    identifier, _, auth = world
    base = f"/api/v1/datasets/{identifier}/mappings"
    suggestion = client.get(f"{base}?status=suggested&variable=flt3itd", headers=auth).json[
        "items"
    ][0]
    client.patch(
        f"{base}/{suggestion['id']}", json={"status": "rejected"}, headers=auth | {"If-Match": "*"}
    )
    text = client.get(f"{base}.sssom.tsv?status=all", headers=auth).get_data(as_text=True)
    rows = _rows(parse_sssom(text, tmp_path))
    negated = [r for r in rows if r["predicate_modifier"] == "Not"]
    assert [(r["subject_id"], r["object_id"]) for r in negated] == [
        ("harmonyvar:flt3itd", suggestion["object_id"])
    ]
    lexical = [r for r in rows if r["mapping_justification"] == "semapv:LexicalMatching"]
    assert lexical and all(0 < r["confidence"] <= 1 for r in lexical)
    assert client.get(f"{base}.sssom.tsv?status=maybe", headers=auth).status_code == 422
    # a draft is for its editors only
    assert client.get(f"{base}.sssom.tsv").status_code == 404


def test_the_catalogue_export_has_the_published_datasets_only(app, client, make, world, tmp_path):
    # ``world`` is a draft: not in the catalogue export
    organisation = make.organisation(name="Myeloma Registry")
    published = make.dataset(
        organisation,
        publish=True,
        identifier="mm-registry",
        variables=[{"name": "iss", "label": "ISS stage", "mappings": ["HV:0000167"]}],
    )
    response = client.get("/api/v1/mappings.sssom.tsv")
    assert response.status_code == 200 and response.is_streamed
    msdf = parse_sssom(response.get_data(as_text=True), tmp_path)
    rows = _rows(msdf)
    assert [(r["subject_id"], r["object_id"], r["author_label"]) for r in rows] == [
        (f"harmonyds:{published}/variables/iss", "HV:0000167", "Myeloma Registry")
    ]
    assert msdf.converter.bimap["harmonyds"] == "http://127.0.0.1:8000/datasets/"
    assert msdf.metadata["mapping_set_id"] == "http://127.0.0.1:8000/api/v1/mappings.sssom.tsv"
    # the same IRI as the dataset export's CURIE names
    assert msdf.converter.expand(rows[0]["subject_id"]) == (
        "http://127.0.0.1:8000/datasets/mm-registry/variables/iss"
    )


SSSOM_HEADER = """# curie_map:
#   HV: https://w3id.org/harmony/hv/HV_
#   NCIT: http://purl.obolibrary.org/obo/NCIT_
#   harmonyvar: http://localhost/datasets/aml-trial/variables/
#   trial: https://example.org/aml-trial/
# mapping_set_id: https://example.org/aml-trial/mappings
# license: https://creativecommons.org/publicdomain/zero/1.0/
subject_id\tpredicate_id\tobject_id\tmapping_justification\tconfidence\tauthor_label\tcomment
"""


def _upload(client, identifier, auth, text, etag="*"):
    return client.post(
        f"/api/v1/datasets/{identifier}/mappings.sssom.tsv",
        data={"file": (io.BytesIO(text.encode("utf-8")), "mappings.sssom.tsv")},
        headers=auth | {"If-Match": etag},
        content_type="multipart/form-data",
    )


def test_an_sssom_file_adds_mappings_to_the_draft(app, client, world):
    identifier, _, auth = world
    text = SSSOM_HEADER + (
        "harmonyvar:flt3itd\tskos:exactMatch\tHV:0000125\tsemapv:ManualMappingCuration\t\tDr Who\tby hand\n"
        "trial:karyotype/values/1\tskos:exactMatch\tHV:0000093\tsemapv:LexicalMatching\t0.9\t\t\n"
        "http://localhost/datasets/aml-trial/variables/hb_dx\tskos:exactMatch\thttps://w3id.org/harmony/hv/HV_0000045\tsemapv:ManualMappingCuration\t\t\t\n"
    )
    response = _upload(client, identifier, auth, text)
    assert response.status_code == 200, response.json
    report = response.json
    assert (report["rows"], report["added"], report["updated"], report["unchanged"]) == (3, 2, 0, 1)
    with app.app_context():
        entries = mappings.list_mappings(SYSTEM, identifier, status="accepted").items
        by_subject = {(e.variable.name, e.subject_value): e.mapping for e in entries}
        flt3 = by_subject[("flt3itd", None)]
        assert flt3.object_curie == "HV:0000125" and flt3.author_label == "Dr Who"
        assert flt3.comment == "by hand"
        normal = by_subject[("karyotype", "1")]
        assert normal.confidence == 0.9 and normal.author_label == "Cora Custodian"
        # the open suggestions for flt3itd were alternatives to the imported mapping
        open_flt3 = mappings.list_mappings(
            SYSTEM, identifier, variable="flt3itd", status="suggested"
        )
        assert open_flt3.total == 0
    again = _upload(client, identifier, auth, text)
    assert (again.json["added"], again.json["unchanged"]) == (0, 3)


def test_an_export_imports_into_the_next_version_unchanged(app, client, make, vocabularies):
    organisation = make.organisation()
    custodian = make.user(Role.CUSTODIAN, organisation=organisation)
    auth = {"Authorization": f"Bearer {make.token(custodian)}"}
    identifier = make.dataset(
        organisation, publish=True, variables=VARIABLES[:3], identifier="round-trip"
    )
    exported = client.get(f"/api/v1/datasets/{identifier}/mappings.sssom.tsv").get_data(
        as_text=True
    )
    assert (
        client.post(
            f"/api/v1/datasets/{identifier}/versions", headers=auth | {"If-Match": "*"}
        ).status_code
        == 201
    )
    response = _upload(client, identifier, auth, exported)
    assert response.status_code == 200, response.json
    assert (response.json["rows"], response.json["unchanged"]) == (2, 2)


def test_every_problem_is_reported_by_line_and_column_and_nothing_is_written(app, client, world):
    identifier, _, auth = world
    text = (
        SSSOM_HEADER
        + (
            "harmonyvar:nope\tskos:exactMatch\tHV:0000125\tsemapv:ManualMappingCuration\t\t\t\n"  # 9
            "harmonyvar:flt3itd\tskos:exactMatch\tHV:9999999\tsemapv:ManualMappingCuration\t\t\t\n"  # 10
            "harmonyvar:flt3itd\towl:sameAs\tHV:0000125\tsemapv:ManualMappingCuration\t\t\t\n"  # 11
            "harmonyvar:flt3itd\tskos:exactMatch\tHV:0000125\tsemapv:ManualMappingCuration\thigh\t\t\n"  # 12
            "mystery:flt3itd\tskos:exactMatch\tHV:0000125\tsemapv:ManualMappingCuration\t\t\t\n"  # 13
            "harmonyvar:flt3itd\tskos:exactMatch\tGO:0008150\tsemapv:ManualMappingCuration\t\t\t\n"  # 14
            "harmonyvar:karyotype/values/7\tskos:exactMatch\tHV:0000093\tsemapv:ManualMappingCuration\t\t\t\n"  # 15
            "harmonyvar:flt3itd\tskos:exactMatch\tHV:0000125\tsemapv:Guessing\t\t\t\n"  # 16
            "harmonyvar:hb_dx\tskos:exactMatch\tHV:0000045\tsemapv:ManualMappingCuration\t1.5\t\t\n"  # 17
        )
    )
    with app.app_context():
        before = mappings.list_mappings(SYSTEM, identifier).total
    response = _upload(client, identifier, auth, text)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problems = {(p["row"], p["column"]): p["message"] for p in response.json["report"]["problems"]}
    assert set(problems) == {
        (9, "subject_id"),
        (10, "object_id"),
        (11, "predicate_id"),
        (12, "confidence"),
        (13, "subject_id"),
        (14, "object_id"),
        (15, "subject_id"),
        (16, "mapping_justification"),
        (17, "confidence"),
    }
    assert "no variable “nope”" in problems[(9, "subject_id")]
    assert "HV:9999999" in problems[(10, "object_id")]
    assert "owl:sameAs" in problems[(11, "predicate_id")]
    assert (
        "“mystery”" in problems[(13, "subject_id")] and "curie_map" in problems[(13, "subject_id")]
    )
    assert "“GO”" in problems[(14, "object_id")]
    assert "permissible value “7”" in problems[(15, "subject_id")]
    assert response.json["errors"]["file"][0].startswith("row 9, column “subject_id”")
    with app.app_context():
        assert mappings.list_mappings(SYSTEM, identifier).total == before


@pytest.mark.parametrize(
    ("text", "row", "column", "words"),
    [
        (
            "# curie_map:\n#   HV: https://w3id.org/harmony/hv/HV_\nsubject_id\tpredicate_id\tobject_id\n",
            3,
            "mapping_justification",
            "required column",
        ),
        ("# curie_map: [unclosed\nsubject_id\n", 1, None, "YAML"),
        ("", 0, None, "no table"),
    ],
)
def test_broken_files_are_refused(client, world, text, row, column, words):
    identifier, _, auth = world
    response = _upload(client, identifier, auth, text)
    assert response.status_code == 422
    problem = response.json["report"]["problems"][0]
    assert (problem["row"], problem["column"]) == (row, column) and words in problem["message"]


def test_a_file_that_is_not_utf8_is_refused(client, world):
    identifier, _, auth = world
    response = client.post(
        f"/api/v1/datasets/{identifier}/mappings.sssom.tsv",
        data={"file": (io.BytesIO("subject_id\tnaïve\n".encode("latin-1")), "m.tsv")},
        headers=auth | {"If-Match": "*"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "UTF-8" in response.json["detail"]


def test_import_needs_a_file_an_etag_and_an_open_draft(client, make, world):
    identifier, _, auth = world
    url = f"/api/v1/datasets/{identifier}/mappings.sssom.tsv"
    missing = client.post(
        url, data={}, headers=auth | {"If-Match": "*"}, content_type="multipart/form-data"
    )
    assert missing.status_code == 422 and "file" in missing.json["errors"]
    assert _upload(client, identifier, auth, SSSOM_HEADER, etag='"old-1"').status_code == 412
    stranger = {"Authorization": f"Bearer {make.token(make.user(Role.CUSTODIAN))}"}
    assert _upload(client, identifier, stranger, SSSOM_HEADER).status_code == 404
