"""Catalogue: datasets, their versions, variables, mappings and change history.

A :class:`Dataset` is the stable record (public identifier, custodian organisation, lifecycle).
Its metadata and data dictionary live in :class:`DatasetVersion` rows: version 1 starts as a
draft; publishing freezes it; a later change opens a new draft version (a copy of the last one)
which, once published, supersedes the old one. Superseded versions stay readable with the
variables they had.

Permissible values are kept with their variable (a JSON list of ``{code, label}``): a
100,000-variable dictionary is one row per variable. Mappings of variables *and* of values to
ontology terms are rows of :class:`Mapping` (a value's mapping names its code).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, utcnow
from core.models import Organisation, enum_column, new_public_id


class DatasetStatus(enum.StrEnum):
    DRAFT = "draft"  # never published
    PUBLISHED = "published"
    RETIRED = "retired"


class VersionStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"


class SourceType(enum.StrEnum):
    CLINICAL_TRIAL = "clinical_trial"
    REGISTRY = "registry"
    OBSERVATIONAL_COHORT = "observational_cohort"
    BIOBANK = "biobank"
    REAL_WORLD = "real_world"


SOURCE_TYPE_LABELS = {
    SourceType.CLINICAL_TRIAL: "Clinical trial",
    SourceType.REGISTRY: "Registry",
    SourceType.OBSERVATIONAL_COHORT: "Observational cohort",
    SourceType.BIOBANK: "Biobank",
    SourceType.REAL_WORLD: "Real-world / EHR extract",
}


class DataModel(enum.StrEnum):
    OMOP = "omop"
    SDTM = "sdtm"
    CUSTOM = "custom"
    OTHER = "other"


DATA_MODEL_LABELS = {
    DataModel.OMOP: "OMOP CDM",
    DataModel.SDTM: "CDISC SDTM",
    DataModel.CUSTOM: "Custom",
    DataModel.OTHER: "Other",
}


class AgeGroup(enum.StrEnum):
    PAEDIATRIC = "paediatric"
    ADULT = "adult"
    ELDERLY = "elderly"


class Classification(enum.StrEnum):
    WHO_HAEM5 = "who_haem5"
    ICC_2022 = "icc_2022"
    WHO_2016 = "who_2016"


CLASSIFICATION_LABELS = {
    Classification.WHO_HAEM5: "WHO-HAEM5 (2022)",
    Classification.ICC_2022: "ICC 2022",
    Classification.WHO_2016: "WHO 2016 (revised 4th edition)",
}


class ProvenanceStep(enum.StrEnum):
    PSEUDONYMISED = "pseudonymised"  # by the provider
    SECOND_PSEUDONYMISATION = "second_pseudonymisation"  # by a trusted third party
    QUALITY_CHECKED = "quality_checked"
    CONVERTED_TO_OMOP = "converted_to_omop"


PROVENANCE_LABELS = {
    ProvenanceStep.PSEUDONYMISED: "Pseudonymised by the provider",
    ProvenanceStep.SECOND_PSEUDONYMISATION: "Second pseudonymisation by a trusted third party",
    ProvenanceStep.QUALITY_CHECKED: "Quality-checked",
    ProvenanceStep.CONVERTED_TO_OMOP: "Converted to OMOP",
}


class ValueType(enum.StrEnum):
    """What a variable holds (a data dictionary's readers produce it, the variable stores it)."""

    INTEGER = "integer"
    DECIMAL = "decimal"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    TEXT = "text"


class MappingPredicate(enum.StrEnum):
    EXACT = "skos:exactMatch"
    CLOSE = "skos:closeMatch"
    BROAD = "skos:broadMatch"
    NARROW = "skos:narrowMatch"
    RELATED = "skos:relatedMatch"


class MappingJustification(enum.StrEnum):
    MANUAL = "semapv:ManualMappingCuration"
    LEXICAL = "semapv:LexicalMatching"
    LOGICAL = "semapv:LogicalReasoning"
    COMPOSITE = "semapv:CompositeMatching"
    UNSPECIFIED = "semapv:UnspecifiedMatching"
    IMPORTED = "semapv:MappingReview"  # carried over from a source that was already mapped


class MappingStatus(enum.StrEnum):
    SUGGESTED = "suggested"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Dataset(Base):
    __tablename__ = "datasets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    identifier: Mapped[str] = mapped_column(String(80), unique=True)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[DatasetStatus] = mapped_column(
        enum_column(DatasetStatus, "dataset_status"), default=DatasetStatus.DRAFT, index=True
    )
    # bumped by every change of the dataset or any of its versions: the ETag for If-Match
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    modified_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    published_at: Mapped[dt.datetime | None]  # first publication
    retired_at: Mapped[dt.datetime | None]
    retirement_note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    organisation: Mapped[Organisation] = relationship()
    versions: Mapped[list[DatasetVersion]] = relationship(
        back_populates="dataset",
        order_by="DatasetVersion.number",
        cascade="all, delete-orphan",
        foreign_keys="DatasetVersion.dataset_id",
    )


