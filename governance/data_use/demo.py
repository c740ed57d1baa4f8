"""The demo datasets' data-use conditions (``harmony demo load``): one of each kind a committee
meets, so that every badge, the ``data_use`` facet and every outcome of the check show on a
fresh ``make run``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from catalogue.models import Dataset
from core import audit
from core.db import get_session
from core.etags import UNCHECKED
from core.policies import SYSTEM
from governance.data_use import services
from governance.data_use.models import DataUseConditions

#: the demo datasets (catalogue/datasets/data/demo) and their conditions
DEMO_CONDITIONS: dict[str, dict[str, Any]] = {
    # a GRU trial
    "flt3-mido-2017": {"permission": "DUO:0000042"},
    # a DS-AML trial with ethics approval and publication required
    "aml-ic-2016": {
        "permission": "DUO:0000007",
        "diseases": ["NCIT:C3171"],
        "modifiers": [{"term": "DUO:0000021"}, {"term": "DUO:0000019"}],
    },
    # an HMB registry for not-for-profit organisations
    "mds-registry-it": {"permission": "DUO:0000006", "modifiers": [{"term": "DUO:0000045"}]},
    # a DS-myeloma cohort for Europe only, with a publication moratorium
    "mm-te-2015": {
        "permission": "DUO:0000007",
        "diseases": ["NCIT:C3242"],
        "modifiers": [
            {"term": "DUO:0000022", "regions": ["EUROPE"]},
            {"term": "DUO:0000024", "date": "2027-01-01"},
        ],
    },
    # a reference set without restriction, except no ancestry research
    "all-paed-2010": {"permission": "DUO:0000004", "modifiers": [{"term": "DUO:0000044"}]},
    # a draft whose custodian stated the conditions before publishing: one institution only
    "allo-hct-outcomes-rotterdam": {
        "permission": "DUO:0000006",
        "modifiers": [{"term": "DUO:0000028", "institutions": ["Erasmus MC"]}],
    },
    # real-world data: non-commercial, time-limited, results returned
    "cll-rwe-cohort": {
        "permission": "DUO:0000006",
        "modifiers": [
            {"term": "DUO:0000046"},
            {"term": "DUO:0000025", "months": 36},
            {"term": "DUO:0000029"},
        ],
    },
    # collaboration with the study group required
    "dlbcl-80plus-2014": {"permission": "DUO:0000042", "modifiers": [{"term": "DUO:0000020"}]},
}


def _utc(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def set_demo_conditions() -> list[str]:
    """Set the demo conditions of the demo datasets that exist and have none yet (a second
    load changes nothing). Returns the identifiers it set."""
    session = get_session()
    present = dict(
        session.execute(
            select(Dataset.identifier, func.coalesce(Dataset.published_at, Dataset.modified_at))
            .outerjoin(DataUseConditions, DataUseConditions.dataset_id == Dataset.id)
            .where(Dataset.identifier.in_(DEMO_CONDITIONS), DataUseConditions.dataset_id.is_(None))
        ).all()
    )
    done = []
    for identifier, conditions in DEMO_CONDITIONS.items():
        if identifier in present:
            # dated in the demo's story (when the dataset was published), like its history
            with audit.occurred_at(_utc(present[identifier])):
                services.set_conditions(SYSTEM, identifier, conditions, UNCHECKED)
            done.append(identifier)
    return done


def load_demo_conditions(result: Any = None) -> None:
    """The demo step (``harmony demo load``)."""
    set_demo_conditions()


def register_demo_step() -> None:
    """After the datasets' step (the governance area is set up after the catalogue)."""
    from core import demo as core_demo

    core_demo.register_step(load_demo_conditions)
