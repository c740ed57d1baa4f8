"""What the application adds to the catalogue's pages (through :mod:`catalogue.extensions`):
"Request access for this selection" on the selection page."""

from __future__ import annotations

from typing import Any

from catalogue import extensions
from core.permissions import Permission
from core.policies import Actor, can


def selection_panel(actor: Actor, selection: Any) -> dict[str, Any] | None:
    """The selection page's button (researchers, with something selected)."""
    if actor is None or not can(actor, Permission.ACCESS_REQUEST_CREATE):
        return None
    if not getattr(selection, "datasets", None):
        return None
    return {"count": len(selection.datasets)}


def register() -> None:
    extensions.register_panel(
        extensions.Panel("selection", "requests/_selection_panel.html", selection_panel, order=10)
    )
