"""Mappings in the service: create, list, review, bulk accept, delete and the assistant's
suggestions, on the open draft only."""

from __future__ import annotations

import datetime as dt

import pytest

from catalogue.datasets import services as datasets
from catalogue.mappings import services as mappings
from catalogue.models import MappingJustification, MappingPredicate, MappingStatus
from core.errors import Conflict, Forbidden, InvalidInput, NotFound, PreconditionFailed
from core.models import Role
from core.policies import SYSTEM

VARIABLES = [
    {
        "name": "hb_dx",
        "label": "Haemoglobin at diagnosis",
        "value_type": "decimal",
        "unit": "g/dL",
    },
    {"name": "flt3itd", "label": "", "value_type": "categorical"},
    {"name": "ecog", "label": "", "value_type": "integer"},
    {
        "name": "karyotype",
        "label": "Karyotype result",
        "value_type": "categorical",
        "permissible_values": [
            {"code": "1", "label": "Normal"},
            {"code": "2", "label": "Complex"},
            {"code": "9", "label": "Unknown"},
        ],
    },
    {"name": "sex", "label": "Sex", "value_type": "categorical", "mappings": ["HV:0000017"]},
]


@pytest.fixture
def draft(make, vocabularies):
    organisation = make.organisation()
    custodian = make.user(Role.CUSTODIAN, organisation=organisation, name="Cora Custodian")
    identifier = make.dataset(organisation, variables=VARIABLES)
    return identifier, custodian


def _tag(identifier: str) -> str:
    return datasets.etag(datasets.get_dataset(SYSTEM, identifier))


def test_a_custodian_maps_a_variable_and_a_value_by_hand(app, draft):
    identifier, custodian = draft
    with app.app_context():
        made = mappings.create_mapping(
            custodian,
            identifier,
            {"variable": "hb_dx", "object_id": "HV:0000045", "comment": "checked against CRF"},
            _tag(identifier),
        )
        assert made.status is MappingStatus.ACCEPTED
        assert made.predicate is MappingPredicate.EXACT
        assert made.justification is MappingJustification.MANUAL
        assert made.author_label == "Cora Custodian" and made.mapping_date == dt.date.today()
        value = mappings.create_mapping(
            custodian,
            identifier,
            {
                "variable": "karyotype",
                "subject_value": "2",
                "object_id": "https://w3id.org/harmony/hv/HV_0000094",  # an IRI is fine too
                "predicate_id": "skos:closeMatch",
                "confidence": 0.9,
            },
            _tag(identifier),
        )
        assert value.object_curie == "HV:0000094" and value.value_code == "2"
        page = mappings.list_mappings(custodian, identifier)
        subjects = [(e.variable.name, e.subject_value, e.object_label) for e in page.items]
        assert subjects == [
            ("hb_dx", None, "Haemoglobin"),
            ("karyotype", "2", "Complex karyotype"),
            ("sex", None, "Sex"),
        ]
        assert page.items[1].value_label == "Complex"
        actions = [c["action"] for c in datasets.history(custodian, identifier)]
        assert actions[:2] == ["mapping_added", "mapping_added"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"variable": "nope", "object_id": "HV:0000045"}, "variable"),
        ({"variable": "hb_dx", "object_id": "HV:9999999"}, "object_id"),
        ({"variable": "hb_dx", "object_id": "not a curie"}, "object_id"),
        (
            {"variable": "hb_dx", "object_id": "HV:0000045", "predicate_id": "owl:sameAs"},
            "predicate_id",
        ),
        ({"variable": "hb_dx", "object_id": "HV:0000045", "confidence": 1.5}, "confidence"),
        ({"variable": "hb_dx", "object_id": "HV:0000045", "confidence": "high"}, "confidence"),
        (
            {"variable": "hb_dx", "object_id": "HV:0000045", "mapping_justification": "x:y"},
            "mapping_justification",
        ),
        (
            {"variable": "karyotype", "subject_value": "7", "object_id": "HV:0000093"},
            "subject_value",
        ),
        ({"variable": "sex", "object_id": "HV:0000017"}, "object_id"),  # mapped already
    ],
)
def test_bad_mappings_are_refused_naming_the_field(app, draft, data, field):
    identifier, custodian = draft
    with app.app_context():
        with pytest.raises(InvalidInput) as error:
            mappings.create_mapping(custodian, identifier, data, _tag(identifier))
        assert field in error.value.errors
        assert mappings.list_mappings(custodian, identifier).total == 1  # nothing written


def test_changes_need_the_current_etag_an_open_draft_and_an_editor(app, make, draft):
    identifier, custodian = draft
    data = {"variable": "hb_dx", "object_id": "HV:0000045"}
    stranger = make.user(Role.CUSTODIAN)  # of another organisation
    researcher = make.user(Role.RESEARCHER)
    with app.app_context():
        with pytest.raises(PreconditionFailed):
            mappings.create_mapping(custodian, identifier, data, '"stale-1"')
        with pytest.raises(NotFound):
            mappings.create_mapping(stranger, identifier, data, "*")
        with pytest.raises(NotFound):
            mappings.list_mappings(researcher, identifier)
        datasets.publish(SYSTEM, identifier, datasets.UNCHECKED)
        with pytest.raises(Conflict):
            mappings.create_mapping(custodian, identifier, data, "*")
        with pytest.raises(Forbidden):
            mappings.create_mapping(stranger, identifier, data, "*")
        # the public reads a published dataset's mappings, credited to the organisation
        entry = mappings.list_mappings(researcher, identifier).items[0]
        assert entry.object_label == "Sex" and entry.author != "Cora Custodian"


