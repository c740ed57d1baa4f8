"""Shapes of the ontology API."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from core.schemas import StrictSchema


class OntologySchema(Schema):
    prefix = fields.String()
    name = fields.String()
    iri = fields.String(allow_none=True)
    version = fields.String(allow_none=True)
    licence = fields.String(allow_none=True)
    source_url = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    loaded_at = fields.DateTime()
    term_count = fields.Integer()


class OntologyUploadSchema(StrictSchema):
    prefix = fields.String(validate=validate.Regexp(r"^[A-Za-z][A-Za-z0-9_]{0,39}$"))
    format = fields.String(
        validate=validate.OneOf(
            [
                "owl",
                "rdfxml",
                "xml",
                "turtle",
                "ttl",
                "jsonld",
                "json-ld",
                "nt",
                "ntriples",
                "oncotree",
            ]
        )
    )
    name = fields.String(validate=validate.Length(min=1, max=300))


class LoadReportSchema(Schema):
    prefix = fields.String()
    name = fields.String()
    version = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "loaded, updated or unchanged"})
    added = fields.Integer()
    changed = fields.Integer()
    obsoleted = fields.Integer()
    unchanged = fields.Integer()
    total = fields.Integer()
    seconds = fields.Float()
    warnings = fields.List(fields.String())


class SynonymSchema(Schema):
    text = fields.String()
    type = fields.String(attribute="kind.value")


class TermBriefSchema(Schema):
    """A term as anything else refers to it, ``{curie, label}``: the one shape of a term
    reference in every area's API (a dataset's diseases, a set's terms, search hits …);
    extend it for more (``class SetTermSchema(TermBriefSchema): note = …``)."""

    curie = fields.String()
    label = fields.String()


class HierarchyTermSchema(TermBriefSchema):
    """A parent or child on a term's record: whether it is obsolete too."""

    obsolete = fields.Boolean(attribute="is_obsolete")


class TermSchema(Schema):
    curie = fields.String()
    iri = fields.String()
    label = fields.String()
    synonyms = fields.List(fields.Nested(SynonymSchema))
    ontology = fields.String(attribute="ontology_prefix")
    obsolete = fields.Boolean(attribute="is_obsolete")
    replaced_by = fields.String(allow_none=True)
    xrefs = fields.Method("_xrefs")
    definition = fields.String(allow_none=True)
    value_type = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)

    def _xrefs(self, term: Any) -> list[str]:
        return [x.xref for x in term.xrefs]


class TermDetailSchema(TermSchema):
    parents = fields.List(fields.Nested(HierarchyTermSchema))
    children = fields.List(fields.Nested(HierarchyTermSchema))
    used_by = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={
            "description": "How many things the caller may see use this term or a narrower "
            "one, by kind: `datasets` (tagged with it), `variables` (an accepted mapping to "
            "it). Drafts count only for their custodians and administrators; retired "
            "datasets never.",
            "example": {"datasets": 2, "variables": 5},
        },
    )


class TermHitSchema(TermSchema):
    match = fields.String(
        metadata={
            "description": "identifier, exact_label, exact_synonym, prefix, word_prefix or fuzzy"
        }
    )
    matched = fields.String(metadata={"description": "the (normalised) name that matched"})


class TermSearchQuerySchema(StrictSchema):
    q = fields.String(required=True, validate=validate.Length(min=1, max=200))
    ontology = fields.String(validate=validate.Length(max=40))
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100))
    include_obsolete = fields.Boolean(load_default=False)


class TermHitPageSchema(Schema):
    items = fields.List(fields.Nested(TermHitSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class HierarchyQuerySchema(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=1000))
    max_depth = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))


class RelatedTermSchema(TermBriefSchema):
    depth = fields.Integer()


class RelatedTermPageSchema(Schema):
    items = fields.List(fields.Nested(RelatedTermSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
