"""Visas' tests: an application with the visas' endpoint and commands, each test in a
rolled-back transaction, and RSA keys made once per run (2048-bit generation costs about
50 to 100 ms a key; the services take the next key of a small pool instead)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient

from core import create_app
from governance import visas
from governance.visas import keys
from tests import factories
from tests.conftest import TEST_ENV, _bound

POOL_SIZE = 4  # more keys than any test makes: kids (thumbprints) must differ within a test


@pytest.fixture(scope="session")
def rsa_pool() -> list[rsa.RSAPrivateKey]:
    return [keys.new_private_key(2048) for _ in range(POOL_SIZE)]


@pytest.fixture(autouse=True)
def _pooled_keys(monkeypatch: pytest.MonkeyPatch, rsa_pool: list[rsa.RSAPrivateKey]) -> None:
    pool = itertools.cycle(rsa_pool)

    def next_key(bits: int = keys.MIN_BITS) -> rsa.RSAPrivateKey:
        if bits < keys.MIN_BITS:
            raise ValueError("too few bits")
        return next(pool)

    monkeypatch.setattr(keys, "new_private_key", next_key)


@pytest.fixture(scope="session")
def visas_app(app: Flask, database_url: str) -> Flask:
    """The run's application once ``governance.init_app`` registers the visas; until then an
    application of its own on the same database, with them."""
    if "visas" in app.blueprints:
        return app
    own = create_app({"DATABASE_URL": database_url}, env=TEST_ENV)
    visas.init_app(own)
    return own


@pytest.fixture(autouse=True)
def _visas_transaction(app: Flask, visas_app: Flask) -> Iterator[None]:
    """The visas' own application (if it is not the run's) in a rolled-back transaction too."""
    if visas_app is app:
        yield
        return
    with _bound(visas_app, visas_app.extensions["harmony_db"].engine):
        yield


@pytest.fixture
def vclient(visas_app: Flask) -> FlaskClient:
    return visas_app.test_client()


@pytest.fixture
def vmake(visas_app: Flask) -> factories.Maker:
    return factories.Maker(visas_app)
