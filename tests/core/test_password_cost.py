"""The production password-hashing cost is the README's: Argon2id, time cost 3, 64 MiB
(65,536 KiB), one lane. Only the test profile lowers it, so that the suite stays fast."""

from __future__ import annotations

import pytest
from argon2 import Type, extract_parameters

from core import create_app, services

PRODUCTION = {
    "HARMONY_ENV": "production",
    "SECRET_KEY": "p" * 48,
    "TRUSTED_HOSTS": "catalogue.example.org",
    "BASE_URL": "https://catalogue.example.org/",
}


@pytest.mark.parametrize("profile", ["production", "development"])
def test_stored_hashes_carry_the_production_cost(database_url, profile):
    env = (
        PRODUCTION
        if profile == "production"
        else {"HARMONY_ENV": "development", "SECRET_KEY": "d" * 48}
    )
    app = create_app({"DATABASE_URL": database_url}, env=env)
    try:
        with app.app_context():
            stored = services.hash_password("correct horse battery staple")
    finally:
        app.extensions["harmony_db"].engine.dispose()
    parameters = extract_parameters(stored)
    assert parameters.type is Type.ID
    assert (parameters.time_cost, parameters.memory_cost, parameters.parallelism) == (3, 65536, 1)
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=1$")


def test_the_cost_may_be_raised_by_the_environment(database_url):
    app = create_app(
        {"DATABASE_URL": database_url},
        env=PRODUCTION | {"ARGON2_TIME_COST": "4", "ARGON2_MEMORY_KIB": "131072"},
    )
    try:
        assert (app.config["ARGON2_TIME_COST"], app.config["ARGON2_MEMORY_KIB"]) == (4, 131072)
    finally:
        app.extensions["harmony_db"].engine.dispose()


def test_only_the_test_profile_is_cheaper(app):
    assert app.config["HARMONY_ENV"] == "testing"
    assert (app.config["ARGON2_TIME_COST"], app.config["ARGON2_MEMORY_KIB"]) < (3, 65536)
