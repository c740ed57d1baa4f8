"""Term store: ontologies, terms, synonyms, cross-references and the hierarchy closure.

The closure table holds one row per (ancestor, descendant) pair, including each term with itself
at depth 0, so "everything below X" and "is X under Y" are single indexed queries. ``TermName``
is the autocomplete index: every label, synonym and abbreviation normalised, plus the same text
from each later word on (for word-prefix matches).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, utcnow
from core.models import enum_column


class SynonymKind(enum.StrEnum):
    EXACT = "exact"
    RELATED = "related"
    ABBREVIATION = "abbreviation"


class NameKind(enum.StrEnum):
    LABEL = "label"
    SYNONYM = "synonym"
    ABBREVIATION = "abbreviation"


class Ontology(Base):
    __tablename__ = "ontologies"

    prefix: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    iri: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[str | None] = mapped_column(String(100))
    licence: Mapped[str | None] = mapped_column(String(300))
    source_url: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    loaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    term_count: Mapped[int] = mapped_column(Integer, default=0)


class Term(Base):
    __tablename__ = "terms"

    curie: Mapped[str] = mapped_column(String(120), primary_key=True)
    iri: Mapped[str] = mapped_column(String(500), unique=True)
    ontology_prefix: Mapped[str] = mapped_column(
        ForeignKey("ontologies.prefix", ondelete="RESTRICT"), index=True
    )
    label: Mapped[str] = mapped_column(String(500))
    definition: Mapped[str | None] = mapped_column(Text)
    is_obsolete: Mapped[bool] = mapped_column(Boolean, default=False)
    replaced_by: Mapped[str | None] = mapped_column(String(120))
    value_type: Mapped[str | None] = mapped_column(String(20))
    unit: Mapped[str | None] = mapped_column(String(60))

    synonyms: Mapped[list[TermSynonym]] = relationship(
        cascade="all, delete-orphan", order_by="TermSynonym.id", lazy="selectin"
    )
    xrefs: Mapped[list[TermXref]] = relationship(
        cascade="all, delete-orphan", order_by="TermXref.xref", lazy="selectin"
    )


class TermSynonym(Base):
    __tablename__ = "term_synonyms"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    term_curie: Mapped[str] = mapped_column(
        ForeignKey("terms.curie", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(String(500))
    kind: Mapped[SynonymKind] = mapped_column(enum_column(SynonymKind, "synonym_kind"))


class TermXref(Base):
    __tablename__ = "term_xrefs"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    term_curie: Mapped[str] = mapped_column(
        ForeignKey("terms.curie", ondelete="CASCADE"), index=True
    )
    xref: Mapped[str] = mapped_column(String(200), index=True)


class TermEdge(Base):
    """A direct parent link (a term may have several parents)."""

    __tablename__ = "term_edges"

    child_curie: Mapped[str] = mapped_column(
        ForeignKey("terms.curie", ondelete="CASCADE"), primary_key=True
    )
    parent_curie: Mapped[str] = mapped_column(
        ForeignKey("terms.curie", ondelete="CASCADE"), primary_key=True, index=True
    )


class TermClosure(Base):
    __tablename__ = "term_closure"

    ancestor_curie: Mapped[str] = mapped_column(
        ForeignKey("terms.curie", ondelete="CASCADE"), primary_key=True
    )
    descendant_curie: Mapped[str] = mapped_column(
        ForeignKey("terms.curie", ondelete="CASCADE"), primary_key=True
    )
    depth: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_term_closure_descendant", "descendant_curie", "ancestor_curie"),)


class TermName(Base):
    """Autocomplete index: normalised names, from the first word and from each later word."""

    __tablename__ = "term_names"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    term_curie: Mapped[str] = mapped_column(ForeignKey("terms.curie", ondelete="CASCADE"))
    ontology_prefix: Mapped[str] = mapped_column(String(40))
    # Byte-order collation on PostgreSQL, so that prefix ranges (name >= 'leu' AND name < 'lev')
    # mean the same there as on SQLite and use the index.
    name: Mapped[str] = mapped_column(
        String(500).with_variant(String(500, collation="C"), "postgresql")
    )
    kind: Mapped[NameKind] = mapped_column(enum_column(NameKind, "name_kind"))
    is_word_start: Mapped[bool] = mapped_column(Boolean)  # True: the text starts at a later word
    is_obsolete: Mapped[bool] = mapped_column(Boolean, default=False)

    # is_obsolete ends the lookup indexes so that autocomplete's candidate scans (which skip
    # obsolete names) read the index alone, never the table
    __table_args__ = (
        Index("ix_term_names_lookup", "is_word_start", "name", "is_obsolete"),
        Index(
            "ix_term_names_ontology_lookup",
            "ontology_prefix",
            "is_word_start",
            "name",
            "is_obsolete",
        ),
        Index("ix_term_names_term", "term_curie"),
    )
