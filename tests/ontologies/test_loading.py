"""Loading ontologies: every format, versions, and broken files that write nothing."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select

from core.db import get_session
from core.errors import InvalidInput, UnsupportedMediaType
from core.policies import SYSTEM
from ontologies import services
from ontologies.models import Ontology, Term, TermClosure
from tests.ontologies.conftest import load_bytes, tiny_ttl


def count(app, model, *where):
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(model).where(*where))


def term(app, curie):
    with app.app_context():
        return services.get_term(SYSTEM, curie)


def test_turtle_with_synonyms_abbreviations_and_polyhierarchy(app, tiny):
    assert tiny.status == "loaded" and tiny.added == 5 and tiny.total == 5
    aml = term(app, "NCIT:C3171")
    assert aml.label == "Acute Myeloid Leukemia" and aml.ontology_prefix == "TINY"
    synonyms = {(s.text, s.kind.value) for s in aml.synonyms}
    assert synonyms == {("Acute Myeloid Leukaemia", "exact"), ("AML", "abbreviation")}
    assert [x.xref for x in aml.xrefs] == ["ONCOTREE:AML"]
    with app.app_context():
        below_root = services.descendants(SYSTEM, "NCIT:C27134", per_page=100)
        depths = {t.curie: d for t, d in below_root.items}
        # the therapy-related neoplasm sits under both AML and MDS: its shortest path counts
        assert depths == {"NCIT:C3171": 1, "NCIT:C3247": 1, "NCIT:C3182": 2, "NCIT:C9999": 2}
        assert services.is_below("NCIT:C9999", "NCIT:C3247")
        assert services.is_below("NCIT:C9999", "NCIT:C3171")
        assert not services.is_below("NCIT:C3247", "NCIT:C3171")
        parents = {t.curie for t in services.parents_of("NCIT:C9999")}
        assert parents == {"NCIT:C3171", "NCIT:C3247"}


def test_loading_the_same_file_again_changes_nothing(app, tiny):
    before = count(app, TermClosure)
    again = load_bytes(app, tiny_ttl(), "tiny.ttl", prefix="TINY")
    assert again.status == "unchanged" and again.added == again.changed == 0
    assert count(app, TermClosure) == before


def test_a_new_version_updates_and_obsoletes_without_deleting(app, tiny):
    extra = """obo:NCIT_C4000 a owl:Class ; rdfs:label "New Entity"@en ;
        rdfs:subClassOf obo:NCIT_C3247 ."""
    # version 2 renames AML, adds a term, and drops APL
    text = tiny_ttl("2", "Acute Myeloid Leukemia, NOS", extra).decode()
    text = text.replace(
        'obo:NCIT_C3182 a owl:Class ; rdfs:label "Acute Promyelocytic Leukemia"@en ;\n'
        '    rdfs:subClassOf obo:NCIT_C3171 ; hv:abbreviation "APL" .\n',
        "",
    )
    report = load_bytes(app, text.encode(), "tiny.ttl", prefix="TINY")
    assert report.status == "updated"
    assert (report.added, report.changed, report.obsoleted) == (1, 1, 1)
    assert report.version == "2"
    assert term(app, "NCIT:C3171").label == "Acute Myeloid Leukemia, NOS"
    apl = term(app, "NCIT:C3182")  # still there for whatever refers to it
    assert apl.is_obsolete
    with app.app_context():
        assert services.is_below("NCIT:C4000", "NCIT:C27134")
        assert services.get_ontology(SYSTEM, "TINY").version == "2"
        hits = services.search_terms(SYSTEM, "APL")
        assert hits == []
        assert [
            h.term.curie for h in services.search_terms(SYSTEM, "APL", include_obsolete=True)
        ] == ["NCIT:C3182"]


@pytest.mark.parametrize(
    ("data", "filename", "where"),
    [
        (b"@prefix ex: <http://e/> .\nex:a a ex:b ;\n ex:c ex:d ex:e .", "bad.ttl", "line 3"),
        (
            b"<?xml version='1.0'?>\n<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>\n"
            b"<owl:Class>\n</rdf:RDF>",
            "bad.owl",
            "line 3",
        ),
        (
            b"<http://e/a> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
            b"<http://www.w3.org/2002/07/owl#Class> .\n<http://e/a> <http://e/b> .\n",
            "bad.nt",
            "line 2",
        ),
        (b'{"@id": "http://e/a",\n "@type": ', "bad.jsonld", "line 2"),
        (
            json.dumps(
                {
                    "TISSUE": {
                        "code": "TISSUE",
                        "name": "Tissue",
                        "children": {"MYELOID": {"code": "MYELOID", "children": {}}},
                    }
                }
            ).encode(),
            "tree.json",
            "$.TISSUE.children.MYELOID.name",
        ),
        (b"\xff\xfe not utf-8", "bad.ttl", "UTF-8"),
    ],
    ids=["turtle", "rdfxml", "ntriples", "jsonld", "oncotree", "encoding"],
)
def test_broken_files_name_the_place_and_write_nothing(app, data, filename, where):
    with pytest.raises(InvalidInput) as error:
        load_bytes(app, data, filename, prefix="BROKEN")
    assert where in error.value.errors["file"][0]
    assert count(app, Ontology, Ontology.prefix == "BROKEN") == 0


def test_a_cycle_is_refused_and_nothing_is_written(app):
    extra = "obo:NCIT_C27134 rdfs:subClassOf obo:NCIT_C3182 ."
    with pytest.raises(InvalidInput) as error:
        load_bytes(app, tiny_ttl(extra=extra), "tiny.ttl", prefix="CYCLE")
    assert "cycle" in error.value.errors["file"][0]
    assert count(app, Term, Term.ontology_prefix == "CYCLE") == 0
    assert count(app, Ontology, Ontology.prefix == "CYCLE") == 0


def test_unknown_format_is_refused(app):
    with pytest.raises(UnsupportedMediaType):
        load_bytes(app, b"whatever", "terms.docx")
    with pytest.raises(UnsupportedMediaType):
        load_bytes(app, b"whatever", "terms.ttl", fmt="obo-graph")


def test_skos_scheme_with_broader_narrower_and_matches(app):
    data = b"""
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix hv: <https://w3id.org/harmony/vocab#> .
@prefix HV: <https://w3id.org/harmony/hv/HV_> .
<https://w3id.org/harmony/hv/> a skos:ConceptScheme ; dcterms:title "Core variables" ;
  owl:versionInfo "2025.1" .
