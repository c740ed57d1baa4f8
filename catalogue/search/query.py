"""What a query text means: its words, the terms it names, and corrections of misspellings.

The words are read left to right; at each position the longest run of words (up to
:data:`MAX_SPAN`) that names a term of a loaded ontology becomes one *part* of the query:

- *exactly*: the run is a label, synonym or abbreviation of the term (as the ontologies'
  autocomplete index ``term_names`` normalises names; British spellings folded, so
  "haemoglobin" and "hemoglobin" name the same term whichever spelling the ontology has);
- *partly*, when nothing is named exactly from there: the run ends a few diseases' labels (a
  disease label ends in its kind: "myeloma" ends "Plasma cell myeloma"), or it is a symbol
  (typed in capitals or with digits) or several words that begin a few terms' labels ("FLT3"
  begins "FLT3 internal tandem duplication" and "FLT3 tyrosine kinase domain mutation").
  Labels only (a synonym such as "Patient characteristics" of Demographics would make
  "patient" mean every dataset), runs of three letters or more, and only when the labels
  belong to at most :data:`MAX_PARTIAL_TERMS` terms once the terms below another one found
  are dropped: "leukaemia" ends too many labels to mean any of them.

A part that names terms matches a dataset that holds its words (like any other text) **or** is
tagged with one of the terms or a term below it, **or** has variables mapped to one of them or
below (:mod:`catalogue.coverage`). The other words are plain text. Every part must match.

A plain word that the published catalogue never uses is looked up among the words it does use
(trigram similarity, as pg_trgm computes it, on both databases): close words are searched too
and shown as such.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import bindparam, false, select, union_all

from catalogue.search import text
from catalogue.search.backends import backend_for
from catalogue.search.models import SearchWord
from core.db import get_session
from ontologies import hierarchy_cache
from ontologies.models import NameKind, TermClosure, TermName
from ontologies.text import prefix_upper_bound

_TYPED = re.compile(r"[^\W_]+")
MAX_WORDS = 24  # words of a query looked at (the rest is ignored, and said so)
MAX_SPAN = 6
MAX_PARTIAL_TERMS = 6
MIN_PARTIAL_LENGTH = 3
EXCLUDED_ONTOLOGIES = ("DUO",)  # data-use conditions describe consent, not data
DISEASE_ONTOLOGY = "HAEM"  # whose labels end in the disease's kind: "… myeloma", "… lymphoma"
FUZZY_MIN_LENGTH = 4
FUZZY_SIMILARITY = 0.4  # trigram similarity a correction needs
FUZZY_RATIO = 75  # and edit similarity (rapidfuzz ratio, 0-100)
MAX_CORRECTIONS = 2
NAMES_PER_START = 40
#: the names a query may name: current terms, not data-use conditions
_VISIBLE = (
    TermName.is_obsolete == false(),
    TermName.ontology_prefix.not_in(EXCLUDED_ONTOLOGIES),
)


@dataclass
class NamedTerm:
    curie: str
    label: str
    ontology: str
    match: str  # "exact" or "partial"
    narrower: int = 0  # terms below it that the search includes


@dataclass
class Part:
    words: list[str]  # the normalised words of the query this part stands for
    groups: list[list[str]]  # per meaningful word: its key and the keys of its corrections
    terms: list[NamedTerm] = field(default_factory=list)
    corrections: dict[str, list[str]] = field(default_factory=dict)  # word → close words

    @property
    def curies(self) -> list[str]:
        return [t.curie for t in self.terms]


@dataclass
class Interpretation:
    """What a query means. Words it does not search are in ``ignored`` (what the API has always
    returned), and for the page, which says why, also in one of: ``too_long`` (longer than
    :data:`catalogue.search.text.MAX_WORD` characters: the index holds no such word, so it
    cannot match), ``past_limit`` (after the first :data:`MAX_WORDS` words); the others carry no
    meaning for search (:attr:`too_common`: "the", "of" …)."""

    text: str
    parts: list[Part]
    ignored: list[str]  # every word not searched, whatever the reason
    too_long: list[str] = field(default_factory=list)
    past_limit: list[str] = field(default_factory=list)

    @property
    def too_common(self) -> list[str]:
        """The words not searched because they carry no meaning for search (stopwords)."""
        other = set(self.too_long) | set(self.past_limit)
        return [w for w in self.ignored if w not in other]

    @property
    def is_empty(self) -> bool:
        return not self.parts

    @property
    def groups(self) -> list[list[str]]:
        return [g for p in self.parts for g in p.groups]

    @property
    def keys(self) -> list[str]:
        """Every key of the query (corrections included), once."""
        return list(dict.fromkeys(k for g in self.groups for k in g))

    @property
    def terms(self) -> list[NamedTerm]:
        return [t for p in self.parts for t in p.terms]


def interpret(q: str | None) -> Interpretation:
    query = (q or "").strip()
    all_words = text.words(query)
    words, past_limit = all_words[:MAX_WORDS], all_words[MAX_WORDS:]
    ignored = list(past_limit)
    too_long = [w for w in words if len(w) > text.MAX_WORD]
    if not words:
        return Interpretation(query, [], ignored, too_long, past_limit)
    symbols = {w.lower() for w in _TYPED.findall(query) if w.isupper() or not w.isalpha()}
    spans = _terms_named(words, symbols)
    parts: list[Part] = []
    i = 0
    while i < len(words):
        if i in spans:
            length, terms = spans[i]
            span = words[i : i + length]
            groups = [[k] for w in span if (k := text.key_of(w)) is not None]
            parts.append(Part(words=span, groups=groups, terms=terms))
            i += length
            continue
        key = text.key_of(words[i])
        if key is None:
            ignored.append(words[i])
        else:
            parts.append(Part(words=[words[i]], groups=[[key]]))
        i += 1
    _correct_misspellings([p for p in parts if not p.terms])
    _count_narrower([t for p in parts for t in p.terms])
    return Interpretation(query, parts, ignored, too_long, past_limit)


# --- terms ----------------------------------------------------------------------------------


class _Remembered:
    """What runs of words name, by (the term store's stamp, words, symbols), least recently
    used forgotten first. The term store changes only when an ontology is loaded, which moves
    the stamp (:func:`ontologies.hierarchy_cache.stamp`), so an entry never goes stale: it is
    left behind. Naming terms runs one to three statements per search; a query typed again
    (the same words on the next page, a facet added) runs none."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._found: OrderedDict[Hashable, dict[int, tuple[int, list[NamedTerm]]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> dict[int, tuple[int, list[NamedTerm]]] | None:
        with self._lock:
            found = self._found.get(key)
            if found is not None:
                self._found.move_to_end(key)
            return found

    def put(self, key: Hashable, found: dict[int, tuple[int, list[NamedTerm]]]) -> None:
        with self._lock:
            self._found[key] = found
            while len(self._found) > self.size:
                self._found.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._found.clear()


REMEMBERED = _Remembered(4_096)


def _terms_named(words: list[str], symbols: set[str]) -> dict[int, tuple[int, list[NamedTerm]]]:
    """:func:`_find_terms`, remembered (:class:`_Remembered`); each caller gets its own
    copies of the terms (interpret sets their ``narrower``)."""
    key = (hierarchy_cache.stamp(), tuple(words), frozenset(symbols))
    found = REMEMBERED.get(key)
    if found is None:
        found = _find_terms(words, symbols)
        REMEMBERED.put(key, found)
    return {i: (length, [replace(t) for t in terms]) for i, (length, terms) in found.items()}


def _spellings(span: Sequence[str]) -> set[str]:
    """A run of words as term names may spell it: as typed, with British spellings folded, and
    in the singular ("lymphomas")."""
    typed = " ".join(span)
    found = {typed, " ".join(text.fold_spelling(w) for w in span)}
    last = span[-1]
    if len(last) > 4 and last.endswith("s") and not last.endswith("ss"):  # a plural
        found |= {f[:-1] for f in found}
    return found


def _find_terms(words: list[str], symbols: set[str]) -> dict[int, tuple[int, list[NamedTerm]]]:
    """``{start: (length, terms)}`` for the runs of words that name terms, left to right,
    longest first, exact names before partial ones.

    ``symbols``: the words typed in capitals or with digits ("ALL", "FLT3"). A common word
    names a term only when typed so ("ALL" is acute lymphoblastic leukaemia, "all" is not), and
    a single word begins a label only when it is a symbol (so "FLT3" finds the FLT3 markers but
    "blast" does not mean "Blast phase chronic myeloid leukaemia")."""
    session = get_session()
    spans: dict[tuple[int, int], set[str]] = {}  # (start, length) → spellings
    for start in range(len(words)):
        for length in range(1, min(MAX_SPAN, len(words) - start) + 1):
            span = words[start : start + length]
            if all(w in text.STOPWORDS and w not in symbols for w in span):
                continue
            spans[(start, length)] = _spellings(span)
    if not spans:
        return {}
    names = {name for spellings in spans.values() for name in spellings}
    exact: dict[str, set[str]] = {}  # name → curies (the name is the whole of a term's name)
    ends: dict[str, set[str]] = {}  # name → curies (the name ends a term's name)
    for name, curie, is_word_start, kind, prefix in session.execute(
        select(
            TermName.name,
            TermName.term_curie,
            TermName.is_word_start,
            TermName.kind,
            TermName.ontology_prefix,
        ).where(TermName.name.in_(sorted(names)), *_VISIBLE)
    ):
        if not is_word_start:
            exact.setdefault(name, set()).add(curie)
        elif kind is NameKind.LABEL and prefix == DISEASE_ONTOLOGY:
            ends.setdefault(name, set()).add(curie)
    begins = _names_beginning(
        {
            n
            for n in names
            if len(n.replace(" ", "")) >= MIN_PARTIAL_LENGTH
            and n not in exact
            and (" " in n or n in symbols or text.fold_spelling(n) in symbols)
        }
    )
    found: dict[int, tuple[int, list[NamedTerm]]] = {}
    i = 0
    while i < len(words):
        taken = False
        for match in ("exact", "partial"):
            for length in range(min(MAX_SPAN, len(words) - i), 0, -1):
                spellings = spans.get((i, length))
                if not spellings:
                    continue
                if match == "exact":
                    curies = set().union(*(exact.get(s, set()) for s in spellings))
                else:
                    if all(len(s.replace(" ", "")) < MIN_PARTIAL_LENGTH for s in spellings):
                        continue
                    curies = set().union(
                        *(ends.get(s, set()) | begins.get(s, set()) for s in spellings)
                    )
                    curies = _topmost(curies) if curies else curies
                    if len(curies) > MAX_PARTIAL_TERMS:
                        continue
                if not curies:
                    continue
                terms = _named_terms(sorted(curies), match)
                if terms:
                    found[i] = (length, terms)
                    i += length
                    taken = True
                    break
            if taken:
                break
        if not taken:
            i += 1
    return found


def _names_beginning(starts: set[str]) -> dict[str, set[str]]:
    """``{start: curies}`` of the whole names that begin with ``start`` and more words (a
    handful per start: more than that and the start is too common to name anything)."""
    if not starts:
        return {}
    ordered = sorted(starts)
    params: dict[str, str] = {}
    for i, start in enumerate(ordered):
        low = start + " "
        params[f"low_{i}"], params[f"high_{i}"] = low, prefix_upper_bound(low)
    found: dict[str, set[str]] = {}
    for curie, name in get_session().execute(_names_beginning_statement(len(ordered)), params):
        for start in ordered:
            if name.startswith(start + " "):
                found.setdefault(start, set()).add(curie)
    return found


@lru_cache(maxsize=32)
def _names_beginning_statement(count: int) -> Any:
    """One statement for ``count`` starts (bound as ``low_i``/``high_i``): a query's runs of
    words give a dozen starts, and building a dozen limited selects anew for every search took
    longer than running them."""
    parts = []
    for i in range(count):
        subquery = (
            select(TermName.term_curie, TermName.name)
            .where(
                TermName.is_word_start == false(),
                TermName.kind == NameKind.LABEL,
                TermName.name >= bindparam(f"low_{i}"),
                TermName.name < bindparam(f"high_{i}"),
                *_VISIBLE,
            )
            .limit(NAMES_PER_START)
            .subquery()
        )
        parts.append(select(subquery.c.term_curie, subquery.c.name))
    return union_all(*parts)


def _topmost(curies: set[str]) -> set[str]:
    """``curies`` without those below another one of them."""
    if len(curies) < 2:
        return curies
    below = set(
        get_session().scalars(
            select(TermClosure.descendant_curie).where(
                TermClosure.ancestor_curie.in_(sorted(curies)),
                TermClosure.descendant_curie.in_(sorted(curies)),
                TermClosure.depth > 0,
            )
        )
    )
    return curies - below


def _named_terms(curies: list[str], kind: str) -> list[NamedTerm]:
    """The known terms among ``curies``, disease terms first, then by label."""
    found = hierarchy_cache.terms(curies)
    return [
        NamedTerm(curie=c, label=label, ontology=prefix, match=kind)
        for c, (label, prefix) in sorted(
            found.items(), key=lambda r: (r[1][1] != "HAEM", r[1][0].lower())
        )
    ]


def _count_narrower(terms: list[NamedTerm]) -> None:
    if not terms:
        return
    counts = hierarchy_cache.narrower_counts({t.curie for t in terms})
    for term in terms:
        term.narrower = counts.get(term.curie, 0)


# --- misspellings ---------------------------------------------------------------------------


def _correct_misspellings(parts: list[Part]) -> None:
    """For each plain word whose key the published catalogue does not use, search its closest
    words too."""
    session = get_session()
    candidates = {
        p.groups[0][0]: p
        for p in parts
        if len(p.words[0]) >= FUZZY_MIN_LENGTH and p.words[0].isalpha() and p.groups
    }
    if not candidates:
        return
    known = set(
        session.scalars(
            select(SearchWord.key).where(SearchWord.key.in_(sorted(candidates))).distinct()
        )
    )
    backend = backend_for(session)
    for key, part in candidates.items():
        if key in known:
            continue
        word = text.fold_spelling(part.words[0])
        close = _closest(word, backend.fuzzy_candidates(session, word))
        if close:
            part.corrections[part.words[0]] = close
            part.groups[0] = list(dict.fromkeys([key, *(text.key_of(w) or w for w in close)]))


def _closest(word: str, candidates: list[str]) -> list[str]:
    scored = []
    for candidate in candidates:
        similarity = text.trigram_similarity(word, candidate)
        ratio = fuzz.ratio(word, candidate)
        if similarity >= FUZZY_SIMILARITY and ratio >= FUZZY_RATIO:
            scored.append((-ratio, -similarity, candidate))
    return [c for _r, _s, c in sorted(scored)[:MAX_CORRECTIONS]]
