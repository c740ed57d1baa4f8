"""Shapes of the standard-set, coverage, feasibility and variable-question API.

Computed patient totals are :class:`catalogue.counts.PatientCountField`: an integer, or the
string ``"<10"`` below the small-cell threshold for everyone but administrators. A patient count
a dataset declares is an integer, as the custodian gave it.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from catalogue.datasets.schemas import IDENTIFIER_RULE, Curie
from catalogue.standards.models import StandardSetStatus
from catalogue.stats.counts import PatientCountField
from core.schemas import PageQuerySchema, StrictSchema, page_schema
from ontologies.schemas import TermBriefSchema


class SetTermInputSchema(StrictSchema):
    curie = Curie(required=True, metadata={"description": "CURIE or IRI of the term"})
    note = fields.String(
        allow_none=True,
        validate=validate.Length(max=300),
        metadata={"description": "e.g. “with upper limit of normal”"},
    )


class StandardSetInputSchema(StrictSchema):
    identifier = fields.String(
        validate=validate.Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", error=IDENTIFIER_RULE),
        metadata={"description": "Stable slug (e.g. r-iss); made from the name if left out"},
    )
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    version = fields.String(
        required=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "The edition the set follows, e.g. 2022"},
    )
    description = fields.String(allow_none=True, validate=validate.Length(max=10000))
    source = fields.String(
        allow_none=True,
        validate=validate.Length(max=2000),
        metadata={"description": "Citation of the publication that defines the set"},
    )
    source_url = fields.Url(
        allow_none=True, schemes={"http", "https"}, validate=validate.Length(max=500)
    )
    note = fields.String(
        allow_none=True,
        validate=validate.Length(max=5000),
        metadata={"description": "What a reader must know, e.g. inputs without a term"},
    )
    diseases = fields.List(
        Curie(), load_default=None, metadata={"description": "HAEM disease CURIEs"}
    )
    terms = fields.List(
        fields.Nested(SetTermInputSchema),
        required=True,
        validate=validate.Length(min=1, max=200, error="Give between 1 and 200 terms."),
        metadata={"description": "The set's terms, in order"},
    )


class StandardSetUpdateSchema(StandardSetInputSchema):
    """Any subset of the fields of :class:`StandardSetInputSchema`; ``terms`` replaces the
    whole list."""

    def __init__(self, **kwargs: Any) -> None:
        # its own fields may be left out, not those of a nested object sent (a provenance
        # step without its date): partial=True would reach into those too
        super().__init__(partial=tuple(self._declared_fields), **kwargs)


class SetTermSchema(TermBriefSchema):
    note = fields.String(allow_none=True)


class StandardSetSchema(Schema):
    identifier = fields.String()
    name = fields.String()
    version = fields.String()
    description = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    source_url = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "active or retired"})
    revision = fields.Integer(metadata={"description": "Bumped by every change (the ETag)"})
    diseases = fields.List(fields.Nested(TermBriefSchema))
    terms = fields.List(fields.Nested(SetTermSchema))
    created = fields.DateTime()
    modified = fields.DateTime()
    retired = fields.DateTime(allow_none=True)
    url = fields.String()
    feasibility_url = fields.String()


StandardSetPageSchema = page_schema(StandardSetSchema, "StandardSetPage")


class StandardSetQuerySchema(PageQuerySchema):
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    status = fields.Enum(StandardSetStatus, by_value=True, load_default=None)
    disease = Curie(
        load_default=None,
        metadata={"description": "Sets meant for this disease term, above or below it"},
    )


class DatasetRefSchema(Schema):
    identifier = fields.String()
    title = fields.String()
    custodian = fields.String(metadata={"description": "Organisation name"})
    status = fields.String(metadata={"description": "published, or draft (for its editors)"})
    version_number = fields.Integer()
    patients = fields.Integer(
        allow_none=True, metadata={"description": "As the custodian declares it"}
    )
    url = fields.String()


class CoveredTermSchema(TermBriefSchema):
    note = fields.String(allow_none=True)
    covered = fields.Boolean()
    variables = fields.List(fields.String(), metadata={"description": "Covering variables"})


class SetCoverageSchema(Schema):
    set = fields.Nested(
        Schema.from_dict(
            {
                "identifier": fields.String(),
                "name": fields.String(),
                "version": fields.String(),
                "url": fields.String(),
            },
            name="SetRef",
        )
    )
    relevant = fields.Boolean(
        metadata={"description": "The set is meant for one of the dataset's diseases"}
    )
    covered = fields.Integer()
    total = fields.Integer()
    coverage = fields.Float(metadata={"description": "covered / total, 0 to 1"})
    complete = fields.Boolean()
    missing = fields.List(fields.String(), metadata={"description": "CURIEs not covered"})
    terms = fields.List(fields.Nested(CoveredTermSchema))


class DatasetCoverageSchema(Schema):
    dataset = fields.Nested(DatasetRefSchema)
    sets = fields.List(fields.Nested(SetCoverageSchema))


class CoverageQuerySchema(StrictSchema):
    version = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1),
        metadata={"description": "A version number (default: the version you see)"},
    )


class RankedDatasetSchema(Schema):
    dataset = fields.Nested(DatasetRefSchema)
    covered = fields.Integer(metadata={"description": "Asked terms the dataset covers"})
    total = fields.Integer(metadata={"description": "Asked terms"})
    coverage = fields.Float(metadata={"description": "covered / total, 0 to 1"})
    complete = fields.Boolean()
    variables = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Covered term → the dataset's variables that cover it"},
    )
    missing = fields.List(fields.String(), metadata={"description": "Terms not covered"})


class FeasibilitySchema(Schema):
    set = fields.Nested(StandardSetSchema)
    complete_datasets = fields.Integer(
        metadata={"description": "Published datasets that cover every term of the set"}
    )
    complete_patients = PatientCountField(
        "Patients declared by the published datasets that cover every term of the set."
    )
    complete_without_patient_count = fields.Integer(
        metadata={"description": "Of those datasets, how many declare no patient count"}
    )
    datasets_in_scope = fields.Integer(
        metadata={"description": "Datasets the question ran over (covering or not)"}
    )
    small_cell_threshold = fields.Integer()
    items = fields.List(fields.Nested(RankedDatasetSchema))
    total = fields.Integer(metadata={"description": "Datasets covering at least one term"})
    page = fields.Integer()
    per_page = fields.Integer()


class FeasibilityQuerySchema(StrictSchema):
    """Pages of a ranking (its order is the ranking: most covered terms first)."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=200))


class VariableQuestionQuerySchema(FeasibilityQuerySchema):
    terms = fields.List(
        fields.String(),
        required=True,
        metadata={
            "description": "Terms (CURIEs or IRIs), comma-separated or repeated: "
            "terms=HV:0000124,HV:0000125&terms=HV:0000088"
        },
    )


class VariableAnswerSchema(Schema):
    terms = fields.List(fields.Nested(TermBriefSchema), metadata={"description": "As asked"})
    items = fields.List(fields.Nested(RankedDatasetSchema))
    total = fields.Integer(metadata={"description": "Datasets covering at least one term"})
    page = fields.Integer()
    per_page = fields.Integer()
    datasets_in_scope = fields.Integer(
        metadata={"description": "Datasets the question ran over (covering or not)"}
    )
