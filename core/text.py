"""Words that depend on a number: one place that says "1 dataset", "2 datasets", "1 row was
read", so that pages, messages and screen-reader labels agree in number.

``plural(n, "dataset")`` gives ``"1 dataset"`` / ``"3 datasets"`` / ``"1,250 datasets"``;
irregular nouns name their plural (``plural(n, "entry", "entries")``). ``number_word`` is the
noun alone (``"was"``/``"were"``, ``"covers"``/``"cover"`` …) for sentences that put the number
elsewhere. In templates ``plural`` and ``number_word`` are the filters ``plural`` and
``pluralize``: ``{{ n | plural("dataset") }}``, ``{{ n | pluralize("row was", "rows were") }}``.
"""

from __future__ import annotations

# Nouns whose plural is not noun + "s" and that the service writes; anything else gets "s"
# ("es" after s, x, z, ch, sh; "ies" after a consonant + y).
IRREGULAR: dict[str, str] = {
    "person": "people",
    "child": "children",
    "was": "were",
    "is": "are",
    "has": "have",
    "does": "do",
    "this": "these",
    "that": "those",
    "it": "they",
    "its": "their",
}


def plural_form(singular: str) -> str:
    """The plural of an English noun (or verb form) the service writes."""
    if singular in IRREGULAR:
        return IRREGULAR[singular]
    lower = singular.lower()
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        return singular + "es"
    if lower.endswith("y") and len(lower) > 1 and lower[-2] not in "aeiou":
        return singular[:-1] + "ies"
    return singular + "s"


def number_word(count: int, singular: str, plural_word: str | None = None) -> str:
    """``singular`` when ``count`` is 1 (or -1), otherwise its plural (given or derived)."""
    if abs(count) == 1:
        return singular
    return plural_word if plural_word is not None else plural_form(singular)


def plural(count: int, singular: str, plural_word: str | None = None) -> str:
    """``count`` written with thousands separators, then the noun in the matching number:
    ``plural(1, "row")`` → ``"1 row"``, ``plural(1250, "row")`` → ``"1,250 rows"``."""
    return f"{count:,} {number_word(count, singular, plural_word)}"


def verb(count: int, singular: str, plural_word: str | None = None) -> str:
    """The verb agreeing with ``count`` subjects: ``verb(1, "covers", "cover")`` → ``covers``.

    Verbs are the other way round from nouns (the singular takes the "s"), so the plural form
    is given unless it is one of the irregular ones (was/were, is/are, has/have)."""
    if abs(count) == 1:
        return singular
    if plural_word is not None:
        return plural_word
    if singular in IRREGULAR:
        return IRREGULAR[singular]
    return singular[:-1] if singular.endswith("s") else singular