hv:abbreviation rdfs:subPropertyOf skos:altLabel .
HV:0000001 a skos:Concept ; skos:prefLabel "Blood counts"@en ; skos:narrower HV:0000002 .
HV:0000002 a skos:Concept ; skos:prefLabel "Haemoglobin"@en ; skos:altLabel "Hemoglobin"@en ;
  hv:abbreviation "Hb" ; hv:valueType "decimal" ; hv:unit "g/dL" ;
  skos:exactMatch <https://loinc.org/718-7/> .
HV:0000003 a skos:Concept ; skos:prefLabel "Platelets"@en ; skos:broader HV:0000001 ;
  skos:prefLabel "Thrombozyten"@de .
"""
    report = load_bytes(app, data, "hv.ttl")
    assert report.prefix == "HV" and report.name == "Core variables" and report.version == "2025.1"
    hb = term(app, "HV:0000002")
    assert hb.iri == "https://w3id.org/harmony/hv/HV_0000002"
    assert {(s.text, s.kind.value) for s in hb.synonyms} == {
        ("Hemoglobin", "exact"),
        ("Hb", "abbreviation"),
    }
    assert (hb.value_type, hb.unit) == ("decimal", "g/dL")
    assert [x.xref for x in hb.xrefs] == ["LOINC:718-7"]
    assert term(app, "HV:0000003").label == "Platelets"  # English wins
    with app.app_context():
        assert services.is_below("HV:0000002", "HV:0000001")  # from skos:narrower
        assert services.is_below("HV:0000003", "HV:0000001")  # from skos:broader


def test_obo_style_abbreviation_axioms_and_deprecation(app):
    data = b"""
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix obo: <http://purl.obolibrary.org/obo/> .
@prefix oio: <http://www.geneontology.org/formats/oboInOwl#> .
obo:MONDO_0018874 a owl:Class ; rdfs:label "acute myeloid leukemia" ;
  oio:hasExactSynonym "AML" .
[] a owl:Axiom ; owl:annotatedSource obo:MONDO_0018874 ;
  owl:annotatedProperty oio:hasExactSynonym ; owl:annotatedTarget "AML" ;
  oio:hasSynonymType obo:OMO_0003000 .
obo:MONDO_0000001 a owl:Class ; rdfs:label "obsolete old thing" ; owl:deprecated true ;
  obo:IAO_0100001 obo:MONDO_0018874 .
