"""Shapes of the data-use API.

The input is checked by :func:`governance.data_use.vocabulary.parse_conditions`, which names
each wrong field the way a client wrote it (``modifiers[2].date``): the input schema documents
the shape and lets everything through to it.
"""

from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields

from ontologies.schemas import TermBriefSchema

MODIFIER_PARAMS_DOC = (
    "Parameters, only for the modifiers that take one: GS `regions` (ISO 3166-1 alpha-2 "
    "codes or EU, EEA, EUROPE), MOR `date` (YYYY-MM-DD), TS `months` (1-600), US `users`, "
    "PS `projects`, IS `institutions` (lists of names), RS `topic` (text)."
)


class DataUseModifierInputSchema(Schema):
    class Meta:
        unknown = INCLUDE

    term = fields.Raw(
        metadata={"type": "string", "description": "DUO CURIE or IRI of a modifier (required)"},
    )
    date = fields.Raw(metadata={"type": "string", "format": "date", "description": "MOR"})
    months = fields.Raw(metadata={"type": "integer", "description": "TS"})
    regions = fields.Raw(metadata={"type": "array", "items": {"type": "string"}})
    users = fields.Raw(metadata={"type": "array", "items": {"type": "string"}})
    projects = fields.Raw(metadata={"type": "array", "items": {"type": "string"}})
    institutions = fields.Raw(metadata={"type": "array", "items": {"type": "string"}})
    topic = fields.Raw(metadata={"type": "string", "description": "RS"})


class DataUseInputSchema(Schema):
    """The conditions to set. ``revision``, ``code`` and ``label`` (of a GET's answer) may be
    sent back unchanged; they are ignored."""

    class Meta:
        unknown = INCLUDE

    permission = fields.Raw(
        metadata={
            "type": "string",
            "description": "DUO CURIE or IRI of NRES, GRU, HMB, DS or POA (exactly one)",
        },
    )
    diseases = fields.Raw(
        metadata={
            "type": "array",
            "items": {"type": "string"},
            "description": "DS only: one or more disease CURIEs (or IRIs) of the HAEM hierarchy",
        }
    )
    modifiers = fields.List(
        fields.Nested(DataUseModifierInputSchema), metadata={"description": MODIFIER_PARAMS_DOC}
    )


class DataUseModifierSchema(Schema):
    """One modifier: its DUO CURIE, shorthand and label, and its parameters (only those its
    code takes)."""

    term = fields.String(metadata={"description": "DUO CURIE, e.g. DUO:0000024"})
    code = fields.String(metadata={"description": "DUO shorthand, e.g. MOR"})
    label = fields.String()
    date = fields.String(metadata={"format": "date", "description": "MOR: publication from"})
    months = fields.Integer(metadata={"description": "TS: the longest use, in months"})
    regions = fields.List(
        fields.String(), metadata={"description": "GS: ISO 3166-1 countries or EU, EEA, EUROPE"}
    )
    users = fields.List(fields.String(), metadata={"description": "US: the named users"})
    projects = fields.List(fields.String(), metadata={"description": "PS: the named projects"})
    institutions = fields.List(
        fields.String(), metadata={"description": "IS: the named institutions"}
    )
    topic = fields.String(metadata={"description": "RS: the research topic"})


class DataUseSchema(Schema):
    """A dataset's data-use conditions. A dataset without any answers ``{"permission": null,
    "diseases": [], "modifiers": [], "revision": 0}``."""

    permission = fields.String(
        allow_none=True, metadata={"description": "DUO CURIE of NRES, GRU, HMB, DS or POA"}
    )
    code = fields.String(allow_none=True, metadata={"description": "The permission's shorthand"})
    label = fields.String(allow_none=True, metadata={"description": "The permission's label"})
    diseases = fields.List(fields.String(), metadata={"description": "DS: disease CURIEs"})
    disease_terms = fields.List(fields.Nested(TermBriefSchema))
    modifiers = fields.List(fields.Nested(DataUseModifierSchema))
    revision = fields.Integer(
        metadata={"description": "Numbered change of the dataset's conditions (0: none yet)"}
    )
