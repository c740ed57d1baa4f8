"""A replayed past in the append-only audit trail (what the demo's story needs): events recorded
inside ``audit.occurred_at(when)`` keep the time they were recorded as ``at`` (so the chain stays
in the order of its times and verifies) and carry ``when`` as ``occurred_at``, which a dataset's
history shows as the entry's date."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from catalogue.datasets import services as datasets
from core import audit
from core.db import get_session
from core.policies import SYSTEM

LONG_AGO = dt.datetime(2022, 10, 4, 10, 0, tzinfo=dt.UTC)


def test_a_time_without_a_zone_is_refused():
    with pytest.raises(ValueError, match="timezone"), audit.occurred_at(dt.datetime(2022, 1, 1)):
        pass


def test_events_recorded_inside_keep_their_order_and_carry_when_they_happened(app):
    with app.app_context():
        audit.record(SYSTEM, "test.before", "thing", "1", summary="Before the replay.")
        with audit.occurred_at(LONG_AGO):
            replayed = audit.record(SYSTEM, "test.replayed", "thing", "1", context={"n": 1})
        after = audit.record(SYSTEM, "test.after", "thing", "1")
        get_session().commit()
        events = list(
            get_session().scalars(select(audit.AuditEvent).order_by(audit.AuditEvent.seq))
        )
        assert [e.at for e in events] == sorted(e.at for e in events)
        assert replayed.context == {"n": 1, "occurred_at": "2022-10-04T10:00:00.000000Z"}
        assert replayed.occurred_at == LONG_AGO and replayed.at > LONG_AGO
        assert after.occurred_at == after.at and "occurred_at" not in (after.context or {})
        assert audit.verify(get_session()).ok


def test_a_dataset_history_shows_when_a_change_happened(app, make, vocabularies):
    identifier = make.dataset(make.organisation())
    with app.app_context():
        dataset = datasets.get_dataset(SYSTEM, identifier)
        with audit.occurred_at(LONG_AGO):
            datasets.record_change(
                SYSTEM, dataset, dataset.versions[-1], "dictionary_imported", "Loaded long ago."
            )
        get_session().commit()
        [latest, *_older] = datasets.history(SYSTEM, identifier)
        entry = next(
            e for e in datasets.history(SYSTEM, identifier) if e["summary"] == "Loaded long ago."
        )
        assert entry["at"] == LONG_AGO
        assert "occurred_at" not in entry["changes"]  # a date, not a change of the dataset
        # newest first by when things happened: the creation (today) comes before it
        assert latest["at"] > LONG_AGO and latest["action"] == "created"
