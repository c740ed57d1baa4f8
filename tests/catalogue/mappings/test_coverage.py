"""Which terms a dataset "has variables for": the rule that search, standard sets and
feasibility share."""

from __future__ import annotations

from sqlalchemy import select

from catalogue.datasets import services as datasets
from catalogue.mappings import coverage
from catalogue.models import DatasetVersion, Mapping, MappingPredicate, MappingStatus, Variable
from core.db import get_session
from core.policies import SYSTEM

HB, COUNTS, LAB, LDH = "HV:0000045", "HV:0000010", "HV:0000003", "HV:0000054"


def _version(app, identifier):
    return datasets.get_dataset(SYSTEM, identifier).versions[-1].id


def test_a_mapped_variable_covers_its_term_and_every_term_above_it(app, make, vocabularies):
    organisation = make.organisation()
    identifier = make.dataset(
        organisation, publish=True, variables=[{"name": "hgb_dx", "mappings": [HB]}]
    )
    with app.app_context():
        version = _version(app, identifier)
        found = coverage.covered_terms([HB, COUNTS, LAB, LDH])
        assert found[version] == {HB: ["hgb_dx"], COUNTS: ["hgb_dx"], LAB: ["hgb_dx"]}


def test_only_accepted_mappings_that_carry_the_term_count(app, make, vocabularies):
    organisation = make.organisation()
    identifier = make.dataset(
        organisation,
        variables=[{"name": "hb"}, {"name": "labs"}, {"name": "ldh"}, {"name": "other"}],
    )
    with app.app_context():
        session = get_session()
        version = _version(app, identifier)
        by_name = {
            v.name: v
            for v in session.scalars(select(Variable).where(Variable.version_id == version))
        }
        session.add_all(
            [
                Mapping(variable=by_name["hb"], object_curie=HB, status=MappingStatus.SUGGESTED),
                Mapping(
                    variable=by_name["labs"],
                    object_curie=HB,
                    predicate=MappingPredicate.NARROW,  # the variable is broader than Hb
                    status=MappingStatus.ACCEPTED,
                ),
                Mapping(
                    variable=by_name["other"],
                    object_curie=COUNTS,
                    predicate=MappingPredicate.BROAD,  # narrower than "blood counts"
                    status=MappingStatus.ACCEPTED,
                ),
                Mapping(
                    variable=by_name["ldh"],
                    value_code="1",  # a permissible value mapped to the term counts too
                    object_curie=LDH,
                    status=MappingStatus.ACCEPTED,
                ),
            ]
        )
        session.commit()
        assert coverage.covered_terms([HB, COUNTS, LDH], [version]) == {
            version: {COUNTS: ["other"], LDH: ["ldh"]}
        }
        with_hb = session.scalars(
            select(DatasetVersion.id).where(coverage.covers_any(DatasetVersion.id, [HB]))
        ).all()
        with_counts = session.scalars(
            select(DatasetVersion.id).where(coverage.covers_any(DatasetVersion.id, [HB, COUNTS]))
        ).all()
        assert version not in with_hb and version in with_counts
