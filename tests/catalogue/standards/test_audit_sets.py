"""Standard variable sets' creation, changes and retirement are in the audit trail, with only
the fields that changed."""

from __future__ import annotations

from catalogue.standards import services
from core import audit
from core.db import get_session
from core.models import Role, User

NEW_SET = {"name": "Haemoglobin", "version": "1", "terms": [{"curie": "HV:0000045"}]}


def test_a_set_created_changed_and_retired_is_recorded(app, make, vocabularies):
    admin = make.user(Role.ADMIN)
    with app.app_context():
        actor = get_session().get(User, admin.id)
        created = services.create_set(actor, NEW_SET | {"identifier": "hb-set"})
        etag = services.etag(created)
        updated = services.update_set(
            actor, "hb-set", {"version": "2", "name": "Haemoglobin"}, etag
        )
        services.update_set(actor, "hb-set", {"version": "2"}, services.etag(updated))  # no change
        services.retire_set(actor, "hb-set", services.etag(updated))
        events = audit.events_for("standard_set", "hb-set", newest_first=False)
    assert [e.action for e in events] == [
        "standard_set.created",
        "standard_set.updated",
        "standard_set.retired",
    ]
    assert events[0].after["terms"] == ["HV:0000045"] and events[0].after["status"] == "active"
    assert (events[1].before, events[1].after) == ({"version": "1"}, {"version": "2"})
    assert events[2].after == {"status": "retired"}
    assert all(e.actor_id == admin.id for e in events)
