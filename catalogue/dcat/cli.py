"""``harmony catalogue export``: the whole catalogue as DCAT-AP, streamed."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import click
from flask import current_app
from flask.cli import with_appcontext
from rdflib import Graph
from rdflib.term import Node

from catalogue.dcat import graph, services
from catalogue.dcat.serialize import FORMATS, serialize_many
from catalogue.dcat.vocab import DCAT
from core.db import query_timeout, writing
from core.errors import ServiceError

#: each batch of reads may take this long at most (the export as a whole has no limit: it is
#: long work, but a statement stuck on a lock or a bad plan must not hang it for ever)
BATCH_TIMEOUT_MS = 120_000


def export_graphs(
    iris: graph.Iris,
    on_record: Callable[[services.PublicRecord], None] | None = None,
    batch: int = 500,
) -> Iterator[tuple[Graph, Node | None]]:
    """The catalogue, then each dataset (a tombstone for a retired one) with the catalogue's
    link to it, one graph at a time."""
    with query_timeout(BATCH_TIMEOUT_MS):
        facts = services.catalogue_facts()
    head = graph.new_graph()
    graph.add_catalogue(head, facts, iris)
    yield head, iris.catalogue
    for record in services.iter_records(batch, timeout_ms=BATCH_TIMEOUT_MS):
        body = graph.record_graph(record, iris)
        subject = iris.dataset(record.identifier)
        if not record.retired:
            body.add((iris.catalogue, DCAT.dataset, subject))
        yield body, subject
        if on_record is not None:
            on_record(record)


def write_export(output: IO[bytes], fmt_key: str, *, progress: bool = True) -> tuple[int, int]:
    """Write the export to ``output``; (datasets, tombstones) written."""
    iris = graph.Iris.current()
    counts = [0, 0]
    total = services.count_public()
    with click.progressbar(
        length=total, label="Exporting datasets", file=sys.stderr, show_pos=True
    ) as bar:

        def tick(record: services.PublicRecord) -> None:
            counts[1 if record.retired else 0] += 1
            if progress:
                bar.update(1)

        serialize_many(export_graphs(iris, tick), FORMATS[fmt_key], output)
    return counts[0], counts[1]


@click.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(FORMATS)),
    default="ttl",
    show_default=True,
    help="ttl (Turtle), nt (N-Triples), jsonld (JSON-LD) or rdf (RDF/XML).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write (default: standard output).",
)
@with_appcontext
def export_command(fmt: str, output: Path | None) -> None:
    """Write the whole catalogue as DCAT-AP (with HealthDCAT-AP): the catalogue, every
    published dataset, and a tombstone for each retired one. Streams dataset by dataset in
    constant memory, with a progress bar on standard error."""
    started = time.perf_counter()
    base = current_app.config["BASE_URL"]
    # it only reads, for seconds: it must not hold the write lock (SQLite) meanwhile
    with writing(False):
        datasets, tombstones = _export_to(output, fmt)
    seconds = time.perf_counter() - started
    where = f" to {output}" if output is not None else ""
    click.echo(
        f"exported {datasets} datasets and {tombstones} tombstones{where} as {FORMATS[fmt].label} "
        f"(IRIs under {base}) in {seconds:.1f} s",
        err=True,
    )


def _export_to(output: Path | None, fmt: str) -> tuple[int, int]:
    try:
        if output is None:
            counts = write_export(sys.stdout.buffer, fmt)
            sys.stdout.buffer.flush()
            return counts
        with output.open("wb") as handle:
            return write_export(handle, fmt)
    except ServiceError as exc:
        raise click.ClickException(exc.detail) from exc
