"""A small catalogue for the questions: who sees which dataset, and what each one maps."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from catalogue.datasets import services as datasets
from catalogue.models import Mapping, MappingStatus, Variable
from core.db import get_session
from core.models import Role
from core.policies import SYSTEM

HB, ANC, PLT, BM_BLASTS, CYTO_RISK = (
    "HV:0000045",
    "HV:0000048",
    "HV:0000047",
    "HV:0000071",
    "HV:0000123",
)
BLOOD_COUNTS = "HV:0000010"  # above Hb, ANC and platelets
NPM1, FLT3_ITD, KARYOTYPE = "HV:0000124", "HV:0000125", "HV:0000088"
B2M, ALBUMIN, LDH = "HV:0000058", "HV:0000057", "HV:0000054"
DEL17P, T414, T1416 = "HV:0000098", "HV:0000116", "HV:0000117"
AML, MDS, MYELOMA = "NCIT:C3171", "NCIT:C3247", "NCIT:C3242"


def variables(*specs: tuple[str, str]) -> list[dict]:
    return [{"name": name, "mappings": [curie]} for name, curie in specs]


@dataclass
class World:
    organisation: object
    elsewhere: object
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)


CALLERS = ("anonymous", "researcher", "custodian", "other_custodian", "admin")


@pytest.fixture
def world(app, make, vocabularies) -> World:
    """Datasets of ``organisation`` (whose custodian is "custodian") and of ``elsewhere``:

    - ``aml_full``: published AML trial with NPM1, FLT3-ITD and the karyotype (500 patients)
    - ``aml_part``: published AML registry with NPM1 only (900 patients)
    - ``mds``: published MDS registry with Hb, ANC, platelets, marrow blasts (300 patients)
    - ``myeloma_small``: published myeloma cohort covering R-ISS, 7 patients
    - ``own_draft``: a draft of ``organisation`` with FLT3-ITD and the karyotype
    - ``foreign_draft``: a draft of ``elsewhere`` covering all of R-ISS
    - ``retired``: a retired dataset that mapped NPM1
    """
    organisation, elsewhere = make.organisation(country="DE"), make.organisation(country="FR")
    w = World(organisation, elsewhere)
    w.ids["aml_full"] = make.dataset(
        organisation,
        publish=True,
        title="AML full trial",
        patients=500,
        variables=variables(("npm1", NPM1), ("flt3", FLT3_ITD), ("karyo", KARYOTYPE)),
    )
    w.ids["aml_part"] = make.dataset(
        elsewhere,
        publish=True,
        title="AML partial registry",
        patients=900,
        variables=variables(("npm1_status", NPM1), ("age", "HV:0000020")),
    )
    w.ids["mds"] = make.dataset(
        elsewhere,
        publish=True,
        title="MDS registry",
        diseases=[MDS],
        patients=300,
        variables=variables(("hb", HB), ("anc", ANC), ("plt", PLT), ("bm_bl", BM_BLASTS)),
    )
    w.ids["myeloma_small"] = make.dataset(
        elsewhere,
        publish=True,
        title="Small myeloma cohort",
        diseases=[MYELOMA],
        patients=7,
        variables=variables(
            ("b2m", B2M), ("alb", ALBUMIN), ("ldh", LDH), ("d17", DEL17P), ("t414", T414),
            ("t1416", T1416),
        ),
    )  # fmt: skip
    w.ids["own_draft"] = make.dataset(
        organisation,
        title="Own AML draft",
        patients=40,
        variables=variables(("flt3_itd", FLT3_ITD), ("kt", KARYOTYPE)),
    )
    w.ids["foreign_draft"] = make.dataset(
        elsewhere,
        title="Foreign myeloma draft",
        diseases=[MYELOMA],
        patients=5000,
        variables=variables(
            ("b2m", B2M), ("alb", ALBUMIN), ("ldh", LDH), ("d17", DEL17P), ("t414", T414),
            ("t1416", T1416),
        ),
    )  # fmt: skip
    w.ids["retired"] = make.dataset(
        organisation,
        publish=True,
        title="Retired AML study",
        patients=250,
        variables=variables(("npm1_old", NPM1)),
    )
    with app.app_context():
        for name in ("own_draft", "foreign_draft"):  # variables were added after the creation
            recorded(w.ids[name])
        get_session().commit()
        datasets.retire(SYSTEM, w.ids["retired"], "Replaced.", datasets.UNCHECKED)
    users = {
        "researcher": make.user(Role.RESEARCHER),
        "custodian": make.user(Role.CUSTODIAN, organisation=organisation),
        "other_custodian": make.user(Role.CUSTODIAN, organisation=make.organisation()),
        "admin": make.user(Role.ADMIN),
    }
    w.headers = {"anonymous": {}} | {
        name: {"Authorization": f"Bearer {make.token(user)}"} for name, user in users.items()
    }
    return w


def open_draft_with(app, identifier: str, name: str, curie: str) -> None:
    """Open a new draft version of a published dataset and map one more variable in it."""
    with app.app_context():
        version = datasets.new_version(SYSTEM, identifier, datasets.UNCHECKED)
        session = get_session()
        variable = Variable(
            version_id=version.id, position=99, name=name, label=name, value_type="text"
        )
        variable.mappings = [Mapping(object_curie=curie, status=MappingStatus.ACCEPTED)]
        session.add(variable)
        session.flush()
        recorded(identifier)
        session.commit()


def recorded(identifier: str) -> None:
    """What the services do after a change of a dataset's dictionary or mappings (and the
    factory, which writes variables as rows, does not): record it, which brings the search
    index — and the terms each version covers — up to date."""
    dataset = datasets.get_dataset(SYSTEM, identifier)
    datasets.record_change(
        SYSTEM, dataset, dataset.versions[-1], "dictionary_imported", "Test rows."
    )
