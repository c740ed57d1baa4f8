"""Normalising names for autocomplete and lexical matching."""

from __future__ import annotations

import re
import unicodedata

_GREEK = {
    "α": "alpha",
    "β": "beta",
    "γ": "gamma",
    "δ": "delta",
    "κ": "kappa",
    "λ": "lambda",
    "μ": "mu",
}
_SEPARATORS = re.compile(r"[^0-9a-z]+")


def normalise(text: str) -> str:
    """Lower case, accents and punctuation gone, Greek letters spelled out, single spaces:
    ``"β2-Microglobulin"`` → ``"beta2 microglobulin"``, ``"Sézary"`` → ``"sezary"``."""
    text = "".join(_GREEK.get(ch, ch) for ch in text.casefold())
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _SEPARATORS.sub(" ", text).strip()


def word_starts(normalised: str) -> list[str]:
    """The text from each later word on: "acute myeloid leukemia" → ["myeloid leukemia",
    "leukemia"]."""
    words = normalised.split(" ")
    return [" ".join(words[i:]) for i in range(1, len(words))]


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix``."""
    return prefix + "\uffff"
