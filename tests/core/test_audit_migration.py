"""The audit trail's migration copies the dataset history kept so far into the chain, in its
order, and the chain it makes verifies (on both databases)."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from core import audit, create_app, migrate
from core.db import get_session, make_engine
from tests.dbutil import fresh_database

BEFORE_AUDIT = "5e0c1d2b7a94"  # the revision before the audit trail's
T0 = dt.datetime(2026, 11, 30, 9, 0, 0, 123456, tzinfo=dt.UTC)


def _history(url: str) -> None:
    """A dataset with three changes, the second and third at the same time (id decides)."""
    engine = make_engine(url)
    rows = [
        (1, T0 + dt.timedelta(minutes=5), "updated", "Changed title.",
         {"title": {"old": "AML", "new": "AML cohort"}}),
        (2, T0, "created", "Created “AML” as a draft.", {}),
        (3, T0 + dt.timedelta(minutes=5), "dictionary_imported", "Imported 12 variables.",
         {"added": 12, "removed": 0}),
    ]  # fmt: skip
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO organisations (id, name, name_key, country, kind, created_at) "
                    "VALUES ('o1', 'Registry', 'registry', 'NL', 'registry', :at)"
                ),
                {"at": T0},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO datasets (id, identifier, organisation_id, status, revision, "
                    "created_at, modified_at) VALUES ('d1', 'aml', 'o1', 'draft', 3, :at, :at)"
                ),
                {"at": T0},
            )
            for id_, at, action, summary, changes in rows:
                connection.execute(
                    sa.text(
                        "INSERT INTO dataset_changes (id, dataset_id, version_number, at, "
                        "actor_id, actor_label, action, summary, changes) VALUES "
                        "(:id, 'd1', 1, :at, NULL, 'Ada <ada@example.org>', :action, :summary, "
                        ":changes)"
                    ),
                    {
                        "id": id_,
                        "at": at if url.startswith("postgresql") else at.replace(tzinfo=None),
                        "action": action,
                        "summary": summary,
                        "changes": json.dumps(changes),
                    },
                )
    finally:
        engine.dispose()


def test_the_dataset_history_becomes_the_start_of_the_chain(tmp_path):
    with fresh_database(tmp_path, "audit_migration") as url:
        migrate.upgrade(url, BEFORE_AUDIT)
        _history(url)
        migrate.upgrade(url)
        app = create_app({"DATABASE_URL": url}, env={"HARMONY_ENV": "testing"})
        try:
            with app.app_context():
                events = audit.events_for("dataset", "d1", newest_first=False)
                result = audit.verify(get_session())
                head = audit.head()
        finally:
            app.extensions["harmony_db"].engine.dispose()
    assert [(e.seq, e.action) for e in events] == [
        (1, "dataset.created"),
        (2, "dataset.updated"),
        (3, "dataset.dictionary_imported"),
    ]
    assert events[0].at == T0 and events[0].prev_hash == audit.GENESIS
    assert (events[1].before, events[1].after) == ({"title": "AML"}, {"title": "AML cohort"})
    assert events[1].context == {"version": 1}
    assert events[2].context == {"added": 12, "removed": 0, "version": 1}
    assert events[2].before is None and events[2].actor_label == "Ada <ada@example.org>"
    assert result.ok and result.count == 3 and head == (3, events[2].hash)
