"""Navigation entries, registered by each area, shown to the roles that can use them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import url_for

from core.models import Role, User


@dataclass(frozen=True)
class NavEntry:
    label: str
    endpoint: str
    visible: Callable[[Any], bool]
    section: str = "main"  # "main", "admin", or "user" (beside the user's name)
    order: int = 50


_ENTRIES: list[NavEntry] = []


def register(entry: NavEntry) -> None:
    if all(e.endpoint != entry.endpoint for e in _ENTRIES):
        _ENTRIES.append(entry)


def entries_for(user: Any, section: str) -> list[tuple[str, str, str]]:
    """(label, url, endpoint) of the entries ``user`` may use in ``section``."""
    return [
        (e.label, url_for(e.endpoint), e.endpoint)
        for e in sorted(_ENTRIES, key=lambda e: e.order)
        if e.section == section and e.visible(user)
    ]


def everyone(user: Any) -> bool:
    return True


def has_role(*roles: Role) -> Callable[[Any], bool]:
    def check(user: Any) -> bool:
        return isinstance(user, User) and user.is_active and bool(user.roles() & set(roles))

    return check


def logged_in(user: Any) -> bool:
    return isinstance(user, User) and user.is_active
