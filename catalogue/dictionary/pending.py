"""Dictionary uploads waiting for their owner's confirmation.

A file that would remove variables or drop mappings is refused until the custodian has seen
what would go (:class:`~catalogue.dictionary.importer.RemovalsUnconfirmed`). The upload page
keeps the file here, shows the removals, and imports it when the custodian confirms, without
asking for the file again; a large file refused by its job is kept the same way, and the
dictionary page offers the confirmation.

Where: two files per upload under ``instance/pending-imports/`` (``DICTIONARY_PENDING_DIR``
when set), named by a random token — ``<token>.data`` (the file as uploaded) and
``<token>.json`` (who uploaded it, into which dataset, the dataset's revision the comparison
was made against, the file's name and format, when, and the removals to show). The folder is
shared by every web worker and the job worker of a host, which process memory is not: the
confirmation may reach another gunicorn worker. On several hosts the folder has to be shared
storage for a confirmation to find its file; otherwise the page says the upload is no longer
there and asks for it again (nothing is imported without it).

What can go wrong, and the answer:

- someone else asks for the token (another user, another dataset): it is not theirs, so it is
  not found;
- the dataset changed after the upload (an edit, another import): what the file would remove
  may be different now, so the confirmation is refused (412) and the upload dropped;
- the confirmation comes after ``DICTIONARY_CONFIRM_MINUTES`` (30): the upload was removed
  and is not found. Every hold sweeps the expired uploads away, so the folder does not grow.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app

from catalogue.dictionary import importer
from core.db import utcnow
from core.errors import NotFound, PreconditionFailed
from core.jobs import Job
from core.models import User
from core.policies import Actor

log = logging.getLogger("harmony.dictionary")

DEFAULT_KEEP_MINUTES = 30
TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


@dataclass(frozen=True)
class HeldUpload:
    """A refused upload kept for its owner's confirmation (see the module docstring)."""

    token: str
    user_id: str
    dataset: str
    revision: str
    filename: str
    format: str | None
    held_at: dt.datetime
    size: int
    report: dict[str, Any]  # the refused import's report, removals included

    @property
    def removals(self) -> dict[str, Any]:
        return dict(self.report.get("removals") or {})

    @property
    def expires_at(self) -> dt.datetime:
        return self.held_at + dt.timedelta(minutes=keep_minutes())


def keep_minutes() -> int:
    return int(current_app.config.get("DICTIONARY_CONFIRM_MINUTES", DEFAULT_KEEP_MINUTES))


