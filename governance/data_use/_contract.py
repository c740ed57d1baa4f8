"""TEMPORARY stand-in for governance.matching.check's Conditions/Modifier (the contract), until
that module is committed; removed then."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Modifier:
    term: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Conditions:
    permission: str
    diseases: tuple[str, ...] = ()
    modifiers: tuple[Modifier, ...] = ()
    revision: int | None = None

    @property
    def signature(self) -> str:
        content = {
            "permission": self.permission,
            "diseases": sorted(self.diseases),
            "modifiers": sorted(
                ({"term": m.term, **dict(m.params)} for m in self.modifiers),
                key=lambda m: m["term"],
            ),
        }
        text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()
