"""What the harmonisation matrix gets from a selection (``?selection=<id>``): the published
datasets in the order they were added, with the chosen variable names or None for a whole
dataset; only for the owner, or for whoever holds a share link; 404 for anyone else."""

from __future__ import annotations

import pytest

from catalogue.selection import services
from core.errors import NotFound
from tests.catalogue.selection.conftest import user


@pytest.fixture
def filled(app, world):
    """The researcher's selection: sel-mds with two variables, then sel-bare whole, then
    sel-aml with one variable."""
    with app.app_context():
        me = user(world, "researcher")
        services.add_dataset(me, "sel-mds", ["blasts", "ipss_r"])
        services.add_dataset(me, "sel-bare")
        view = services.add_dataset(me, "sel-aml", ["npm1"])
        return view.id


def test_the_owner_gets_datasets_in_order_with_their_chosen_variables(app, world, filled):
    with app.app_context():
        got = services.selection_for_matrix(user(world, "researcher"), filled)
    assert got == [
        (world.ids["sel-mds"], frozenset({"blasts", "ipss_r"})),
        (world.ids["sel-bare"], None),
        (world.ids["sel-aml"], frozenset({"npm1"})),
    ]


def test_a_dataset_retired_since_it_was_added_is_left_out(app, world, filled):
    from catalogue.datasets import services as datasets
    from core.etags import UNCHECKED
    from core.policies import SYSTEM

    with app.app_context():
        datasets.retire(SYSTEM, "sel-bare", "Withdrawn.", UNCHECKED)
        got = services.selection_for_matrix(user(world, "researcher"), filled)
    assert [dataset for dataset, _ in got] == [world.ids["sel-mds"], world.ids["sel-aml"]]


@pytest.mark.parametrize("who", ["other_researcher", "custodian", None])
def test_anyone_but_the_owner_gets_404(app, world, filled, who):
    with app.app_context():
        actor = user(world, who) if who else None
        with pytest.raises(NotFound):
            services.selection_for_matrix(actor, filled)


def test_an_unknown_selection_is_404(app, world, filled):
    with app.app_context(), pytest.raises(NotFound):
        services.selection_for_matrix(user(world, "researcher"), "0" * 32)


def test_a_share_link_opens_it_until_it_is_revoked(app, world, filled):
    with app.app_context():
        me = user(world, "researcher")
        link = services.share_selection(me, filled)
        got = services.shared_selection_for_matrix(link.token)
        assert [dataset for dataset, _ in got] == [
            world.ids["sel-mds"],
            world.ids["sel-bare"],
            world.ids["sel-aml"],
        ]
        services.unshare_selection(me, filled)
        with pytest.raises(NotFound):
            services.shared_selection_for_matrix(link.token)


@pytest.mark.parametrize("token", ["", "short", "x" * 43, "../../etc/passwd" + "a" * 30, "é" * 43])
def test_a_made_up_token_is_404(app, world, filled, token):
    with app.app_context(), pytest.raises(NotFound):
        services.shared_selection_for_matrix(token)
