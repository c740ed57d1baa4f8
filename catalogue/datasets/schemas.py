"""Shapes of the catalogue API. The JSON field names are a contract (issue 4): ``identifier``,
``title``, ``description``, ``custodian``, ``diseases``, ``source_type``, ``trial_ids``,
``countries``, ``patients``, ``records``, ``time_coverage``, ``age_groups``, ``data_model``,
``keywords``, ``contact``, ``landing_page``, ``access_rights``, ``provenance``,
``classification``, ``data_freeze``, ``version``, ``status``.

:class:`DatasetInputSchema` loads the JSON shape into the flat field names the service takes
(:data:`catalogue.datasets.VERSION_FIELDS`); the HTML form uses the same schema."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates,
    validates_schema,
)

from catalogue.models import (
    AgeGroup,
    Classification,
    DataModel,
    ProvenanceStep,
    SourceType,
)
from core.schemas import Country, PageQuerySchema, StrictSchema, page_schema
from ontologies.identifiers import normalise_curie
from ontologies.schemas import TermBriefSchema

# EudraCT: 2004-000123-45; EU CT (CTIS): 2022-500014-26-00; ClinicalTrials.gov: NCT01234567
TRIAL_ID_PATTERNS = {
    "EudraCT": re.compile(r"^\d{4}-\d{6}-\d{2}$"),
    "EU CT": re.compile(r"^\d{4}-5\d{5}-\d{2}-\d{2}$"),
    "NCT": re.compile(r"^NCT\d{8}$"),
}
IDENTIFIER_RULE = (
    "Use 3 to 80 lower-case letters, digits and single hyphens (e.g. amlsg-09-09); "
    "identifiers never change once given."
)


def trial_id_kind(value: str) -> str | None:
    for kind, pattern in TRIAL_ID_PATTERNS.items():
        if pattern.match(value):
            return kind
    return None


class SummarySchema(Schema):
    organisations = fields.Integer(metadata={"description": "Partner organisations registered"})
    datasets = fields.Integer(metadata={"description": "Published datasets"})
    patients = fields.Integer(metadata={"description": "Patients covered by published datasets"})


class TrialId(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip().upper()
        if trial_id_kind(text) is None:
            raise ValidationError(
                f"“{text}” is not a trial registration id: use EudraCT (2004-000123-45), "
                "EU CT (2022-500014-26-00) or NCT (NCT01234567)."
            )
        return text


class Curie(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        try:
            return normalise_curie(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


# A dataset's time coverage: the years in which its data were (or are being) collected.
EARLIEST_YEAR = 1900
#: the first year may be next year at the latest: a study is registered shortly before its
#: first patients, never years before (2062 for 2026 is a typo, not a plan)
FIRST_YEAR_AHEAD = 1
#: the last year may be ten years ahead at the most: an ongoing trial or registry states its
#: planned end of follow-up; 2100 is not a plan either
LAST_YEAR_AHEAD = 10
YEAR_ORDER = "The first year comes after the last year of the time coverage."


def this_year() -> int:
    return dt.datetime.now(dt.UTC).year


class YearUpTo(validate.Range):
    """A year from :data:`EARLIEST_YEAR` to ``ahead`` years after the current one: the upper
    bound moves with the calendar (the OpenAPI document states it as of the service's start)."""

    def __init__(self, ahead: int, error: str) -> None:
        self.ahead = ahead
        super().__init__(min=EARLIEST_YEAR, max=None, error=error)

    @property  # computed: the current year moves
    def max(self) -> int:
        return this_year() + self.ahead

    @max.setter
    def max(self, value: object) -> None:
        """Range's constructor sets a fixed bound; this one is computed, so it is ignored."""


def latest_first_year() -> int:
    return this_year() + FIRST_YEAR_AHEAD


def latest_last_year() -> int:
    return this_year() + LAST_YEAR_AHEAD


class TimeCoverageSchema(StrictSchema):
    first_year = fields.Integer(
        allow_none=True,
        validate=YearUpTo(
            FIRST_YEAR_AHEAD,
            "{input} cannot be the first year: give a year from {min} to {max} (next year at "
            "the latest: the data must have been collected, or be about to be).",
        ),
        metadata={"description": "When data collection began; next year at the latest"},
    )
    last_year = fields.Integer(
        allow_none=True,
        validate=YearUpTo(
            LAST_YEAR_AHEAD,
            "{input} cannot be the last year: give a year from {min} to {max} (an ongoing "
            "study may give its planned end, at most ten years ahead).",
        ),
        metadata={
            "description": "When data collection ended (or, for an ongoing study, is planned "
            "to end); ten years ahead at the most"
        },
    )


class ContactSchema(StrictSchema):
    name = fields.String(allow_none=True, validate=validate.Length(max=200))
    email = fields.Email(allow_none=True, validate=validate.Length(max=320))


class ProvenanceSchema(StrictSchema):
    step = fields.Enum(
        ProvenanceStep,
        by_value=True,
        required=True,
        metadata={"description": "; ".join(s.value for s in ProvenanceStep)},
    )
    date = fields.Date(required=True)


class ProvenanceOutSchema(Schema):
    step = fields.String()
    date = fields.String(metadata={"description": "ISO date"})


class DatasetInputSchema(StrictSchema):
    identifier = fields.String(
        validate=validate.Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", error=IDENTIFIER_RULE),
        metadata={
            "description": "Stable public identifier (a slug); made from the title if left out"
        },
    )
    title = fields.String(required=True, validate=validate.Length(min=3, max=300))
    description = fields.String(
        allow_none=True,
        validate=validate.Length(max=20000),
        metadata={"description": "Markdown"},
    )
    custodian = fields.String(
        allow_none=True,
        metadata={"description": "Organisation id; default: the caller's organisation"},
    )
    diseases = fields.List(
        Curie(),
        required=True,
        validate=validate.Length(min=1, max=50, error="Name at least one disease."),
        metadata={"description": "CURIEs (or IRIs) of the haematological-malignancy hierarchy"},
    )
    source_type = fields.Enum(SourceType, by_value=True, allow_none=True)
    trial_ids = fields.List(TrialId(), load_default=None)
    countries = fields.List(Country(), load_default=None)
    patients = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=100_000_000))
    records = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=10_000_000_000))
    time_coverage = fields.Nested(TimeCoverageSchema, allow_none=True)
    age_groups = fields.List(fields.Enum(AgeGroup, by_value=True), load_default=None)
    data_model = fields.Enum(DataModel, by_value=True, allow_none=True)
    keywords = fields.List(fields.String(validate=validate.Length(min=1, max=100)))
    contact = fields.Nested(ContactSchema, allow_none=True)
    landing_page = fields.Url(
        allow_none=True, schemes={"http", "https"}, validate=validate.Length(max=500)
    )
    access_rights = fields.String(allow_none=True, validate=validate.Length(max=5000))
    provenance = fields.List(fields.Nested(ProvenanceSchema))
    classification = fields.Enum(Classification, by_value=True, allow_none=True)
    data_freeze = fields.Date(allow_none=True)
    version = fields.String(allow_none=True, validate=validate.Length(max=80))

    @validates("keywords")
    def _keywords(self, value: list[str], **kwargs: Any) -> None:
        if len(value) > 50:
            raise ValidationError("At most 50 keywords.")

    @validates_schema
    def _years_in_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        """The first year of the time coverage is not after its last (reported beside the
        other fields' errors: see :class:`core.schemas.StrictSchema`). A change that sends one
        of the two years is checked against the stored other one by the service."""
        coverage = data.get("time_coverage") or {}
        first, last = coverage.get("first_year"), coverage.get("last_year")
        if first is not None and last is not None and first > last:
            raise ValidationError(YEAR_ORDER, "time_coverage")

    @post_load
    def _flatten(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """The service's flat names (contact_name, first_year, organisation_id …)."""
        out = {k: v for k, v in data.items() if k not in ("time_coverage", "contact", "custodian")}
        if "custodian" in data:
            out["organisation_id"] = data["custodian"] or None
        if "time_coverage" in data:
            coverage = data["time_coverage"] or {}
            for key in ("first_year", "last_year"):
                if key in coverage or data["time_coverage"] is None:
                    out[key] = coverage.get(key)
        if "contact" in data:
            contact = data["contact"] or {}
            for key in ("name", "email"):
                if key in contact or data["contact"] is None:
                    out[f"contact_{key}"] = contact.get(key)
        for key in ("trial_ids", "countries", "age_groups", "keywords"):
            if key in out:
                values = (v.value if hasattr(v, "value") else v for v in out[key] or [])
                out[key] = list(dict.fromkeys(values))
        if "provenance" in out:
            out["provenance"] = [
                {"step": p["step"].value, "date": p["date"].isoformat()} for p in out["provenance"]
            ]
        return out


class DatasetUpdateSchema(DatasetInputSchema):
    """Any subset of the fields of :class:`DatasetInputSchema`."""

    def __init__(self, **kwargs: Any) -> None:
        # its own fields may be left out, not those of a nested object sent (a provenance
        # step without its date): partial=True would reach into those too
        super().__init__(partial=tuple(self._declared_fields), **kwargs)


class DatasetQuerySchema(PageQuerySchema):
    mine = fields.Boolean(
        load_default=False,
        metadata={"description": "Only the datasets of the organisations you are custodian of"},
    )
    custodian = fields.String(metadata={"description": "Organisation id"})
    status = fields.String(validate=validate.OneOf(["draft", "published", "retired"]))
    sort = fields.String(
        load_default=None,
        validate=validate.OneOf(
            ["-modified", "modified", "-created", "created", "identifier", "-identifier"]
        ),
        metadata={"description": "default -modified (most recently changed first)"},
    )


class RetireSchema(StrictSchema):
    note = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=2000),
        metadata={"description": "Why it was retired, and where to go instead"},
    )  # fmt: skip


