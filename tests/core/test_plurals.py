"""Numbers meet nouns through one helper (:mod:`core.text`): "1 problem", "2 problems", never
"1 problems" or "problem(s)". The core's messages that said it wrong, with one and with two;
and a guard over every template of the four areas that flags a count written next to a plural
noun without the ``plural``/``pluralize`` filters, or a plural made by hand (``{{ 's' if n !=
1 }}``), so that a new page does not bring the mistake back."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from core import jobs
from core.errors import FileRejected

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_ROOTS = ("core", "catalogue", "governance", "ontologies")


# --- messages ---------------------------------------------------------------------------------


@dataclass
class Report:
    problems: list[str]

    def as_json(self) -> dict[str, object]:
        return {"problems": self.problems}


@pytest.mark.parametrize(
    ("count", "words"),
    [(1, "The dictionary was not imported: 1 problem (first: row 2"), (2, ": 2 problems (")],
)
def test_a_rejected_file_counts_its_problems_in_words(count, words):
    rejected = FileRejected(Report([f"row {n + 2}: bad" for n in range(count)]), "The dictionary")
    assert words in str(rejected.detail)


@pytest.mark.parametrize(
    ("more", "words"), [(1, "… and 1 more problem"), (2, "… and 2 more problems")]
)
def test_problems_past_the_listed_ones_are_counted_in_words(more, words):
    rejected = FileRejected(Report([f"row {n}: bad" for n in range(3 + more)]), listed=3)
    assert rejected.errors is not None
    assert rejected.errors["file"][-1] == words


@pytest.mark.parametrize(
    ("requeued", "purged", "line"),
    [(1, 1, "1 job queued again, 1 file removed"), (2, 2, "2 jobs queued again, 2 files removed")],
)
def test_the_tidy_command_counts_jobs_and_files_in_words(app, monkeypatch, requeued, purged, line):
    monkeypatch.setattr(jobs, "tidy_jobs", lambda: {"requeued": requeued, "purged": purged})
    result = app.test_cli_runner().invoke(args=["jobs", "tidy"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == line


# --- the guard over the templates -------------------------------------------------------------

EXPRESSION = re.compile(
    r"\{\{-?\s*(?P<expr>.*?)\s*-?\}\}(?P<after>\s+(?:(?P<first>[A-Za-z-]+)\s+)?(?P<second>[A-Za-z-]+))?",
    re.DOTALL,
)
FORMATTED = re.compile(r"""^["']\{:,\}["']\s*\.format\((?P<inner>.*)\)$""", re.DOTALL)
#: what a count looks like at the end of an expression: ``hits.total``, ``rows | length``,
#: ``n``, ``x.deadline_days`` …
COUNT = re.compile(
    r"(?:\bcount|\btotal|_count|_total|\|\s*length|\bn|_n|_days|_months|\bdays|\bmonths"
    r"|\bsize|\bvotes|\bquorum|\beligible)\s*$"
)
#: words after a count that do not make it a count of the word after them ("3 of 5 rows")
NOT_A_NOUN_PHRASE = {"of", "in", "to", "for", "from", "and", "or", "per", "at", "by", "on"}
#: words ending in "s" that are not plural nouns
NOT_PLURALS = {"is", "as", "has", "was", "its", "this", "us", "yes", "plus", "across", "does"}
#: a plural made by hand: ``{{ 's' if n != 1 }}``, ``{{ 'it' if n == 1 else 'them' }}``
BY_HAND = re.compile(r"\bif\b[^}]*(?:==|!=)\s*1\b")
#: (template, expression) → why it may stay; keep it short
ALLOWED: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    expression: str
    problem: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {{{{ {self.expression} }}}} {self.problem}"


def _in_the_else_of_a_branch_for_one(text: str, start: int, expression: str) -> bool:
    """``{% if n == 1 %}one thing{% else %}{{ n }} things{% endif %}``: the count is plural
    there by construction."""
    before = text[max(0, start - 300) : start]
    opening = re.escape("{% if " + expression + " == 1 %}")
    return (
        re.search(opening + r"(?:(?!\{% endif).)*\{% else %\}(?:(?!\{%).)*$", before, re.S)
        is not None
    )


def count_noun_findings(path: str, text: str) -> list[Finding]:
    """Counts next to a plural noun without the plural filters, and plurals made by hand."""
    found = []
    for match in EXPRESSION.finditer(text):
        expression = match.group("expr").strip()
        line = text.count("\n", 0, match.start()) + 1
        if "plural" in expression:  # | plural(…) or | pluralize(…)
            continue
        if BY_HAND.search(expression):
            found.append(Finding(path, line, expression, "makes a plural by hand"))
            continue
        formatted = FORMATTED.match(expression)
        count = formatted.group("inner").strip() if formatted else expression
        if not COUNT.search(count) or not match.group("after"):
            continue
        first, second = match.group("first"), match.group("second")
        if first and first.lower() in NOT_A_NOUN_PHRASE:
            continue
        words = [w for w in (first, second) if w]
        noun = next(
            (w for w in words if w.lower().endswith("s") and w.lower() not in NOT_PLURALS), None
        )
        if noun is None or _in_the_else_of_a_branch_for_one(text, match.start(), expression):
            continue
        found.append(Finding(path, line, expression, f"is followed by “{noun}”"))
    return found


@pytest.mark.parametrize(
    "snippet",
    [
        "{{ hits.total }} datasets",
        "{{ rows | length }} published datasets",
        '{{ "{:,}".format(stats.count) }} patients',
        "{{ s.deadline_days }} days",
        "{{ n }}\n  rows were read",
        "{{ count }} request{{ 's' if count != 1 }}",
        "{{ 'it' if items | length == 1 else 'them' }}",
    ],
)
def test_the_guard_flags_a_count_written_without_the_helper(snippet):
    assert count_noun_findings("t.html", snippet), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        '{{ hits.total | plural("dataset") }}',
        '{{ n | pluralize("row was", "rows were") }} read',
        "{{ page.page }} of {{ page.total }} in all",
        "{{ n }} of them",
        "Version {{ version.number }} was published",
        "{{ dataset.title }} datasets",
        "{% if errors | length == 1 %}One thing{% else %}{{ errors | length }} things{% endif %}",
        "{{ total }} is the sum",
    ],
)
def test_the_guard_leaves_words_that_are_right_alone(snippet):
    assert not count_noun_findings("t.html", snippet), snippet


def test_templates_write_counts_with_the_plural_filters():
    """No template writes "{{ n }} datasets" (wrong for one) or makes a plural by hand."""
    findings = [
        finding
        for area in TEMPLATE_ROOTS
        for path in sorted((ROOT / area).rglob("*.html"))
        for finding in count_noun_findings(
            str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")
        )
        if (finding.path, finding.expression) not in ALLOWED
    ]
    assert not findings, (
        "use {{ n | plural(noun) }} / {{ n | pluralize(one, many) }}:\n"
        + "\n".join(map(str, findings))
    )
