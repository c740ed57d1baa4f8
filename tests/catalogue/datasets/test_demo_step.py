"""The demo datasets step in other worlds than the whole demo's: a catalogue with datasets of
its own, an empty store without vocabularies, the accounts only, no ``../shared``; and the demo
data files on their own. (The loaded demo itself is checked once per module in
``test_demo.py``.)"""

from __future__ import annotations

from sqlalchemy import func, select

from catalogue.datasets import demo as catalogue_demo
from catalogue.datasets import services as datasets
from catalogue.dictionary.units import unit_problem
from catalogue.models import Dataset, DatasetStatus
from core import demo as core_demo
from core.db import get_session

DEMO_PASSWORD = "demo datasets test password 42"


def _load() -> None:
    """The core demo (partner organisations, accounts) with the demo steps."""
    assert core_demo.load_demo(password=DEMO_PASSWORD, with_steps=True) is not None


def _published() -> list[Dataset]:
    return list(
        get_session().scalars(select(Dataset).where(Dataset.status == DatasetStatus.PUBLISHED))
    )


def test_the_demo_datasets_find_owners_in_the_built_in_organisations(
    app, vocabularies, tmp_path, monkeypatch
):
    """Without ../shared the core demo creates its small built-in set of organisations."""
    monkeypatch.setattr(core_demo, "SHARED_DIR", tmp_path)
    with app.app_context():
        result = core_demo.load_demo(password=DEMO_PASSWORD, with_steps=True)
        assert result is not None
        assert result.organisations == len(core_demo.BUILT_IN_ORGANISATIONS)
        assert len(_published()) >= 7
        custodian = core_demo.services.find_user_by_email(catalogue_demo.DEMO_CUSTODIAN_EMAIL)
        assert len(datasets.list_datasets(custodian, mine=True).items) >= 2


def test_the_demo_step_leaves_a_catalogue_with_datasets_alone(app, make, vocabularies):
    organisation = make.organisation()
    make.dataset(organisation, publish=True, title="Someone's own trial")
    with app.app_context():
        notes = catalogue_demo.create_demo_datasets()
        assert notes == ["demo datasets: the catalogue has datasets already; none added"]
        assert get_session().scalar(select(func.count()).select_from(Dataset)) == 1


def test_without_vocabularies_the_demo_step_says_what_to_do(app):
    with app.app_context():
        notes = catalogue_demo.create_demo_datasets()
        assert get_session().scalar(select(func.count()).select_from(Dataset)) == 0
        assert any("harmony ontologies load-bundled" in n for n in notes)
        _load()  # its vocabularies step comes first
        assert len(_published()) >= 7


def test_accounts_only_loads_no_datasets(app, vocabularies):
    """The browser tests load the demo accounts only (``with_steps=False``)."""
    with app.app_context():
        result = core_demo.load_demo(password=DEMO_PASSWORD, with_steps=False)
        assert result is not None and result.accounts
        assert get_session().scalar(select(func.count()).select_from(Dataset)) == 0


def test_the_step_is_registered_after_the_vocabularies(app):
    steps = core_demo._STEPS
    assert catalogue_demo.load_demo_datasets in steps
    names = [getattr(s, "__module__", "") for s in steps]
    assert names.index("ontologies") < names.index("catalogue.datasets.demo")


def test_demo_data_files_agree_with_each_other():
    concepts = catalogue_demo.read_concepts()
    specs = catalogue_demo.read_specs()
    assert len(specs) >= 8
    assert len({s.identifier for s in specs}) == len(specs)
    for spec in specs:
        names = [v.name for v in spec.variables]
        assert len(names) == len(set(names)), spec.identifier
        assert {v.since for v in spec.variables} <= set(range(1, len(spec.payloads) + 1))
        for variable in spec.variables:
            codes = {v["code"] for v in variable.permissible_values}
            for ref in variable.mappings:
                assert ref.value_code is None or ref.value_code in codes
    for concept in concepts.values():
        if concept.unit:
            assert unit_problem(concept.unit) is None, concept.key
