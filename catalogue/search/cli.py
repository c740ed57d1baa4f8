"""``harmony catalogue reindex``: rebuild the search index from the catalogue, and the search
engine from the index."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import click
from flask.cli import with_appcontext


def _progress(bar: Any) -> Callable[[int, int], None]:
    seen = {"done": 0}

    def progress(done: int, total: int) -> None:
        bar.length = max(total, 1)
        bar.update(done - seen["done"])
        seen["done"] = done

    return progress


@click.command("reindex")
@click.option(
    "--engine-only",
    is_flag=True,
    help="Rebuild only the search engine, from the search index as it is (fast).",
)
@with_appcontext
def reindex_command(engine_only: bool) -> None:
    """Rebuild the search index: every published dataset and open draft, with its variables;
    then the search engine (SEARCH_ENGINE) from it. The service keeps both current by itself;
    run this after loading or reloading an ontology (its new names and spellings), after
    restoring a database, or after upgrading the stemmer. --engine-only rebuilds the engine
    alone (after losing its files, or to move to another engine)."""
    from catalogue.search import engine
    from catalogue.search.indexer import rebuild_index, tidy_after_rebuild

    if not engine_only:
        started = time.perf_counter()
        with click.progressbar(length=1, label="Indexing datasets", file=sys.stderr) as bar:
            count = rebuild_index(_progress(bar))
        click.echo(f"Indexed {count:,} dataset versions in {time.perf_counter() - started:.1f} s.")
        if not tidy_after_rebuild():
            click.echo(
                "Another transaction holds the index's tables, so they were not vacuumed now: "
                "autovacuum will do it; searches are right meanwhile, the first ones slower.",
                err=True,
            )
    current = engine.get_engine()
    if current is None:
        click.echo("SEARCH_ENGINE is sql: there is no search engine to build.")
        return
    started = time.perf_counter()
    with click.progressbar(length=1, label="Building the search engine", file=sys.stderr) as bar:
        count = engine.rebuild(_progress(bar))
    click.echo(
        f"Search engine ({current.name}): {count:,} documents in "
        f"{time.perf_counter() - started:.1f} s."
    )


def register_commands(group: click.Group) -> None:
    group.add_command(reindex_command)
