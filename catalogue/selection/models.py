"""A researcher's selection: the datasets (and, within them, variables) collected while
searching, kept on the server so that it survives logging out, and turned into an access
request in one step (governance reads it with :func:`catalogue.selection.services.list_selection`).

A :class:`Selection` is a row owned by a user with a name (unique per user); a user may keep
several. One of them is the user's *current* selection, where the "Add to selection" buttons
put things: the one most recently made current (``made_current_at``), so that switching is one
write to one row and two switches at once cannot leave two current selections (the later
wins), with no partial unique index to keep the two databases in step. Its datasets are
:class:`SelectionItem` rows, and the variables chosen within a dataset are
:class:`SelectionVariable` rows under the item, so that removing a dataset removes its
variables (the foreign key cascades) and "one dataset once, one variable once" are plain
unique constraints (no NULL variable column, whose uniqueness the two databases would not
enforce).

A variable is kept by its **name** within the dataset, not by the id of a ``variables`` row:
those rows belong to one *version* of the dataset, and publishing a new version (a copy with
new rows) would otherwise drop, or silently pin to a superseded version, what the researcher
chose. The name is what a dictionary keeps from version to version (it is unique within a
version); a name the current published version no longer has is listed as unavailable, not
dropped.

A selection can be shared as a read-only link: the link carries a random token
(``secrets.token_urlsafe``) of which only the SHA-256 digest is kept (``share_token_hash``), as
for API tokens, so that the database alone does not give the links away; revoking clears it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, utcnow
from core.models import new_public_id

NAME_MAX = 100
DEFAULT_NAME = "My selection"


class Selection(Base):
    """A named selection of one user. ``revision`` counts changes (the ETag a change may
    quote in ``If-Match``)."""

    __tablename__ = "selections"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), default=DEFAULT_NAME)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    #: when the owner last made it their current selection (the latest is current)
    made_current_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: SHA-256 (hex) of the share link's token; None when not shared
    share_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: when the present share link was made (None when not shared)
    shared_at: Mapped[dt.datetime | None]
    #: when the owner last stopped sharing it
    share_revoked_at: Mapped[dt.datetime | None]

    items: Mapped[list[SelectionItem]] = relationship(
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="(SelectionItem.added_at, SelectionItem.id)",
    )


class SelectionItem(Base):
    """A dataset in a selection."""

    __tablename__ = "selection_items"
    __table_args__ = (UniqueConstraint("selection_id", "dataset_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    selection_id: Mapped[str] = mapped_column(ForeignKey("selections.id", ondelete="CASCADE"))
    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), index=True
    )
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    variables: Mapped[list[SelectionVariable]] = relationship(
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="(SelectionVariable.added_at, SelectionVariable.id)",
    )


class SelectionVariable(Base):
    """A variable chosen within a selected dataset, by its name in the dataset's dictionary
    (see the module docstring for why not by the id of a version's variable row)."""

    __tablename__ = "selection_variables"
    __table_args__ = (UniqueConstraint("item_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("selection_items.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))  # Variable.name's length
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
