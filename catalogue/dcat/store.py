"""An rdflib store for graphs that are built once and written once.

The export builds one small graph per dataset (about a hundred triples) and writes it straight
away: rdflib's stores keep three indexes per triple and cost most of the time. This one keeps
the triples grouped by subject, in the order they were added (a set per subject), which is also
the order the writers want: one block per resource, the dataset first.

It answers every pattern rdflib's ``Graph`` asks (``triples``, ``remove``, ``len``) by scanning,
which is fine for graphs of this size; it has no contexts, quoted graphs or transactions.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rdflib.store import Store
from rdflib.term import Node

Group = dict[tuple[Node, Node], None]


class GroupedStore(Store):
    context_aware = False
    formula_aware = False
    transaction_aware = False
    graph_aware = False

    def __init__(self, configuration: Any = None, identifier: Any = None) -> None:
        super().__init__(configuration)
        #: subject → {(predicate, object): None}, both in insertion order
        self.subjects: dict[Node, Group] = {}
        self._count = 0

    def add(self, triple: Any, context: Any = None, quoted: bool = False) -> None:
        subject, predicate, obj = triple
        group = self.subjects.get(subject)
        if group is None:
            group = self.subjects[subject] = {}
        key = (predicate, obj)
        if key not in group:
            group[key] = None
            self._count += 1

    def remove(self, triple: Any, context: Any = None) -> None:
        subject, predicate, obj = triple
        for s in [subject] if subject is not None else list(self.subjects):
            group = self.subjects.get(s)
            if not group:
                continue
            for key in [k for k in group if _matches(k, predicate, obj)]:
                del group[key]
                self._count -= 1

    def triples(self, triple_pattern: Any, context: Any = None) -> Iterator[Any]:
        subject, predicate, obj = triple_pattern
        for s in [subject] if subject is not None else list(self.subjects):
            for key in list(self.subjects.get(s, ())):
                if _matches(key, predicate, obj):
                    yield (s, key[0], key[1]), iter(())

    def __len__(self, context: Any = None) -> int:
        return self._count


def _matches(key: tuple[Node, Node], predicate: Node | None, obj: Node | None) -> bool:
    return (predicate is None or key[0] == predicate) and (obj is None or key[1] == obj)
