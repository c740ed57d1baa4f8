"""Helpers of the metadata-export tests: datasets with every field we publish, RDF parsing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rdflib import Graph, Namespace, URIRef
from sqlalchemy import select, update

from catalogue.datasets import services as datasets
from catalogue.models import Dataset, DatasetVersion
from core.db import get_session
from core.policies import SYSTEM

DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
HEALTH = Namespace("http://healthdataportal.eu/ns/health#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
FDP = Namespace("https://w3id.org/fdp/fdp-o#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
BASE = "http://127.0.0.1:8000"
RDFLIB_FORMATS = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
    "application/n-triples": "nt",
}

AML, MDS = "NCIT:C3171", "NCIT:C3247"


def parse(response: Any) -> Graph:
    """The RDF body of a response, parsed by rdflib with the format its media type names."""
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return Graph().parse(data=response.get_data(), format=RDFLIB_FORMATS[response.mimetype])


def iri(path: str) -> URIRef:
    return URIRef(BASE + path)


FULL = {
    "title": "AML-X: a full record",
    "description": "A trial with **every** field we publish.",
    "diseases": [AML, MDS],
    "source_type": "clinical_trial",
    "trial_ids": ["NCT01234567"],
    "countries": ["NL", "DE"],
    "patients": 1046,
    "records": 61320,
    "first_year": 2016,
    "last_year": 2023,
    "age_groups": ["adult", "elderly"],
    "data_model": "omop",
    "keywords": ["acute myeloid leukaemia", "FLT3"],
    "contact_name": "Trial data centre",
    "contact_email": "aml-x@example.org",
    "landing_page": "https://trials.example.org/aml x",
    "provenance": [{"step": "pseudonymised", "date": "2024-01-02"}],
    "classification": "who_haem5",
    "version": "Final data freeze",
}
VARIABLES = [
    {
        "name": "hb_dx",
        "label": "Haemoglobin at diagnosis",
        "value_type": "decimal",
        "unit": "g/dL",
        "missing_codes": ["-9"],
        "mappings": ["HV:0000045"],
    },
    {
        "name": "sex",
        "label": "Sex",
        "value_type": "categorical",
        "permissible_values": [{"code": "1", "label": "Male"}, {"code": "2", "label": "Female"}],
    },
    {"name": "free_text", "label": "Comment", "value_type": "text"},
]


@pytest.fixture
def custodian_org(make, vocabularies):
    return make.organisation(name="Erasmus MC (tests)", country="NL", ror_id="018906e22")


@pytest.fixture
def full(make, custodian_org) -> str:
    """A published dataset with every field the DCAT-AP record carries, and three variables
    (one mapped, one categorical, one free text)."""
    return make.dataset(custodian_org, publish=True, variables=VARIABLES, **FULL)


def set_published_at(app, identifier: str, when: dt.datetime) -> None:
    """Move a dataset's publication (first and of every version) to ``when``."""
    with app.app_context():
        session = get_session()
        dataset_id = session.scalar(select(Dataset.id).where(Dataset.identifier == identifier))
        session.execute(update(Dataset).where(Dataset.id == dataset_id).values(published_at=when))
        session.execute(
            update(DatasetVersion)
            .where(
                DatasetVersion.dataset_id == dataset_id, DatasetVersion.published_at.is_not(None)
            )
            .values(published_at=when)
        )
        session.commit()


def retire(app, identifier: str, note: str | None = None, when: dt.datetime | None = None) -> None:
    with app.app_context():
        datasets.retire(SYSTEM, identifier, note, datasets.UNCHECKED)
        if when is not None:
            session = get_session()
            session.execute(
                update(Dataset).where(Dataset.identifier == identifier).values(retired_at=when)
            )
            session.commit()
