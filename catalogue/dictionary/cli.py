"""``harmony catalogue …``: import and export data dictionaries from the command line."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import cast

import click
from flask.cli import with_appcontext

from catalogue.datasets.services import UNCHECKED
from catalogue.dictionary import export
from catalogue.dictionary.importer import (
    FORMATS,
    ImportReport,
    Removals,
    RemovalsUnconfirmed,
    import_dictionary,
)
from core.errors import FileRejected, ServiceError
from core.policies import SYSTEM
from core.text import plural


def describe(report: ImportReport) -> str:
    return (
        f"{report.dataset} version {report.version}: {report.format} dictionary "
        f"{report.filename}, {plural(report.rows, 'row')} read, "
        f"{plural(report.variables, 'variable')}: "
        f"{report.added} added, {report.changed} changed, {report.removed} removed, "
        f"{report.unchanged} unchanged; mappings {report.mappings_added} added, "
        f"{report.mappings_removed} removed ({report.seconds:.1f} s)"
    )


@click.command("import-dictionary")
@click.argument("dataset")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS, case_sensitive=False),
    help="template, redcap or omop (default: recognised from the header row).",
)
@click.option(
    "--confirm-removals",
    is_flag=True,
    help="Remove the variables the file no longer has, and drop their mappings and those of "
    "changed values (without it such a file changes nothing and the command lists what "
    "would go).",
)
@with_appcontext
def import_dictionary_command(
    dataset: str, file: Path, fmt: str | None, confirm_removals: bool
) -> None:
    """Import FILE as the dictionary of DATASET's open draft (all or nothing). Exits 1 with the
    problems, by row and column, when the file has any, and with what would go when it would
    remove variables or drop mappings without --confirm-removals."""
    started = time.perf_counter()

    def progress(phase: str) -> None:
        click.echo(f"{phase} … ({time.perf_counter() - started:.1f} s)", err=True)

    try:
        report = import_dictionary(
            SYSTEM,
            dataset,
            file.read_bytes(),
            file.name,
            fmt,
            UNCHECKED,
            confirm_removals=confirm_removals,
            on_phase=progress,
        )
    except RemovalsUnconfirmed as exc:
        removals = exc.report.removals or Removals()
        for variable in removals.variables:
            click.echo(
                f"would remove: {variable.name} ({plural(variable.mappings, 'mapping')})",
                err=True,
            )
        for mapping in removals.mappings:
            value = f" value {mapping.value}" if mapping.value is not None else ""
            click.echo(
                f"would drop: {mapping.variable}{value} → {mapping.term}: {mapping.why}", err=True
            )
        click.echo(
            f"{file}: not imported, it would delete {removals.sentence()}; "
            "run again with --confirm-removals to go ahead",
            err=True,
        )
        sys.exit(1)
    except FileRejected as exc:
        rejected = cast(ImportReport, exc.report)  # what import_dictionary rejects with
        for note in rejected.notes:
            click.echo(f"note: {note}", err=True)
        for problem in rejected.problems:
            click.echo(f"problem: {problem}", err=True)
        click.echo(f"{file}: not imported, {plural(len(rejected.problems), 'problem')}", err=True)
        sys.exit(1)
    except ServiceError as exc:
        raise click.ClickException(f"{file}: {exc.detail}") from exc
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(describe(report))


@click.command("export-dictionary")
@click.argument("dataset")
@click.option(
    "--format", "fmt", type=click.Choice(("csv", "xlsx")), default="csv", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write (default: standard output).",
)
@click.option("--version", "number", type=int, help="A version number (default: the latest).")
@with_appcontext
def export_dictionary_command(
    dataset: str, fmt: str, output: Path | None, number: int | None
) -> None:
    """Write DATASET's dictionary as our template; importing it again changes nothing."""
    try:
        version = export.export_version(SYSTEM, dataset, number)
        rows = export.template_rows(version)
        if fmt == "xlsx":
            data = export.xlsx_bytes(rows)
            if output is None:
                sys.stdout.buffer.write(data)
            else:
                output.write_bytes(data)
        elif output is None:
            for piece in export.csv_lines(rows):
                sys.stdout.write(piece)
        else:
            with output.open("w", encoding="utf-8", newline="") as handle:
                for piece in export.csv_lines(rows, bom=True):
                    handle.write(piece)
    except ServiceError as exc:
        raise click.ClickException(exc.detail) from exc
    if output is not None:
        click.echo(f"wrote {output}", err=True)


def register_commands(group: click.Group) -> None:
    """``harmony catalogue import-dictionary`` and ``export-dictionary``."""
    group.add_command(import_dictionary_command)
    group.add_command(export_dictionary_command)