class OrganisationRefSchema(Schema):
    id = fields.String()
    name = fields.String()
    country = fields.String()


class EnumValue(fields.String):
    """An enumeration member as its value (the column's text)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return super()._serialize(getattr(value, "value", value), attr, obj, **kwargs)


class ListOrEmpty(fields.List):
    """A list column, ``[]`` when the row holds none."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return super()._serialize(value or [], attr, obj, **kwargs)


class VersionRefSchema(Schema):
    number = fields.Integer()
    version = fields.String(allow_none=True)
    status = EnumValue()
    published_at = fields.DateTime(allow_none=True)
    data_freeze = fields.Date(allow_none=True)
    url = fields.String()


class ContactOutSchema(Schema):
    name = fields.String(attribute="contact_name", allow_none=True)
    email = fields.String(attribute="contact_email", allow_none=True)


class TimeCoverageOutSchema(Schema):
    first_year = fields.Integer(allow_none=True)
    last_year = fields.Integer(allow_none=True)


class DataUseModifierOutSchema(Schema):
    """One data-use modifier with its parameters (only those its code takes)."""

    term = fields.String(metadata={"description": "DUO CURIE, e.g. DUO:0000024"})
    code = fields.String(metadata={"description": "DUO shorthand, e.g. MOR"})
    label = fields.String()
    date = fields.Date(metadata={"description": "MOR: publication allowed from"})
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


