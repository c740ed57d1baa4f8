"""Every operation of the OpenAPI document keeps its contract when called as ``anonymous``
(see fuzzing.py)."""

from tests.contract.fuzzing import _report_counts, operation_tests, world  # noqa: F401

globals().update(operation_tests("anonymous"))
