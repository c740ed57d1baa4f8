"""The compatibility check's JSON: a research purpose (loaded into, and dumped from, the check's
:class:`~governance.matching.check.Purpose`), the request and the result.

:class:`PurposeSchema` is shared: saved purposes (``governance.purposes``) load and dump with it.
Loading checks the DUO terms (CURIE, IRI or shorthand code of a listed purpose term; anything
else is a 422 naming ``terms``) and the disease terms (current terms of the disease hierarchy
in the term store; a 422 naming ``diseases``). Dumping writes sets as sorted lists and dates as
ISO text.
"""

from __future__ import annotations

from typing import Any

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_dump,
    validate,
    validates,
    validates_schema,
)
from sqlalchemy import select

from core.db import get_session
from core.schemas import Country
from governance.matching.check import (
    ANCESTRY,
    DS,
    OUTCOMES,
    PRIMARY_USES,
    PURPOSE_TERMS,
    Purpose,
)
from ontologies.identifiers import UnknownIdentifier, normalise_curie
from ontologies.models import Term

#: the ontology the disease terms come from (loaded under this prefix; CURIEs are NCIT:…)
DISEASE_ONTOLOGY = "HAEM"
MAX_DISEASES = 100
MAX_NAMES = 100
MAX_NAME_LENGTH = 200
MAX_TOPIC_LENGTH = 300
MAX_MONTHS = 600
#: shorthand codes of the purpose terms that have one (DUO's own shorthands)
PURPOSE_CODES = {
    "GRU": "DUO:0000042",
    "HMB": "DUO:0000006",
    "DS": "DUO:0000007",
    "POA": "DUO:0000011",
}


def purpose_term(text: str) -> str | None:
    """The DUO CURIE of a purpose term given as a CURIE, an IRI or a shorthand code, or None
    when it is not one of the listed purpose terms."""
    text = text.strip()
    if text.upper() in PURPOSE_CODES:
        return PURPOSE_CODES[text.upper()]
    try:
        curie = normalise_curie(text)
    except UnknownIdentifier:
        return None
    return curie if curie in PURPOSE_TERMS else None


def disease_curie(text: str) -> str | None:
    try:
        return normalise_curie(text)
    except UnknownIdentifier:
        return None


