"""Read-only use cases behind the ontology browser pages: a term's place in the hierarchy, links
for its cross-references, how an autocomplete hit matched, and where a term is used.

Later areas say where a term is used through :func:`register_usage_provider` (the term page's
"Where it is used") and :func:`register_dataset_count_provider` (how many datasets use each
node of the tree); the ontologies area cannot import them (dependencies point one way), so
they come to it. Without a provider the pages simply leave those parts out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

from core.errors import NotFound
from core.policies import Actor
from ontologies import services
from ontologies.models import Ontology, SynonymKind, Term, TermSynonym
from ontologies.text import normalise


@dataclass
class UsageItem:
    """One thing that uses a term, as a link; ``items`` nests the things inside it (a dataset's
    variables)."""

    label: str
    url: str
    detail: str | None = None  # plain text after the link ("Leiden Haematology · 300 patients")
    code: str | None = None  # an identifier shown before the label (a variable's name)
    items: list[UsageItem] = field(default_factory=list)


@dataclass
class Usage:
    """One section of "Where it is used": what uses the term (at it or below it), how many in
    all, and where to see all of them when only the first are listed."""

    key: str  # "datasets", "variables": the section's id on the page and its count's key in JSON
    heading: str  # "Datasets about this disease"
    total: int  # how many there are, of which ``items`` lists the first
    items: list[UsageItem] = field(default_factory=list)
    more: int = 0  # how many were left off the list
    more_url: str | None = None  # a page that lists them all (e.g. the search, filtered)
    noun: tuple[str, str] = ("item", "items")  # singular and plural, for "and 3 more items"
    # how many of ``total`` use the term itself rather than only narrower terms (None: the
    # provider does not say), and the words for both parts ("Tagged with this term itself",
    # "Tagged only with narrower terms")
    exact: int | None = None
    exact_words: tuple[str, str] = ("At this term itself", "Only at narrower terms")

    @property
    def below(self) -> int | None:
        """How many use only narrower terms (None when :attr:`exact` is not known)."""
        return None if self.exact is None else self.total - self.exact


UsageProvider = Callable[[Actor, str, int], list[Usage]]
"""``(actor, curie, limit) → sections``: what the actor may see that uses the term, each
section listing at most ``limit`` things (0: the counts alone)."""

USAGE_PROVIDERS: list[UsageProvider] = []
"""The registered providers, in registration order (see :func:`register_usage_provider`)."""

DatasetCountProvider = Callable[[Actor, list[str]], dict[str, int]]
"""``(actor, curies) → {curie: datasets}``: for each term, how many datasets the actor may see
use it or a narrower term — in one query for all of them (a tree level is dozens of nodes).
Terms no dataset uses may be left out (they count 0)."""

DATASET_COUNT_PROVIDERS: list[DatasetCountProvider] = []
"""The registered counters (see :func:`register_dataset_count_provider`); the first counts."""

USAGE_LIMIT = 20
"""The term page lists this many things per section; the rest are counted ("and 12 more")."""

MAX_PATHS = 25
"""A deep polyhierarchy can have very many root-to-term paths; the page shows this many."""

XREF_URLS: dict[str, Callable[[str], str]] = {
    "NCIT": lambda code: (
        "https://ncit.nci.nih.gov/ncitbrowser/ConceptReport.jsp"
        f"?dictionary=NCI_Thesaurus&code={quote(code, safe='')}"
    ),
    "LOINC": lambda code: f"https://loinc.org/{quote(code, safe='')}/",
    "ONCOTREE": lambda code: (
        "https://oncotree.mskcc.org/?version=oncotree_latest_stable"
        f"&field=CODE&search={quote(code, safe='')}"
    ),
}

ROOTS_OPENED_SERVER_SIDE = 25
"""Up to this many roots, the level below each root is rendered with the ontology's page (so
the tree's first step works without JavaScript); beyond it, the roots link to their pages."""

MATCH_HINTS = {
    "identifier": "identifier",
    "exact_label": "exact label",
    "exact_synonym": "exact synonym",
    "prefix": "starts with",
    "word_prefix": "word starts with",
    "fuzzy": "similar spelling",
}


