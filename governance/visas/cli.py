"""``harmony visas``: the keys that sign GA4GH Passport visas."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from core.db import utcnow


@click.group("visas")
def visas_group() -> None:
    """GA4GH Passport visas and their signing keys."""


@visas_group.command("rotate-key")
@click.option("--reason", default=None, help="Why (kept in the audit trail).")
@with_appcontext
def rotate_key_command(reason: str | None) -> None:
    """Make a new signing key; the previous one signs no more and stays published for
    VISA_KEY_GRACE_DAYS, so that the visas it signed still verify."""
    from core.policies import SYSTEM
    from governance.visas import services

    key = services.rotate(SYSTEM, reason=reason)
    click.echo(f"signing with {key.kid}")


@visas_group.command("keys")
@with_appcontext
def keys_command() -> None:
    """List the keys: kid, state (signing, published, removed) and dates (UTC)."""
    from governance.visas import services

    now = utcnow()
    keys = services.all_keys()
    if not keys:
        click.echo("no visa signing key yet (one is made with the first visa, or by rotate-key)")
        return

    def day(value: object) -> str:
        return f"{value:%Y-%m-%d %H:%M}" if value is not None else "-"

    click.echo(f"{'kid':<44} {'state':<10} {'activated':<17} {'retired':<17} published until")
    for key in keys:
        until = "-" if key.removed_at is None else day(key.removed_at)
        click.echo(
            f"{key.kid:<44} {key.state(now):<10} {day(key.activated_at):<17} "
            f"{day(key.retired_at):<17} {until}"
        )


def register_commands(app: Flask) -> None:
    app.cli.add_command(visas_group)
