"""Who may change a dataset's data-use conditions: the custodians of the dataset's organisation
and administrators (the same people who edit the dataset). Whoever may see a dataset sees its
conditions (:func:`governance.data_use.services.get_conditions` loads the dataset as the
catalogue's rules allow).

The rules are put in force by :func:`register`, which the sub-area's ``init_app`` calls.
"""

from __future__ import annotations

from typing import Any

from catalogue.policies import can_see_drafts
from core.permissions import Permission
from core.policies import Actor, Rules, is_user

rules = Rules()


def register() -> None:
    rules.register()


@rules(Permission.DATA_USE_UPDATE)
def _custodian_or_admin(actor: Actor, dataset: Any) -> bool:
    """obj: the dataset. Custodians of its organisation and admins (who see its drafts)."""
    return dataset is not None and is_user(actor) and can_see_drafts(actor, dataset)
