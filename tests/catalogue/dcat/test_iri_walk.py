"""Every address the catalogue publishes answers.

The demo catalogue (with a retired dataset, so that tombstones are in it) is exported as a
whole (``harmony catalogue export``), harvested page by page (``/catalogue``, following
``hydra:next``), read as a FAIR Data Point (``/fdp``), as SSSOM (the whole-catalogue file and
each dataset's) and as CSVW (each dictionary the records link). Every IRI under ``BASE_URL`` in
them is then dereferenced through the application:

- a resource (the catalogue, the FDP and its container, a dataset or one of its versions, a
  variable, a permissible value, a publisher) answers an RDF client with RDF that describes it,
  in the format asked for (the four formats in turn), and a browser with a page (after at most
  a redirect);
- a fragment IRI (``#contact``, ``#publisher``, ``#data-use`` …) is described by the document
  of the IRI before the ``#``;
- a file (the CSVW and CSV dictionaries, the data template, the SSSOM files, the OpenAPI
  document, the home page the catalogue names as its ``foaf:homepage``) answers with its own
  media type, whatever the client accepts.

Failures are collected and reported together, so that one run names every address that does
not answer.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag

import pyoxigraph as ox
import pytest
import yaml
from rdflib import Graph, URIRef
from sqlalchemy import select

from catalogue.models import Dataset, DatasetStatus
from core import demo as core_demo
from core.db import get_session
from tests.catalogue.dcat.conftest import HYDRA, RDFLIB_FORMATS, retire
from tests.conftest import shared_world

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
RDF_TYPES = list(RDFLIB_FORMATS)  # Turtle, JSON-LD, RDF/XML, N-Triples, in turn
#: files: what their path looks like, and the media type they answer with
FILES = [
    (re.compile(r"^/datasets/[^/]+/dictionary\.csvw\.json$"), "application/csvm+json"),
    (re.compile(r"^/datasets/[^/]+/data-template\.csv$"), "text/csv"),
    (re.compile(r"^/api/v1/datasets/[^/]+/dictionary\.csv$"), "text/csv"),
    (re.compile(r"^/api/v1/(datasets/[^/]+/)?mappings\.sssom\.tsv$"), "text/tab-separated-values"),
    (re.compile(r"^/api/v1/openapi\.json$"), "application/json"),
    (re.compile(r"^/$"), "text/html"),
]


@dataclass
class Published:
    """The IRIs under the base, by the documents that named them."""

    base: str
    found_in: dict[str, set[str]] = field(default_factory=dict)

    def add(self, iri: str, where: str) -> None:
        if iri.startswith(self.base + "/") or iri == self.base:
            self.found_in.setdefault(iri, set()).add(where)

    def add_graph(self, graph: Graph, where: str) -> None:
        for triple in graph:
            for node in triple:
                if isinstance(node, URIRef):
                    self.add(str(node), where)


@pytest.fixture(scope="module")
def demo(app, reference_engine) -> Iterator[list[str]]:
    """The demo catalogue, loaded once for the module, with one dataset retired; the published
    identifiers."""
    with shared_world(app, reference_engine):
        with app.app_context():
            assert core_demo.load_demo(password="iri walk demo password 42", with_steps=True)
            published = sorted(
                get_session().scalars(
                    select(Dataset.identifier).where(Dataset.status == DatasetStatus.PUBLISHED)
                )
            )
        retire(app, published[-1], "Merged into another study.")
        yield published[:-1]


def _rdf(response: Any) -> Graph:
    return Graph().parse(data=response.get_data(), format=RDFLIB_FORMATS[response.mimetype])


def _subjects(response: Any) -> set[str]:
    """The IRIs a document describes (parsed by Oxigraph: a tenth of rdflib's time)."""
    triples = ox.parse(response.get_data(), ox.RdfFormat.from_media_type(response.mimetype))
    return {t.subject.value for t in triples if isinstance(t.subject, ox.NamedNode)}


def _sssom(text: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The metadata block and the rows of an SSSOM/TSV file."""
    lines = text.splitlines()
    block = [line[1:] for line in itertools.takewhile(lambda x: x.startswith("#"), lines)]
    metadata = yaml.safe_load("\n".join(block))
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[len(block) :])), delimiter="\t"))
    return metadata, rows


def _expand(curie: str, prefixes: dict[str, str]) -> str:
    prefix, _, local = curie.partition(":")
    return prefixes[prefix] + local if prefix in prefixes else curie


def _strings(document: Any) -> Iterable[str]:
    if isinstance(document, dict):
        for value in document.values():
            yield from _strings(value)
    elif isinstance(document, list):
        for value in document:
            yield from _strings(value)
    elif isinstance(document, str):
        yield document


def collect(app, client, identifiers: list[str]) -> Published:
    published = Published(app.config["BASE_URL"])
    export = app.test_cli_runner().invoke(args=["catalogue", "export", "--format", "ttl"])
    assert export.exit_code == 0, export.output
    whole = Graph().parse(data=export.stdout_bytes, format="turtle")
    published.add_graph(whole, "the whole-catalogue export")

    page: str | None = "/catalogue?per_page=3"
    pages = 0
    while page is not None:
        response = client.get(page, headers={"Accept": "text/turtle"})
        assert response.status_code == 200, page
        graph = _rdf(response)
        published.add_graph(graph, f"the harvest page {page}")
        view = graph.value(URIRef(published.base + "/catalogue"), HYDRA.view)
        following = graph.value(view, HYDRA.next)
        page = str(following).removeprefix(published.base) if following else None
        pages += 1
    assert pages >= 3  # the walk followed the paging

    published.add_graph(_rdf(client.get("/fdp", headers={"Accept": "text/turtle"})), "/fdp")

    sssom_files = ["/api/v1/mappings.sssom.tsv"] + [
        f"/api/v1/datasets/{i}/mappings.sssom.tsv" for i in identifiers
    ]
    for path in sssom_files:
        response = client.get(path)
        assert response.status_code == 200, path
        metadata, rows = _sssom(response.get_data(as_text=True))
        published.add(metadata["mapping_set_id"], path)
        for row in rows:
            published.add(_expand(row["subject_id"], metadata["curie_map"]), path)

    dictionaries = [i for i in published.found_in if ".csvw.json" in i]
    for iri in dictionaries:
        response = client.get(iri.removeprefix(published.base))
        assert response.status_code == 200, iri
        for text in _strings(json.loads(response.get_data())):
            published.add(text, iri)
    return published


def kind_of(path: str) -> str | None:
    """The media type of a file; None for a resource that negotiates."""
    bare = path.split("?", 1)[0]
    return next((media for pattern, media in FILES if pattern.match(bare)), None)


class Walk:
    """Dereferences IRIs through the test client, each document once, and keeps what failed."""

    def __init__(self, client: Any, base: str) -> None:
        self.client = client
        self.base = base
        self.formats = itertools.cycle(RDF_TYPES)
        #: path → (format, the IRIs its RDF describes)
        self.graphs: dict[str, tuple[str, set[str] | None]] = {}
        self.pages: dict[str, str | None] = {}  # path → why a browser got no page
        self.failures: list[str] = []

    def fail(self, iri: str, problem: str, found_in: set[str]) -> None:
        self.failures.append(f"{iri}: {problem} (named in {', '.join(sorted(found_in))[:100]})")

    def file(self, iri: str, path: str, media: str, found_in: set[str]) -> None:
        for accept in ("text/turtle", BROWSER):
            response = self.client.get(path, headers={"Accept": accept})
            response.get_data()  # a streamed file: read to its end
            if response.status_code != 200 or response.mimetype != media:
                self.fail(
                    iri,
                    f"{response.status_code} {response.mimetype} for Accept: {accept[:11]}…, "
                    f"expected 200 {media}",
                    found_in,
                )

    def resource(self, iri: str, path: str, found_in: set[str]) -> None:
        if path not in self.graphs:
            accept = next(self.formats)
            response = self.client.get(path, headers={"Accept": accept})
            ok = response.status_code == 200 and response.mimetype == accept
            self.graphs[path] = (accept, _subjects(response) if ok else None)
            if not ok:
                self.fail(iri, f"{response.status_code} {response.mimetype} for {accept}", found_in)
            problem = self.page(path)
            if problem is not None:
                self.fail(iri, f"a browser gets {problem}", found_in)
        accept, described = self.graphs[path]
        if described is not None and iri not in described:
            self.fail(iri, f"its document ({accept}) does not describe it", found_in)

    def page(self, path: str) -> str | None:
        """What is wrong with the page a browser lands on (one redirect at most), or None."""
        if path not in self.pages:
            response = self.client.get(path, headers={"Accept": BROWSER})
            problem = None
            if response.status_code in (301, 302, 303, 307, 308):
                target = urldefrag(response.headers["Location"])[0].removeprefix(self.base)
                problem = self.page(target) if target != path else "a redirect to itself"
                problem = problem and f"{response.status_code} to {target}, then {problem}"
            elif response.status_code != 200 or response.mimetype != "text/html":
                problem = f"{response.status_code} {response.mimetype}"
            self.pages[path] = problem
        return self.pages[path]


def test_every_published_iri_answers(app, client, demo):
    published = collect(app, client, demo)
    iris = published.found_in
    base = published.base
    paths = {iri.removeprefix(base) for iri in iris}
    # the walk saw every kind of address the catalogue publishes
    expected_kinds = [
        r"^/catalogue$",
        r"^/catalogue#publisher$",
        r"^/catalogue\?page=\d+&per_page=3$",
        r"^/fdp$",
        r"^/fdp/catalogs$",
        r"^/datasets/[^/#]+$",
        r"^/datasets/[^/]+/versions/\d+$",
        r"^/datasets/[^/]+#contact$",
        r"^/datasets/[^/]+#data-use$",
        r"^/datasets/[^/]+/variables/[^/]+$",
        r"^/datasets/[^/]+/variables/[^/]+/values/[^/]+$",
        r"^/organisations/[0-9a-f]+$",
        r"^/datasets/[^/]+/dictionary\.csvw\.json",
        r"^/api/v1/mappings\.sssom\.tsv$",
    ]
    for kind in expected_kinds:
        assert any(re.match(kind, p) for p in paths), f"no IRI like {kind} was published"

    walk = Walk(client, base)
    for iri in sorted(iris):
        path = urldefrag(iri)[0].removeprefix(base) or "/"
        media = kind_of(path)
        if media is not None:
            walk.file(iri, path, media, iris[iri])
        else:
            walk.resource(iri, path, iris[iri])
    assert not walk.failures, (
        f"{len(walk.failures)} of {len(iris)} IRIs do not answer:\n" + "\n".join(walk.failures)
    )


def test_the_walk_reports_what_does_not_answer(app, client, demo):
    """The check is real: an IRI that leads nowhere, a fragment its document does not
    describe and a file of the wrong type are each reported, with where they were named."""
    base = app.config["BASE_URL"]
    walk = Walk(client, base)
    named = {"a test"}
    walk.resource(
        f"{base}/datasets/{demo[0]}/variables/no_such_variable",
        f"/datasets/{demo[0]}/variables/no_such_variable",
        named,
    )
    walk.resource(f"{base}/catalogue#nothing", "/catalogue", named)
    walk.file(f"{base}/fdp", "/fdp", "text/csv", named)
    assert len(walk.failures) == 5, walk.failures
    missing, page, fragment, *files = walk.failures
    assert "no_such_variable: 404 application/problem+json for text/turtle" in missing
    assert "a browser gets 404" in page and "(named in a test)" in page
    assert "#nothing: its document (application/ld+json) does not describe it" in fragment
    assert all("expected 200 text/csv" in f for f in files)