class PurposeSchema(Schema):
    """A research purpose. ``load`` gives a :class:`Purpose`; ``dump`` takes one (or a dict of
    the same keys) and gives the JSON back."""

    terms = fields.List(
        fields.String(validate=validate.Length(min=1, max=500)),
        required=True,
        validate=validate.Length(min=1, max=len(PURPOSE_TERMS)),
        metadata={
            "description": "DUO research purposes and research types (CURIE, IRI or GRU/HMB/"
            "DS/POA): "
            + "; ".join(f"{curie} {words}" for curie, words in PURPOSE_TERMS.items())
            + ". At least one of GRU, HMB, DS, POA, method development or ancestry research. "
            "Every stated use must be allowed.",
            "example": ["DUO:0000007"],
        },
    )
    diseases = fields.List(
        fields.String(validate=validate.Length(min=1, max=500)),
        load_default=list,
        validate=validate.Length(max=MAX_DISEASES),
        metadata={
            "description": "Disease terms of the haematological-malignancy hierarchy (CURIE or "
            "IRI); required with DS (DUO:0000007).",
            "example": ["NCIT:C3171"],
        },
    )
    commercial = fields.Boolean(
        allow_none=True,
        load_default=None,
        metadata={"description": "Whether the use is commercial (unanswered fails NPU/NCU)."},
    )
    ethics_approval = fields.Boolean(
        allow_none=True,
        load_default=None,
        metadata={"description": "Whether an ethics committee approved the research (IRB)."},
    )
    country = Country(
        allow_none=True,
        load_default=None,
        metadata={"description": "ISO 3166-1 alpha-2 code of where the data will be used (GS)."},
    )
    publication_not_before = fields.Date(
        allow_none=True,
        load_default=None,
        metadata={"description": "The earliest date results will be published (MOR)."},
    )
    duration_months = fields.Integer(
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=1, max=MAX_MONTHS),
        metadata={"description": "How many months of access the research needs (TS)."},
    )
    sensitive = fields.Boolean(
        load_default=False,
        metadata={"description": "The applicant flags the research as sensitive (review)."},
    )
    users = fields.List(
        fields.String(validate=validate.Length(min=1, max=MAX_NAME_LENGTH)),
        load_default=list,
        validate=validate.Length(max=MAX_NAMES),
        metadata={"description": "The people who will use the data (US)."},
    )
    project = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Length(min=1, max=MAX_NAME_LENGTH),
        metadata={"description": "The project the data are for (PS)."},
    )
    institution = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Length(min=1, max=MAX_NAME_LENGTH),
        metadata={"description": "The applicant's institution (IS)."},
    )
    topic = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Length(min=1, max=MAX_TOPIC_LENGTH),
        metadata={"description": "The research topic (RS)."},
    )
    collaboration = fields.Boolean(
        allow_none=True,
        load_default=None,
        metadata={"description": "The applicant commits to collaborate with the study (COL)."},
    )
    clinical_care = fields.Boolean(
        allow_none=True,
        load_default=None,
        metadata={"description": "Results will be used in the care of patients (CC)."},
    )

    @validates("terms")
    def _known_terms(self, value: list[str], **_: Any) -> None:
        unknown = [t for t in value if purpose_term(t) is None]
        if unknown:
            raise ValidationError(
                "Not a research purpose the check knows: "
                + ", ".join(unknown)
                + ". Use "
                + ", ".join(PURPOSE_TERMS)
                + " (CURIE or IRI; GRU, HMB, DS, POA also by code)."
            )
        curies = {purpose_term(t) for t in value}
        if not curies & {*PRIMARY_USES, ANCESTRY}:
            raise ValidationError(
                "Name at least one research use: GRU (DUO:0000042), HMB (DUO:0000006), DS "
                "(DUO:0000007), POA (DUO:0000011), method development (DUO:0000031) or "
                "ancestry research (DUO:0000033)."
            )

    @validates("diseases")
    def _known_diseases(self, value: list[str], **_: Any) -> None:
        curies = {text: disease_curie(text) for text in value}
        unreadable = [text for text, curie in curies.items() if curie is None]
        if unreadable:
            raise ValidationError(
                "Neither a CURIE nor an IRI of a disease term: " + ", ".join(unreadable) + "."
            )
        wanted = sorted({c for c in curies.values() if c})
        if not wanted:
            return
        rows = get_session().execute(
            select(Term.curie, Term.is_obsolete).where(
                Term.curie.in_(wanted), Term.ontology_prefix == DISEASE_ONTOLOGY
            )
        )
        found = {curie: bool(obsolete) for curie, obsolete in rows}
        unknown = [c for c in wanted if c not in found]
        if unknown:
            raise ValidationError(
                "Not in the haematological-malignancy hierarchy: " + ", ".join(unknown) + "."
            )
        obsolete = [c for c in wanted if found[c]]
        if obsolete:
            raise ValidationError("Obsolete disease terms: " + ", ".join(obsolete) + ".")

    @validates_schema
    def _diseases_with_ds(self, data: dict[str, Any], **_: Any) -> None:
        terms = {purpose_term(t) for t in data.get("terms") or []}
        if DS in terms and not data.get("diseases"):
            raise ValidationError(
                "Disease-specific research (DUO:0000007) names at least one disease.",
                field_name="diseases",
            )

    @post_load
    def _purpose(self, data: dict[str, Any], **_: Any) -> Purpose:
        return Purpose(
            terms=frozenset(c for c in (purpose_term(t) for t in data["terms"]) if c),
            diseases=frozenset(c for c in (disease_curie(d) for d in data["diseases"]) if c),
            commercial=data["commercial"],
            ethics_approval=data["ethics_approval"],
            country=data["country"],
            publication_not_before=data["publication_not_before"],
            duration_months=data["duration_months"],
            sensitive=data["sensitive"],
            users=frozenset(u.strip() for u in data["users"]),
            project=data["project"],
            institution=data["institution"],
            topic=data["topic"],
            collaboration=data["collaboration"],
            clinical_care=data["clinical_care"],
        )

    @pre_dump
    def _sets_as_lists(self, obj: Any, **_: Any) -> dict[str, Any]:
        get = obj.get if isinstance(obj, dict) else lambda k, d=None: getattr(obj, k, d)
        out = {name: get(name) for name in self.fields}
        for name in ("terms", "diseases", "users"):
            out[name] = sorted(out[name] or [])
        if out["sensitive"] is None:
            out["sensitive"] = False
        return out


class CheckRequestSchema(Schema):
    purpose = fields.Nested(PurposeSchema, required=True)
    conditions = fields.Dict(
        allow_none=True,
        load_default=None,
        metadata={
            "description": "Data-use conditions in the dataset JSON shape (permission, diseases, "
            "modifiers); give these or `dataset`, not both."
        },
    )
    dataset = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Length(min=1, max=200),
        metadata={
            "description": "A dataset's identifier: its current data-use conditions are used "
            "(and the obligations of its active agreements)."
        },
    )

    @validates_schema
    def _one_source(self, data: dict[str, Any], **_: Any) -> None:
        given = [k for k in ("conditions", "dataset") if data.get(k) is not None]
        if len(given) != 1:
            message = (
                "Give either `conditions` or `dataset`, not both."
                if given
                else "Give the conditions to check against: `conditions` or `dataset`."
            )
            raise ValidationError({"conditions": [message], "dataset": [message]})


class CheckObligationSchema(Schema):
    term = fields.String(metadata={"description": "The DUO modifier, or the agreement."})
    text = fields.String(metadata={"description": "What the researcher must do."})


class CheckReasonSchema(Schema):
    rule = fields.String(metadata={"example": "disease"})
    outcome = fields.String(validate=validate.OneOf(OUTCOMES[1:]))
    message = fields.String()


class CheckResultSchema(Schema):
    outcome = fields.String(validate=validate.OneOf(OUTCOMES))
    obligations = fields.List(fields.Nested(CheckObligationSchema))
    reasons = fields.List(fields.Nested(CheckReasonSchema))
    ontology_versions = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={
            "description": "Version of the ontology behind each CURIE prefix the check read.",
            "example": {"DUO": "2021-02-23", "NCIT": "2025.1"},
        },
    )
    dataset = fields.String(
        allow_none=True, metadata={"description": "The dataset checked against, if one was."}
    )
    conditions_revision = fields.Integer(
        allow_none=True,
        metadata={"description": "The revision of the dataset's conditions the check used."},
    )
    conditions = fields.Dict(
        attribute="conditions_json",
        metadata={"description": "The conditions checked against (the dataset JSON shape)."},
    )