class DatasetVersion(Base):
    """One version of a dataset's metadata and dictionary."""

    __tablename__ = "dataset_versions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[VersionStatus] = mapped_column(
        enum_column(VersionStatus, "version_status"), default=VersionStatus.DRAFT
    )
    version: Mapped[str | None] = mapped_column(String(80))  # the custodian's own label
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)  # Markdown
    source_type: Mapped[SourceType | None] = mapped_column(enum_column(SourceType, "source_type"))
    trial_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    patients: Mapped[int | None] = mapped_column(Integer)
    records: Mapped[int | None] = mapped_column(Integer)
    first_year: Mapped[int | None] = mapped_column(Integer)
    last_year: Mapped[int | None] = mapped_column(Integer)
    age_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    data_model: Mapped[DataModel | None] = mapped_column(enum_column(DataModel, "data_model"))
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(320))
    landing_page: Mapped[str | None] = mapped_column(String(500))
    access_rights: Mapped[str | None] = mapped_column(Text)
    # [{"step": ProvenanceStep value, "date": "YYYY-MM-DD"}]
    provenance: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    classification: Mapped[Classification | None] = mapped_column(
        enum_column(Classification, "classification")
    )
    data_freeze: Mapped[dt.date | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    modified_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_at: Mapped[dt.datetime | None]

    dataset: Mapped[Dataset] = relationship(back_populates="versions", foreign_keys=[dataset_id])
    diseases: Mapped[list[DatasetDisease]] = relationship(
        cascade="all, delete-orphan", order_by="DatasetDisease.position", lazy="selectin"
    )

    __table_args__ = (
        UniqueConstraint("dataset_id", "number"),
        # when each dataset's public record last changed, and the catalogue's (the metadata
        # export's harvest pages and FAIR Data Point), read from the index alone
        Index("ix_dataset_versions_dataset_published", "dataset_id", "published_at"),
        Index("ix_dataset_versions_published_at", "published_at"),
    )


class DatasetDisease(Base):
    """A disease term a version is tagged with (a row, so that search can join the closure)."""

    __tablename__ = "dataset_diseases"

    version_id: Mapped[str] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="CASCADE"), primary_key=True
    )
    term_curie: Mapped[str] = mapped_column(
        ForeignKey("terms.curie", ondelete="RESTRICT"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


#: what a variable says about itself, besides its name and position: the columns a dictionary
#: import compares and writes and a new version copies
VARIABLE_FIELDS = (
    "label",
    "description",
    "form",
    "section",
    "time_point",
    "value_type",
    "unit",
    "minimum",
    "maximum",
    "multiple",
    "source_type",
    "permissible_values",
    "missing_codes",
)


class Variable(Base):
    __tablename__ = "variables"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    version_id: Mapped[str] = mapped_column(ForeignKey("dataset_versions.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    form: Mapped[str | None] = mapped_column(String(200))
    section: Mapped[str | None] = mapped_column(String(300))
    time_point: Mapped[str | None] = mapped_column(String(100))
    value_type: Mapped[ValueType] = mapped_column(enum_column(ValueType, "value_type"))
    unit: Mapped[str | None] = mapped_column(String(60))
    minimum: Mapped[str | None] = mapped_column(String(60))
    maximum: Mapped[str | None] = mapped_column(String(60))
    multiple: Mapped[bool] = mapped_column(default=False)
    source_type: Mapped[str | None] = mapped_column(String(40))
    # [{"code": "1", "label": "Yes"}] in the dictionary's order
    permissible_values: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    missing_codes: Mapped[list[str]] = mapped_column(JSON, default=list)

    mappings: Mapped[list[Mapping]] = relationship(
        back_populates="variable", cascade="all, delete-orphan", order_by="Mapping.id"
    )

    __table_args__ = (
        UniqueConstraint("version_id", "name"),
        Index("ix_variables_version_position", "version_id", "position"),
    )


#: what a mapping records besides its variable: the columns a dictionary import writes and a
#: new version copies
MAPPING_FIELDS = (
    "value_code",
    "predicate",
    "object_curie",
    "justification",
    "confidence",
    "status",
    "author_id",
    "author_label",
    "mapping_date",
    "comment",
    "reason",
    "created_at",
)


class Mapping(Base):
    """An SSSOM-style mapping of a variable (or one of its permissible values) to a term."""

    __tablename__ = "mappings"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    variable_id: Mapped[int] = mapped_column(ForeignKey("variables.id", ondelete="CASCADE"))
    value_code: Mapped[str | None] = mapped_column(String(100))  # None: the variable itself
    predicate: Mapped[MappingPredicate] = mapped_column(
        enum_column(MappingPredicate, "mapping_predicate"), default=MappingPredicate.EXACT
    )
    object_curie: Mapped[str] = mapped_column(
        ForeignKey("terms.curie", ondelete="RESTRICT"), index=True
    )
    justification: Mapped[MappingJustification] = mapped_column(
        enum_column(MappingJustification, "mapping_justification"),
        default=MappingJustification.MANUAL,
    )
    confidence: Mapped[float | None]
    status: Mapped[MappingStatus] = mapped_column(
        enum_column(MappingStatus, "mapping_status"), default=MappingStatus.ACCEPTED
    )
    author_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_label: Mapped[str | None] = mapped_column(String(320))  # kept if the user goes
    mapping_date: Mapped[dt.date | None]
    comment: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(String(300))  # why the assistant proposed it
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    variable: Mapped[Variable] = relationship(back_populates="mappings")

    __table_args__ = (
        Index("ix_mappings_variable_status", "variable_id", "status"),
        Index("ix_mappings_object_status", "object_curie", "status"),
        # the coverage rule read from the terms' side (catalogue/mappings/coverage.py): which
        # variables carry a term, from the index alone, without the mapping rows
        Index("ix_mappings_object_covering", "object_curie", "status", "predicate", "variable_id"),
    )


class UsedIdentifier(Base):
    """Identifiers of deleted drafts: never handed out again."""

    __tablename__ = "used_identifiers"

    identifier: Mapped[str] = mapped_column(String(80), primary_key=True)
    released_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
