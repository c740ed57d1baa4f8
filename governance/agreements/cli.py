"""``harmony agreements``: the timed work, by hand."""

from __future__ import annotations

import datetime as dt
import json

import click
from flask import Flask
from flask.cli import with_appcontext


@click.group("agreements")
def agreements_group() -> None:
    """Data-sharing agreements."""


@agreements_group.command("expire")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Act as if today were this date (YYYY-MM-DD; default: today, UTC).",
)
@with_appcontext
def expire_command(today: dt.datetime | None) -> None:
    """Expire the agreements whose expiry date has come and announce the reminders due
    (60 and 14 days before expiry); what the job worker does every hour."""
    from governance.agreements.jobs import run_daily

    report = run_daily(today.date() if today else None)
    click.echo(json.dumps(report.as_json(), indent=2))


def register_commands(app: Flask) -> None:
    app.cli.add_command(agreements_group)
