"""The signed agreement documents: PDF files stored outside the database.

A document is checked by its content, not its name or declared type (it must start with
``%PDF-`` and end with an ``%%EOF`` marker, and hold at least one object), refused beyond
``AGREEMENT_DOCUMENT_MAX_BYTES`` (413), and written atomically (a temporary file renamed into
place) under ``AGREEMENT_DOCUMENTS_DIR`` (default ``instance/agreements``), named by its
SHA-256: the same document uploaded twice is one file, and the name says what the content
must hash to. The agreement's row records the SHA-256, the size and the original file name.

Reading a document back (:func:`open_verified`) hashes the file again and refuses one that no
longer matches (a file replaced or damaged on disk) instead of handing it out.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import quote

from flask import current_app

from core.errors import Conflict, InvalidInput, ServiceError

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
CHUNK = 1024 * 1024
SHA256 = re.compile(r"^[0-9a-f]{64}$")


class DocumentTooLarge(ServiceError):
    status, title, slug = 413, "Request too large", "413"


class DocumentMissing(Conflict):
    """The recorded document is not in the store (removed, or the store moved)."""


class DocumentTampered(Conflict):
    """The stored file does not hash to the recorded SHA-256."""


@dataclass(frozen=True)
class StoredDocument:
    sha256: str
    size: int
    filename: str


def max_bytes() -> int:
    return int(current_app.config.get("AGREEMENT_DOCUMENT_MAX_BYTES") or DEFAULT_MAX_BYTES)


def documents_dir() -> Path:
    configured = current_app.config.get("AGREEMENT_DOCUMENTS_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "agreements"


def path_of(sha256: str) -> Path:
    if not SHA256.match(sha256):
        raise ValueError(f"not a SHA-256: {sha256!r}")
    return documents_dir() / sha256[:2] / f"{sha256}.pdf"


def clean_filename(name: str | None) -> str:
    """The original name, kept for the download's ``Content-Disposition``: its last path
    part, without control characters, at most 255 characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(c for c in base if c.isprintable() and c not in '"').strip()
    return (base or "agreement.pdf")[:255]


def read_limited(stream: IO[bytes], limit: int) -> bytes:
    """The whole stream, or :class:`DocumentTooLarge` as soon as it passes ``limit``."""
    parts: list[bytes] = []
    size = 0
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise DocumentTooLarge(
                f"The document is larger than the limit of {limit // (1024 * 1024) or limit} "
                f"{'MB' if limit >= 1024 * 1024 else 'bytes'}."
            )
        parts.append(chunk)
    return b"".join(parts)


def check_pdf(content: bytes) -> None:
    """:raises InvalidInput: (field ``document``) when the content is not a PDF, whatever the
    file's name or declared type says."""
    if not content:
        raise InvalidInput.field("document", "The file is empty; upload the signed PDF.")
    if not content.startswith(b"%PDF-"):
        raise InvalidInput.field(
            "document",
            "The file is not a PDF (its content does not start with “%PDF-”, whatever its "
            "name says); upload the signed agreement as a PDF.",
        )
    if b"%%EOF" not in content[-2048:]:
        raise InvalidInput.field(
            "document",
            "The PDF is incomplete (no “%%EOF” at its end): the upload may have been cut off.",
        )
    if re.search(rb"\d+\s+\d+\s+obj\b", content) is None:
        raise InvalidInput.field("document", "The PDF holds no objects: it is not a document.")


def store(stream: IO[bytes], filename: str | None) -> StoredDocument:
    """Check the upload and put it in the store (atomically; once per content).

    :raises DocumentTooLarge: (413) beyond ``AGREEMENT_DOCUMENT_MAX_BYTES``.
    :raises InvalidInput: (422, field ``document``) when the content is not a PDF.
    """
    content = read_limited(stream, max_bytes())
    check_pdf(content)
    digest = hashlib.sha256(content).hexdigest()
    target = path_of(digest)
    if not (target.exists() and _hash_file(target) == digest):
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return StoredDocument(sha256=digest, size=len(content), filename=clean_filename(filename))


def content_disposition(name: str) -> str:
    """``attachment`` with the original name (ASCII fallback, and RFC 5987 for the rest)."""
    fallback = name.encode("ascii", "replace").decode().replace("?", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def open_verified(sha256: str) -> bytes:
    """The stored document's content, once it hashes to ``sha256``.

    :raises DocumentMissing: (409) when the file is not in the store.
    :raises DocumentTampered: (409) when its content does not match the recorded checksum.
    """
    path = path_of(sha256)
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise DocumentMissing(
            "The signed document is not in the document store; an administrator must restore "
            "it from a backup."
        ) from None
    if hashlib.sha256(content).hexdigest() != sha256:
        raise DocumentTampered(
            "The stored document does not match its recorded checksum (SHA-256 "
            f"{sha256}); it was changed or damaged on disk and is not handed out. An "
            "administrator must restore it from a backup."
        )
    return content
