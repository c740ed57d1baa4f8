"""``harmony ontologies …``: load ontology files with a progress bar, list what is loaded."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext

from core.errors import ServiceError
from core.policies import SYSTEM
from core.text import plural
from ontologies import bundled, services


@click.group("ontologies")
def ontologies_group() -> None:
    """Ontologies and vocabularies."""


def describe(report: services.LoadReport) -> str:
    if report.status == "unchanged":
        return (
            f"{report.prefix}: unchanged ({plural(report.total, 'term')}, "
            f"version {report.version or '—'})"
        )
    return (
        f"{report.prefix}: {report.status} {report.name} version {report.version or '—'}: "
        f"{report.added} added, {report.changed} changed, {report.obsoleted} made obsolete, "
        f"{report.unchanged} unchanged; {plural(report.total, 'term')} in {report.seconds:.1f} s"
    )


@ontologies_group.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--prefix", help="The ontology's prefix (default: the most common term prefix).")
@click.option(
    "--format",
    "fmt",
    help="owl (RDF/XML), turtle, jsonld, nt or oncotree; default: from the file extension.",
)
@click.option("--name", help="A display name (default: the file's title).")
@with_appcontext
def load(file: Path, prefix: str | None, fmt: str | None, name: str | None) -> None:
    """Load or update an ontology from FILE (one transaction: all or nothing)."""
    size = file.stat().st_size
    bar: Any = click.progressbar(length=size, label=f"reading {file.name}", file=sys.stderr)
    with file.open("rb") as handle, bar:
        try:
            report = services.load_ontology(
                SYSTEM,
                handle,
                filename=file.name,
                fmt=fmt,
                prefix=prefix,
                name=name,
                progress=lambda n: bar.update(n),
                on_phase=lambda phase: click.echo(f"\n{phase} …", err=True),
            )
        except ServiceError as exc:
            raise click.ClickException(f"{file}: {exc.detail}") from exc
    for warning in report.warnings:
        click.echo(f"note: {warning}", err=True)
    click.echo(describe(report))


@ontologies_group.command("load-bundled")
@with_appcontext
def load_bundled() -> None:
    """Load the vocabularies shipped with the catalogue (DUO, diseases, core variables)."""
    for report in bundled.load_bundled(SYSTEM):
        click.echo(describe(report))


@ontologies_group.command("list")
@with_appcontext
def list_ontologies() -> None:
    """The loaded ontologies."""
    for ontology in services.list_ontologies(SYSTEM):
        click.echo(
            f"{ontology.prefix}\t{ontology.name}\t{ontology.version or '—'}\t"
            f"{plural(ontology.term_count, 'term')}\t{ontology.licence or ''}"
        )


def register_commands(app: Flask) -> None:
    app.cli.add_command(ontologies_group)