_SYNONYM_ORDER = {SynonymKind.EXACT: 0, SynonymKind.RELATED: 1, SynonymKind.ABBREVIATION: 2}


@dataclass
class Xref:
    text: str
    url: str | None


@dataclass
class OntologyPage:
    ontology: Ontology
    roots: list[tuple[Term, int]]  # (term, number of its children)
    below: dict[str, list[tuple[Term, int]]]  # root CURIE → its children, when rendered
    # CURIE → datasets using the term or a narrower one, for every node on the page (None: no
    # area counts datasets, and the tree shows no counts)
    datasets: dict[str, int] | None = None


def ontology_page(actor: Actor, prefix: str) -> OntologyPage:
    """An ontology with the top of its tree, and how many datasets use each node shown.

    :raises NotFound: for a prefix that names no loaded ontology.
    """
    ontology = services.get_ontology(actor, prefix)
    roots = services.roots_of(ontology.prefix)
    below: dict[str, list[tuple[Term, int]]] = {}
    if len(roots) <= ROOTS_OPENED_SERVER_SIDE:
        below = {t.curie: services.children_of(t.curie) for t, n in roots if n}
    shown = [t.curie for t, _ in roots] + [t.curie for level in below.values() for t, _ in level]
    return OntologyPage(ontology, roots, below, dataset_counts(actor, shown))


@dataclass
class TreeLevel:
    """The children of a tree node, as tree.js asks for them when the node opens."""

    term: Term
    children: list[tuple[Term, int]]  # (child, number of its own children)
    datasets: dict[str, int] | None  # child CURIE → datasets using it (None: not counted)


def tree_level(actor: Actor, identifier: str) -> TreeLevel:
    """A term's children with their own child counts and dataset counts (one query each).

    :raises NotFound: for an identifier that names no loaded term.
    """
    term = services.get_term(actor, identifier)
    children = services.children_of(term.curie)
    return TreeLevel(term, children, dataset_counts(actor, [t.curie for t, _ in children]))


@dataclass
class TermPage:
    """Everything the term page shows, gathered by one use case."""

    term: Term
    ontology: Ontology
    paths: list[list[Term]]
    more_paths: bool
    parents: list[Term]
    children: list[tuple[Term, int]]
    synonyms: list[TermSynonym]  # exact first, then related, then abbreviations
    xrefs: list[Xref]
    replacement: Term | None
    replacement_curie: str | None
    usages: list[Usage] = field(default_factory=list)  # only the sections that found something
    child_datasets: dict[str, int] | None = None  # child CURIE → datasets (None: not counted)


def term_page(actor: Actor, identifier: str) -> TermPage:
    """The term page's content for a CURIE or IRI.

    :raises NotFound: for an identifier that names no loaded term.
    """
    term = services.get_term(actor, identifier)
    paths, more = paths_to(term)
    children = services.children_of(term.curie)
    replacement = None
    if term.replaced_by:
        try:
            replacement = services.get_term(actor, term.replaced_by)
        except NotFound:
            replacement = None  # replaced by a term of an ontology that is not loaded
    return TermPage(
        term=term,
        ontology=services.get_ontology(actor, term.ontology_prefix),
        paths=paths,
        more_paths=more,
        parents=services.parents_of(term.curie),
        children=children,
        synonyms=sorted(term.synonyms, key=lambda s: (_SYNONYM_ORDER[s.kind], s.text.casefold())),
        xrefs=[Xref(x.xref, xref_url(x.xref)) for x in term.xrefs],
        replacement=replacement,
        replacement_curie=term.replaced_by,
        usages=[u for u in usages_of(actor, term.curie, USAGE_LIMIT) if u.total],
        child_datasets=dataset_counts(actor, [t.curie for t, _ in children]),
    )


