"""Search engines behind the search service: the contract (:mod:`.base`), the embedded default
and an adapter for a distributed engine."""
