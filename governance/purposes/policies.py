"""Who may do what with saved research purposes: any logged-in, active user keeps their own
(the services read only the caller's rows, so another user's purpose is missing, not
forbidden). Put in force by :func:`register`, which :func:`governance.purposes.init_app`
calls."""

from __future__ import annotations

from typing import Any

from core.permissions import Permission
from core.policies import Actor, Rules, is_user

rules = Rules()


def register() -> None:
    rules.register()


@rules(Permission.PURPOSE_MANAGE)
def _own_purposes(actor: Actor, saved: Any) -> bool:
    if not is_user(actor):
        return False
    return saved is None or saved.user_id == actor.id  # type: ignore[union-attr]
