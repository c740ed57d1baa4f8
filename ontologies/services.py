"""Ontology use cases: load (versioned, one transaction), look terms up, walk the hierarchy,
autocomplete. rdflib parses (see ``loaders``); SQL answers."""

from __future__ import annotations

import gc
import itertools
import re
import time
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from rapidfuzz import fuzz, process
from sqlalchemy import delete, exists, false, func, select, union_all, update
from sqlalchemy import text as sql_text
from sqlalchemy.orm import aliased, lazyload

from core import audit
from core.db import get_session, insert_rows, utcnow, vacuum_analyze
from core.errors import InvalidInput, NotFound, UnsupportedMediaType
from core.pagination import Page
from core.permissions import Permission
from core.policies import Actor, require
from core.text import number_word, plural, verb
from ontologies import hierarchy_cache
from ontologies.identifiers import UnknownIdentifier, is_iri, normalise_curie
from ontologies.loaders import (
    OntologyFormatError,
    ParsedOntology,
    Progress,
    TermRecord,
    UnsupportedFormat,
    detect_format,
    parse_file,
)
from ontologies.models import (
    NameKind,
    Ontology,
    SynonymKind,
    Term,
    TermClosure,
    TermEdge,
    TermName,
    TermSynonym,
    TermXref,
)
from ontologies.text import normalise, prefix_upper_bound, word_starts


@dataclass
class LoadReport:
    prefix: str
    name: str
    version: str | None
    status: str  # "loaded", "updated" or "unchanged"
    added: int = 0
    changed: int = 0
    obsoleted: int = 0
    unchanged: int = 0
    total: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)


def open_loading(actor: Actor) -> None:
    """The loading page is for administrators. :raises Forbidden: for anyone else."""
    require(actor, Permission.ONTOLOGY_LOAD)


# --- loading --------------------------------------------------------------------------------


