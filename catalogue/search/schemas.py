"""Shapes of the search API. The query parameters and the response's ``items``, ``total``,
``page``, ``per_page`` and ``facets`` (each a list of ``{value, label, count}``) are a contract;
highlighted fields are HTML (escaped text with the matching words in ``<mark>``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import url_for
from marshmallow import Schema, fields

from catalogue.search.facets import FacetValue, facets
from catalogue.search.services import SORTS, Hit, SearchResult
from ontologies.schemas import TermBriefSchema


class SearchNamedTermSchema(TermBriefSchema):
    ontology = fields.String()
    match = fields.String(metadata={"description": "exact (a name of the term) or partial"})
    narrower = fields.Integer(metadata={"description": "terms below it that are searched too"})


class SearchUnderstoodSchema(Schema):
    text = fields.String(metadata={"description": "the words of the query"})
    terms = fields.List(fields.Nested(SearchNamedTermSchema))


class SearchCorrectionSchema(Schema):
    word = fields.String()
    also = fields.List(fields.String(), metadata={"description": "close words searched too"})


class SearchQueryEchoSchema(Schema):
    q = fields.String()
    understood_as = fields.List(fields.Nested(SearchUnderstoodSchema))
    corrections = fields.List(fields.Nested(SearchCorrectionSchema))
    ignored = fields.List(
        fields.String(), metadata={"description": "words that carry no meaning for search"}
    )


class MatchedVariableSchema(Schema):
    name = fields.String()
    label = fields.String()
    name_highlighted = fields.String()
    label_highlighted = fields.String()
    description_highlighted = fields.String()
    terms = fields.List(
        fields.Nested(TermBriefSchema),
        metadata={"description": "named terms the variable is mapped to (or below)"},
    )


class MatchedVariablesSchema(Schema):
    matching_words = fields.Integer(metadata={"description": "variables holding the words"})
    mapped_to_terms = fields.Integer(
        metadata={"description": "variables mapped to a term the query names (or below it)"}
    )
    items = fields.List(fields.Nested(MatchedVariableSchema))


class SearchCustodianSchema(Schema):
    id = fields.String()
    name = fields.String()


class SearchTimeCoverageSchema(Schema):
    first_year = fields.Integer(allow_none=True)
    last_year = fields.Integer(allow_none=True)


class SearchDataUseSchema(Schema):
    permission = fields.String(metadata={"description": "DUO permission (CURIE)"})
    diseases = fields.List(fields.String(), metadata={"description": "DS diseases (CURIEs)"})
    modifiers = fields.List(
        fields.Dict(),
        metadata={
            "description": "DUO modifiers: each its term (CURIE) and its parameters (date, "
            "regions, months, users, projects, institutions, topic)"
        },
    )
    revision = fields.Integer(metadata={"description": "the conditions' revision"})


class SearchFitReasonSchema(Schema):
    rule = fields.String()
    outcome = fields.String()
    message = fields.String()


class SearchFitSchema(Schema):
    outcome = fields.String(
        metadata={
            "description": "the compatibility check of the purpose against the dataset's "
            "data-use conditions: compatible, needs_review or incompatible; no_conditions when "
            "the dataset has none",
            "enum": ["compatible", "needs_review", "incompatible", "no_conditions"],
        }
    )
    reasons = fields.List(
        fields.Nested(SearchFitReasonSchema),
        metadata={"description": "why it is not compatible (empty when it is)"},
    )


class SearchHitSchema(Schema):
    identifier = fields.String()
    title = fields.String()
    title_highlighted = fields.String()
    snippet = fields.String(metadata={"description": "the description around the matches"})
    status = fields.String(metadata={"description": "published, or draft (for its editors)"})
    version_number = fields.Integer()
    custodian = fields.Nested(SearchCustodianSchema)
    source_type = fields.String(allow_none=True)
    data_model = fields.String(allow_none=True)
    countries = fields.List(fields.String())
    age_groups = fields.List(fields.String())
    patients = fields.Integer(allow_none=True)
    time_coverage = fields.Nested(SearchTimeCoverageSchema)
    diseases = fields.List(fields.Nested(TermBriefSchema))
    keywords = fields.List(fields.String())
    keywords_highlighted = fields.List(fields.String())
    matched_terms = fields.List(
        fields.Nested(TermBriefSchema),
        metadata={"description": "named terms the dataset is tagged with (or below them)"},
    )
    variables = fields.Nested(MatchedVariablesSchema)
    updated = fields.DateTime()
    url = fields.String(metadata={"description": "the dataset in the API"})
    page_url = fields.String(metadata={"description": "the dataset's page"})
    requestable = fields.Boolean(
        metadata={
            "description": "an active data-sharing agreement covers the dataset today and it "
            "has data-use conditions"
        }
    )
    requestable_until = fields.String(
        allow_none=True,
        metadata={
            "description": "the last day of the latest active agreement covering it (ISO date)",
            "format": "date",
        },
    )
    data_use = fields.Nested(
        SearchDataUseSchema,
        allow_none=True,
        metadata={"description": "the dataset's data-use conditions (GA4GH DUO), or null"},
    )
    fit = fields.Nested(
        SearchFitSchema,
        metadata={"description": "only in a search with purpose: the fit to that purpose"},
    )


class SearchFacetValueSchema(Schema):
    value = fields.String()
    label = fields.String()
    count = fields.Integer()
    parents = fields.List(
        fields.String(), metadata={"description": "hierarchical facets: parents among the values"}
    )
    selected = fields.Boolean()


class SearchResponseSchema(Schema):
    items = fields.List(fields.Nested(SearchHitSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    sort = fields.String()
    facets = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.Nested(SearchFacetValueSchema)),
        required=True,
    )
    query = fields.Nested(SearchQueryEchoSchema)


#: a public identifier that every URL keeps as it is (datasets' are slugs: ``[a-z0-9-]``)
_PLAIN = re.compile(r"[A-Za-z0-9._~-]+")
_MARKER = "0identifier0"  # stands for a hit's identifier in the URLs built once per page


def _dataset_urls() -> Callable[[str], tuple[str, str]]:
    """The dataset's URL in the API and its page's, per identifier: ``url_for`` once per
    page of hits with a marker, the marker replaced by each plain identifier (``url_for`` for
    each of 20 hits twice took ~0.3 ms); any other identifier goes through ``url_for``."""

    def built(identifier: str) -> tuple[str, str]:
        return (
            url_for("catalogue_api.DatasetResource", identifier=identifier, _external=True),
            url_for("datasets.dataset", identifier=identifier, _external=True),
        )

    api, page = built(_MARKER)
    if api.count(_MARKER) != 1 or page.count(_MARKER) != 1:
        return built
    api_before, api_after = api.split(_MARKER)
    page_before, page_after = page.split(_MARKER)

    def urls(identifier: str) -> tuple[str, str]:
        if not _PLAIN.fullmatch(identifier):
            return built(identifier)
        return (api_before + identifier + api_after, page_before + identifier + page_after)

    return urls


def _hit(hit: Hit, urls: Callable[[str], tuple[str, str]]) -> dict[str, Any]:
    first, last = hit.time_coverage
    extras = hit.extras
    url, page_url = urls(hit.identifier)
    return {
        "identifier": hit.identifier,
        "title": hit.title,
        "title_highlighted": str(hit.title_html),
        "snippet": str(hit.snippet_html),
        "status": hit.status,
        "version_number": hit.version_number,
        "custodian": {"id": hit.custodian_id, "name": hit.custodian},
        "source_type": hit.source_type,
        "data_model": hit.data_model,
        "countries": hit.countries,
        "age_groups": hit.age_groups,
        "patients": hit.patients,
        "time_coverage": {"first_year": first, "last_year": last},
        "diseases": hit.diseases,
        "keywords": [k for k, _html, _m in hit.keywords],
        "keywords_highlighted": [str(html) for _k, html, _m in hit.keywords],
        "matched_terms": hit.matched_terms,
        "variables": {
            "matching_words": hit.variables_matching_words,
            "mapped_to_terms": hit.variables_mapped_to_terms,
            "items": [
                {
                    "name": v.name,
                    "label": v.label,
                    "name_highlighted": str(v.name_html),
                    "label_highlighted": str(v.label_html),
                    "description_highlighted": str(v.description_html),
                    "terms": v.terms,
                }
                for v in hit.variables
            ],
        },
        "updated": hit.updated.isoformat(),
        "url": url,
        "page_url": page_url,
        "requestable": bool(extras.get("requestable")),
        "requestable_until": _iso(extras.get("requestable_until")),
        "data_use": extras.get("data_use"),
        **({"fit": extras["fit"]} if "fit" in extras else {}),
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _facet_value(value: FacetValue) -> dict[str, Any]:
    return {
        "value": value.value,
        "label": value.label,
        "count": value.count,
        "parents": value.parents,
        "selected": value.selected,
    }


def result_body(result: SearchResult) -> dict[str, Any]:
    """The response body of a search (what :class:`SearchResponseSchema` dumps)."""
    meaning = result.interpretation
    urls = _dataset_urls() if result.items else None
    return {
        "items": [_hit(h, urls) for h in result.items] if urls else [],
        "total": result.total,
        "page": result.query.page,
        "per_page": result.query.per_page,
        "sort": result.query.sort,
        "facets": {
            name: [_facet_value(v) for v in values] for name, values in result.facets.items()
        },
        "query": {
            "q": result.query.q,
            "understood_as": [
                {
                    "text": " ".join(p.words),
                    "terms": [
                        {
                            "curie": t.curie,
                            "label": t.label,
                            "ontology": t.ontology,
                            "match": t.match,
                            "narrower": t.narrower,
                        }
                        for t in p.terms
                    ],
                }
                for p in meaning.parts
                if p.terms
            ],
            "corrections": [
                {"word": word, "also": also}
                for p in meaning.parts
                for word, also in p.corrections.items()
            ],
            "ignored": meaning.ignored,
        },
    }


def parameters_doc() -> list[dict[str, Any]]:
    """The query parameters for the OpenAPI document (facets from the registry)."""
    described = {
        "q": "Free text: dataset titles, keywords, descriptions and variable names, labels and "
        "descriptions (English stemming, British and American spellings alike). Words that "
        "name ontology terms also find datasets tagged with the term or a term below it, and "
        "variables mapped to it.",
        "sort": "One of: " + ", ".join(SORTS) + " (relevance needs q; default relevance).",
        "page": "Page number, from 1.",
        "per_page": "Hits per page, 1-100 (default 20).",
        "disease": "Disease term (CURIE or IRI) of the HAEM hierarchy; the datasets tagged with "
        "it or any term below it. Repeat for OR.",
        "source_type": "clinical_trial, registry, observational_cohort, biobank or real_world. "
        "Repeat for OR.",
        "country": "ISO 3166-1 alpha-2 code. Repeat for OR.",
        "custodian": "Custodian organisation id. Repeat for OR.",
        "data_model": "omop, sdtm, custom or other. Repeat for OR.",
        "age_group": "paediatric, adult or elderly. Repeat for OR.",
        "term": "Has variables for this term (CURIE or IRI) or a term below it, by accepted "
        "exact, close or broad mappings. Repeat for OR.",
        "patients_min": "At least this many patients.",
        "patients_max": "At most this many patients.",
    }
    for facet in facets():
        described.update(facet.descriptions)
    names = ["q", *(p for f in facets() for p in f.params), "sort", "page", "per_page"]
    repeatable = {f.name for f in facets() if f.repeatable} - {"patients"}
    parameters = []
    for name in names:
        schema: dict[str, Any] = (
            # blank (the search form's empty field) means the default, as on the page
            {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": r"^\s*$"}]}
            if name in ("page", "per_page", "patients_min", "patients_max")
            else {"type": "string"}
        )
        if name in repeatable:
            schema = {"type": "array", "items": {"type": "string"}}
        parameters.append(
            {
                "in": "query",
                "name": name,
                "required": False,
                "schema": schema,
                "description": described.get(name, ""),
                **({"style": "form", "explode": True} if name in repeatable else {}),
            }
        )
    return parameters
