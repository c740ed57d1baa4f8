"""The small-cell rule: patient counts the catalogue *computes* never identify anyone.

A count the catalogue works out itself — a feasibility total, a dashboard breakdown by disease,
country, age group, source type, custodian or month — that is below ``SMALL_CELL_THRESHOLD``
(default 10) is shown as ``"<10"`` to everyone but administrators (who hold
``Permission.EXACT_COUNTS``): in pages, in the JSON API (the string ``"<10"`` in place of the
number), in charts (the bar is drawn at the threshold and hatched, so its length does not give
the figure away) and in CSV exports alike. Zero is shown as 0: "no patients" identifies nobody.

A patient count a custodian *declares* on a dataset's own metadata is their statement about
their dataset and is shown as given; this rule is not for it.

Services turn every computed figure into a :class:`PatientCount` through the caller's
:class:`CountRule` before it leaves them, so no template, schema or export ever holds the exact
value of a small cell for a caller who may not see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from marshmallow import fields

from core.permissions import Permission
from core.policies import Actor, can


@dataclass(frozen=True)
class PatientCount:
    """A computed patient count as one caller may see it.

    ``value`` is the figure (an int) or ``"<N"``; ``bar`` is what a chart may draw (the
    threshold for a hidden count); ``hidden`` says the small-cell rule applied.
    """

    value: int | str
    bar: int
    hidden: bool = False

    def __str__(self) -> str:
        return self.value if isinstance(self.value, str) else f"{self.value:,}"

    @property
    def text(self) -> str:
        return str(self)


@dataclass(frozen=True)
class CountRule:
    """How one caller sees computed patient counts."""

    threshold: int
    exact: bool  # the caller may see counts below the threshold

    @property
    def hidden_label(self) -> str:
        return f"<{self.threshold}"

    def is_small(self, n: int) -> bool:
        return 0 < n < self.threshold

    def count(self, n: int | None) -> PatientCount:
        """The count as this caller may see it (None counts as 0)."""
        n = int(n or 0)
        if self.exact or not self.is_small(n):
            return PatientCount(n, n)
        return PatientCount(self.hidden_label, self.threshold, hidden=True)

    def share(self, n: int | None, of: int) -> float | None:
        """``n / of``, unless ``n`` is a hidden small cell (a share would give it away)."""
        n = int(n or 0)
        if of <= 0 or (not self.exact and self.is_small(n)):
            return None
        return n / of


def rule_for(actor: Actor) -> CountRule:
    """The small-cell rule for ``actor`` (exact counts for administrators only)."""
    threshold = int(current_app.config.get("SMALL_CELL_THRESHOLD", 10))
    return CountRule(threshold=threshold, exact=can(actor, Permission.EXACT_COUNTS))


def openapi_count(description: str) -> dict[str, object]:
    """The OpenAPI schema of a computed patient count: an integer, or the string ``"<N"``."""
    return {
        "oneOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": "^<[0-9]+$"}],
        "description": description
        + " A count below the small-cell threshold (SMALL_CELL_THRESHOLD, default 10) is the "
        'string "<10" for everyone but administrators.',
    }


class PatientCountField(fields.Field):
    """Dumps a :class:`PatientCount` as its shown value (an integer or ``"<10"``)."""

    def __init__(self, description: str = "Patients (computed).", **kwargs: Any) -> None:
        super().__init__(dump_only=True, metadata=openapi_count(description), **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, PatientCount):
            return value.value
        raise TypeError("a computed patient count must pass through the small-cell rule")
