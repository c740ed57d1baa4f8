"""Shapes of the mappings API (flask-smorest): inputs, queries and the mapping as it is dumped.

A mapping uses SSSOM's names (``subject_value`` is the permissible value's code, ``null`` for
the variable itself; ``object_id`` the term's CURIE). :class:`MappingSchema` dumps a
:class:`catalogue.mappings.services.MappingEntry`, whose properties carry these names (also a
variable's mappings, :class:`catalogue.dictionary.services.VariableEntry`).
"""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from catalogue.dictionary.schemas import ImportProblemSchema
from catalogue.mappings import sssom
from catalogue.mappings.services import MAX_PER_PAGE
from catalogue.mappings.workflow import REVIEW
from catalogue.models import MappingPredicate, MappingStatus
from core.schemas import StrictSchema, page_schema

PREDICATES = [p.value for p in MappingPredicate]


class MappingSchema(Schema):
    id = fields.Integer()
    subject_value = fields.String(
        allow_none=True, metadata={"description": "The permissible value's code; null: variable"}
    )
    predicate_id = fields.String()
    object_id = fields.String()
    object_label = fields.String(allow_none=True)
    mapping_justification = fields.String()
    confidence = fields.Float(allow_none=True)
    status = fields.String(metadata={"description": "suggested, accepted or rejected"})
    author = fields.String(allow_none=True)
    mapping_date = fields.String(allow_none=True)
    comment = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


class MappingEntrySchema(MappingSchema):
    variable = fields.String(
        attribute="variable.name", metadata={"description": "The variable's name"}
    )
    value_label = fields.String(
        allow_none=True, metadata={"description": "The permissible value's label"}
    )
    actions = fields.List(
        fields.String(validate=validate.OneOf(REVIEW.actions)),
        metadata={
            "description": "The review actions you may take on this mapping now ("
            + ", ".join(REVIEW.actions)
            + "); empty for readers, and for mappings of versions that no longer change"
        },
    )


MappingPageSchema = page_schema(MappingEntrySchema, "MappingPage")


class MappingQuerySchema(StrictSchema):
    status = fields.String(validate=validate.OneOf([s.value for s in MappingStatus]))
    variable = fields.String(metadata={"description": "A variable's name"})
    subject = fields.String(
        validate=validate.OneOf(["variable", "value"]),
        metadata={"description": "variable: the variables' own mappings; value: the values'"},
    )
    version = fields.Integer(validate=validate.Range(min=1))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class MappingInputSchema(StrictSchema):
    variable = fields.String(required=True, metadata={"description": "The variable's name"})
    subject_value = fields.String(
        allow_none=True,
        metadata={"description": "A permissible value's code (omit to map the variable)"},
    )
    object_id = fields.String(required=True, metadata={"description": "A term's CURIE or IRI"})
    predicate_id = fields.String(
        load_default=MappingPredicate.EXACT.value, metadata={"description": ", ".join(PREDICATES)}
    )
    mapping_justification = fields.String(
        metadata={"description": "semapv justification (default semapv:ManualMappingCuration)"}
    )
    confidence = fields.Float(allow_none=True, validate=validate.Range(min=0, max=1))
    comment = fields.String(allow_none=True)
    status = fields.String(
        validate=validate.OneOf(["accepted", "suggested"]),
        metadata={"description": "accepted (default) or suggested"},
    )


class MappingReviewSchema(StrictSchema):
    status = fields.String(
        validate=validate.OneOf([s.value for s in MappingStatus]),
        metadata={
            "description": "accepted (accept), rejected (reject) or suggested (re-open for "
            "review); the status it has already, with predicate_id or comment: only those change"
        },
    )
    object_id = fields.String(
        metadata={
            "description": "Another term (CURIE or IRI): replaces the mapping's term "
            "(change_term: it becomes a manual, accepted mapping)"
        }
    )
    predicate_id = fields.String(metadata={"description": ", ".join(PREDICATES)})
    comment = fields.String(allow_none=True)


class SuggestResultSchema(Schema):
    variables = fields.Integer(metadata={"description": "Variables without accepted mapping"})
    values = fields.Integer(metadata={"description": "Permissible values without one"})
    suggested = fields.Integer(metadata={"description": "Suggestions stored"})
    subjects = fields.Integer(metadata={"description": "Subjects with a suggestion"})
    replaced = fields.Integer(metadata={"description": "Earlier open suggestions removed"})


class BulkAcceptSchema(StrictSchema):
    min_confidence = fields.Float(required=True, validate=validate.Range(min=0, max=1))


class BulkAcceptResultSchema(Schema):
    accepted = fields.Integer()
    withdrawn = fields.Integer(metadata={"description": "Alternatives of accepted suggestions"})


class SssomQuerySchema(StrictSchema):
    status = fields.String(
        load_default="accepted",
        validate=validate.OneOf(list(sssom.STATUS_CHOICES)),
        metadata={"description": "accepted (default), suggested, rejected or all"},
    )
    version = fields.Integer(validate=validate.Range(min=1))


class SssomUploadSchema(Schema):
    file = Upload(metadata={"description": "An SSSOM/TSV file with a # metadata block"})


class SssomImportReportSchema(Schema):
    dataset = fields.String()
    version = fields.Integer()
    file = fields.String()
    imported = fields.Boolean()
    rows = fields.Integer()
    added = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    rejected = fields.Integer(metadata={"description": "Negated rows stored as rejected"})
    problem_count = fields.Integer()
    problems = fields.List(fields.Nested(ImportProblemSchema))
