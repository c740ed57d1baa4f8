"""Who may do what with ontologies: everyone reads, administrators load."""

from __future__ import annotations

from typing import Any

from core.permissions import Permission
from core.policies import Actor, Rules, is_admin

rules = Rules()


def register() -> None:
    """Put the ontologies' rules in force (:func:`ontologies.init_app` calls it)."""
    rules.register()


@rules(Permission.ONTOLOGY_READ)
def _read(actor: Actor, obj: Any) -> bool:
    return True


@rules(Permission.ONTOLOGY_LOAD)
def _load(actor: Actor, obj: Any) -> bool:
    return is_admin(actor)
