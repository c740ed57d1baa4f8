"""Who may do what with ontologies: everyone reads, administrators load."""

from __future__ import annotations

from typing import Any

from core.permissions import Permission
from core.policies import Actor, is_admin, rule


@rule(Permission.ONTOLOGY_READ)
def _read(actor: Actor, obj: Any) -> bool:
    return True


@rule(Permission.ONTOLOGY_LOAD)
def _load(actor: Actor, obj: Any) -> bool:
    return is_admin(actor)