"""
    load_bytes(app, data, "mondo.ttl")
    aml = term(app, "mondo:0018874")
    assert [(s.text, s.kind.value) for s in aml.synonyms] == [("AML", "abbreviation")]
    old = term(app, "MONDO:0000001")
    assert old.is_obsolete and old.replaced_by == "MONDO:0018874"


def test_ntriples_and_jsonld(app):
    nt = (
        b"<http://purl.obolibrary.org/obo/UO_0000001> "
        b"<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/2002/07/owl#Class> .\n"
        b"<http://purl.obolibrary.org/obo/UO_0000001> <http://www.w3.org/2000/01/rdf-schema#label> "
        b'"length unit" .\n'
    )
    assert load_bytes(app, nt, "uo.nt").added == 1
    jsonld = json.dumps(
        {
            "@context": {
                "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
                "owl": "http://www.w3.org/2002/07/owl#",
            },
            "@graph": [
                {
                    "@id": "http://purl.obolibrary.org/obo/HP_0001871",
                    "@type": "owl:Class",
                    "rdfs:label": "Abnormality of blood",
                }
            ],
        }
    ).encode()
    assert load_bytes(app, jsonld, "hp.jsonld").added == 1
    assert term(app, "HP:0001871").label == "Abnormality of blood"


def test_terms_of_unknown_namespaces_need_a_prefix(app):
    data = b"""@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<http://example.org/voc/thing1> a owl:Class ; rdfs:label "Thing one" ."""
    with pytest.raises(InvalidInput) as error:
        load_bytes(app, data, "voc.ttl")
    assert "--prefix" in error.value.errors["file"][0]
    load_bytes(app, data, "voc.ttl", prefix="VOC")
    assert term(app, "VOC:thing1").label == "Thing one"


def test_official_duo_release_loads(app, shared_dir):
    with (shared_dir / "ontologies" / "duo-2021-02-23.owl").open("rb") as handle, app.app_context():
        report = services.load_ontology(SYSTEM, handle, filename="duo.owl")
        assert report.prefix == "DUO" and report.version == "2021-02-23" and report.added >= 40
        gru = services.get_term(SYSTEM, "DUO:0000042")
        assert gru.label == "general research use"
        assert ("GRU", "abbreviation") in {(s.text, s.kind.value) for s in gru.synonyms}
        # the release's one mistyped class IRI is keyed by its id
        assert services.get_term(SYSTEM, "DUO:0000044").iri.endswith("DUO_0000044")


def test_oncotree_keeps_ncit_cross_references(app, shared_dir):
    path = shared_dir / "ontologies" / "oncotree-2025-10-03-myeloid-lymphoid.json"
    with path.open("rb") as handle, app.app_context():
        report = services.load_ontology(SYSTEM, handle, filename=path.name)
        assert report.prefix == "ONCOTREE" and report.added > 100
        aml = services.get_term(SYSTEM, "ONCOTREE:AML")
        assert "NCIT:C3171" in {x.xref for x in aml.xrefs}
        assert services.is_below("ONCOTREE:AML", "ONCOTREE:MYELOID")


def test_loading_needs_an_administrator(app, make):
    researcher = make.user("researcher")
    with app.app_context(), pytest.raises(Exception) as error:
        user = get_session().get(type(researcher), researcher.id)
        services.load_ontology(user, io.BytesIO(tiny_ttl()), filename="tiny.ttl")
    assert getattr(error.value, "status", None) == 403


def test_cli_loads_with_progress_and_lists(app, tmp_path):
    path = tmp_path / "tiny.ttl"
    path.write_bytes(tiny_ttl())
    runner = app.test_cli_runner()
    result = runner.invoke(args=["ontologies", "load", str(path), "--prefix", "CLI"])
    assert result.exit_code == 0, result.output
    assert "CLI: loaded Tiny haem version 1: 5 added" in result.stdout
    assert "reading tiny.ttl" in result.stderr and "building the hierarchy" in result.stderr
    again = runner.invoke(args=["ontologies", "load", str(path), "--prefix", "CLI"])
    assert "CLI: unchanged" in again.stdout
    listed = runner.invoke(args=["ontologies", "list"])
    assert "CLI\tTiny haem\t1\t5 terms" in listed.stdout


def test_cli_reports_broken_files_and_fails(app, tmp_path):
    path = tmp_path / "broken.ttl"
    path.write_text("@prefix x: <http://x/> .\nx:a x:b x:c ;\n  ] .\n")
    result = app.test_cli_runner().invoke(args=["ontologies", "load", str(path)])
    assert result.exit_code != 0
    assert "line 3" in result.stderr
