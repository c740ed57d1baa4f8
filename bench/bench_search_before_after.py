"""Search before and after a change, in one run: the same query mix on the same catalogues,
through the code of two commits.

    .venv/bin/python bench/bench_search_before_after.py --base ba0e757 \
        --reuse sqlite:////tmp/cat.sqlite3 \
        --reuse postgresql+psycopg://postgres@127.0.0.1:5432/cat

``--base`` is checked out into a scratch git worktree (sharing this checkout's virtual
environment); the working tree is "after". For each catalogue (generated beforehand by
``bench/generate_catalogue.py`` with its search index built, see ``bench/bench_search.py``), the
query mix of ``bench/bench_search.py`` runs ``--repeat`` times through each tree, alternating
(before, after, before, after, …) so that a drift of the machine falls on both sides, each time
in a fresh child process (a cold start of the application's caches, warmed by the mix's own
warm-up round). It reports the endpoint's p50/p95 of each side (the median of the repeats) and
the ratio after ÷ before, and replaces the ``bench_search_before_after`` section of
``bench/RESULTS.md`` (``--no-write`` leaves it alone). Target: the ratio of p95 ≤ 1.10 (no worse
than before, within this machine's run-to-run spread); exits 1 when it is missed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_ontologies import machine_facts, replace_section, say  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
GIT = shutil.which("git") or "git"
SECTION_BEGIN = "<!-- bench_search_before_after:begin -->"
SECTION_END = "<!-- bench_search_before_after:end -->"
TARGET_RATIO = 1.10

# run in a child process with the tree to measure first on sys.path
CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
from bench import bench_search
result = bench_search.measure(sys.argv[2], int(sys.argv[3]))
endpoint = result["endpoint"]
print(json.dumps({"p50": endpoint["p50"], "p95": endpoint["p95"], "p99": endpoint["p99"]}))
"""


def run_side(tree: Path, url: str, rounds: int) -> dict[str, float]:
    """The mix through the code in ``tree`` (a fresh interpreter whose imports come from it)."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", CHILD, str(tree), url, str(rounds)],
        cwd=tree,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def worktree(base: str, where: Path) -> Path:
    """A detached checkout of ``base`` that uses this checkout's virtual environment."""
    subprocess.run(  # noqa: S603 - git with our own arguments
        [GIT, "-C", str(ROOT), "worktree", "add", "--detach", str(where), base],
        check=True,
        capture_output=True,
    )
    (where / ".venv").symlink_to(ROOT / ".venv")
    return where


def compare(url: str, base_tree: Path, rounds: int, repeat: int) -> dict[str, Any]:
    sides: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for turn in range(repeat):
        for side, tree in (("before", base_tree), ("after", ROOT)):
            say(f"{url}: {side}, turn {turn + 1} of {repeat}")
            sides[side].append(run_side(tree, url, rounds))
    out: dict[str, Any] = {"url": url, "runs": sides}
    for side, runs in sides.items():
        out[side] = {k: round(statistics.median(r[k] for r in runs), 2) for k in ("p50", "p95")}
    out["ratio_p95"] = round(out["after"]["p95"] / out["before"]["p95"], 2)
    out["ratio_p50"] = round(out["after"]["p50"] / out["before"]["p50"], 2)
    return out


def section(results: list[dict[str, Any]], base: str, command: str, facts: dict[str, str]) -> str:
    rows = []
    for r in results:
        kind = "PostgreSQL" if r["url"].startswith("postgresql") else "SQLite"
        each = "; ".join(
            f"{b['p95']}/{a['p95']}"
            for b, a in zip(r["runs"]["before"], r["runs"]["after"], strict=True)
        )
        rows.append(
            f"| {kind} | {r['before']['p50']} / **{r['before']['p95']}** ms "
            f"| {r['after']['p50']} / **{r['after']['p95']}** ms "
            f"| {r['ratio_p50']}x / **{r['ratio_p95']}x** | {each} |"
        )
    verdict = [
        f"- {'PostgreSQL' if r['url'].startswith('postgresql') else 'SQLite'}: p95 after ÷ "
        f"before {r['ratio_p95']}x ({'met' if r['ratio_p95'] <= TARGET_RATIO else 'MISSED'}, "
        f"target ≤ {TARGET_RATIO}x)"
        for r in results
    ]
    return f"""{SECTION_BEGIN}
## Search before and after a change (`bench/bench_search_before_after.py`)

```
{command}
```

Machine: {", ".join(f"{k} {v}" for k, v in facts.items())}.
Before: commit `{base}`; after: the working tree. The query mix of `bench/bench_search.py`
through `GET /api/v1/search`, alternating the two sides in fresh processes on the same
catalogues; each figure is the median over the repeats.

| | before p50 / p95 | after p50 / p95 | after ÷ before (p50 / p95) | p95 per turn (before/after) |
|---|---|---|---|---|
{chr(10).join(rows)}

{chr(10).join(verdict)}
{SECTION_END}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the commit to compare with")
    parser.add_argument("--reuse", action="append", required=True, help="a generated catalogue")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    facts = machine_facts()
    base = subprocess.run(  # noqa: S603 - git with our own arguments
        [GIT, "-C", str(ROOT), "rev-parse", "--short", args.base],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="bench-before-") as scratch:
        tree = worktree(base, Path(scratch) / "tree")
        try:
            results = [compare(url, tree, args.rounds, args.repeat) for url in args.reuse]
        finally:
            subprocess.run(  # noqa: S603 - git with our own arguments
                [GIT, "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                check=False,
                capture_output=True,
            )
    script = ".venv/bin/python bench/bench_search_before_after.py"
    command = "  ".join([script, *(argv or sys.argv[1:])])
    report = section(results, base, command, facts)
    print(report)
    say(f"whole comparison: {time.perf_counter() - started:.0f} s")
    if not args.no_write:
        replace_section(args.results, report, SECTION_BEGIN, SECTION_END)
    return 1 if any(r["ratio_p95"] > TARGET_RATIO for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
