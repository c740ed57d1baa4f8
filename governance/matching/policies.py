"""Who may run the compatibility check: any logged-in user. The check reveals nothing beyond the
conditions it is given, or the conditions of a dataset the caller already sees
(:func:`governance.matching.services.check_purpose` loads the dataset as the catalogue's rules
allow, so a dataset the caller may not see is a 404).

The rules are put in force by :func:`register`, which the sub-area's ``init_app`` calls.
"""

from __future__ import annotations

from typing import Any

from core.permissions import Permission
from core.policies import Actor, Rules, is_user

rules = Rules()


def register() -> None:
    rules.register()


@rules(Permission.DATA_USE_CHECK)
def _logged_in(actor: Actor, _obj: Any) -> bool:
    """Any logged-in user (researchers state purposes, committees review them, custodians try
    their own conditions)."""
    return is_user(actor)
