"""Small ontology files for the tests, in each format the loaders read."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from core.policies import SYSTEM
from ontologies import services

SHARED = Path(os.environ.get("HARMONY_SHARED_DIR", Path(__file__).resolve().parents[3] / "shared"))

TINY_TTL = """\
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix obo: <http://purl.obolibrary.org/obo/> .
@prefix oboInOwl: <http://www.geneontology.org/formats/oboInOwl#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix hv: <https://w3id.org/harmony/vocab#> .

<http://example.org/tiny.owl> a owl:Ontology ; dcterms:title "Tiny haem" ;
    owl:versionInfo "{version}" ; dcterms:license <https://creativecommons.org/licenses/by/4.0/> .
hv:abbreviation a owl:AnnotationProperty ; rdfs:subPropertyOf oboInOwl:hasExactSynonym .

obo:NCIT_C27134 a owl:Class ; rdfs:label "Hematopoietic and Lymphoid Cell Neoplasm"@en .
obo:NCIT_C3171 a owl:Class ; rdfs:label "{aml_label}"@en ;
    rdfs:subClassOf obo:NCIT_C27134 ;
    oboInOwl:hasExactSynonym "Acute Myeloid Leukaemia" ; hv:abbreviation "AML" ;
    oboInOwl:hasDbXref "ONCOTREE:AML" .
obo:NCIT_C3182 a owl:Class ; rdfs:label "Acute Promyelocytic Leukemia"@en ;
    rdfs:subClassOf obo:NCIT_C3171 ; hv:abbreviation "APL" .
obo:NCIT_C3247 a owl:Class ; rdfs:label "Myelodysplastic Syndrome"@en ;
    rdfs:subClassOf obo:NCIT_C27134 ; hv:abbreviation "MDS" .
obo:NCIT_C9999 a owl:Class ; rdfs:label "Therapy-Related Myeloid Neoplasm"@en ;
    rdfs:subClassOf obo:NCIT_C3171, obo:NCIT_C3247 .
{extra}
"""


def tiny_ttl(
    version: str = "1", aml_label: str = "Acute Myeloid Leukemia", extra: str = ""
) -> bytes:
    return TINY_TTL.format(version=version, aml_label=aml_label, extra=extra).encode()


def load_bytes(app, data: bytes, filename: str, **kwargs):
    with app.app_context():
        return services.load_ontology(SYSTEM, io.BytesIO(data), filename=filename, **kwargs)


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"the reference files are not at {SHARED} (set HARMONY_SHARED_DIR)")
    return SHARED
