"""alembic, wired to the models and to the configured database."""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
MODEL_MODULES = (
    "core.models",
    "core.audit",
    "core.jobs",
    "core.events",
    "core.notifications",
    "ontologies.models",
    "catalogue.models",
    "catalogue.standards.models",
    "catalogue.stats.models",
    "catalogue.search.models",
    "catalogue.selection.models",
    "governance.data_use.models",
    "governance.agreements.models",
    "governance.purposes.models",
    "governance.requests.models",
    "governance.visas.models",
)


def import_all_models() -> None:
    """Import every area's models so that ``Base.metadata`` knows every table."""
    for name in MODEL_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise


def alembic_config(database_url: str, engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def upgrade(database_url: str, revision: str = "head", engine: Engine | None = None) -> None:
    command.upgrade(alembic_config(database_url, engine), revision)


def downgrade(database_url: str, revision: str, engine: Engine | None = None) -> None:
    command.downgrade(alembic_config(database_url, engine), revision)
