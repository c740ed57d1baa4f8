"""Who may do what with selections: any logged-in, active user keeps their own. The services
read only the caller's rows, so another user's selection is missing, not forbidden. Put in
force by :func:`register`, which :func:`catalogue.selection.init_app` calls."""

from __future__ import annotations

from typing import Any

from core.permissions import Permission
from core.policies import Actor, Rules, is_user

rules = Rules()


def register() -> None:
    rules.register()


@rules(Permission.SELECTION_MANAGE)
def _own_selection(actor: Actor, selection: Any) -> bool:
    if not is_user(actor):
        return False
    return selection is None or selection.user_id == actor.id  # type: ignore[union-attr]