def paths_to(term: Term) -> tuple[list[list[Term]], bool]:
    """Every path from a root down to ``term`` (the term last), and whether some were left off.

    A polyhierarchy has several; their number can grow exponentially with depth, so at most
    :data:`MAX_PATHS` are built. The loader refuses cycles, so the walk ends.
    """
    parents: dict[str, list[Term]] = {}
    below: dict[str, list[list[Term]]] = {}
    truncated = False

    def walk(node: Term) -> list[list[Term]]:
        nonlocal truncated
        if node.curie in below:
            return below[node.curie]
        if node.curie not in parents:
            parents[node.curie] = services.parents_of(node.curie)
        found: list[list[Term]] = []
        for parent in parents[node.curie]:
            for path in walk(parent):
                if len(found) >= MAX_PATHS:
                    truncated = True
                    break
                found.append([*path, node])
        if not parents[node.curie]:
            found = [[node]]
        below[node.curie] = found
        return found

    paths = walk(term)
    return sorted(paths, key=lambda p: [t.label.casefold() for t in p]), truncated


def xref_url(xref: str) -> str | None:
    """A web page for a cross-reference we know how to link (NCIt, LOINC, OncoTree), else None."""
    prefix, sep, code = xref.partition(":")
    build = XREF_URLS.get(prefix.strip().upper())
    if not sep or not code.strip() or build is None:
        return None
    return build(code.strip())


def register_usage_provider(provider: UsageProvider) -> None:
    """Let an area say where terms are used (called by the area's init; once is enough)."""
    if provider not in USAGE_PROVIDERS:
        USAGE_PROVIDERS.append(provider)


def usages_of(actor: Actor, curie: str, limit: int = USAGE_LIMIT) -> list[Usage]:
    """What the registered providers say uses this term (as far as ``actor`` may see), in
    their order; sections that found nothing are included, with a total of 0."""
    found: list[Usage] = []
    for provider in USAGE_PROVIDERS:
        found.extend(provider(actor, curie, limit))
    return found


def register_dataset_count_provider(provider: DatasetCountProvider) -> None:
    """Let an area count the datasets using each tree node (called by its init; once is
    enough)."""
    if provider not in DATASET_COUNT_PROVIDERS:
        DATASET_COUNT_PROVIDERS.append(provider)


def dataset_counts(actor: Actor, curies: list[str]) -> dict[str, int] | None:
    """``{curie: datasets}`` for every one of ``curies`` (0 for the unused), as far as
    ``actor`` may see; None when no area counts datasets (the pages then show no counts)."""
    if not DATASET_COUNT_PROVIDERS:
        return None
    found = DATASET_COUNT_PROVIDERS[0](actor, list(dict.fromkeys(curies))) if curies else {}
    return {curie: found.get(curie, 0) for curie in curies}


def usage_counts(actor: Actor, curie: str) -> dict[str, int]:
    """``{section key: total}``, e.g. ``{"datasets": 2, "variables": 5}`` (counts only)."""
    return {u.key: u.total for u in usages_of(actor, curie, 0)}


@dataclass
class HitView:
    """An autocomplete hit as a person reads it: which name matched, and how."""

    term: Term
    match: str
    hint: str
    matched_text: str | None  # the synonym or abbreviation that matched (None: the label did)
    matched_kind: str | None  # exact, related or abbreviation


def describe_hit(hit: services.TermHit) -> HitView:
    """Find the synonym behind a hit's normalised ``matched`` name, for display."""
    term = hit.term
    matched_text: str | None = None
    matched_kind: str | None = None
    if hit.match != "identifier" and not _name_matches(term.label, hit.matched):
        for synonym in term.synonyms:
            if _name_matches(synonym.text, hit.matched):
                matched_text, matched_kind = synonym.text, synonym.kind.value
                break
    hint = MATCH_HINTS.get(hit.match, hit.match)
    if hit.match == "exact_synonym" and matched_kind == SynonymKind.ABBREVIATION.value:
        hint = "abbreviation"
    return HitView(term, hit.match, hint, matched_text, matched_kind)


def _name_matches(text: str, matched: str) -> bool:
    name = normalise(text)
    return name == matched or name.replace(" ", "") == matched or name.endswith(" " + matched)
