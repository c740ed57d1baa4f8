"""The pre-defined standard variable sets, for ``harmony demo load``.

They live in ``data/standard-sets.yaml`` (ELN 2022 and 2017, IPSS-R, IPSS-M, ISS, R-ISS, IPI,
CNS-IPI, CLL-IPI, ALL genetic subtype, and a default AML core outcome set). The step creates
the ones whose identifier is not taken yet, through the service as the ``SYSTEM`` actor, so
loading twice adds nothing and an administrator's edits are never overwritten.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from catalogue.standards import services
from catalogue.standards.models import StandardVariableSet
from catalogue.standards.schemas import StandardSetInputSchema
from core import demo as core_demo
from core.db import get_session
from core.errors import InvalidInput
from core.policies import SYSTEM

DATA_FILE = Path(__file__).resolve().parent / "data" / "standard-sets.yaml"


def read_predefined(path: Path | None = None) -> list[dict[str, Any]]:
    """The pre-defined sets as the API takes them (validated by its input schema)."""
    raw = yaml.safe_load((path or DATA_FILE).read_text(encoding="utf-8"))
    return [StandardSetInputSchema().load(item) for item in raw]


def create_predefined_sets(path: Path | None = None) -> list[str]:
    """Create the pre-defined sets that do not exist yet; returns notes for the demo report."""
    existing = set(get_session().scalars(select(StandardVariableSet.identifier)))
    created: list[str] = []
    notes: list[str] = []
    for data in read_predefined(path):
        if data["identifier"] in existing:
            continue
        try:
            services.create_set(SYSTEM, data)
        except InvalidInput as exc:  # the HV vocabulary is not loaded, say
            notes.append(f"standard set {data['identifier']}: skipped ({exc.detail})")
            continue
        created.append(data["identifier"])
    notes.insert(
        0,
        f"standard variable sets: {len(created)} added"
        + (f" ({', '.join(created)})" if created else " (all present already)"),
    )
    return notes


def load_demo_sets(result: core_demo.DemoResult) -> None:
    result.notes.extend(create_predefined_sets())


def register_demo_step() -> None:
    """Called by the catalogue's ``init_app`` after the vocabularies step (the sets need the HV
    and HAEM terms)."""
    core_demo.register_step(load_demo_sets)
