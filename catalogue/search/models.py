"""The search index: one document per searchable dataset version, one row per variable of it,
the words for fuzzy matching, and the terms each version has variables for.

Which versions are documents: the published version of every published dataset and the open
draft of every dataset that has one (custodians of its organisation and admins find it instead
of the published version). Retired datasets and superseded versions are not in the index.

The text columns hold *keys* (see :mod:`catalogue.search.text`), the same on both databases.
Each database indexes them its own way, with objects the migration creates in raw SQL and that
the models do not describe (:func:`include_object` keeps them out of alembic's comparison):

- SQLite: FTS5 tables ``search_fts_documents`` (over :class:`SearchDocumentText`) and
  ``search_fts_variables`` (over :class:`SearchVariable`), external content kept in step by
  triggers, and ``search_fts_trigrams`` (the trigrams of :class:`SearchWord`, for fuzzy
  matching as pg_trgm does it);
- PostgreSQL: generated ``tsvector`` columns on ``search_document_texts`` — ``title_tsv`` (A),
  ``keywords_tsv`` (B), ``description_tsv`` (C), ``variables_tsv`` (D), each with a GIN index,
  ``all_tsv`` (all four, GIN) and ``ranked_tsv`` (A-C, for ``ts_rank``) — and
  ``search_variables.keys_tsv`` (GIN), and a pg_trgm GIN index on the words.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base

#: Objects of the index that each database has its own way (see the module docstring).
BACKEND_PREFIX = "search_fts"
BACKEND_SUFFIXES = ("_tsv", "_trgm")


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """For alembic's ``include_object``: leave out the index objects that exist on one
    database only (FTS5 tables and their shadow tables, tsvector columns and GIN indexes)."""
    if name is None:
        return True
    if type_ == "table" and name.startswith(BACKEND_PREFIX):
        return False
    return not (type_ in ("column", "index") and name.endswith(BACKEND_SUFFIXES))


def new_revision() -> int:
    """A search document's :attr:`SearchDocument.revision`: random, never 0 (the revision of
    rows written before the column came)."""
    return secrets.randbelow(2**31 - 1) + 1


class SearchDocument(Base):
    """A searchable dataset version: what visibility, facets and sorts read. Narrow on purpose:
    a search over a common word scans thousands of these rows; the text is in
    :class:`SearchDocumentText`."""

    __tablename__ = "search_documents"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    version_id: Mapped[str] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="CASCADE"), unique=True
    )
    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[str] = mapped_column(String(32), index=True)
    is_draft: Mapped[bool] = mapped_column(Boolean)
    # a published version whose dataset has an open draft: its editors find the draft instead
    has_draft: Mapped[bool] = mapped_column(Boolean, default=False)
    # normalised title for sorting; byte order on PostgreSQL, as on SQLite
    title_key: Mapped[str] = mapped_column(
        String(300).with_variant(String(300, collation="C"), "postgresql")
    )
    patients: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime]
    source_type: Mapped[str | None] = mapped_column(String(40))
    data_model: Mapped[str | None] = mapped_column(String(40))
    # multi-valued facets as space-delimited sets (" DE NL "): a filter is a LIKE on one row,
    # and facet counts group candidates by the set, then add up per value
    countries: Mapped[str] = mapped_column(String(800), default=" ")
    age_groups: Mapped[str] = mapped_column(String(200), default=" ")
    diseases: Mapped[str] = mapped_column(Text, default=" ")
    # the top terms (groups) of the vocabularies the version has variables for, as a set: the
    # "has variables for" facet counts its first level from this column alone
    variable_groups: Mapped[str] = mapped_column(Text, default=" ")
    # a new random number at every write of the document (or of what an engine's copy of it
    # holds): a search engine keeps each copy's revision, so that a change it missed shows
    # (catalogue.search.engine.sync)
    revision: Mapped[int] = mapped_column(
        Integer, default=new_revision, server_default="0", index=True
    )


class SearchDocumentText(Base):
    """A document's text as keys, by field (the full-text indexes read these), and its
    description as plain text for snippets."""

    __tablename__ = "search_document_texts"
    # PostgreSQL: every value larger than a pointer out of line, so that reading a common
    # word's documents from their rows touches a few hundred narrow pages, not the text
    __table_args__ = {"postgresql_with": {"toast_tuple_target": 128}}

    document_id: Mapped[int] = mapped_column(
        ForeignKey("search_documents.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )  # the FTS5 rowid
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown stripped
    text_title: Mapped[str] = mapped_column(Text, default="")
    text_keywords: Mapped[str] = mapped_column(Text, default="")
    text_description: Mapped[str] = mapped_column(Text, default="")
    text_variables: Mapped[str] = mapped_column(Text, default="")  # distinct keys of all


class SearchVariable(Base):
    """A variable of a document's version, as keys (to tell which variables matched)."""

    __tablename__ = "search_variables"

    variable_id: Mapped[int] = mapped_column(
        ForeignKey("variables.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )  # the FTS5 rowid
    version_id: Mapped[str] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="CASCADE"), index=True
    )
    text_name: Mapped[str] = mapped_column(Text, default="")
    text_label: Mapped[str] = mapped_column(Text, default="")
    text_description: Mapped[str] = mapped_column(Text, default="")


class SearchDocumentTerm(Base):
    """A term a document's version has variables for, by :mod:`catalogue.coverage`'s rule,
    through the hierarchy (every ancestor of a mapped term): the "has variables for" filter and
    counts, and a query that names a variable term, read these rows. Kept current with the
    mappings (every mapping change passes through the index); the rule itself stays in
    :mod:`catalogue.coverage`, whose :func:`~catalogue.coverage.covering_rows` fills them."""

    __tablename__ = "search_document_terms"

    term_curie: Mapped[str] = mapped_column(String(120), primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("search_documents.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class SearchVariableMapping(Base):
    """A variable of a document's version and the object of one of its mappings that count
    for :mod:`catalogue.coverage`'s rule (accepted, with a covering predicate), not expanded
    through the hierarchy: which variables of a page's hits a query's named term (or a term
    below it) matched is then one indexed range per hit, joined to the closure — not every
    mapping of the term across the catalogue, nor every variable of the hits. Written with
    :class:`SearchDocumentTerm`, from the same rows."""

    __tablename__ = "search_variable_mappings"

    document_id: Mapped[int] = mapped_column(
        ForeignKey("search_documents.id", ondelete="CASCADE"), primary_key=True
    )
    object_curie: Mapped[str] = mapped_column(String(120), primary_key=True)
    #: no foreign key: a variable leaves with its version's document (cascade), and a key
    #: would make deleting variables look this table up
    variable_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class SearchDocumentDisease(Base):
    """A disease term a document's version is tagged with, or an ancestor of one: the disease
    filter, and a query that names a disease, read these rows (one indexed range per term)."""

    __tablename__ = "search_document_diseases"

    term_curie: Mapped[str] = mapped_column(String(120), primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("search_documents.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class SearchWord(Base):
    """A word of the published catalogue (normalised, spelling folded, not stemmed) and its
    key: the vocabulary that a misspelt query word is corrected against."""

    __tablename__ = "search_words"

    word: Mapped[str] = mapped_column(String(60), primary_key=True)
    key: Mapped[str] = mapped_column(String(60), index=True)
    trigram_count: Mapped[int] = mapped_column(Integer)
