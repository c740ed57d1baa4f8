"""``harmony catalogue reindex``: rebuild the search index from the catalogue."""

from __future__ import annotations

import sys
import time

import click
from flask.cli import with_appcontext


@click.command("reindex")
@with_appcontext
def reindex_command() -> None:
    """Rebuild the search index: every published dataset and open draft, with its variables.
    The service keeps the index current by itself; run this after loading or reloading an
    ontology (its new names and spellings), after restoring a database, or after upgrading
    the stemmer."""
    from catalogue.search.indexer import rebuild_index, tidy_after_rebuild

    started = time.perf_counter()
    with click.progressbar(length=1, label="Indexing datasets", file=sys.stderr) as bar:
        seen = {"done": 0}

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - seen["done"])
            seen["done"] = done

        count = rebuild_index(progress)
    click.echo(f"Indexed {count:,} dataset versions in {time.perf_counter() - started:.1f} s.")
    if not tidy_after_rebuild():
        click.echo(
            "Another transaction holds the index's tables, so they were not vacuumed now: "
            "autovacuum will do it; searches are right meanwhile, the first ones slower.",
            err=True,
        )


def register_commands(group: click.Group) -> None:
    group.add_command(reindex_command)
