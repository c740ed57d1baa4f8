"""Every operation of the OpenAPI document keeps its contract when called as ``admin``: the
second of every two operations (the other half is in test_openapi_fuzz_admin_1.py; see
fuzzing.py)."""

from tests.contract.fuzzing import _report_counts, operation_tests, world  # noqa: F401

globals().update(operation_tests("admin", part=1, parts=2))
