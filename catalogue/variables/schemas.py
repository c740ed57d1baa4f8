"""The harmonisation matrix's query and answer in the JSON API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.schemas import StrictSchema
from ontologies.schemas import TermBriefSchema


class HarmonisationQuerySchema(StrictSchema):
    datasets = fields.List(
        fields.String(validate=validate.Length(min=1, max=2000)),
        load_default=list,
        metadata={
            "description": "Published datasets' identifiers, comma-separated or repeated "
            "(at most 50): datasets=aml-ic-2016,mds-registry-it"
        },
    )
    terms = fields.List(
        fields.String(validate=validate.Length(min=1, max=2000)),
        load_default=list,
        metadata={
            "description": "Terms (CURIEs or IRIs), comma-separated or repeated; added after "
            "the set's terms (at most 500 in all)"
        },
    )
    set = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=80),
        metadata={"description": "A standard variable set's identifier: its terms, in order"},
    )
    selection = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=64),
        metadata={
            "description": "One of your selections: its datasets become columns (before those "
            "of `datasets`), and where it chose some variables of a dataset only those are shown"
        },
    )


class CellVariableSchema(Schema):
    name = fields.String()
    label = fields.String()
    url = fields.String(metadata={"description": "The variable's page (and IRI)"})
    value_type = fields.String()
    unit = fields.String(allow_none=True, metadata={"description": "UCUM"})
    unit_words = fields.String(allow_none=True, metadata={"description": "The unit in words"})
    minimum = fields.String(allow_none=True)
    maximum = fields.String(allow_none=True)
    permissible_values = fields.List(
        fields.Dict(), metadata={"description": "[{code, label}] in the dictionary's order"}
    )
    predicate_id = fields.String(
        metadata={
            "description": "The strongest covering mapping: skos:exactMatch, "
            "skos:closeMatch or skos:broadMatch"
        }
    )
    via = fields.String(
        allow_none=True,
        metadata={"description": "The narrower term the variable is mapped to, if not the row's"},
    )
    through_value = fields.String(
        allow_none=True,
        metadata={
            "description": "The permissible value whose mapping carries the term, when "
            "the variable itself is not mapped to it"
        },
    )


class MatrixDatasetSchema(Schema):
    identifier = fields.String()
    title = fields.String()
    custodian = fields.String(metadata={"description": "Organisation name"})
    version_number = fields.Integer(metadata={"description": "Its published version"})
    url = fields.String()
    chosen_variables = fields.List(
        fields.String(),
        allow_none=True,
        metadata={"description": "From a selection: the only variables shown (null: all)"},
    )
    covered = fields.Integer(metadata={"description": "Rows (terms) with at least one variable"})
    coverage = fields.Float(metadata={"description": "covered / number of terms, 0 to 1"})


class MatrixTermSchema(TermBriefSchema):
    note = fields.String(allow_none=True, metadata={"description": "The set's note on the term"})
    covered = fields.Integer(metadata={"description": "Datasets with at least one variable"})
    cells = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.Nested(CellVariableSchema)),
        metadata={
            "description": "Dataset identifier → its variables that carry the term (mapped to "
            "it or to a narrower term, accepted, exact/close/broad match); [] when none"
        },
    )


class HarmonisationSchema(Schema):
    set = fields.Dict(
        allow_none=True, metadata={"description": "{identifier, name, version, url} or null"}
    )
    selection = fields.String(allow_none=True)
    datasets = fields.List(fields.Nested(MatrixDatasetSchema), metadata={"description": "Columns"})
    terms = fields.List(fields.Nested(MatrixTermSchema), metadata={"description": "Rows"})
    csv_url = fields.String(metadata={"description": "The same grid as CSV"})
