"""The two full-text backends behind one interface, chosen by the database dialect.

Both index the same keys (see :mod:`catalogue.search.text`); they differ in how they find and
rank them:

- :class:`SqliteBackend`: FTS5 tables with external content (``search_fts_documents``,
  ``search_fts_variables``), MATCH expressions built from keys (quoted, so that nothing a user
  types is FTS syntax), ``bm25`` with column weights; fuzzy candidates from a trigram table.
- :class:`PostgresBackend`: generated ``tsvector`` columns with GIN indexes, ``to_tsquery``
  from keys, ``ts_rank`` with weights A/B/C/D; fuzzy candidates from pg_trgm.

Every statement binds its values: the MATCH expression and the tsquery are parameters too.

A *group* is a list of alternative keys for one query word (the word and its spelling
corrections): a document matches a group when it holds any of them, and a list of groups when
it matches every group.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    bindparam,
    case,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from catalogue.search.models import SearchDocumentText, SearchVariable, SearchWord
from catalogue.search.text import trigrams

Group = Sequence[str]

#: a word's tier: 1 for holding it anywhere, plus this much for the title, keywords and
#: description that hold it (8, 4 and 2 for a word in one of them; the same on both databases)
EXTRA_TIERS = (7, 3, 1)
TIER_FIELDS = ("title", "keywords", "description")
#: pg_trgm's default ``similarity_threshold``: fuzzy candidates share this much
TRIGRAM_THRESHOLD = 0.3
FUZZY_CANDIDATES = 30
FIELD_TABLES = ("search_fts_titles", "search_fts_keywords", "search_fts_descriptions")
FTS_TABLES = (*FIELD_TABLES, "search_fts_documents_all", "search_fts_variables")
INDEX_TABLES = (
    "search_documents",
    "search_document_texts",
    "search_document_diseases",
    "search_variables",
    "search_document_terms",
    "search_variable_mappings",
    "search_words",
)


class SearchBackend:
    name = "?"
    #: whether :meth:`rank` gives the database's own text rank (or a constant)
    ranks = False

    # --- querying ---------------------------------------------------------------------------

    def group_expression(self, group: Group) -> str:
        """The backend's query text for one group (bound as a parameter, never written into
        the statement)."""
        raise NotImplementedError

    def groups_expression(self, groups: Sequence[Group]) -> str:
        """The backend's query text for documents holding every group."""
        raise NotImplementedError

    def rank_expression(self, keys: Sequence[str]) -> str:
        """The query text :meth:`rank` ranks by (any of ``keys``)."""
        return ""

    def documents_matching(self, expression: Any) -> Any:
        """``SELECT id`` of the documents that hold every group (each in any field), given
        :meth:`groups_expression` as a bound parameter."""
        raise NotImplementedError

    def group_scores(self, expression: Any, name: str) -> Any:
        """A subquery ``(id, tier)`` of the documents that hold the group in some field:
        ``tier`` is 1, plus 7 when the title holds it, 3 for the keywords and 1 for the
        description — 8, 4, 2 for a word in one of them, 1 for a word only in the variables
        (the same score on both databases). One lookup over all fields finds the documents;
        the title, keywords and description, which are small, say where. A materialised CTE
        called ``name``: joined with the other words' as it is, SQLite would read one word's
        matches again for every match of the other. ``expression``: :meth:`group_expression`
        as a bound parameter."""
        raise NotImplementedError

    def rank(self, document_id: Any, expression: Any) -> Any:
        """The database's own text rank of the document ``document_id`` (a column) for
        :meth:`rank_expression` (bound), where it has a cheap one, to order equal scores: an
        expression evaluated
        only for the candidates that pass every facet, not for every document holding a word.
        0 on SQLite (``bm25`` costs tens of milliseconds over a word that is in every
        dataset); ``ts_rank`` with weights A-D on PostgreSQL."""
        return literal_column("0.0")

    def variables_matching(self) -> Any:
        """``(version_id, variable_id, total)`` of up to ``per_version`` variables of each of
        some versions that match any of some groups, and how many match in all: a statement
        whose values are named parameters (:meth:`variables_matching_values`), built once (a
        page of hits asks it every search)."""
        raise NotImplementedError

    def variables_matching_values(
        self, version_ids: Sequence[str], groups: Sequence[Group], per_version: int
    ) -> dict[str, Any]:
        """The parameters of :meth:`variables_matching` for these versions and groups."""
        raise NotImplementedError

    def fuzzy_candidates(self, session: Session, word: str) -> list[str]:
        """Words of the vocabulary that share at least :data:`TRIGRAM_THRESHOLD` of their
        trigrams with ``word``."""
        raise NotImplementedError

    #: settings for a search's transaction (PostgreSQL's ``set_config(…, true)``), made with
    #: its time limit in one round trip (:func:`core.db.query_timeout`)
    settings: dict[str, str] = {}

    # --- maintenance ------------------------------------------------------------------------

    def words_added(self, session: Session, words: Sequence[str]) -> None:
        """Called after ``words`` were inserted into the vocabulary."""

    def clear_words(self, session: Session) -> None:
        """Called before the vocabulary is emptied."""

    @contextlib.contextmanager
    def bulk_load(self, session: Session) -> Iterator[None]:
        """Around a rebuild of an empty index: whatever makes loading millions of rows fast."""
        yield

    def analyze(self, session: Session) -> None:
        """Fresh planner statistics after a bulk load."""


