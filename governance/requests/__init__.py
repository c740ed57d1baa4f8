"""Access requests, their review by the data access committee, and the entitlements they lead to."""
