"""The ``harmony`` command: one Flask CLI group for every operator task."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from core import migrate, services
from core.db import writing
from core.errors import ServiceError
from core.policies import SYSTEM


def _create_app() -> Flask:
    from core import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """HARMONY Catalogue: metadata catalogue and consent governance."""
    # An operator's command writes (an import, a load, a user): on SQLite its transactions take
    # the write lock when they begin (core.db.writing), so that a web request committing in
    # between cannot make it fail half-way. Long read-only commands say otherwise.
    click.get_current_context().with_resource(writing())


def fail(message: str) -> None:
    raise click.ClickException(message)


# --- database -------------------------------------------------------------------------------


@click.group("db")
def db_group() -> None:
    """Database schema (alembic migrations)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    migrate.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}", err=True)


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION ('-1' for one step, 'base' for empty)."""
    migrate.downgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}", err=True)


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="What the revision changes.")
@with_appcontext
def db_revision(message: str) -> None:
    """Write a new revision from the difference between models and database (developers)."""
    from alembic import command

    config = migrate.alembic_config(current_app.config["DATABASE_URL"])
    command.revision(config, message=message, autogenerate=True)


# --- users and tokens -----------------------------------------------------------------------


@click.group("users")
def users_group() -> None:
    """Accounts."""


def _organisation_id(value: str | None) -> str | None:
    if not value:
        return None
    from sqlalchemy import or_, select

    from core.db import get_session
    from core.models import Organisation, casefold_key

    matches = (
        get_session()
        .scalars(
            select(Organisation).where(
                or_(Organisation.id == value, Organisation.name_key == casefold_key(value))
            )
        )
        .all()
    )
    if not matches:
        fail(f"no organisation with id or name {value!r} (see: harmony orgs list)")
    return matches[0].id


def _committee_id(value: str | None) -> str | None:
    if not value:
        return None
    from sqlalchemy import or_, select

    from core.db import get_session
    from core.models import DataAccessCommittee, casefold_key

    committee = get_session().scalar(
        select(DataAccessCommittee).where(
            or_(
                DataAccessCommittee.id == value,
                DataAccessCommittee.name_key == casefold_key(value),
            )
        )
    )
    if committee is None:
        fail(f"no committee with id or name {value!r}")
    return committee.id if committee else None


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--org", "org", help="Organisation id or exact name.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice(["researcher", "custodian", "dac_member", "dac_chair", "admin"]),
    help="Repeat for several roles. custodian applies to --org, DAC roles to --committee.",
)
@click.option("--committee", help="Committee id or exact name, for dac_member / dac_chair.")
@click.option("--password", help="Prompted for (hidden, twice) when omitted.")
@with_appcontext
def users_create(
    email: str,
    name: str,
    org: str | None,
    roles: tuple[str, ...],
    committee: str | None,
    password: str | None,
) -> None:
    """Create an account, e.g. the first administrator."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    organisation_id = _organisation_id(org)
    committee_id = _committee_id(committee)
    grants = []
    for role in roles:
        grants.append(
            {
                "role": role,
                "organisation_id": organisation_id if role == "custodian" else None,
                "committee_id": committee_id if role in ("dac_member", "dac_chair") else None,
            }
        )
    try:
        user = services.create_user(
            SYSTEM,
            {
                "email": email,
                "name": name,
                "organisation_id": organisation_id,
                "password": password,
                "roles": grants,
            },
        )
    except ServiceError as exc:
        fail(_describe(exc))
    click.echo(f"created {user.email} ({', '.join(roles) or 'no roles'}) id={user.id}", err=True)


@users_group.command("set-password")
@click.option("--email", required=True)
@click.option("--password", help="Prompted for (hidden, twice) when omitted.")
@with_appcontext
def users_set_password(email: str, password: str | None) -> None:
    """Set a new password; the account's sessions end and its API tokens are revoked."""
    user = services.find_user_by_email(email)
    if user is None:
        fail(f"no account with email {email}")
    if password is None:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        services.set_password(SYSTEM, user.id, password)  # type: ignore[union-attr]
    except ServiceError as exc:
        fail(_describe(exc))
    click.echo(f"password of {email} changed; its sessions and API tokens ended", err=True)


@users_group.command("list")
@with_appcontext
def users_list() -> None:
    """Accounts with their roles."""
    page = services.list_users(SYSTEM, per_page=200)
    for user in page.items:
        roles = ",".join(sorted(g.role.value for g in user.grants)) or "-"
        state = "" if user.is_active else " (deactivated)"
        click.echo(f"{user.email}\t{user.name}\t{roles}{state}")


@click.group("tokens")
def tokens_group() -> None:
    """Personal API tokens."""


@tokens_group.command("create")
@click.option("--email", required=True)
@click.option("--days", type=int, default=None, help="Lifetime in days (default 90).")
@click.option("--name", default="command line", show_default=True)
@with_appcontext
def tokens_create(email: str, days: int | None, name: str) -> None:
    """Create a token and print it, alone, on standard output (it is shown only this once)."""
    user = services.find_user_by_email(email)
    if user is None:
        fail(f"no account with email {email}")
    try:
        token, secret = services.create_token(SYSTEM, user, name, days)  # type: ignore[arg-type]
    except ServiceError as exc:
        fail(_describe(exc))
    click.echo(secret)
    click.echo(f"expires {token.expires_at:%Y-%m-%d}", err=True)


def _describe(exc: ServiceError) -> str:
    if exc.errors:
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.errors.items())
    return exc.detail


# --- demo -----------------------------------------------------------------------------------


@click.group("demo")
def demo_group() -> None:
    """Demonstration data."""


@demo_group.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has accounts.")
@with_appcontext
def demo_load(if_empty: bool) -> None:
    """Load partner organisations, a committee and one demo account per role."""
    from core import demo

    result = demo.load_demo(only_if_empty=if_empty)
    if result is None:
        click.echo("demo data: the database has data already; nothing loaded", err=True)
        emails = demo.demo_account_emails()
        if emails:
            click.echo("Demo accounts (passwords were shown when they were created; set a new one")
            click.echo("with: .venv/bin/harmony users set-password --email EMAIL):")
            for email in emails:
                click.echo(f"  {email}")
        return
    click.echo(demo.describe(result))
    sys.stdout.flush()


def register_commands(app: Flask) -> None:
    from core.workflows_cli import workflows_group

    for group in (db_group, users_group, tokens_group, demo_group, workflows_group):
        app.cli.add_command(group)
