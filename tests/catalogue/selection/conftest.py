"""A world for the selection's tests, built once per module: one custodian organisation with
two published datasets with variables, a published dataset without any, its own draft, a
retired dataset, another organisation's draft, and two researchers and the custodian (with
API tokens)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from core.etags import UNCHECKED
from core.models import Role
from core.policies import SYSTEM
from tests.conftest import shared_world

AML_VARIABLES = [
    {
        "name": "flt3_itd",
        "label": "FLT3-ITD status",
        "value_type": "boolean",
        "permissible_values": [{"code": "1", "label": "Present"}, {"code": "0", "label": "Absent"}],
        "missing_codes": ["9"],
        "mappings": ["HV:0000125"],
    },
    {"name": "npm1", "label": "NPM1 mutation"},
    {"name": "karyotype", "label": "Karyotype"},
]
MDS_VARIABLES = [
    {"name": "ipss_r", "label": "IPSS-R score"},
    {"name": "blasts", "label": "Bone marrow blasts", "value_type": "decimal", "unit": "%"},
]


@dataclass
class World:
    emails: dict[str, str] = field(default_factory=dict)  # role → email
    tokens: dict[str, str] = field(default_factory=dict)  # role → API token
    ids: dict[str, str] = field(default_factory=dict)  # identifier → Dataset.id
    user_ids: dict[str, str] = field(default_factory=dict)  # role → User.id


@pytest.fixture(scope="module")
def world(app, reference_engine) -> Iterator[World]:
    from catalogue.datasets import services as datasets

    with shared_world(app, reference_engine) as make:
        leiden = make.organisation(name="Leiden Haematology", country="NL")
        ulm = make.organisation(name="Ulm AML Group", country="DE")
        users = {
            "researcher": make.user(Role.RESEARCHER),
            "other_researcher": make.user(Role.RESEARCHER),
            "custodian": make.user(Role.CUSTODIAN, organisation=leiden),
        }
        world = World(
            emails={role: u.email for role, u in users.items()},
            tokens={role: make.token(u) for role, u in users.items()},
            user_ids={role: u.id for role, u in users.items()},
        )
        make.dataset(
            leiden,
            identifier="sel-aml",
            title="AML cohort with molecular markers",
            variables=AML_VARIABLES,
            publish=True,
        )
        make.dataset(
            leiden,
            identifier="sel-mds",
            title="MDS registry",
            variables=MDS_VARIABLES,
            publish=True,
        )
        make.dataset(leiden, identifier="sel-bare", title="Myeloma trial", publish=True)
        make.dataset(leiden, identifier="sel-draft", title="Leiden draft", variables=AML_VARIABLES)
        make.dataset(leiden, identifier="sel-retired", title="Old CLL trial", publish=True)
        make.dataset(ulm, identifier="sel-foreign-draft", title="Ulm draft")
        with app.app_context():
            datasets.retire(SYSTEM, "sel-retired", "Superseded.", UNCHECKED)
            for identifier in (
                "sel-aml",
                "sel-mds",
                "sel-bare",
                "sel-draft",
                "sel-retired",
                "sel-foreign-draft",
            ):
                world.ids[identifier] = datasets.get_dataset(SYSTEM, identifier).id
        yield world


def bearer(world: World, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[role]}"}


def user(world: World, role: str):
    """The user of ``role`` as an actor of the services (inside an application context)."""
    from core.db import get_session
    from core.models import User

    return get_session().get(User, world.user_ids[role])
