"""``harmony entitlements``: the timed work, by hand."""

from __future__ import annotations

import datetime as dt
import json

import click
from flask import Flask
from flask.cli import with_appcontext


@click.group("entitlements")
def entitlements_group() -> None:
    """Access granted by approved requests."""


@entitlements_group.command("expire")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Act as if today were this date (YYYY-MM-DD; default: today, UTC).",
)
@with_appcontext
def expire_command(today: dt.datetime | None) -> None:
    """End the entitlements past their last day, remind those ending within 30 days, and close
    the approved requests whose access is over; what the job worker does every hour."""
    from core.db import writing
    from governance.entitlements.jobs import run_hourly

    with writing():
        report = run_hourly(today.date() if today else None)
    click.echo(json.dumps(report.as_json(), indent=2))


def register_commands(app: Flask) -> None:
    app.cli.add_command(entitlements_group)
