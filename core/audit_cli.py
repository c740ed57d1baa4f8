"""``harmony audit verify`` (recompute the chain; exit 1 on a break) and ``harmony audit head``
(the newest event's number and hash, to publish elsewhere)."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from core import audit
from core.db import get_session, writing
from core.text import number_word

#: a chain longer than this shows a progress bar while it is verified
PROGRESS_FROM = 20_000


@click.group("audit")
def audit_group() -> None:
    """The audit trail: verify its hash chain, print its head."""


@audit_group.command("verify")
@click.option(
    "--expect",
    metavar="SEQ:HASH",
    help="A head printed earlier by 'harmony audit head': event SEQ must still have HASH.",
)
@with_appcontext
def verify_command(expect: str | None) -> None:
    """Recompute every event's hash and link from the first on. Prints the number of events
    and the head hash; on a break, the first bad event and what is wrong with it (exit 1)."""
    expected = _parse_expect(expect) if expect else None
    with writing(False):  # reads only: never waits for writers on SQLite
        session = get_session()
        total, _ = audit.head()
        if total >= PROGRESS_FROM:
            with click.progressbar(
                length=total, label="verifying", file=sys.stderr, show_pos=True
            ) as bar:
                done = [0]

                def advance(count: int) -> None:
                    bar.update(count - done[0])
                    done[0] = count

                result = audit.verify(session, progress=advance)
        else:
            result = audit.verify(session)
        if result.ok and expected is not None:
            seq, published = expected
            stored = session.get(audit.AuditEvent, seq)
            if stored is None or stored.hash != published:
                found = "is missing" if stored is None else f"has hash {stored.hash}"
                click.echo(
                    f"audit trail REWRITTEN: event {seq} {found}, not the published {published} "
                    "(the chain was rebuilt from there on, hashes recomputed)"
                )
                sys.exit(1)
    if not result.ok:
        click.echo(f"audit trail BROKEN at event {result.first_bad}: {result.problem}")
        click.echo(f"{result.count} {number_word(result.count, 'event')} verified before the break")
        sys.exit(1)
    # the count without a thousands separator: scripts compare it with ``harmony audit head``
    click.echo(
        f"audit trail ok: {result.count} {number_word(result.count, 'event')}, "
        f"head {result.head_hash}"
    )


def _parse_expect(value: str) -> tuple[int, str]:
    seq, _, published = value.replace(" ", ":", 1).partition(":")
    if not seq.strip().isdigit() or len(published.strip()) != 64:
        raise click.BadParameter(
            "give SEQ:HASH as 'harmony audit head' printed it", param_hint="--expect"
        )
    return int(seq), published.strip().lower()


@audit_group.command("head")
@with_appcontext
def head_command() -> None:
    """Print the newest event's sequence number and hash (``SEQ HASH``): publish it elsewhere,
    and a later ``verify`` that still reaches it proves nothing before it was rewritten."""
    with writing(False):
        seq, head_hash = audit.head()
    click.echo(f"{seq} {head_hash}")