def test_the_assistant_suggests_and_the_custodian_reviews(app, draft):
    identifier, custodian = draft
    with app.app_context():
        counts = mappings.suggest(custodian, identifier, _tag(identifier))
        # sex is mapped already: four variables and three values were looked at
        assert counts["variables"] == 4 and counts["values"] == 3
        suggested = mappings.list_mappings(custodian, identifier, status="suggested").items
        best = {}
        for entry in suggested:
            key = (entry.variable.name, entry.subject_value)
            best.setdefault(key, entry)
        assert best[("hb_dx", None)].mapping.object_curie == "HV:0000045"
        assert best[("flt3itd", None)].mapping.object_curie == "HV:0000125"
        assert best[("ecog", None)].mapping.object_curie == "HV:0000178"
        assert best[("karyotype", "1")].mapping.object_curie == "HV:0000093"  # normal karyotype
        assert ("karyotype", "9") not in best  # "Unknown" matches nothing well enough
        hb = best[("hb_dx", None)].mapping
        assert hb.justification is MappingJustification.LEXICAL
        assert 0 < hb.confidence <= 1 and "hb" in hb.reason
        assert all(e.mapping.status is MappingStatus.SUGGESTED for e in suggested)

        # accepting one withdraws the other suggestions for that variable
        accepted = mappings.review_mapping(custodian, identifier, hb.id, "accepted", None, "*")
        assert (
            accepted.status is MappingStatus.ACCEPTED and accepted.author_label == "Cora Custodian"
        )
        hb_rows = mappings.list_mappings(custodian, identifier, variable="hb_dx").items
        assert [e.mapping.id for e in hb_rows] == [hb.id]

        # rejecting one keeps it, and the assistant does not propose it again
        ecog = best[("ecog", None)].mapping
        mappings.review_mapping(custodian, identifier, ecog.id, "rejected", None, "*")
        again = mappings.suggest(custodian, identifier, "*")
        assert again["variables"] == 3  # hb_dx is mapped now
        ecog_rows = mappings.list_mappings(custodian, identifier, variable="ecog").items
        rejected = [e for e in ecog_rows if e.mapping.status is MappingStatus.REJECTED]
        assert [e.mapping.object_curie for e in rejected] == ["HV:0000178"]
        assert all(
            e.mapping.object_curie != "HV:0000178"
            for e in ecog_rows
            if e.mapping.status is MappingStatus.SUGGESTED
        )

        # replacing a suggestion's term makes it a manual, accepted mapping
        flt3 = mappings.list_mappings(
            custodian, identifier, variable="flt3itd", status="suggested"
        ).items[0]
        replaced = mappings.review_mapping(
            custodian, identifier, flt3.mapping.id, None, "HV:0000126", "*"
        )
        assert replaced.object_curie == "HV:0000126"
        assert replaced.status is MappingStatus.ACCEPTED
        assert replaced.justification is MappingJustification.MANUAL and replaced.confidence is None


def test_bulk_accept_takes_the_best_suggestion_above_the_threshold(app, draft):
    identifier, custodian = draft
    with app.app_context():
        mappings.suggest(custodian, identifier, "*")
        suggested = mappings.list_mappings(custodian, identifier, status="suggested").items
        confident = {
            (e.variable.name, e.subject_value)
            for e in suggested
            if (e.mapping.confidence or 0) >= 0.8
        }
        result = mappings.bulk_accept(custodian, identifier, 0.8, "*")
        assert result["accepted"] == len(confident) > 0
        accepted = mappings.list_mappings(custodian, identifier, status="accepted").items
        subjects = [(e.variable.name, e.subject_value) for e in accepted]
        assert len(subjects) == len(set(subjects))  # one per subject
        assert confident <= set(subjects)
        with pytest.raises(InvalidInput) as error:
            mappings.bulk_accept(custodian, identifier, 2, "*")
        assert "min_confidence" in error.value.errors


def test_deleting_and_unknown_mappings(app, draft):
    identifier, custodian = draft
    with app.app_context():
        sex = mappings.list_mappings(custodian, identifier, variable="sex").items[0].mapping
        mappings.delete_mapping(custodian, identifier, sex.id, _tag(identifier))
        assert mappings.list_mappings(custodian, identifier).total == 0
        with pytest.raises(NotFound):
            mappings.delete_mapping(custodian, identifier, sex.id, "*")
        with pytest.raises(NotFound):
            mappings.review_mapping(custodian, identifier, 10**9, "accepted", None, "*")
        with pytest.raises(InvalidInput):
            mappings.list_mappings(custodian, identifier, status="maybe")
