"""``harmony workflows show [NAME] [--mermaid]`` (each registered workflow's table, or its
diagram) and ``harmony workflows readme [--check]`` (the README's diagrams made from the
tables, between the ``<!-- workflow:NAME -->`` and ``<!-- /workflow:NAME -->`` markers)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from core import workflow

README = Path(__file__).resolve().parent.parent / "README.md"


@click.group("workflows")
def workflows_group() -> None:
    """Workflows as data: the lifecycle tables of the areas."""


@workflows_group.command("show")
@click.argument("name", required=False)
@click.option("--mermaid", "as_mermaid", is_flag=True, help="A Mermaid state diagram instead.")
@with_appcontext
def show_command(name: str | None, as_mermaid: bool) -> None:
    """Print the table of workflow NAME (default: every registered workflow)."""
    try:
        flows = [workflow.get(name)] if name else workflow.workflows()
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    if not flows:
        click.echo("no workflows are registered", err=True)
        return
    render = workflow.mermaid if as_mermaid else workflow.describe
    click.echo("\n\n".join(render(flow) for flow in flows))


@workflows_group.command("readme")
@click.option("--check", is_flag=True, help="Only report blocks that differ; exit 1 if any.")
@click.option(
    "--path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=README,
    show_default=True,
    help="The file whose workflow blocks to write.",
)
@with_appcontext
def readme_command(check: bool, path: Path) -> None:
    """Write each workflow's diagram into PATH between its markers (lines
    '<!-- workflow:NAME -->' and '<!-- /workflow:NAME -->'); a workflow without markers is
    reported, and makes the command exit 1."""
    flows = workflow.workflows()
    text = path.read_text(encoding="utf-8")
    if not check:
        updated = workflow.update_readme(text, flows)
        if updated != text:
            path.write_text(updated, encoding="utf-8")
            click.echo(f"{path}: workflow diagrams updated", err=True)
        text = updated
    problems = workflow.readme_problems(text, flows)
    for problem in problems:
        click.echo(f"{path}: {problem}", err=True)
    if problems:
        raise SystemExit(1)
