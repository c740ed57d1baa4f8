"""An ontology load is in the audit trail with its version and counts; loading the same file
again changes nothing and records nothing."""

from __future__ import annotations

from core import audit
from tests.ontologies.conftest import load_bytes, tiny_ttl


def _loads(app):
    with app.app_context():
        return audit.events_for("ontology", "TINY", newest_first=False)


def test_each_load_that_changes_the_store_is_recorded_with_its_counts(app):
    load_bytes(app, tiny_ttl(version="1"), "tiny.ttl", prefix="TINY")
    load_bytes(app, tiny_ttl(version="1"), "tiny.ttl", prefix="TINY")  # unchanged: no event
    load_bytes(app, tiny_ttl(version="2", aml_label="AML"), "tiny.ttl", prefix="TINY")
    first, second = _loads(app)
    assert (first.action, second.action) == ("ontology.loaded", "ontology.loaded")
    assert first.context["status"] == "loaded" and first.context["added"] > 0
    assert first.after["version"] == "1" and first.before is None
    assert second.context["status"] == "updated" and second.context["changed"] == 1
    assert (second.before, second.after) == ({"version": "1"}, {"version": "2"})
    assert second.actor_label == audit.SYSTEM_LABEL
    assert "1 changed" in second.summary
