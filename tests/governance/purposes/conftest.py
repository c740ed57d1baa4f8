"""A small world for saved purposes and the search by fit: datasets with DS(AML), DS(AML)+IRB,
HMB+NPU, NRES and DS(myeloma) conditions and one without, an active agreement and an expired
one, and researchers (one with a saved DS(AML) purpose)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from core.db import get_session
from core.etags import UNCHECKED
from core.models import Role
from core.policies import SYSTEM
from tests.conftest import shared_world

AML, MYELOMA = "NCIT:C3171", "NCIT:C3242"
DS, HMB, NRES = "DUO:0000007", "DUO:0000006", "DUO:0000004"
IRB, NPU = "DUO:0000021", "DUO:0000045"

#: identifier → conditions (None: none stated), and the fit of the DS(AML) purpose
CONDITIONS: dict[str, dict[str, Any] | None] = {
    "fit-ds-aml": {"permission": DS, "diseases": [AML]},
    "fit-ds-aml-again": {"permission": DS, "diseases": [AML]},  # the same signature
    "fit-ds-aml-irb": {"permission": DS, "diseases": [AML], "modifiers": [{"term": IRB}]},
    "fit-hmb-npu": {"permission": HMB, "modifiers": [{"term": NPU}]},
    "fit-nres": {"permission": NRES},
    "fit-ds-myeloma": {"permission": DS, "diseases": [MYELOMA]},
    "fit-bare": None,
}
FIT = {
    "fit-ds-aml": "compatible",
    "fit-ds-aml-again": "compatible",
    "fit-ds-aml-irb": "needs_review",
    "fit-hmb-npu": "compatible",
    "fit-nres": "compatible",
    "fit-ds-myeloma": "incompatible",
    "fit-bare": "no_conditions",
}
AML_PURPOSE = {"terms": [DS], "diseases": [AML], "commercial": False, "country": "NL"}


@dataclass
class World:
    tokens: dict[str, str] = field(default_factory=dict)  # role → API token
    emails: dict[str, str] = field(default_factory=dict)
    purpose_id: str = ""  # the researcher's saved DS(AML) purpose
    other_purpose_id: str = ""  # another researcher's
    dataset_ids: dict[str, str] = field(default_factory=dict)  # identifier → Dataset.id


def _agreement(organisation_id: str, dataset_ids: list[str], status: str, expires: dt.date) -> None:
    from governance.agreements.models import Agreement, AgreementDataset, AgreementStatus
    from governance.data_use.search import refresh_engine

    session = get_session()
    agreement = Agreement(
        reference=f"DSA-{status}-{expires.isoformat()}",
        organisation_id=organisation_id,
        counterparty="HARMONY Alliance",
        status=AgreementStatus(status),
        effective_on=dt.date.today() - dt.timedelta(days=400),
        expires_on=expires,
        permitted_uses=[DS],
    )
    session.add(agreement)
    session.flush()
    for dataset_id in dataset_ids:
        session.add(AgreementDataset(agreement_id=agreement.id, dataset_id=dataset_id))
    refresh_engine(dataset_ids)  # as the agreement's activation would
    session.commit()


@pytest.fixture(scope="module")
def world(app, reference_engine) -> Iterator[World]:
    from catalogue.datasets import services as datasets
    from governance.data_use import services as data_use
    from governance.purposes import services as purposes
    from governance.purposes.search import forget

    with shared_world(app, reference_engine) as make:
        leiden = make.organisation(name="Leiden Haematology", country="NL")
        users = {
            "researcher": make.user(Role.RESEARCHER),
            "other_researcher": make.user(Role.RESEARCHER),
            "custodian": make.user(Role.CUSTODIAN, organisation=leiden),
            "admin": make.user(Role.ADMIN),
        }
        world = World(
            tokens={role: make.token(u) for role, u in users.items()},
            emails={role: u.email for role, u in users.items()},
        )
        for identifier in CONDITIONS:
            make.dataset(
                leiden,
                identifier=identifier,
                title=f"Dataset {identifier}",
                diseases=[MYELOMA if "myeloma" in identifier else AML],
                publish=True,
            )
        with app.app_context():
            forget()
            for identifier, conditions in CONDITIONS.items():
                world.dataset_ids[identifier] = datasets.get_dataset(SYSTEM, identifier).id
                if conditions is not None:
                    data_use.set_conditions(SYSTEM, identifier, conditions, UNCHECKED)
            today = dt.date.today()
            ids = world.dataset_ids
            _agreement(
                leiden.id,
                [ids["fit-ds-aml"], ids["fit-bare"]],
                "active",
                today.replace(year=today.year + 2),
            )
            _agreement(leiden.id, [ids["fit-nres"]], "expired", today - dt.timedelta(days=1))
            from governance.purposes.schemas import PurposeSchema

            session = get_session()
            from core.models import User

            researcher = session.get(User, users["researcher"].id)
            other = session.get(User, users["other_researcher"].id)
            world.purpose_id = purposes.create_purpose(
                researcher, "AML relapse", PurposeSchema().load(AML_PURPOSE)
            ).id
            world.other_purpose_id = purposes.create_purpose(
                other, "Someone else's", PurposeSchema().load(AML_PURPOSE)
            ).id
        yield world


def bearer(world: World, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[role]}"}