def load_ontology(
    actor: Actor,
    stream: IO[bytes],
    *,
    filename: str | None = None,
    fmt: str | None = None,
    prefix: str | None = None,
    name: str | None = None,
    overrides: dict[str, str | None] | None = None,
    progress: Progress | None = None,
    on_phase: Any = None,
) -> LoadReport:
    """Load or update an ontology from a file, all in one transaction.

    Loading the same content again changes nothing. A new version updates labels, synonyms,
    cross-references and the hierarchy, and marks terms that vanished obsolete (terms are never
    deleted: datasets and mappings may refer to them).

    :raises UnsupportedMediaType: for a format we do not read.
    :raises InvalidInput: for broken content, naming the line or JSON path (field ``file``).
    """
    require(actor, Permission.ONTOLOGY_LOAD)
    with _gc_paused():
        return _load(actor, stream, filename, fmt, prefix, name, overrides, progress, on_phase)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """A load builds millions of small objects that all live until it ends; Python's cyclic
    garbage collector would walk them again and again (a third of a large load's time) while
    finding nothing to free. It is off for the load and back on afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _load(
    actor: Actor,
    stream: IO[bytes],
    filename: str | None,
    fmt: str | None,
    prefix: str | None,
    name: str | None,
    overrides: dict[str, str | None] | None,
    progress: Progress | None,
    on_phase: Any,
) -> LoadReport:
    started = time.perf_counter()
    try:
        parsed = parse_file(
            stream, detect_format(filename, fmt), prefix=prefix, name=name, progress=progress
        )
    except UnsupportedFormat as exc:
        raise UnsupportedMediaType(str(exc)) from exc
    except OntologyFormatError as exc:
        raise _unreadable(exc) from exc
    for key, value in (overrides or {}).items():
        if value:
            setattr(parsed, key, value)
    try:
        report = _apply(actor, parsed, on_phase or (lambda phase: None))
    except OntologyFormatError as exc:  # e.g. a cycle, found while building the hierarchy
        get_session().rollback()
        raise _unreadable(exc) from exc
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _unreadable(exc: OntologyFormatError) -> InvalidInput:
    return InvalidInput({"file": [str(exc)]}, detail=f"The file cannot be loaded: {exc}")


def _apply(actor: Actor, parsed: ParsedOntology, on_phase: Any) -> LoadReport:
    session = get_session()
    ontology = session.get(Ontology, parsed.prefix)
    report = LoadReport(
        prefix=parsed.prefix,
        name=parsed.name,
        version=parsed.version,
        status="loaded" if ontology is None else "updated",
        warnings=list(parsed.warnings),
    )
    if ontology is not None and ontology.content_hash == parsed.content_hash:
        report.status = "unchanged"
        report.unchanged = report.total = ontology.term_count
        return report
    previous = {"version": ontology.version, "name": ontology.name} if ontology else {}
    if ontology is None:
        ontology = Ontology(prefix=parsed.prefix, name=parsed.name)
        session.add(ontology)
    for key in ("name", "iri", "version", "licence", "source_url", "description", "content_hash"):
        setattr(ontology, key, getattr(parsed, key))
    ontology.loaded_at = utcnow()
    session.flush()

    on_phase("comparing with the stored version")
    foreign = _owned_elsewhere(parsed)
    if foreign:
        report.warnings.append(
            f"{plural(len(foreign), 'term')} {verb(len(foreign), 'belongs', 'belong')} to another "
            f"loaded ontology and {number_word(len(foreign), 'was', 'were')} left as "
            f"{number_word(len(foreign), 'it is', 'they are')}"
        )
    records = {c: r for c, r in parsed.terms.items() if c not in foreign}
    existing = _stored_state(parsed.prefix)
    new = [r for c, r in records.items() if c not in existing]
    changed = [r for c, r in records.items() if c in existing and existing[c] != _state_of(r)]
    vanished = [c for c, state in existing.items() if c not in records and not state[3]]
    report.added, report.changed, report.obsoleted = len(new), len(changed), len(vanished)
    report.unchanged = len(records) - len(new) - len(changed)

    on_phase("writing terms")
    _insert_terms(parsed.prefix, new)
    _update_terms(changed)
    for chunk in _chunks(vanished):
        session.execute(update(Term).where(Term.curie.in_(chunk)).values(is_obsolete=True))

    on_phase("building the hierarchy")
    ontology_terms = select(Term.curie).where(Term.ontology_prefix == parsed.prefix)
    session.execute(delete(TermEdge).where(TermEdge.child_curie.in_(ontology_terms)))
    session.execute(delete(TermClosure).where(TermClosure.descendant_curie.in_(ontology_terms)))
    session.execute(delete(TermName).where(TermName.ontology_prefix == parsed.prefix))
    parents = {c: {p for p in r.parents if p in records} for c, r in records.items()}
    bulk = _is_bulk(parsed.prefix, len(records))
    with _rebuilding_indexes(bulk, on_phase):
        insert_rows(
            TermEdge,
            ("child_curie", "parent_curie"),
            ((c, p) for c, ps in parents.items() for p in ps),
            convert=False,
        )
        insert_rows(
            TermClosure,
            ("ancestor_curie", "descendant_curie", "depth"),
            closure_rows(parents),
            convert=False,
            in_key_order=True,
        )
        on_phase("indexing names")
        insert_rows(
            TermName, NAME_COLUMNS, _name_rows(parsed.prefix, records, existing), convert=False
        )

    ontology.term_count = (
        session.scalar(
            select(func.count()).select_from(Term).where(Term.ontology_prefix == parsed.prefix)
        )
        or 0
    )
    report.total = ontology.term_count
    before, after = audit.changed(previous, {"version": parsed.version, "name": parsed.name})
    audit.record(
        actor,
        "ontology.loaded",
        "ontology",
        parsed.prefix,
        before=before,
        after=after,
        summary=(
            f"{parsed.prefix} {report.status} (version {parsed.version or 'not stated'}): "
            f"{plural(report.added, 'term')} added, {report.changed} changed, "
            f"{report.obsoleted} made obsolete; {report.total} in all."
        ),
        context={
            "status": report.status,
            "version": parsed.version,
            "added": report.added,
            "changed": report.changed,
            "obsoleted": report.obsoleted,
            "total": report.total,
        },
    )
    session.commit()
    hierarchy_cache.forget()
    if bulk:
        _tidy_after_bulk_load(on_phase)
    return report


def _tidy_after_bulk_load(on_phase: Any) -> None:
    """PostgreSQL, after a large load has committed: VACUUM (ANALYZE) the term tables, so that
    the hierarchy and autocomplete queries can answer from their indexes alone (index-only
    scans need the visibility map that VACUUM sets) from the first request on, instead of
    whenever autovacuum comes round."""
    if get_session().connection().dialect.name != "postgresql":
        return
    on_phase("vacuuming")
    vacuum_analyze(("terms", "term_synonyms", "term_xrefs", *BULK_TABLES))


BULK_MIN_TERMS = 50_000
BULK_TABLES = ("term_edges", "term_closure", "term_names")
BULK_SQLITE_CACHE_KIB = 64 * 1024


def _is_bulk(prefix: str, terms: int) -> bool:
    """A load big enough, compared with what else is stored, that rebuilding the hierarchy and
    name tables' secondary indexes (and on PostgreSQL their foreign keys) once costs less than
    maintaining them row by row."""
    if terms < BULK_MIN_TERMS:
        return False
    others = get_session().scalar(
        select(func.count()).select_from(Term).where(Term.ontology_prefix != prefix)
    )
    return terms >= (others or 0)


@contextmanager
def _rebuilding_indexes(bulk: bool, on_phase: Any) -> Iterator[None]:
    """Within the load's transaction: drop the secondary indexes of :data:`BULK_TABLES` (and on
    PostgreSQL their foreign-key constraints, whose row-by-row checks dominate a large COPY),
    then, once the rows are in, create them again exactly as they were defined (read back from
    the database catalogue) and so validate every row against its constraints.

    Both databases roll DDL back with the transaction, so a failed load still changes nothing.
    On PostgreSQL the dropped constraints lock these tables (and ``terms``) until the load
    commits; smaller loads keep the row-by-row path and lock nothing more than before.
    """
    if not bulk:
        yield
        return
    connection = get_session().connection()
    dialect = connection.dialect.name
    drop: list[str] = []
    create: list[str] = []
    if dialect == "sqlite":
        rows = connection.execute(
            sql_text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                "AND tbl_name IN (:edges, :closure, :names)"
            ),
            dict(zip(("edges", "closure", "names"), BULK_TABLES, strict=True)),
        ).all()
        quote = connection.dialect.identifier_preparer.quote
        drop = [f"DROP INDEX {quote(name)}" for name, _ in rows]
        create = [sql for _, sql in rows]
    elif dialect == "postgresql":
        tables = {"tables": list(BULK_TABLES)}
        constraints = connection.execute(
            sql_text(
                "SELECT conrelid::regclass::text, quote_ident(conname), "
                "pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' "
                "AND conrelid::regclass::text = ANY(:tables) ORDER BY oid"
            ),
            tables,
        ).all()
        indexes = connection.execute(
            sql_text(
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
                "WHERE indrelid::regclass::text = ANY(:tables) AND NOT indisprimary "
                "AND NOT indisunique AND NOT indisexclusion ORDER BY indexrelid"
            ),
            tables,
        ).all()
        drop = [f"ALTER TABLE {t} DROP CONSTRAINT {n}" for t, n, _ in constraints]
        drop += [f"DROP INDEX {name}" for name, _ in indexes]
        create = [sql for _, sql in indexes]
        create += [f"ALTER TABLE {t} ADD CONSTRAINT {n} {d}" for t, n, d in constraints]
    if not drop:
        yield
        return
    cache_size = None
    if dialect == "sqlite":
        # SQLite's default 2 MB page cache makes the foreign-key and primary-key look-ups of a
        # large insert read the same pages again and again; this connection gets 64 MB for the
        # load (freed when it ends), and its own setting back afterwards
        cache_size = connection.exec_driver_sql("PRAGMA cache_size").scalar()
        connection.exec_driver_sql(f"PRAGMA cache_size = {-BULK_SQLITE_CACHE_KIB}")
        # index builds (and the closure's key-order copy) sort with a helper thread
        connection.exec_driver_sql("PRAGMA threads = 2")
    try:
        for statement in drop:
            connection.exec_driver_sql(statement)
        yield  # on an error the transaction is rolled back, and the dropped ones come with it
        on_phase("rebuilding indexes")
        if dialect == "postgresql":
            # index builds sort in memory rather than in temporary files (this transaction only)
            connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
        for statement in create:
            connection.exec_driver_sql(statement)
        # (PostgreSQL's statistics come from the VACUUM (ANALYZE) after the commit)
    finally:
        if cache_size is not None:
            connection.exec_driver_sql(f"PRAGMA cache_size = {int(cache_size)}")


def _owned_elsewhere(parsed: ParsedOntology) -> set[str]:
    owned: set[str] = set()
    curies = list(parsed.terms)
    for chunk in _chunks(curies):
        owned.update(
            get_session().scalars(
                select(Term.curie).where(
                    Term.curie.in_(chunk), Term.ontology_prefix != parsed.prefix
                )
            )
        )
    return owned


State = tuple[Any, ...]


def _state_of(record: TermRecord) -> State:
    return (
        record.label,
        record.definition,
        record.replaced_by,
        record.obsolete,
        record.value_type,
        record.unit,
        record.iri,
        tuple(sorted((t, k.value) for t, k in record.synonyms)),
        tuple(sorted(record.xrefs)),
    )


def _stored_state(prefix: str) -> dict[str, State]:
    session = get_session()
    synonyms: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for curie, text, kind in session.execute(
        select(TermSynonym.term_curie, TermSynonym.text, TermSynonym.kind)
        .join(Term, Term.curie == TermSynonym.term_curie)
        .where(Term.ontology_prefix == prefix)
    ):
        synonyms[curie].append((text, kind.value))
    xrefs: dict[str, list[str]] = defaultdict(list)
    for curie, xref in session.execute(
        select(TermXref.term_curie, TermXref.xref)
        .join(Term, Term.curie == TermXref.term_curie)
        .where(Term.ontology_prefix == prefix)
    ):
        xrefs[curie].append(xref)
    return {
        row.curie: (
            row.label,
            row.definition,
            row.replaced_by,
            row.is_obsolete,
            row.value_type,
            row.unit,
            row.iri,
            tuple(sorted(synonyms[row.curie])),
            tuple(sorted(xrefs[row.curie])),
        )
        for row in session.execute(
            select(
                Term.curie,
                Term.label,
                Term.definition,
                Term.replaced_by,
                Term.is_obsolete,
                Term.value_type,
                Term.unit,
                Term.iri,
            ).where(Term.ontology_prefix == prefix)
        )
    }


def _term_row(prefix: str, r: TermRecord) -> dict[str, Any]:
    return {
        "curie": r.curie,
        "iri": r.iri,
        "ontology_prefix": prefix,
        "label": r.label,
        "definition": r.definition,
        "is_obsolete": r.obsolete,
        "replaced_by": r.replaced_by,
        "value_type": r.value_type,
        "unit": r.unit,
    }


def _insert_terms(prefix: str, records: Sequence[TermRecord]) -> None:
    _bulk_insert(Term, (_term_row(prefix, r) for r in records))
    _insert_details(records)


def _insert_details(records: Sequence[TermRecord]) -> None:
    _bulk_insert(
        TermSynonym,
        (
            {"term_curie": r.curie, "text": t[:500], "kind": k}
            for r in records
            for t, k in r.synonyms
        ),
    )
    _bulk_insert(
        TermXref,
        ({"term_curie": r.curie, "xref": x[:200]} for r in records for x in sorted(r.xrefs)),
    )


def _update_terms(records: Sequence[TermRecord]) -> None:
    session = get_session()
    for chunk in _chunks(list(records)):
        curies = [r.curie for r in chunk]
        session.execute(delete(TermSynonym).where(TermSynonym.term_curie.in_(curies)))
        session.execute(delete(TermXref).where(TermXref.term_curie.in_(curies)))
        for r in chunk:
            session.execute(
                update(Term)
                .where(Term.curie == r.curie)
                .values(
                    label=r.label,
                    definition=r.definition,
                    is_obsolete=r.obsolete,
                    replaced_by=r.replaced_by,
                    value_type=r.value_type,
                    unit=r.unit,
                    iri=r.iri,
                )
            )
        _insert_details(chunk)


def _bulk_insert(model: Any, rows: Iterable[dict[str, Any]]) -> int:
    """Insert rows (dicts with the same keys) in bulk, without holding them all in memory."""
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return 0
    columns = tuple(first)
    return insert_rows(
        model,
        columns,
        itertools.chain(
            (tuple(first.values()),), (tuple(row[c] for c in columns) for row in iterator)
        ),
    )


def _chunks(items: Sequence[Any], size: int = 900) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def closure_rows(parents: dict[str, set[str]]) -> Iterator[tuple[str, str, int]]:
    """(ancestor, descendant, depth) for every pair, each term with itself at depth 0; the
    shortest path counts in a polyhierarchy.

    :raises OntologyFormatError: when the hierarchy has a cycle.
    """
    children: dict[str, list[str]] = defaultdict(list)
    waiting = {c: len(ps) for c, ps in parents.items()}
    for child, ps in parents.items():
        for parent in ps:
            children[parent].append(child)
    queue = deque(c for c, n in waiting.items() if n == 0)
    ancestors: dict[str, dict[str, int]] = {}
    remaining_children = {c: len(children.get(c, ())) for c in parents}
    done = 0
    while queue:
        node = queue.popleft()
        mine: dict[str, int] = {node: 0}
        for parent in parents[node]:
            for ancestor, depth in ancestors[parent].items():
                if depth + 1 < mine.get(ancestor, 1 << 30):
                    mine[ancestor] = depth + 1
            remaining_children[parent] -= 1
            if remaining_children[parent] == 0 and parent in ancestors:
                del ancestors[parent]  # every child has its copy: free the memory
        for ancestor, depth in mine.items():
            yield ancestor, node, depth
        done += 1
        if remaining_children[node]:
            ancestors[node] = mine
        for child in children.get(node, ()):
            waiting[child] -= 1
            if waiting[child] == 0:
                queue.append(child)
    if done != len(parents):
        stuck = sorted(c for c, n in waiting.items() if n > 0)
        raise OntologyFormatError(
            f"the hierarchy has a cycle through {', '.join(stuck[:5])}"
            + (f" and {len(stuck) - 5} more" if len(stuck) > 5 else "")
        )


_KIND_ORDER = {NameKind.LABEL: 0, NameKind.ABBREVIATION: 1, NameKind.SYNONYM: 2}


NAME_COLUMNS = ("term_curie", "ontology_prefix", "name", "kind", "is_word_start", "is_obsolete")
_ASCII_SEPARATORS = re.compile(r"[^0-9a-z]+")


def _name_rows(
    prefix: str, records: dict[str, TermRecord], existing: dict[str, State]
) -> Iterator[tuple[str, str, str, str, bool, bool]]:
    """Rows for :data:`NAME_COLUMNS`, the name kind as its stored value."""
    for curie, record in records.items():
        yield from _names_of(prefix, curie, record.label, record.synonyms, record.obsolete)
    for curie, state in existing.items():
        if curie not in records:  # vanished or obsolete terms stay findable when asked for
            synonyms = [(t, SynonymKind(k)) for t, k in state[7]]
            yield from _names_of(prefix, curie, state[0], synonyms, True)


def _normalised(text: str) -> str:
    """:func:`ontologies.text.normalise`, with a shortcut for plain ASCII text (which has no
    accents or Greek letters to fold): the same result, several times faster."""
    if text.isascii():
        return _ASCII_SEPARATORS.sub(" ", text.lower()).strip()
    return normalise(text)


def _names_of(
    prefix: str, curie: str, label: str, synonyms: list[tuple[str, SynonymKind]], obsolete: bool
) -> Iterator[tuple[str, str, str, str, bool, bool]]:
    best: dict[tuple[str, bool], NameKind] = {}
    texts = [(label, NameKind.LABEL)] + [
        (t, NameKind.ABBREVIATION if k is SynonymKind.ABBREVIATION else NameKind.SYNONYM)
        for t, k in synonyms
    ]
    for text, kind in texts:
        name = _normalised(text)[:500]
        if not name:
            continue
        variants = [(name, False)] + [(w, True) for w in word_starts(name)]
        compact = name.replace(" ", "")
        if compact != name and name.count(" ") <= 2:
            variants.append((compact, False))
        for variant in variants:
            if variant not in best or _KIND_ORDER[kind] < _KIND_ORDER[best[variant]]:
                best[variant] = kind
    for (name, is_word_start), kind in best.items():
        yield (curie, prefix, name, kind.value, is_word_start, obsolete)


# --- reading --------------------------------------------------------------------------------


def list_ontologies(actor: Actor) -> list[Ontology]:
    require(actor, Permission.ONTOLOGY_READ)
    return list(get_session().scalars(select(Ontology).order_by(Ontology.name)))


def get_ontology(actor: Actor, prefix: str) -> Ontology:
    require(actor, Permission.ONTOLOGY_READ)
    ontology = get_session().get(Ontology, prefix.upper())
    if ontology is None:
        raise NotFound(f"No ontology with prefix {prefix!r} is loaded.")
    return ontology


def resolve_curie(identifier: str) -> str:
    """A CURIE for a CURIE or IRI in any accepted spelling.

    :raises NotFound: for an identifier that names no stored term.
    """
    session = get_session()
    if is_iri(identifier.strip()):
        curie = session.scalar(select(Term.curie).where(Term.iri == identifier.strip()))
        if curie:
            return curie
    try:
        return normalise_curie(identifier)
    except UnknownIdentifier as exc:
        raise NotFound(str(exc)) from exc


def get_term(actor: Actor, identifier: str) -> Term:
    """:raises NotFound: for an unknown CURIE or IRI."""
    require(actor, Permission.ONTOLOGY_READ)
    term = get_session().get(Term, resolve_curie(identifier))
    if term is None:
        raise NotFound(f"No term {identifier} is loaded.")
    return term


def _readable_curie(actor: Actor, identifier: str) -> str:
    """The CURIE for an identifier the actor may look up (whether a term has it is checked by
    the caller, with its first query)."""
    require(actor, Permission.ONTOLOGY_READ)
    return resolve_curie(identifier)


def parents_of(curie: str) -> list[Term]:
    return list(
        get_session().scalars(
            select(Term)
            .join(TermEdge, TermEdge.parent_curie == Term.curie)
            .where(TermEdge.child_curie == curie)
            .order_by(Term.label)
        )
    )


def _child_count() -> Any:
    below = aliased(TermEdge)
    return (
        select(func.count())
        .select_from(below)
        .where(below.parent_curie == Term.curie)
        .correlate(Term)
        .scalar_subquery()
    )


def children_of(curie: str) -> list[tuple[Term, int]]:
    """Direct children with the number of their own children (for an expandable tree)."""
    rows = get_session().execute(
        select(Term, _child_count())
        .join(TermEdge, TermEdge.child_curie == Term.curie)
        .where(TermEdge.parent_curie == curie)
        .order_by(Term.is_obsolete, Term.label)
    )
    return [(t, n) for t, n in rows]


def roots_of(prefix: str) -> list[tuple[Term, int]]:
    """Terms of an ontology without a parent (the top of its tree)."""
    rows = get_session().execute(
        select(Term, _child_count())
        .where(
            Term.ontology_prefix == prefix,
            Term.is_obsolete.is_(False),
            ~exists().where(TermEdge.child_curie == Term.curie),
        )
        .order_by(Term.label)
        .limit(500)
    )
    return [(t, n) for t, n in rows]


def descendants(
    actor: Actor,
    identifier: str,
    *,
    page: int = 1,
    per_page: int = 50,
    max_depth: int | None = None,
    include_self: bool = False,
) -> Page[tuple[Term, int]]:
    """Everything below a term (nearest first), from the indexes of the closure table."""
    return _closure_page(
        TermClosure.ancestor_curie,
        TermClosure.descendant_curie,
        _readable_curie(actor, identifier),
        page,
        per_page,
        max_depth,
        include_self,
    )


def ancestors(
    actor: Actor,
    identifier: str,
    *,
    page: int = 1,
    per_page: int = 50,
    max_depth: int | None = None,
    include_self: bool = False,
) -> Page[tuple[Term, int]]:
    return _closure_page(
        TermClosure.descendant_curie,
        TermClosure.ancestor_curie,
        _readable_curie(actor, identifier),
        page,
        per_page,
        max_depth,
        include_self,
    )


def _closure_page(
    anchor: Any,
    other: Any,
    curie: str,
    page: int,
    per_page: int,
    max_depth: int | None,
    include_self: bool,
) -> Page[tuple[Term, int]]:
    if page < 1 or not 1 <= per_page <= 1000:
        raise InvalidInput.field("per_page", "Use page ≥ 1 and per_page between 1 and 1000.")
    conditions = [anchor == curie]
    if not include_self:
        conditions.append(TermClosure.depth > 0)
    if max_depth is not None:
        conditions.append(TermClosure.depth <= max_depth)
    session = get_session()
    # every loaded term is its own ancestor at depth 0: no such row, no such term
    itself = session.scalar(select(TermClosure.depth).where(anchor == curie, other == curie))
    if itself is None and session.get(Term, curie) is None:
        raise NotFound(f"No term {curie} is loaded.")
    offset = (page - 1) * per_page
    query = (
        select(Term, TermClosure.depth)
        .join(TermClosure, other == Term.curie)
        .where(*conditions)
        .order_by(TermClosure.depth, Term.label)
        .limit(per_page)
        .offset(offset)
        # a hierarchy page shows labels: synonyms and cross-references load only if asked for
        .options(lazyload(Term.synonyms), lazyload(Term.xrefs))
    )
    if max_depth is None:
        # The nearest first, without reading every row below: depth 0 is the term itself and
        # depth 1 its direct children (or parents), since a shortest path of one step is an
        # edge; the count needs no depths (only the term itself is at depth 0), so both come
        # from indexes alone. Most first pages hold nothing deeper.
        total = session.scalar(select(func.count()).select_from(TermClosure).where(anchor == curie))
        total = (total or 0) - (1 if itself == 0 and not include_self else 0)
        downwards = anchor.key == "ancestor_curie"
        edge_anchor = TermEdge.parent_curie if downwards else TermEdge.child_curie
        edge_other = TermEdge.child_curie if downwards else TermEdge.parent_curie
        nearest = [curie] if itself == 0 and include_self else []
        nearest += session.scalars(select(edge_other).where(edge_anchor == curie)).all()
        if len(nearest) <= 2000 and (offset + per_page <= len(nearest) or len(nearest) >= total):
            rows = session.execute(query.where(other.in_(nearest))).all()
            return Page(items=[(t, d) for t, d in rows], total=total, page=page, per_page=per_page)
    # Every (term, depth) below (or above) the anchor, as plain rows from the closure index:
    # the total, and which terms the page can hold (those at the depths it reaches into; a
    # term with 10,000 descendants has a few hundred at depth 1). Only those are joined with
    # their terms and sorted by label in the database, not all 10,000.
    below = session.connection().execute(select(other, TermClosure.depth).where(*conditions))
    by_depth: dict[int, list[str]] = defaultdict(list)
    for curie_below, depth in below:
        by_depth[depth].append(curie_below)
    total = sum(len(c) for c in by_depth.values())
    before = 0  # rows at the depths above the page
    reached: list[str] = []  # terms at the depths the page reaches into
    depths: list[int] = []
    for depth in sorted(by_depth):
        if not reached and before + len(by_depth[depth]) <= offset:
            before += len(by_depth[depth])
            continue
        reached += by_depth[depth]
        depths.append(depth)
        if before + len(reached) >= offset + per_page:
            break
    if not reached:
        return Page(items=[], total=total, page=page, per_page=per_page)
    query = query.offset(offset - before)
    if len(reached) <= 2000:
        query = query.where(other.in_(reached))
    else:  # a page deep down a large hierarchy: the depth range says it more briefly
        query = query.where(TermClosure.depth.between(depths[0], depths[-1]))
    rows = session.execute(query).all()
    return Page(items=[(t, d) for t, d in rows], total=total, page=page, per_page=per_page)


def expand_below(curies: Iterable[str]) -> set[str]:
    """The terms themselves and everything below them (for hierarchy-aware search)."""
    wanted = list(dict.fromkeys(curies))
    found: set[str] = set()
    for chunk in _chunks(wanted):
        found.update(
            get_session().scalars(
                select(TermClosure.descendant_curie).where(TermClosure.ancestor_curie.in_(chunk))
            )
        )
    return found | set(wanted)


def is_below(curie: str, ancestor: str) -> bool:
    """Is ``curie`` the same as, or somewhere below, ``ancestor``?"""
    return (
        get_session().scalar(
            select(TermClosure.depth).where(
                TermClosure.ancestor_curie == ancestor, TermClosure.descendant_curie == curie
            )
        )
        is not None
    )


# --- autocomplete ---------------------------------------------------------------------------


@dataclass
class TermHit:
    term: Term
    match: str  # exact_label, exact_synonym, prefix, word_prefix, fuzzy, identifier
    matched: str  # the normalised name that matched
    score: float


MATCH_ORDER = ("identifier", "exact_label", "exact_synonym", "prefix", "word_prefix", "fuzzy")


def search_terms(
    actor: Actor,
    q: str,
    *,
    ontology: str | None = None,
    limit: int = 10,
    include_obsolete: bool = False,
) -> list[TermHit]:
    """Autocomplete over labels, synonyms and abbreviations, ranked: exact label, exact
    synonym or abbreviation, prefix, word prefix, then fuzzy."""
    require(actor, Permission.ONTOLOGY_READ)
    if not 1 <= limit <= 100:
        raise InvalidInput.field("limit", "Ask for 1 to 100 terms.")
    session = get_session()
    found: dict[str, tuple[int, float, str]] = {}  # curie → (match rank, score, matched name)

    def keep(curie: str, match: str, score: float, name: str) -> None:
        rank = MATCH_ORDER.index(match)
        if curie not in found or (rank, -score) < (found[curie][0], -found[curie][1]):
            found[curie] = (rank, score, name)

    text = q.strip()
    if ":" in text or is_iri(text):
        try:
            curie = resolve_curie(text)
        except NotFound:
            curie = None
        if curie and session.get(Term, curie) is not None:
            keep(curie, "identifier", 100.0, text)
    name = normalise(text)
    if not name:
        return _hits(found, limit, ontology, include_obsolete)
    filters = []
    if ontology:
        filters.append(TermName.ontology_prefix == ontology.upper())
    if not include_obsolete:
        filters.append(TermName.is_obsolete == false())  # "= false" uses the index; "IS false" not
    for curie, kind in session.execute(
        select(TermName.term_curie, TermName.kind)
        .where(TermName.name == name, TermName.is_word_start == false(), *filters)
        .limit(200)
    ):
        keep(curie, "exact_label" if kind is NameKind.LABEL else "exact_synonym", 100.0, name)
    for is_word_start, match in ((False, "prefix"), (True, "word_prefix")):
        if len(found) >= limit * 2:
            break
        rows = session.execute(
            select(TermName.term_curie, TermName.name, TermName.kind)
            .where(
                TermName.is_word_start == is_word_start,
                TermName.name >= name,
                TermName.name < prefix_upper_bound(name),
                *filters,
            )
            .order_by(TermName.name)
            .limit(limit * 5)
        ).all()
        for curie, matched, kind in rows:
            # closer (shorter) names first; a term's own label before its synonyms
            score = 100.0 * len(name) / max(len(matched), 1) + (
                5.0 if kind is NameKind.LABEL else 0
            )
            keep(curie, match, score, matched)
    exact = any(rank <= MATCH_ORDER.index("exact_synonym") for rank, _, _ in found.values())
    if len(found) < limit and len(name) >= 3 and not exact:
        # spelling neighbours only when the text names no term exactly
        names = _fuzzy_candidates(name, filters)
        if names:
            close = process.extract(
                name, names, scorer=fuzz.ratio, limit=limit * 3, score_cutoff=FUZZY_CUTOFF
            )
            scores = {matched: float(score) for matched, score, _ in close}
            # the terms behind those names: whole names first, then later-word ones (a common
            # word such as "leukemia" starts a later word of thousands of names: no ordering
            # over all of them, the first few will do)
            wanted = limit * 3
            behind: list[Any] = []
            for is_word_start in (False, True):
                if len(behind) >= wanted:
                    break
                behind += session.execute(
                    select(TermName.term_curie, TermName.name)
                    .where(TermName.is_word_start == is_word_start)
                    .where(TermName.name.in_(list(scores)), *filters)
                    .limit(wanted - len(behind))
                ).all()
            for curie, matched in behind:
                keep(curie, "fuzzy", scores[matched], matched)
    return _hits(found, limit, ontology, include_obsolete)


EXACT_MATCHES = frozenset(MATCH_ORDER[:3])  # identifier, exact_label, exact_synonym


def resolve_term(
    actor: Actor,
    typed: str,
    *,
    ontology: str | Sequence[str | None] | None = None,
    field: str = "term",
    what: str = "term",
    example: str | None = None,
) -> str:
    """The CURIE of the term that text typed into a form names (what choosing from the
    autocomplete would have given, for the pages that work without JavaScript): a CURIE or
    IRI of a loaded term, or a label, synonym or abbreviation that names exactly one term
    (a label before a synonym). ``ontology``: the prefix to look in, or several, tried in
    turn (``None`` for every vocabulary): ``("HV", None)`` prefers the HARMONY variables.

    :raises InvalidInput: (422 naming ``field``) when the text names no term, or names
        several equally (the message lists them): "No ``what`` is called …", with the
        CURIE ``example`` as a hint.
    """
    text = typed.strip()
    prefixes = [ontology] if ontology is None or isinstance(ontology, str) else list(ontology)
    for prefix in prefixes:
        hits = [
            h
            for h in search_terms(actor, text, ontology=prefix, limit=5)
            if h.match in EXACT_MATCHES
        ]
        if not hits:
            continue
        tied = [h for h in hits if h.match == hits[0].match]
        if len(tied) > 1:
            names = ", ".join(f"{h.term.curie} ({h.term.label})" for h in tied)
            raise InvalidInput.field(
                field, f"“{text}” names more than one {what}: {names}. Give the CURIE of one."
            )
        return str(hits[0].term.curie)
    hint = f" (e.g. {example})" if example else ""
    raise InvalidInput.field(
        field,
        f"No {what} is called “{text}”. Choose one from the suggestions, or give its CURIE{hint}.",
    )


FUZZY_CANDIDATES = 5000
FUZZY_CUTOFF = 70


def _fuzzy_candidates(name: str, filters: list[Any]) -> list[str]:
    """Up to :data:`FUZZY_CANDIDATES` distinct names that share the first two characters with
    ``name`` and whose length allows a :data:`FUZZY_CUTOFF` similarity at all: all of them when
    there are few, else those alphabetically nearest to ``name`` — for each kind of name (from
    the first word, from a later word), a quarter above and a quarter below it.

    Each part is one range of the ``(is_word_start, name, is_obsolete)`` index and reads only
    what the index holds (no table rows), so a common stem costs a few thousand index entries;
    the terms behind the few names that come close are looked up afterwards."""
    connection = get_session().connection()  # plain rows: no ORM work per candidate
    stem = name[:2]
    share = FUZZY_CANDIDATES // 4
    # fuzz.ratio = 2·matches / (len(a) + len(b)) ≥ c needs c·len(a) / (2 - c) ≤ len(b)
    # ≤ (2 - c)·len(a) / c; filtered here, not in SQL, so that each range scan stops after
    # ``share`` index entries
    cutoff = FUZZY_CUTOFF / 100
    shortest = int(cutoff * len(name) / (2 - cutoff))
    longest = int((2 - cutoff) * len(name) / cutoff) + 1
    parts = []
    for is_word_start in (False, True):
        for condition, order in (
            ((TermName.name >= name, TermName.name < prefix_upper_bound(stem)), TermName.name),
            ((TermName.name >= stem, TermName.name < name), TermName.name.desc()),
        ):
            part = (
                select(TermName.name)
                .where(TermName.is_word_start == is_word_start, *condition, *filters)
                .order_by(order)
                .limit(share)
                .subquery()
            )
            parts.append(select(part.c.name))
    # the four ranges in one statement: one round trip to the database
    candidates = {
        found
        for found in connection.execute(union_all(*parts)).scalars()
        if shortest <= len(found) <= longest
    }
    return sorted(candidates)


def _hits(
    found: dict[str, tuple[int, float, str]],
    limit: int,
    ontology: str | None,
    include_obsolete: bool,
) -> list[TermHit]:
    if not found:
        return []
    ordered = sorted(found.items(), key=lambda kv: (kv[1][0], -kv[1][1], len(kv[1][2]), kv[0]))
    curies = [c for c, _ in ordered[: limit * 3]]  # the filters below rarely drop any
    terms = {t.curie: t for t in get_session().scalars(select(Term).where(Term.curie.in_(curies)))}
    hits = []
    for curie, (rank, score, matched) in ordered:
        term = terms.get(curie)
        if term is None:
            continue
        if ontology and term.ontology_prefix != ontology.upper():
            continue
        if term.is_obsolete and not include_obsolete:
            continue
        hits.append(TermHit(term=term, match=MATCH_ORDER[rank], matched=matched, score=score))
        if len(hits) >= limit:
            break
    return hits
