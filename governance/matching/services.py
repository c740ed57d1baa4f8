"""The compatibility check as a use case: a purpose against conditions given in the request, or
against a dataset's current conditions (with the obligations of its active agreements).

Reads only; nothing is written. The check itself is :func:`governance.matching.check.check`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from catalogue.datasets.services import get_dataset
from core.errors import InvalidInput
from core.permissions import Permission
from core.policies import Actor, require
from governance.matching.check import Conditions, Obligation, Purpose, Result, check
from governance.matching.hierarchy import current_hierarchy


@dataclass
class CheckAnswer:
    """What the endpoint answers: the result, and what it was checked against."""

    result: Result
    conditions: Conditions
    dataset: str | None = None

    @property
    def outcome(self) -> str:
        return self.result.outcome

    @property
    def obligations(self) -> list[Obligation]:
        return self.result.obligations

    @property
    def reasons(self) -> list[Any]:
        return self.result.reasons

    @property
    def ontology_versions(self) -> dict[str, str]:
        return self.result.ontology_versions

    @property
    def conditions_revision(self) -> int | None:
        return self.conditions.revision if self.dataset is not None else None

    @property
    def conditions_json(self) -> dict[str, Any]:
        from governance.data_use.vocabulary import conditions_json

        return conditions_json(self.conditions)


def parse_conditions(data: Mapping[str, Any]) -> Conditions:
    """Conditions from the JSON shape (the data-use sub-area's one reader).

    :raises InvalidInput: naming each wrong field under ``conditions.`` (``conditions.
        permission``, ``conditions.modifiers[0].date`` …).
    """
    from governance.data_use.vocabulary import parse_conditions as parse

    try:
        return parse(data)
    except InvalidInput as error:
        errors = {f"conditions.{k}": v for k, v in (error.errors or {}).items()}
        raise InvalidInput(
            errors, detail="; ".join(f"{k}: {' '.join(v)}" for k, v in sorted(errors.items()))
        ) from None


def dataset_conditions(dataset_ids: Iterable[str]) -> dict[str, Conditions]:
    """The current conditions of each dataset that has some (the data-use sub-area's reader)."""
    from governance.data_use.services import conditions_of

    return dict(conditions_of(list(dataset_ids)))


def agreement_obligations(dataset_ids: Iterable[str]) -> dict[str, list[Obligation]]:
    """The obligations of the agreements in effect that cover the datasets (the agreements
    sub-area's reader; imported here, not at the top, because agreements import the check)."""
    from governance.agreements.services import agreement_obligations as obligations

    return dict(obligations(list(dataset_ids)))


def check_purpose(
    actor: Actor,
    purpose: Purpose,
    *,
    conditions: Mapping[str, Any] | None = None,
    dataset: str | None = None,
) -> CheckAnswer:
    """Check ``purpose`` against ``conditions`` (the JSON shape) or against the current
    conditions of the dataset with identifier ``dataset``; a dataset's result also lists the
    obligations of its active agreements and names the revision of the conditions used.

    :raises Unauthenticated: for anonymous callers.
    :raises NotFound: when the dataset does not exist or the caller may not see it.
    :raises InvalidInput: (422) for conditions that are not valid (naming the field under
        ``conditions.``), or a dataset without data-use conditions (naming ``dataset``).
    """
    require(actor, Permission.DATA_USE_CHECK)
    if dataset is None:
        parsed = parse_conditions(conditions or {})
        hierarchy = current_hierarchy({*purpose.diseases, *parsed.diseases})
        return CheckAnswer(check(purpose, parsed, hierarchy), parsed)
    found = get_dataset(actor, dataset)
    stored = dataset_conditions([found.id]).get(found.id)
    if stored is None:
        raise InvalidInput.field(
            "dataset",
            f"The dataset “{found.identifier}” has no data-use conditions yet, so nothing can "
            "be checked against it; its custodian sets them.",
        )
    hierarchy = current_hierarchy({*purpose.diseases, *stored.diseases})
    result = check(purpose, stored, hierarchy)
    result.obligations.extend(agreement_obligations([found.id]).get(found.id, []))
    return CheckAnswer(result, stored, dataset=found.identifier)