def _folder() -> Path:
    """``DICTIONARY_PENDING_DIR`` when set (a shared volume, on several hosts), else
    ``instance/pending-imports``."""
    configured = current_app.config.get("DICTIONARY_PENDING_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "pending-imports"


def _write(path: Path, data: bytes) -> None:
    """Write whole or not at all: a reader never sees half a file."""
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def hold(
    actor: User,
    identifier: str,
    refusal: importer.RemovalsUnconfirmed,
    data: bytes,
    fmt: str | None,
) -> HeldUpload:
    """Keep a refused upload for ``actor``'s confirmation; returns it with its token.

    Earlier uploads of the same person into the same dataset are dropped (the newest is the
    one the page offers), and so are expired uploads of anyone."""
    sweep()
    for earlier in _entries():
        if earlier.user_id == actor.id and earlier.dataset == identifier:
            release(earlier)
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    entry = HeldUpload(
        token=secrets.token_urlsafe(32),
        user_id=actor.id,
        dataset=identifier,
        revision=refusal.revision,
        filename=refusal.report.filename,
        format=fmt,
        held_at=utcnow(),
        size=len(data),
        report=refusal.report.as_json(),
    )
    _write(folder / f"{entry.token}.data", data)
    facts = {
        "user_id": entry.user_id,
        "dataset": entry.dataset,
        "revision": entry.revision,
        "filename": entry.filename,
        "format": entry.format,
        "held_at": entry.held_at.isoformat(),
        "size": entry.size,
        "report": entry.report,
    }
    _write(folder / f"{entry.token}.json", json.dumps(facts).encode())
    return entry


def held(actor: Actor, identifier: str, token: str | None = None) -> HeldUpload | None:
    """The upload ``actor`` holds for ``identifier`` (the one named by ``token``, else the
    newest), or None: unknown, someone else's, another dataset's, or expired."""
    if token is not None and not TOKEN.match(token):
        return None
    if not isinstance(actor, User):
        return None
    candidates = [_read(token)] if token is not None else _entries()
    mine = [
        entry
        for entry in candidates
        if entry is not None and entry.user_id == actor.id and entry.dataset == identifier
    ]
    return max(mine, key=lambda e: e.held_at, default=None)


def confirm(
    actor: Actor, identifier: str, entry: HeldUpload, *, as_job: bool = False
) -> importer.ImportReport | Job:
    """Import a held upload with its removals confirmed, against the revision it was compared
    with; the upload is dropped once answered (imported, refused, or queued as a job).

    :raises NotFound: the upload is gone (expired, or kept on another host).
    :raises PreconditionFailed: the dataset changed since the upload (in words a person
        understands: what would go may be different now).
    :raises FileRejected, …: as :func:`catalogue.dictionary.importer.import_dictionary`.
    """
    data = _data(entry)
    if data is None:
        release(entry)
        raise NotFound(
            f"The upload of {entry.filename} is no longer here: nothing was imported. "
            "Upload the file again."
        )
    try:
        if as_job:
            return importer.submit_import(
                actor,
                identifier,
                data,
                entry.filename,
                entry.format,
                entry.revision,
                confirm_removals=True,
            )
        return importer.import_dictionary(
            actor,
            identifier,
            data,
            entry.filename,
            entry.format,
            entry.revision,
            confirm_removals=True,
        )
    except PreconditionFailed:
        raise PreconditionFailed(
            f"The dataset changed after you uploaded {entry.filename} (it was edited, or "
            "another file was imported), so what the file would remove may be different now. "
            "Nothing was imported: upload the file again to see what it would change."
        ) from None
    finally:
        release(entry)


def release(entry: HeldUpload) -> None:
    """Forget a held upload (confirmed, cancelled, replaced or expired)."""
    for suffix in (".json", ".data"):
        try:
            (_folder() / f"{entry.token}{suffix}").unlink(missing_ok=True)
        except OSError as exc:  # another worker may be removing it at the same moment
            log.warning("held upload %s%s not removed: %s", entry.token, suffix, exc)


def sweep() -> int:
    """Remove the uploads (and half-written files) older than :func:`keep_minutes`; returns
    how many files went."""
    folder = _folder()
    if not folder.is_dir():
        return 0
    cutoff = utcnow().timestamp() - keep_minutes() * 60
    removed = 0
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        except OSError:  # removed meanwhile by another worker's sweep
            continue
    return removed


def _entries() -> list[HeldUpload]:
    folder = _folder()
    if not folder.is_dir():
        return []
    found = (_read(path.stem) for path in folder.glob("*.json"))
    return [entry for entry in found if entry is not None]


def _read(token: str) -> HeldUpload | None:
    """The upload of ``token`` if it is there, complete and not expired."""
    try:
        facts = json.loads((_folder() / f"{token}.json").read_text(encoding="utf-8"))
        entry = HeldUpload(
            token=token,
            user_id=str(facts["user_id"]),
            dataset=str(facts["dataset"]),
            revision=str(facts["revision"]),
            filename=str(facts["filename"]),
            format=facts.get("format"),
            held_at=dt.datetime.fromisoformat(facts["held_at"]),
            size=int(facts["size"]),
            report=dict(facts.get("report") or {}),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if entry.expires_at <= utcnow():
        release(entry)
        return None
    return entry


def _data(entry: HeldUpload) -> bytes | None:
    try:
        return (_folder() / f"{entry.token}.data").read_bytes()
    except OSError:
        return None
