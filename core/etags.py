"""One ``If-Match`` check for every area: an ETag per object version, 428 when a change that
must quote it came without one, 412 when the one quoted is no longer current.

Internal callers that hold the object already (the CLI, the demo, jobs, tests) pass
:data:`UNCHECKED` instead of an ETag.
"""

from __future__ import annotations

from core.errors import PreconditionFailed, PreconditionRequired


class _Unchecked(str):
    """The type of :data:`UNCHECKED`: no string that arrives over HTTP is one."""

    __slots__ = ()


UNCHECKED: str = _Unchecked("(no ETag check)")
"""Pass as ``if_match`` to change an object without an ETag check. It is recognised by its
type, so a client that sends this text (or ``-``) in ``If-Match`` is checked like any other;
only ``*`` matches every version, by design."""


def is_unchecked(if_match: str | None) -> bool:
    return isinstance(if_match, _Unchecked)


def revision_etag(object_id: str, revision: int) -> str:
    """The strong ETag of an object whose row counts its changes in a ``revision`` column."""
    return f'"{object_id[:12]}-{revision}"'


def check_etag(
    current: str, if_match: str | None, *, required: bool = True, what: str = "it"
) -> None:
    """Compare ``If-Match`` with the object's ``current`` ETag (``W/`` prefixes ignored, a
    list matches when one of its tags does, ``*`` always). The caller holds the object's row
    first (:func:`core.db.lock_revision`) so that of two writers quoting the same ETag exactly
    one wins.

    :raises PreconditionRequired: (428) when ``required`` and no ETag came.
    :raises PreconditionFailed: (412) when the ETag is not the current one.
    """
    if is_unchecked(if_match):
        return
    if if_match is None:
        if required:
            raise PreconditionRequired(
                f"Send the current ETag of {what} in If-Match (GET it first) so that you do "
                "not overwrite someone else's change."
            )
        return
    tags = {t.strip().removeprefix("W/") for t in if_match.split(",")}
    if "*" not in tags and current not in tags:
        raise PreconditionFailed(
            f"{what[:1].upper()}{what[1:]} has changed since you read it; reload it and apply "
            "your change again."
        )