# --- SQLite ---------------------------------------------------------------------------------


def _quoted(key: str) -> str:
    # keys are [0-9a-z]+ (see catalogue.search.text); quoting makes each a plain FTS5 string
    # even if a future change let something else through
    return '"' + key.replace('"', '""') + '"'


def fts5_group(group: Group) -> str:
    keys = [_quoted(k) for k in dict.fromkeys(group)]
    return keys[0] if len(keys) == 1 else "(" + " OR ".join(keys) + ")"


class SqliteBackend(SearchBackend):
    name = "sqlite"
    # FTS5 tables over search_document_texts (rowid lists only): every field together, and
    # the title, keywords and description each with the extra score of a word there
    everything = table("search_fts_documents_all", column("rowid", Integer))
    fields = [
        (table(name, column("rowid", Integer)), extra)
        for name, extra in zip(FIELD_TABLES, EXTRA_TIERS, strict=True)
    ]
    variables = table(
        "search_fts_variables", column("rowid", Integer), column("version_id", String)
    )

    @staticmethod
    def _matches(fts: Any, expression: Any) -> Any:
        if isinstance(expression, str):
            expression = bindparam(None, expression, type_=String)
        return literal_column(fts.name).op("MATCH")(expression)

    def _match(self, fts: Any, expression: Any) -> Any:
        return select(fts.c.rowid.label("id")).where(self._matches(fts, expression))

    def group_expression(self, group: Group) -> str:
        return fts5_group(group)

    def groups_expression(self, groups: Sequence[Group]) -> str:
        return " AND ".join(fts5_group(g) for g in groups)

    def documents_matching(self, expression: Any) -> Any:
        return self._match(self.everything, expression)

    def group_scores(self, expression: Any, name: str) -> Any:
        everything = self.everything
        tier: Any = literal_column("1")
        for fts, extra in self.fields:
            tier = tier + case(
                (everything.c.rowid.in_(self._match(fts, expression)), extra), else_=0
            )
        return (
            select(everything.c.rowid.label("id"), tier.label("tier"))
            .where(self._matches(everything, expression))
            .cte(name)
            .prefix_with("MATERIALIZED")
        )

    def variables_matching(self) -> Any:
        fts = self.variables
        found = (
            select(
                fts.c.version_id,
                fts.c.rowid.label("variable_id"),
                func.row_number()
                .over(partition_by=fts.c.version_id, order_by=fts.c.rowid)
                .label("n"),
                func.count().over(partition_by=fts.c.version_id).label("total"),
            )
            .where(self._matches(fts, bindparam("variables_match", type_=String)))
            .subquery()
        )
        return select(found.c.version_id, found.c.variable_id, found.c.total).where(
            found.c.n <= bindparam("variables_per_version", type_=Integer)
        )

    def variables_matching_values(
        self, version_ids: Sequence[str], groups: Sequence[Group], per_version: int
    ) -> dict[str, Any]:
        versions = "{version_id} : (" + " OR ".join(_quoted(v) for v in version_ids) + ")"
        keys = sorted({k for g in groups for k in g})
        words = "{text_name text_label text_description} : " + fts5_group(keys)
        return {"variables_match": f"{versions} AND {words}", "variables_per_version": per_version}

    def fuzzy_candidates(self, session: Session, word: str) -> list[str]:
        grams = sorted(trigrams(word))
        shared = func.count()
        similarity = shared * 1.0 / (SearchWord.trigram_count + len(grams) - shared)
        rows = session.execute(
            select(SearchWord.word)
            .select_from(table("search_fts_trigrams", column("trigram"), column("word")))
            .join(SearchWord, SearchWord.word == literal_column("search_fts_trigrams.word"))
            .where(literal_column("search_fts_trigrams.trigram").in_(grams))
            .group_by(SearchWord.word, SearchWord.trigram_count)
            .having(similarity >= TRIGRAM_THRESHOLD)
            .order_by(similarity.desc(), SearchWord.word)
            .limit(FUZZY_CANDIDATES)
        )
        return list(rows.scalars())

    def words_added(self, session: Session, words: Sequence[str]) -> None:
        rows = [{"t": gram, "w": word} for word in words for gram in trigrams(word)]
        if rows:
            session.execute(
                text("INSERT OR IGNORE INTO search_fts_trigrams (trigram, word) VALUES (:t, :w)"),
                rows,
            )

    def clear_words(self, session: Session) -> None:
        session.execute(text("DELETE FROM search_fts_trigrams"))

    @contextlib.contextmanager
    def bulk_load(self, session: Session) -> Iterator[None]:
        """Without the triggers, loading is plain inserts; FTS5 then builds each index from its
        content table in one pass ('rebuild'). The triggers come back before the end, in the
        same transaction."""
        triggers = session.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE 'search_fts_%' ORDER BY name"
            )
        ).all()
        for name, _sql in triggers:
            session.execute(text(f'DROP TRIGGER "{name}"'))
        for fts in FTS_TABLES:
            session.execute(text(f"INSERT INTO {fts}({fts}) VALUES ('delete-all')"))  # noqa: S608
        try:
            yield
            for fts in FTS_TABLES:
                session.execute(text(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')"))  # noqa: S608
        finally:
            for _trigger, sql in triggers:
                session.execute(text(sql))

    def analyze(self, session: Session) -> None:
        for name in INDEX_TABLES:
            session.execute(text(f"ANALYZE {name}"))


# --- PostgreSQL -----------------------------------------------------------------------------


def tsquery_group(group: Group, weight: str = "") -> str:
    suffix = f":{weight}" if weight else ""
    keys = [f"'{k}'{suffix}" for k in dict.fromkeys(group)]
    return keys[0] if len(keys) == 1 else "(" + " | ".join(keys) + ")"


def tsquery(groups: Sequence[Group], weight: str = "") -> str:
    return " & ".join(tsquery_group(g, weight) for g in groups)


class PostgresBackend(SearchBackend):
    name = "postgresql"
    ranks = True

    # A word in nearly every dataset makes a sequential scan look cheaper than the GIN index,
    # but the scan unpacks every document's (TOASTed) tsvector to test it: 200 ms where the
    # index answers in one. For a search's transaction only, indexes first. The candidates
    # (thousands of rows for a common word) stay in memory for the facets (work_mem). A
    # search's statements are short: starting a parallel worker (the page's variables and
    # their mappings) took longer than the work it shared (8 ms for 3 ms).
    # A statement psycopg prepared (run five times on a connection: core.db.end_reading) would
    # get a generic plan, blind to the values, after five more: the page's variables took
    # 10 ms with it instead of 4. A search's plans are made for its values (not every
    # transaction's: a bulk load's inserts would be planned a million times).
    settings = {
        "enable_seqscan": "off",
        "work_mem": "32MB",
        "max_parallel_workers_per_gather": "0",
        "plan_cache_mode": "force_custom_plan",
    }

    all_tsv: Any = literal_column("search_document_texts.all_tsv")
    GIN_INDEXES = (
        "ix_search_document_texts_all_tsv",
        "ix_search_document_texts_title_tsv",
        "ix_search_document_texts_keywords_tsv",
        "ix_search_document_texts_description_tsv",
        "ix_search_document_texts_variables_tsv",
        "ix_search_variables_keys_tsv",
    )

    def group_expression(self, group: Group) -> str:
        return tsquery_group(group)

    def groups_expression(self, groups: Sequence[Group]) -> str:
        return tsquery(groups)

    def rank_expression(self, keys: Sequence[str]) -> str:
        return tsquery([list(keys)])

    def documents_matching(self, expression: Any) -> Any:
        # every group at once through the index of all fields
        return select(SearchDocumentText.document_id).where(
            self.all_tsv.op("@@")(_tsquery(expression))
        )

    def group_scores(self, expression: Any, name: str) -> Any:
        # every answer from a GIN index: testing a document's tsvectors row by row would
        # unpack (de-TOAST) them, which costs more than the index lookups
        query = _tsquery(expression)
        texts = SearchDocumentText.__table__
        everything = texts.alias("everything")
        tier: Any = literal_column("1")
        for field, extra in zip(TIER_FIELDS, EXTRA_TIERS, strict=True):
            vector: Any = literal_column(f"search_document_texts.{field}_tsv")
            holding = select(texts.c.document_id).where(vector.op("@@")(query))
            tier = tier + case((everything.c.document_id.in_(holding), extra), else_=0)
        return (
            select(everything.c.document_id.label("id"), tier.label("tier"))
            .where(literal_column("everything.all_tsv").op("@@")(query))
            .cte(name)
            .prefix_with("MATERIALIZED")
        )

    def rank(self, document_id: Any, expression: Any) -> Any:
        # one index lookup and one ts_rank per candidate that passed the facets (computing it
        # for every document holding a common word unpacked thousands of tsvectors: ~40 ms)
        texts = SearchDocumentText.__table__.alias("ranked")
        weights: Any = literal_column("'{0.1, 0.2, 0.4, 1.0}'::float4[]")  # D, C, B, A
        query = _tsquery(expression)
        rank = (
            select(func.ts_rank(weights, literal_column("ranked.ranked_tsv"), query))
            .where(texts.c.document_id == document_id)
            .scalar_subquery()
        )
        return func.coalesce(rank, 0.0)

    def variables_matching(self) -> Any:
        variables: Any = SearchVariable.__table__
        query = _tsquery(bindparam("variables_query", type_=String))
        found = (
            select(
                variables.c.version_id,
                variables.c.variable_id,
                func.row_number()
                .over(partition_by=variables.c.version_id, order_by=variables.c.variable_id)
                .label("n"),
                func.count().over(partition_by=variables.c.version_id).label("total"),
            )
            .where(
                variables.c.version_id.in_(bindparam("variables_versions", expanding=True)),
                literal_column("search_variables.keys_tsv").op("@@")(query),
            )
            .subquery()
        )
        return select(found.c.version_id, found.c.variable_id, found.c.total).where(
            found.c.n <= bindparam("variables_per_version", type_=Integer)
        )

    def variables_matching_values(
        self, version_ids: Sequence[str], groups: Sequence[Group], per_version: int
    ) -> dict[str, Any]:
        keys = sorted({k for g in groups for k in g})
        return {
            "variables_versions": list(version_ids),
            "variables_query": tsquery_group(keys),
            "variables_per_version": per_version,
        }

    def fuzzy_candidates(self, session: Session, word: str) -> list[str]:
        # ``%`` is pg_trgm's similarity operator (threshold: similarity_threshold, 0.3 by
        # default), answered by the GIN trigram index
        similarity = func.similarity(SearchWord.word, word)
        rows = session.execute(
            select(SearchWord.word)
            .where(SearchWord.word.op("%")(word))
            .order_by(similarity.desc(), SearchWord.word)
            .limit(FUZZY_CANDIDATES)
        )
        return list(rows.scalars())

    @contextlib.contextmanager
    def bulk_load(self, session: Session) -> Iterator[None]:
        """GIN indexes are built much faster in one go than row by row: dropped for the load
        and created again afterwards (same transaction)."""
        definitions = session.execute(
            text("SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(:names)"),
            {"names": list(self.GIN_INDEXES)},
        ).all()
        for name, _definition in definitions:
            session.execute(text(f'DROP INDEX "{name}"'))
        try:
            yield
        finally:
            session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
            for _index, definition in definitions:
                session.execute(text(definition))

    def analyze(self, session: Session) -> None:
        for name in (
            "search_documents",
            "search_variables",
            "search_document_terms",
            "search_variable_mappings",
            "search_words",
        ):
            session.execute(text(f"ANALYZE {name}"))


def _tsquery(expression: Any) -> Any:
    if isinstance(expression, str):
        expression = bindparam(None, expression, type_=String)
    return func.to_tsquery(literal_column("'simple'::regconfig"), expression)


_BACKENDS: dict[str, SearchBackend] = {"sqlite": SqliteBackend(), "postgresql": PostgresBackend()}


def backend_for(session: Session) -> SearchBackend:
    dialect = session.get_bind().dialect.name
    try:
        return _BACKENDS[dialect]
    except KeyError:
        raise RuntimeError(f"Search has no backend for {dialect} databases.") from None