class DataUseOutSchema(Schema):
    """What the patients' consent allows (GA4GH DUO): filled by the governance area."""

    permission = fields.String(
        allow_none=True, metadata={"description": "DUO CURIE of NRES, GRU, HMB, DS or POA"}
    )
    code = fields.String(allow_none=True, metadata={"description": "Its DUO shorthand"})
    label = fields.String(allow_none=True)
    diseases = fields.List(fields.String(), metadata={"description": "DS: disease CURIEs"})
    modifiers = fields.List(fields.Nested(DataUseModifierOutSchema))
    revision = fields.Integer(
        metadata={"description": "Numbered change of the dataset's conditions (0: none yet)"}
    )


class DatasetSchema(Schema):
    """A dataset as one of its versions describes it, dumped from a
    :class:`catalogue.datasets.api.DatasetView` (the version, its dataset, and what the page of
    results loaded for it in bulk)."""

    identifier = fields.String(attribute="dataset.identifier")
    title = fields.String(attribute="version.title")
    description = fields.String(
        attribute="version.description", allow_none=True, metadata={"description": "Markdown"}
    )
    custodian = fields.String(
        attribute="dataset.organisation_id", metadata={"description": "Organisation id"}
    )
    custodian_organisation = fields.Nested(OrganisationRefSchema, attribute="dataset.organisation")
    diseases = fields.List(fields.String(), metadata={"description": "CURIEs"})
    disease_terms = fields.List(fields.Nested(TermBriefSchema))
    source_type = EnumValue(attribute="version.source_type", allow_none=True)
    trial_ids = ListOrEmpty(fields.String(), attribute="version.trial_ids")
    countries = ListOrEmpty(fields.String(), attribute="version.countries")
    patients = fields.Integer(attribute="version.patients", allow_none=True)
    records = fields.Integer(attribute="version.records", allow_none=True)
    time_coverage = fields.Nested(TimeCoverageOutSchema)
    age_groups = ListOrEmpty(fields.String(), attribute="version.age_groups")
    data_model = EnumValue(attribute="version.data_model", allow_none=True)
    keywords = ListOrEmpty(fields.String(), attribute="version.keywords")
    contact = fields.Nested(ContactOutSchema)
    landing_page = fields.String(attribute="version.landing_page", allow_none=True)
    access_rights = fields.String(attribute="version.access_rights", allow_none=True)
    provenance = ListOrEmpty(fields.Nested(ProvenanceOutSchema), attribute="version.provenance")
    classification = EnumValue(attribute="version.classification", allow_none=True)
    data_freeze = fields.Date(attribute="version.data_freeze", allow_none=True)
    version = fields.String(
        attribute="version.version",
        allow_none=True,
        metadata={"description": "The custodian's label"},
    )
    version_number = fields.Integer(attribute="version.number")
    version_status = EnumValue(
        attribute="version.status", metadata={"description": "draft, published or superseded"}
    )
    status = EnumValue(
        attribute="dataset.status", metadata={"description": "draft, published or retired"}
    )
    retirement_note = fields.String(attribute="dataset.retirement_note", allow_none=True)
    variables = fields.Integer(metadata={"description": "Number of variables of this version"})
    created = fields.DateTime(attribute="dataset.created_at")
    modified = fields.DateTime(attribute="version.modified_at")
    published = fields.DateTime(attribute="version.published_at", allow_none=True)
    versions = fields.List(fields.Nested(VersionRefSchema))
    data_use = fields.Nested(
        DataUseOutSchema,
        allow_none=True,
        metadata={"description": "The data-use conditions (GA4GH DUO); null when none are set"},
    )
    requestable = fields.Boolean(
        metadata={
            "description": "Access can be requested now: an active data-sharing agreement "
            "covers the dataset and it has data-use conditions"
        }
    )
    requestable_until = fields.Date(
        allow_none=True, metadata={"description": "The last day of the covering agreement"}
    )
    url = fields.String()
    actions = fields.List(
        fields.String(),
        metadata={
            "description": "The lifecycle actions you may take on the dataset now, in the "
            "order of its workflow (edit, publish, delete, new_version, retire): `harmony "
            "workflows show dataset` prints the table. Empty for whoever may not change it."
        },
    )


DatasetPageSchema = page_schema(DatasetSchema, "DatasetPage")


class ChangeSchema(Schema):
    at = fields.DateTime()
    version = fields.Integer(attribute="version_number", allow_none=True)
    who = fields.String(attribute="actor_label")
    action = fields.String()
    summary = fields.String()
    changes = fields.Dict()
