"""The vocabularies shipped in ``ontologies/data/`` (see its manifest.json and the README)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.policies import Actor
from ontologies import services

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class BundledVocabulary:
    file: Path
    prefix: str
    name: str
    licence: str
    source_url: str
    attribution: str


def bundled_vocabularies() -> list[BundledVocabulary]:
    manifest = json.loads((DATA_DIR / "manifest.json").read_text(encoding="utf-8"))
    return [
        BundledVocabulary(
            file=DATA_DIR / entry["file"],
            prefix=entry["prefix"],
            name=entry["name"],
            licence=entry["licence"],
            source_url=entry["source_url"],
            attribution=entry["attribution"],
        )
        for entry in manifest["vocabularies"]
        if (DATA_DIR / entry["file"]).exists()
    ]


def load_bundled(actor: Actor, on_phase: Any = None) -> list[services.LoadReport]:
    """Load (or update) every bundled vocabulary; unchanged files change nothing."""
    reports = []
    for vocabulary in bundled_vocabularies():
        with vocabulary.file.open("rb") as handle:
            reports.append(
                services.load_ontology(
                    actor,
                    handle,
                    filename=vocabulary.file.name,
                    prefix=vocabulary.prefix,
                    name=vocabulary.name,
                    overrides={"licence": vocabulary.licence, "source_url": vocabulary.source_url},
                    on_phase=on_phase,
                )
            )
    return reports
