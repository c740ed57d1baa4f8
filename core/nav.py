"""Navigation entries, registered by each area, shown to the roles that can use them.

The header has two rows (``core/templates/base.html``): the brand and the user's own links,
then the main menu, which never wraps. The menu is one row of the entries a person may use, in
their registered order, at most :data:`ROW_WIDTH` pixels wide on a laptop; what does not fit
goes into a "More" menu beside it, and the administration pages into an "Admin" menu (both
native ``<details>`` disclosures: keyboard-operable, no script). The server cannot measure text,
so each entry's width is estimated generously from its label (:func:`estimated_width`).

Which entries go into "More" when the row is full: first the ones everybody sees (the public
pages are also on the home page and in the footer), the last registered first; a page only some
roles see (the review queue of a committee member, a custodian's datasets) is the reason they
logged in and stays in the row as long as anything else can go.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from flask import url_for

from core.models import Role, User

#: the menu row's width: the page's content width (``.wrap``) from 1232 px windows up
ROW_WIDTH = 1200
CHAR_WIDTH = 9.0  # px per character at the menu's 16 px (system-ui averages about 8.5)
ENTRY_PADDING = 20  # px: the link's padding and the gap to the next one
MENU_BUTTON_WIDTH = 90  # px: "More ▾" or "Admin ▾" and the gap before it
HOME_LABEL = "Home"


@dataclass(frozen=True)
class NavEntry:
    label: str
    endpoint: str
    visible: Callable[[Any], bool]
    section: str = "main"  # "main", "admin", or "user" (beside the user's name)
    order: int = 50


class NavLink(NamedTuple):
    """One entry as a page shows it; ``more``: in the "More" menu rather than the row."""

    label: str
    url: str
    endpoint: str
    more: bool = False


_ENTRIES: list[NavEntry] = []


def register(entry: NavEntry) -> None:
    if all(e.endpoint != entry.endpoint for e in _ENTRIES):
        _ENTRIES.append(entry)


def estimated_width(label: str) -> float:
    """The room a menu entry takes, over-estimated so that what is planned to fit does."""
    return len(label) * CHAR_WIDTH + ENTRY_PADDING


def entries_for(user: Any, section: str) -> list[NavLink]:
    """The entries ``user`` may use in ``section``, in their order; in ``"main"`` those that
    do not fit the row are marked ``more`` (see the module's docstring)."""
    entries = [
        e
        for e in sorted(_ENTRIES, key=lambda e: e.order)
        if e.section == section and e.visible(user)
    ]
    overflow = _overflow(user, entries) if section == "main" else set()
    return [
        NavLink(e.label, url_for(e.endpoint), e.endpoint, e.endpoint in overflow) for e in entries
    ]


def _overflow(user: Any, entries: list[NavEntry]) -> set[str]:
    """The endpoints of the entries that go into "More" for ``user``."""
    room = ROW_WIDTH - estimated_width(HOME_LABEL)
    if any(e.section == "admin" and e.visible(user) for e in _ENTRIES):
        room -= MENU_BUTTON_WIDTH
    needed = sum(estimated_width(e.label) for e in entries)
    if needed <= room:
        return set()
    room -= MENU_BUTTON_WIDTH  # the "More" menu itself
    # the public entries first, the last registered first; then the role's own
    candidates = sorted(entries, key=lambda e: (not e.visible(None), -e.order))
    moved: set[str] = set()
    for entry in candidates:
        if needed <= room:
            break
        moved.add(entry.endpoint)
        needed -= estimated_width(entry.label)
    return moved


def everyone(user: Any) -> bool:
    return True


def has_role(*roles: Role) -> Callable[[Any], bool]:
    def check(user: Any) -> bool:
        return isinstance(user, User) and user.is_active and bool(user.roles() & set(roles))

    return check


def logged_in(user: Any) -> bool:
    return isinstance(user, User) and user.is_active
