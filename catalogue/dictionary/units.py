"""UCUM units: validated with ucumvert's grammar of the UCUM specification."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _parser() -> Any:
    from ucumvert import get_ucum_parser

    return get_ucum_parser()


@lru_cache(maxsize=4096)
def unit_problem(unit: str) -> str | None:
    """None when ``unit`` is a valid UCUM expression, else a message a custodian understands."""
    text = unit.strip()
    if not text:
        return None
    if " " in text:
        return f"“{unit}” is not a UCUM unit: UCUM units have no spaces (e.g. g/dL, 10*9/L)"
    try:
        _parser().parse(text)
    except Exception:  # the grammar raises lark's errors, which name no unit
        return f"“{unit}” is not a UCUM unit (e.g. g/dL, 10*9/L, umol/L, %, a for years)"
    return None
