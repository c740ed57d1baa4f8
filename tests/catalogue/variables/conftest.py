"""A small catalogue for the variable pages and the harmonisation matrix, built once per module.

- ``aml-trial`` (Leiden, published; Leiden's custodian is ``custodian``): ``hb_dx`` (Hb, g/dL,
  with a person's mapping), ``plt_dx`` (platelets), ``dx`` (WHO diagnosis, its values mapped to
  two AML terms), ``sex`` (removed in the open draft), ``blast/pct`` (a name with a slash);
  an open draft (version 2) adds ``hgb_m6`` (Hb) that only its editors see;
- ``cbf-aml`` (Lyon, published twice): ``hb_w4`` (Hb in g/L; its label changed in version 2),
  ``plt`` (platelets);
- ``mds-registry`` (Lyon, published): ``counts`` (blood counts: broader than Hb), ``hb_close``
  (Hb, close match), ``hb_narrow`` (narrowMatch: does not count), ``anaemia`` (Hb through its
  value ``low``), ``hb_suggested`` (a suggestion: does not count);
- ``lyon-draft`` (Lyon, never published): ``hb_pilot`` (Hb);
- ``retired-aml`` (Lyon, retired): ``hb_old`` (Hb).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from catalogue.models import (
    Mapping,
    MappingJustification,
    MappingPredicate,
    MappingStatus,
    Variable,
)
from core.db import get_session
from core.models import Role, User
from core.policies import SYSTEM
from tests.conftest import shared_world

HB, PLATELETS, COUNTS, BLASTS = "HV:0000045", "HV:0000047", "HV:0000010", "HV:0000071"
WHO_DX, SEX, LDH = "HV:0000028", "HV:0000017", "HV:0000054"
AML, CBF_AML, MDS = "NCIT:C3171", "NCIT:C122688", "NCIT:C3247"


@dataclass
class World:
    custodian: User  # of Leiden
    other_custodian: User  # of Lyon
    researcher: User
    admin: User
    leiden_name: str
    lyon_name: str


@pytest.fixture(scope="module")
def world(app, reference_engine) -> Iterator[World]:
    with shared_world(app, reference_engine) as make:
        yield _build(app, make)


def _variables(version_id: str) -> dict[str, Variable]:
    session = get_session()
    return {v.name: v for v in session.scalars(select(Variable).filter_by(version_id=version_id))}


def _build(app, make) -> World:
    from catalogue.datasets import services as datasets

    leiden = make.organisation(name="Leiden Haematology", country="NL")
    lyon = make.organisation(name="Lyon Blood Registry", country="FR")
    world = World(
        custodian=make.user(Role.CUSTODIAN, organisation=leiden),
        other_custodian=make.user(Role.CUSTODIAN, organisation=lyon),
        researcher=make.user(Role.RESEARCHER),
        admin=make.user(Role.ADMIN),
        leiden_name=leiden.name,
        lyon_name=lyon.name,
    )
    make.dataset(
        leiden,
        identifier="aml-trial",
        title="AML induction trial",
        diseases=[AML],
        publish=True,
        variables=[
            {
                "name": "hb_dx",
                "label": "Haemoglobin at diagnosis",
                "description": "Haemoglobin in peripheral blood on the day of diagnosis.",
                "value_type": "decimal",
                "unit": "g/dL",
                "minimum": "2",
                "maximum": "25",
                "missing_codes": ["-9", "-8"],
                "form": "laboratory",
                "time_point": "diagnosis",
                "mappings": [HB],
            },
            {"name": "plt_dx", "label": "Platelets at diagnosis", "mappings": [PLATELETS]},
            {
                "name": "dx",
                "label": "Diagnosis",
                "value_type": "categorical",
                "permissible_values": [
                    {"code": "1", "label": "AML"},
                    {"code": "2", "label": "Core binding factor AML"},
                    {"code": "3", "label": "Other"},
                ],
                "mappings": [WHO_DX],
            },
            {"name": "sex", "label": "Sex", "value_type": "categorical", "mappings": [SEX]},
            {"name": "blast/pct", "label": "Marrow blasts (%)", "unit": "%", "mappings": [BLASTS]},
            {"name": "ldh", "label": "LDH", "unit": "U/L", "mappings": [LDH]},
        ],
    )
    make.dataset(
        lyon,
        identifier="cbf-aml",
        title="Core binding factor AML cohort",
        diseases=[CBF_AML],
        publish=True,
        variables=[
            {"name": "hb_w4", "label": "Hb at week 4 (v1)", "unit": "g/L", "mappings": [HB]},
            {"name": "plt", "label": "Platelets", "unit": "10*9/L", "mappings": [PLATELETS]},
        ],
    )
    make.dataset(
        lyon,
        identifier="mds-registry",
        title="MDS registry",
        diseases=[MDS],
        publish=True,
        variables=[
            {"name": "counts", "label": "Blood counts done", "mappings": [COUNTS]},
            {"name": "hb_close", "label": "Hb, roughly"},
            {"name": "hb_narrow", "label": "Hb or something wider"},
            {
                "name": "anaemia",
                "label": "Anaemia grade",
                "value_type": "categorical",
                "permissible_values": [
                    {"code": "low", "label": "Hb below 10 g/dL"},
                    {"code": "normal", "label": "Normal"},
                ],
            },
            {"name": "hb_suggested", "label": "Hb (suggested only)"},
        ],
    )
    make.dataset(
        lyon,
        identifier="lyon-draft",
        title="Unpublished AML pilot",
        diseases=[AML],
        variables=[{"name": "hb_pilot", "label": "Hb in the pilot", "mappings": [HB]}],
    )
    make.dataset(
        lyon,
        identifier="retired-aml",
        title="Retired AML study",
        diseases=[AML],
        publish=True,
        variables=[{"name": "hb_old", "label": "Hb, retired", "mappings": [HB]}],
    )
    with app.app_context():
        session = get_session()
        datasets.retire(SYSTEM, "retired-aml", "Withdrawn.", datasets.UNCHECKED)
        aml = _variables(datasets.get_version(SYSTEM, "aml-trial").id)
        mapping = aml["hb_dx"].mappings[0]
        mapping.author_label = "Dr Ada Lovelace"
        mapping.justification = MappingJustification.LEXICAL
        mapping.confidence = 0.93
        mapping.mapping_date = dt.date(2024, 3, 1)
        session.add_all(
            [
                Mapping(variable_id=aml["dx"].id, object_curie=AML, value_code="1"),
                Mapping(
                    variable_id=aml["dx"].id,
                    object_curie=CBF_AML,
                    value_code="2",
                    predicate=MappingPredicate.CLOSE,
                ),
            ]
        )
        mds = _variables(datasets.get_version(SYSTEM, "mds-registry").id)
        session.add_all(
            [
                Mapping(
                    variable_id=mds["hb_close"].id,
                    object_curie=HB,
                    predicate=MappingPredicate.CLOSE,
                ),
                Mapping(
                    variable_id=mds["hb_narrow"].id,
                    object_curie=HB,
                    predicate=MappingPredicate.NARROW,
                ),
                Mapping(variable_id=mds["anaemia"].id, object_curie=HB, value_code="low"),
                Mapping(
                    variable_id=mds["hb_suggested"].id,
                    object_curie=HB,
                    status=MappingStatus.SUGGESTED,
                ),
            ]
        )
        session.commit()
        # cbf-aml publishes a second version in which hb_w4 has a new label
        datasets.new_version(SYSTEM, "cbf-aml", datasets.UNCHECKED)
        second = _variables(datasets.get_version(SYSTEM, "cbf-aml", 2).id)
        second["hb_w4"].label = "Hb at week 4"
        session.commit()
        datasets.publish(SYSTEM, "cbf-aml", datasets.UNCHECKED)
        # Leiden opens version 2 of aml-trial: adds hgb_m6, drops sex
        draft = datasets.new_version(SYSTEM, "aml-trial", datasets.UNCHECKED)
        in_draft = _variables(draft.id)
        session.delete(in_draft["sex"])
        session.add(
            Variable(
                version_id=draft.id,
                position=99,
                name="hgb_m6",
                label="Haemoglobin at month 6",
                value_type="decimal",
                unit="g/dL",
                mappings=[Mapping(object_curie=HB, status=MappingStatus.ACCEPTED)],
            )
        )
        session.commit()
    return world
