"""A fixed corpus for the search tests: the same datasets, the same hits and counts on SQLite
and on PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from core.db import get_session
from core.models import Organisation, Role, User

AML, MDS, MYELOMA, CLL, DLBCL = "NCIT:C3171", "NCIT:C3247", "NCIT:C3242", "NCIT:C3163", "NCIT:C8851"
MYELOID = "NCIT:C9290"  # Myeloid Neoplasm: AML and MDS lie below it
HB, PLATELETS, COUNTS, DIAGNOSIS_DATE = "HV:0000045", "HV:0000047", "HV:0000010", "HV:0000027"

DESCRIPTION = "A dataset for the search tests."


@dataclass
class Corpus:
    leiden: Organisation
    lyon: Organisation
    custodian: User  # of Leiden
    other_custodian: User  # of Lyon
    researcher: User
    admin: User
    ids: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, key: str) -> str:
        return self.ids[key]


def _dataset(
    make: Any, organisation: Organisation, key: str, corpus: Corpus, **fields: Any
) -> None:
    fields.setdefault("description", DESCRIPTION)
    fields.setdefault("publish", True)
    corpus.ids[key] = make.dataset(organisation, identifier=key, **fields)


@pytest.fixture
def corpus(app, make, vocabularies) -> Corpus:
    return build_corpus(make)


def build_corpus(make: Any) -> Corpus:
    """The corpus made with ``make`` (a test's, or a shared world's: see
    :func:`tests.conftest.shared_world`)."""
    leiden = make.organisation(name="Leiden Haematology", country="NL")
    lyon = make.organisation(name="Lyon Blood Registry", country="FR")
    corpus = Corpus(
        leiden=leiden,
        lyon=lyon,
        custodian=make.user(Role.CUSTODIAN, organisation=leiden),
        other_custodian=make.user(Role.CUSTODIAN, organisation=lyon),
        researcher=make.user(Role.RESEARCHER),
        admin=make.user(Role.ADMIN),
    )
    _dataset(
        make,
        leiden,
        "aml-elderly",
        corpus,
        title="Acute myeloid leukaemia in older adults",
        description="Outcomes after intensive induction; every tumour sample was banked.",
        keywords=["induction chemotherapy"],
        diseases=[AML],
        countries=["NL", "DE"],
        source_type="clinical_trial",
        patients=300,
        age_groups=["elderly"],
        data_model="omop",
        variables=[
            {"name": "hgb_dx", "label": "Blood value at diagnosis", "mappings": [HB]},
            {"name": "dt_dx", "label": "Date of diagnosis", "mappings": [DIAGNOSIS_DATE]},
        ],
    )
    _dataset(
        make,
        lyon,
        "mds-registry",
        corpus,
        title="Myelodysplastic syndromes registry",
        description="Transfusion dependence and randomised treatment choices in MDS.",
        diseases=[MDS],
        countries=["FR"],
        source_type="registry",
        patients=1500,
        age_groups=["adult", "elderly"],
        data_model="custom",
        variables=[{"name": "plt", "label": "Platelets at diagnosis", "mappings": [PLATELETS]}],
    )
    _dataset(
        make,
        lyon,
        "myeloma-maintenance",
        corpus,
        title="Plasma cell myeloma maintenance",
        description="Haemoglobin recovery during lenalidomide maintenance.",
        diseases=[MYELOMA],
        countries=["ES"],
        source_type="clinical_trial",
        patients=80,
        age_groups=["adult"],
        data_model="sdtm",
        variables=[{"name": "hemoglobin_m3", "label": "Hemoglobin at month 3"}],
    )
    _dataset(
        make,
        leiden,
        "cll-cohort",
        corpus,
        title="Chronic lymphocytic leukemia cohort",
        description="Real-world treatment of CLL; tumor burden at diagnosis.",
        diseases=[CLL],
        countries=["DE"],
        source_type="observational_cohort",
        patients=5000,
        age_groups=["adult", "elderly"],
        variables=[{"name": "patient_sex", "label": "Sex of the patient"}],
    )
    # the same rare word in a different field of each: the ranking order
    _dataset(
        make,
        lyon,
        "rank-title",
        corpus,
        title="Ibrutinib in lymphoma",
        diseases=[DLBCL],
        countries=["IT"],
        patients=40,
        variables=[{"name": "x1", "label": "Visit"}],
    )
    _dataset(
        make,
        lyon,
        "rank-keywords",
        corpus,
        title="Lymphoma cohort A",
        keywords=["ibrutinib"],
        diseases=[DLBCL],
        countries=["IT"],
        patients=41,
    )
    _dataset(
        make,
        lyon,
        "rank-description",
        corpus,
        title="Lymphoma cohort B",
        description="Patients who received ibrutinib after relapse.",
        diseases=[DLBCL],
        countries=["IT"],
        patients=42,
    )
    _dataset(
        make,
        lyon,
        "rank-variables",
        corpus,
        title="Lymphoma cohort C",
        diseases=[DLBCL],
        countries=["IT"],
        patients=43,
        variables=[{"name": "ibr_dose", "label": "Ibrutinib dose"}],
    )
    # never found by others: drafts of both organisations (one with the rare word) ...
    _dataset(
        make,
        leiden,
        "leiden-draft",
        corpus,
        publish=False,
        title="Unpublished ibrutinib study",
        diseases=[CLL],
        countries=["NL"],
        source_type="biobank",
        variables=[{"name": "ibr_level", "label": "Ibrutinib level"}],
    )
    _dataset(
        make,
        lyon,
        "lyon-draft",
        corpus,
        publish=False,
        title="Lyon ibrutinib pilot",
        diseases=[CLL],
        countries=["FR"],
        source_type="biobank",
    )
    # ... and a retired dataset that holds it too
    _dataset(
        make,
        lyon,
        "retired-ibrutinib",
        corpus,
        title="Ibrutinib retired trial",
        diseases=[CLL],
        countries=["FR"],
    )
    from catalogue.datasets import services as datasets
    from catalogue.search import indexer
    from core.policies import SYSTEM

    with make.app.app_context():
        datasets.retire(SYSTEM, "retired-ibrutinib", "Withdrawn.", datasets.UNCHECKED)
        # the factory writes a draft's variables directly; a dictionary import, which does
        # that in the service, tells the index (a published dataset is indexed on publishing)
        draft = datasets.get_dataset(SYSTEM, "leiden-draft")
        indexer.dataset_changed(draft, draft.versions[-1], "dictionary_imported")
        get_session().commit()
    return corpus
