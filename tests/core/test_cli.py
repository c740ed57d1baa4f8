"""The `harmony` command: what operators and scripts rely on."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.db import get_session
from core.models import Role, User


@pytest.fixture
def cli(app):
    return app.test_cli_runner()  # click 8.2+: stdout and stderr are kept apart


def test_users_create_makes_the_first_admin(cli, app, client):
    result = cli.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Chief@Example.org",
            "--name",
            "Chief Admin",
            "--role",
            "admin",
            "--password",
            "a long admin password",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = get_session().scalar(select(User).where(User.email == "chief@example.org"))
        assert user is not None and user.has_role(Role.ADMIN)
        assert user.password_hash.startswith("$argon2id$")


def test_users_create_prompts_for_the_password(cli, app):
    result = cli.invoke(
        args=["users", "create", "--email", "prompted@example.org", "--name", "Prompted"],
        input="prompted password 1\nprompted password 1\n",
    )
    assert result.exit_code == 0, result.output
    assert "prompted password 1" not in result.stdout


def test_users_create_custodian_needs_an_existing_organisation(cli, make):
    organisation = make.organisation(name="Registry of Example")
    ok = cli.invoke(
        args=[
            "users",
            "create",
            "--email",
            "c@example.org",
            "--name",
            "C",
            "--org",
            "registry of example",
            "--role",
            "custodian",
            "--password",
            "custodian password",
        ]
    )
    assert ok.exit_code == 0, ok.output
    missing = cli.invoke(
        args=[
            "users",
            "create",
            "--email",
            "d@example.org",
            "--name",
            "D",
            "--org",
            "No Such Org",
            "--role",
            "custodian",
            "--password",
            "custodian password",
        ]
    )
    assert missing.exit_code != 0 and "No Such Org" in missing.output
    assert organisation.id


def test_users_create_refuses_a_weak_password(cli):
    result = cli.invoke(
        args=[
            "users",
            "create",
            "--email",
            "weak@example.org",
            "--name",
            "W",
            "--password",
            "short",
        ]
    )
    assert result.exit_code != 0
    assert "12 characters" in result.output


def test_tokens_create_prints_the_token_alone(cli, make, client):
    user = make.user(Role.RESEARCHER, email="script@example.org")
    result = cli.invoke(args=["tokens", "create", "--email", "script@example.org", "--days", "5"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert "\n" not in token and token.startswith("hmy_")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json["id"] == user.id


def test_tokens_create_for_unknown_user_fails(cli):
    result = cli.invoke(args=["tokens", "create", "--email", "ghost@example.org"])
    assert result.exit_code != 0 and "ghost@example.org" in result.output


def test_demo_load_creates_partners_and_one_account_per_role(cli, app):
    result = cli.invoke(args=["demo", "load"], env={"HARMONY_DEMO_PASSWORD": "demo password 123"})
    assert result.exit_code == 0, result.output
    assert "admin@demo.harmony.example" in result.stdout
    assert "demo password 123" in result.stdout
    with app.app_context():
        users = get_session().scalars(select(User)).all()
        roles = {g.role for u in users for g in u.grants}
    assert roles == set(Role)
    again = cli.invoke(args=["demo", "load", "--if-empty"])
    assert again.exit_code == 0 and "nothing loaded" in again.stderr


def test_demo_uses_the_partner_list(app):
    from core import demo

    partners = demo.partner_organisations()
    if demo.SHARED_DIR.joinpath("harmony_partners.csv").exists():
        assert len(partners) > 40
        names = {name for name, *_ in partners}
        assert "Universitaet Ulm" in names
    else:
        assert partners == demo.BUILT_IN_ORGANISATIONS
    assert all(len(country) == 2 for _, _, country, _ in partners)
