"""Authorization in one place: who may do what, default deny.

Services call :func:`require` (or :func:`can`) before they read or change anything. A rule is a
function ``(actor, obj) -> bool`` declared for a permission in the area's ``policies.py`` (a
:class:`Rules`) and registered by the area's ``init_app``; no rule means nobody. An object the
actor may not even see is reported as missing (404), never as forbidden, so that its existence
does not leak.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.errors import Forbidden, NotFound, Unauthenticated
from core.models import Role, User
from core.permissions import Permission, words


class SystemActor:
    """The operator at the command line, the periodic jobs, and rules the service applies by
    itself: trusted by definition (they own the database)."""

    id = None
    name = "system"
    is_active = True

    def __repr__(self) -> str:
        return "<system>"


SYSTEM = SystemActor()
Actor = User | SystemActor | None
Rule = Callable[[Any, Any], bool]


#: the rules in force: each area's :class:`Rules` put there by its ``register()``
_RULES: dict[Permission, Rule] = {}


class Rules:
    """The permission rules of one area, declared in its ``policies.py`` with
    ``@rules(Permission.X, …)`` and put in force by :meth:`register`, which the area's
    ``init_app`` calls: importing a policies module changes nothing, so what an application
    allows never depends on which modules happened to be imported first.

    :raises RuntimeError: (on declaring) for a second rule of the same permission in the area.
    """

    def __init__(self) -> None:
        self.table: dict[Permission, Rule] = {}

    def __call__(self, *permissions: Permission) -> Callable[[Rule], Rule]:
        """Declare ``func(actor, obj)`` as the rule of each permission (``actor`` may be None)."""

        def decorator(func: Rule) -> Rule:
            for permission in permissions:
                if permission in self.table:
                    raise RuntimeError(f"two rules for {permission}")
                self.table[permission] = func
            return func

        return decorator

    def register(self) -> None:
        """Put the area's rules in force. Registering the same rules again (every application
        the tests create) changes nothing.

        :raises RuntimeError: when another area already holds a rule for one of the permissions.
        """
        for permission, func in self.table.items():
            held = _RULES.get(permission)
            if held is not None and held is not func:
                raise RuntimeError(f"two rules for {permission}")
        _RULES.update(self.table)


def is_user(actor: Actor) -> bool:
    return isinstance(actor, User) and actor.is_active


def is_admin(actor: Actor) -> bool:
    return is_user(actor) and actor.has_role(Role.ADMIN)  # type: ignore[union-attr]


def can(actor: Actor, permission: Permission, obj: Any = None) -> bool:
    if isinstance(actor, SystemActor):
        return True
    check = _RULES.get(permission)
    if check is None:
        return False
    if actor is not None and not actor.is_active:
        return False
    return bool(check(actor, obj))


def require(actor: Actor, permission: Permission, obj: Any = None, *, hide: bool = False) -> None:
    """Raise unless ``actor`` holds ``permission`` (on ``obj``).

    :raises Unauthenticated: when nobody is logged in and the rule wants someone.
    :raises NotFound: when ``hide`` is set: the caller may not know that ``obj`` exists.
    :raises Forbidden: otherwise.
    """
    if can(actor, permission, obj):
        return
    if hide:
        raise NotFound()
    if actor is None:
        raise Unauthenticated("Log in, or send a personal API token as 'Authorization: Bearer …'.")
    raise Forbidden(f"Your roles do not allow you to {words(permission)}.")


def require_login(actor: Actor) -> None:
    """For resources that exist only for logged-in callers: anonymous callers learn nothing
    about an object (not even whether it exists) before they log in.

    :raises Unauthenticated: when ``actor`` is None.
    """
    if actor is None:
        raise Unauthenticated("Log in, or send a personal API token as 'Authorization: Bearer …'.")


# --- core rules -----------------------------------------------------------------------------

rules = Rules()


def register() -> None:
    """Put the accounts' rules in force (:func:`core.create_app` calls it)."""
    rules.register()


@rules(Permission.ORGANISATION_READ)
def _anyone(actor: Actor, obj: Any) -> bool:
    return True


@rules(
    Permission.ADMIN_CONSOLE,
    Permission.ORGANISATION_CREATE,
    Permission.ORGANISATION_UPDATE,
    Permission.USER_LIST,
    Permission.USER_CREATE,
    Permission.USER_UPDATE,
    Permission.ROLE_GRANT,
    Permission.ROLE_REVOKE,
    Permission.COMMITTEE_CREATE,
    Permission.COMMITTEE_UPDATE,
    Permission.AUDIT_READ,
)
def _admin_only(actor: Actor, obj: Any) -> bool:
    return is_admin(actor)


@rules(Permission.USER_READ)
def _admin_or_self(actor: Actor, obj: Any) -> bool:
    return is_admin(actor) or (is_user(actor) and obj is not None and obj.id == actor.id)  # type: ignore[union-attr]


@rules(Permission.COMMITTEE_READ)
def _any_user(actor: Actor, obj: Any) -> bool:
    return is_user(actor)


@rules(
    Permission.TOKEN_MANAGE,
    Permission.SESSION_MANAGE,
    Permission.PASSWORD_CHANGE,
    Permission.NOTIFICATION_MANAGE,
)
def _own_only(actor: Actor, obj: Any) -> bool:
    """Tokens, sessions, passwords and notifications are one's own business (obj: the owning
    user)."""
    return is_user(actor) and (obj is None or obj.id == actor.id)  # type: ignore[union-attr]
