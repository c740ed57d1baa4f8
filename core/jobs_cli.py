"""``harmony jobs worker`` (the job worker: huey's consumer with the periodic tasks) and
``harmony jobs tidy`` (the periodic tidy-up, once, by hand)."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext

from core import jobs
from core.text import plural


@click.group("jobs")
def jobs_group() -> None:
    """Background jobs: the worker and its tidy-up."""


@jobs_group.command("worker")
@click.option("--threads", default=1, show_default=True, help="Jobs run at the same time.")
@with_appcontext
def worker_command(threads: int) -> None:
    """Run the job worker until Ctrl-C (SIGINT) or SIGTERM: the queued jobs, and the periodic
    tasks. On start it queues again the jobs a dead worker of this host left running."""
    logging.basicConfig(level=current_app.config["LOG_LEVEL"], format="%(asctime)s %(message)s")
    huey = jobs.queue()
    if huey.immediate:
        raise click.ClickException("JOBS_IMMEDIATE is on: jobs run in the web request, no worker")
    requeued = jobs.recover_jobs()
    click.echo(
        f"job worker {jobs.worker_name()}: {plural(len(requeued), 'interrupted job')} queued again"
    )
    consumer = huey.create_consumer(workers=threads, worker_type="thread", periodic=True)
    consumer.run()


@jobs_group.command("tidy")
@with_appcontext
def tidy_command() -> None:
    """Queue again the jobs of dead workers and remove old export files, now."""
    counts = jobs.tidy_jobs()
    click.echo(
        f"{plural(counts['requeued'], 'job')} queued again, "
        f"{plural(counts['purged'], 'file')} removed"
    )
