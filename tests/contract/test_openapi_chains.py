"""The stateful chains of the OpenAPI document keep its contract (see fuzzing.py)."""

import pytest

from tests.contract.fuzzing import STATEFUL_ROLES, stateful_chains_keep_the_contract
from tests.contract.fuzzing import _report_counts as _report_counts  # counts the requests
from tests.contract.fuzzing import world as world  # the role table's world


@pytest.mark.parametrize("role", STATEFUL_ROLES)
def test_stateful_chains_keep_the_contract(app, world, role: str) -> None:
    """The linked chains (POST /datasets → GET/PATCH/DELETE /datasets/{identifier}, POST
    /organisations → …) as a custodian and as an administrator."""
    stateful_chains_keep_the_contract(app, world, role)
