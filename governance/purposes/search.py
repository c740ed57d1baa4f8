"""Search by fit to a saved purpose, and by requestability: two facets of the catalogue's
search (:func:`catalogue.search.facets.register_facet`) and the hits' ``fit``.

``purpose={id}`` (one of the caller's saved purposes) checks the purpose against the data-use
conditions of every candidate: each hit carries ``fit`` (outcome and reasons) and the facet
"Fits my purpose" counts the candidates per outcome; ``fit=compatible`` (repeatable:
``compatible``, ``needs_review``, ``incompatible``, ``no_conditions``) keeps those.

How it stays cheap at 10,000 datasets: conditions are compared by their *signature* (a hash
of their content, :attr:`governance.matching.check.Conditions.signature`, stored beside them).
A catalogue has far fewer distinct conditions than datasets (a custodian states the same
conditions for most of its datasets), so per search:

1. the distinct signatures are read from the signature index (one statement);
2. the conditions of a signature never seen by this worker are read once and kept (a
   signature names its content: it never goes stale);
3. the check runs once per (purpose content, signature, ontology versions), memoised, so a
   second search with the same purpose runs no check at all;
4. the filter is ``EXISTS (… data_use_conditions WHERE dataset_id = d.dataset_id AND signature
   IN (:signatures))`` with the signatures of the chosen outcomes as one expanding bound
   parameter (one cached statement per shape), and the counts one ``GROUP BY signature`` over
   the candidates, mapped to outcomes here.

``requestable=true`` (or ``false``) keeps the datasets that can (or cannot) be requested today:
an active agreement covers them and they have conditions
(:func:`governance.agreements.services.requestable_condition`).

In a search engine (:mod:`catalogue.search.engine.base`) both facets read fields that do not
depend on the caller or the date: the conditions' signature (``conditions_signature``,
:mod:`governance.data_use.search`) and the ids of the active agreements that cover the
dataset (``agreements``, :func:`engine_fields`). ``fit`` becomes the signatures with the chosen
outcomes and its counts the documents per signature, as in SQL; ``requestable`` becomes "one
of the agreements in effect today" (:func:`agreements_in_effect`, a few rows read once per
transaction) and "has conditions". An agreement's change event has the engine write its
datasets' documents again after the commit; one that ends (expires, is terminated or
superseded) needs none to be exact, as the agreements in effect are read at search time.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, any_, case, func, literal_column, not_, or_, select
from sqlalchemy.dialects import postgresql

from catalogue.search.engine.base import (
    AllOf,
    EngineDocument,
    Everything,
    MatchCount,
    Not,
    Terms,
    TermsCount,
    register_fields,
)
from catalogue.search.facets import Facet, FacetValue
from core import events
from core.db import get_session
from core.errors import InvalidInput
from core.policies import Actor, is_user
from governance.data_use.search import (
    NO_SIGNATURE,
    SIGNATURE_FIELD,
    chunks,
    dataset_of,
    refresh_engine,
)
from governance.matching.check import (
    COMPATIBLE,
    INCOMPATIBLE,
    NEEDS_REVIEW,
    Conditions,
    Result,
    check_many,
)
from governance.matching.hierarchy import current_hierarchy

NO_CONDITIONS = "no_conditions"
#: the fit facet's values, in display order, with their labels
FIT_LABELS = {
    COMPATIBLE: "Compatible",
    NEEDS_REVIEW: "Needs review",
    INCOMPATIBLE: "Incompatible",
    NO_CONDITIONS: "No conditions stated",
}
NO_CONDITIONS_REASON = {
    "rule": "conditions",
    "outcome": NO_CONDITIONS,
    "message": "The custodian has not stated this dataset's data-use conditions yet, so "
    "nothing can be checked.",
}
_PURPOSE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: memoised checks: (purpose content, ontology versions) → {signature: result}, for this many
#: purposes (each a few hundred kB at 10,000 datasets)
MAX_CHECKS = 200
#: conditions by signature (content-addressed: an entry never goes stale)
MAX_CONDITIONS = 50_000


def _is_postgresql() -> bool:
    return get_session().get_bind().dialect.name == "postgresql"


def _conditions_table() -> Any:
    from governance.data_use.models import DataUseConditions

    return DataUseConditions.__table__


# --- the checks, memoised -------------------------------------------------------------------


class _Memo:
    """A bounded, thread-safe map (least recently used forgotten first)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get_many(self, keys: Iterable[Hashable]) -> dict[Hashable, Any]:
        with self._lock:
            found = {}
            for key in keys:
                if key in self._items:
                    self._items.move_to_end(key)
                    found[key] = self._items[key]
            return found

    def put_many(self, items: dict[Hashable, Any]) -> None:
        with self._lock:
            self._items.update(items)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


CHECKS = _Memo(MAX_CHECKS)
CONDITIONS = _Memo(MAX_CONDITIONS)


def forget() -> None:
    """Drop the memoised checks, conditions and signatures (tests)."""
    global _signatures
    CHECKS.clear()
    CONDITIONS.clear()
    with _signatures_lock:
        _signatures = (None, [])


_signatures_lock = threading.Lock()
_signatures: tuple[Any, list[str]] = (None, [])  # (stamp, signatures) of this worker


def distinct_signatures() -> list[str]:
    """Every distinct signature of the stored conditions. Reading them is thousands of rows at
    10,000 datasets, so this worker keeps them with a stamp of the table that any change of a
    signature moves — the number of rows, the sum of their revisions (a change of content
    moves its row's revision) and the latest change — and reads them again only when the
    stamp moved (one aggregate row per search). A signature kept after its last row went
    away matches nothing."""
    global _signatures
    table = _conditions_table()
    session = get_session()
    stamp = tuple(
        session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(table.c.revision), 0),
                func.max(table.c.updated_at),
            )
        ).one()
    )
    with _signatures_lock:
        if _signatures[0] == stamp:
            return _signatures[1]
    found = list(session.scalars(select(table.c.signature).distinct()))
    with _signatures_lock:
        _signatures = (stamp, found)
    return found


def conditions_by_signature(signatures: Iterable[str]) -> dict[str, Conditions]:
    """The conditions each signature stands for: from this worker's memory, the ones never
    seen before read in one statement."""
    from governance.data_use.vocabulary import from_stored

    wanted = sorted(set(signatures))
    known: dict[str, Conditions] = CONDITIONS.get_many(wanted)  # type: ignore[assignment]
    missing = [s for s in wanted if s not in known]
    if missing:
        table = _conditions_table()
        found: dict[Hashable, Any] = {}
        for chunk in _chunks(missing, 500):
            one_each = (  # one dataset's row per signature (JSON columns cannot be DISTINCT)
                select(func.min(table.c.dataset_id))
                .where(table.c.signature.in_(chunk))
                .group_by(table.c.signature)
            )
            for signature, permission, diseases, modifiers in get_session().execute(
                select(
                    table.c.signature, table.c.permission, table.c.diseases, table.c.modifiers
                ).where(table.c.dataset_id.in_(one_each))
            ):
                if signature not in found:
                    found[signature] = from_stored(permission, diseases or [], modifiers or [])
        CONDITIONS.put_many(found)
        known.update(found)  # type: ignore[arg-type]
    return known


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def fit_by_signature(
    purpose_key: str, purpose: Any, signatures: Iterable[str]
) -> dict[str, Result]:
    """The check's result of ``purpose`` (its content hashed as ``purpose_key``) against each
    signature's conditions: memoised per (purpose content, ontology versions) and signature,
    the missing ones run at once with :func:`check_many`."""
    wanted = set(signatures)
    if not wanted:
        return {}
    key = (purpose_key, tuple(sorted(current_hierarchy().versions.items())))
    known: dict[str, Result] = CHECKS.get_many([key]).get(key) or {}
    missing = sorted(wanted - known.keys())
    if missing:
        conditions = conditions_by_signature(missing)
        missing = [s for s in missing if s in conditions]
        curies = set(purpose.diseases) | {d for s in missing for d in conditions[s].diseases}
        hierarchy = current_hierarchy(curies)
        results = check_many(purpose, [conditions[s] for s in missing], hierarchy)
        known = {**known, **dict(zip(missing, results, strict=True))}
        CHECKS.put_many({key: known})
    return known  # signatures no longer stored too: they match nothing


def fit_json(result: Result | None) -> dict[str, Any]:
    """A hit's ``fit``: the outcome and its reasons (``no_conditions`` without conditions)."""
    if result is None:
        return {"outcome": NO_CONDITIONS, "reasons": [dict(NO_CONDITIONS_REASON)]}
    return {
        "outcome": result.outcome,
        "reasons": [
            {"rule": r.rule, "outcome": r.outcome, "message": r.message} for r in result.reasons
        ],
    }


# --- the fit facet --------------------------------------------------------------------------


@dataclass
class FitSelection:
    """``purpose={id}`` and ``fit=…`` as parsed; :meth:`FitFacet.bind` adds the caller's
    purpose and the outcome of every stored signature."""

    purpose_id: str
    outcomes: tuple[str, ...] = ()  # the fit= values (none: the purpose only annotates)
    name: str = ""
    results: dict[str, Result] = field(default_factory=dict)  # signature → result

    @property
    def filters(self) -> bool:
        return bool(self.outcomes)

    def signatures(self) -> list[str]:
        """The signatures whose outcome is chosen."""
        chosen = set(self.outcomes)
        return sorted(s for s, r in self.results.items() if r.outcome in chosen)

    def outcome_of(self, signature: str | None) -> str:
        if not signature:
            return NO_CONDITIONS
        result = self.results.get(signature)
        return result.outcome if result is not None else NO_CONDITIONS


class FitFacet(Facet):
    """ "Fits my purpose": the candidates by the outcome of the check of the caller's saved
    purpose (``purpose``) against their data-use conditions; ``fit`` filters."""

    name, label = "fit", "Fits my purpose"
    descriptions = {
        "purpose": "The id of one of your saved purposes (GET /api/v1/me/purposes): every hit "
        "carries `fit` (the compatibility check's outcome and reasons) and the facet `fit` "
        "counts the hits per outcome. Logged-in callers only; a purpose that is not yours is a "
        "422 naming purpose.",
        "fit": "With purpose: compatible, needs_review, incompatible or no_conditions (the "
        "dataset states no data-use conditions). Repeat for OR.",
    }

    template = "purposes/_fit_facet.html"
    page_order = 0  # first: the reason to come here

    @property
    def params(self) -> tuple[str, ...]:
        return ("purpose", "fit")

    def page_context(self, actor: Any, selection: Any) -> dict[str, Any]:
        """The caller's saved purposes for the search form's select (none for anonymous
        callers, who do not see the box)."""
        from governance.purposes import services

        if not is_user(actor):
            return {"logged_in": False, "purposes": [], "selected": None}
        return {
            "logged_in": True,
            "purposes": services.all_purposes(actor),
            "selected": selection.purpose_id if selection is not None else None,
        }

    def parse(self, args: dict[str, list[str]]) -> Any:
        given = [v.strip() for v in args.get("purpose", []) if v.strip()]
        fits = list(dict.fromkeys(v.strip() for v in args.get("fit", []) if v.strip()))
        unknown = [v for v in fits if v not in FIT_LABELS]
        if unknown:
            raise self.invalid(
                f"Unknown fit {', '.join(unknown)}; use one of: {', '.join(FIT_LABELS)}.", "fit"
            )
        if len(set(given)) > 1:
            raise self.invalid("Give one purpose.", "purpose")
        if not given:
            if fits:
                raise self.invalid(
                    "Filter by fit to a purpose: give one of your saved purposes as purpose.",
                    "fit",
                )
            return None
        if not _PURPOSE_ID.match(given[0]):
            raise self.invalid("Not the id of a saved purpose.", "purpose")
        return FitSelection(purpose_id=given[0], outcomes=tuple(fits))

    def bind(self, actor: Actor, selection: Any) -> Any:
        """The caller's saved purpose and the outcome of every stored signature.

        :raises InvalidInput: (purpose) for anonymous callers and for a purpose that is not
            one of the caller's (another user's is reported as unknown, never as forbidden).
        """
        if selection is None:
            return None
        from governance.purposes import services

        if not is_user(actor):
            raise self.invalid("Log in to search by fit to one of your saved purposes.", "purpose")
        try:
            saved = services.get_purpose(actor, selection.purpose_id)
        except Exception as exc:  # NotFound: none of the caller's
            if isinstance(exc, InvalidInput):
                raise
            raise self.invalid("You have no saved purpose with this id.", "purpose") from exc
        purpose = services.purpose_of(saved.purpose)
        key = services.content_key(saved.purpose)
        results = fit_by_signature(key, purpose, distinct_signatures())
        return FitSelection(selection.purpose_id, selection.outcomes, saved.name, results)

    def shape(self, selection: Any) -> Hashable:
        if selection is None:
            return None
        return (
            any(o != NO_CONDITIONS for o in selection.outcomes),
            NO_CONDITIONS in selection.outcomes,
        )

    def parameters(self, selection: Any) -> dict[str, Any]:
        if selection is None or not any(o != NO_CONDITIONS for o in selection.outcomes):
            return {}
        signatures = selection.signatures()
        if not _is_postgresql():
            return {self.param_name("signatures"): json.dumps(signatures)}
        return {self.param_name("signatures"): signatures}

    def condition(self, document: Any, selection: Any) -> Any:
        if selection is None or not selection.filters:
            return None  # the purpose alone annotates and counts, it filters nothing
        # uncorrelated subqueries: the database reads the (few) matching rows once and
        # hashes them, where a correlated EXISTS would test the signature list per candidate
        table = _conditions_table()
        parts: list[Any] = []
        if any(o != NO_CONDITIONS for o in selection.outcomes):
            # thousands of signatures as ONE parameter (a PostgreSQL array, a JSON array read
            # by SQLite's json_each): an expanding IN would render and parse one placeholder
            # per signature on every search
            if _is_postgresql():
                chosen = self.param("signatures", type_=postgresql.ARRAY(String))
                matches = table.c.signature == any_(chosen)
            else:
                listed = func.json_each(self.param("signatures", type_=String)).table_valued(
                    "value"
                )
                matches = table.c.signature.in_(select(listed.c.value))
            fitting = select(table.c.dataset_id).where(matches)
            parts.append(document.c.dataset_id.in_(fitting))
        if NO_CONDITIONS in selection.outcomes:
            parts.append(document.c.dataset_id.not_in(select(table.c.dataset_id)))
        return or_(*parts)

    def counts(self, candidates: Any, where: Any, selection: Any) -> Any:
        if selection is None:
            return []
        table = _conditions_table()
        signature = func.coalesce(table.c.signature, literal_column("''"))
        return (
            select(signature, func.count())
            .select_from(candidates.outerjoin(table, table.c.dataset_id == candidates.c.dataset_id))
            .where(where)
            .group_by(signature)
        )

    def values(self, rows: list[tuple[str, int]], selection: Any) -> list[FacetValue]:
        if selection is None:
            return []
        counted = dict.fromkeys(FIT_LABELS, 0)
        for signature, count in rows:
            counted[selection.outcome_of(signature)] += count
        chosen = set(selection.outcomes)
        return [
            FacetValue(value, label, counted[value], selected=value in chosen)
            for value, label in FIT_LABELS.items()
        ]

    # --- the same in a search engine: by the documents' conditions_signature --------------

    def engine_clause(self, selection: Any) -> Any:
        if selection is None or not selection.filters:
            return None
        signatures = selection.signatures() if set(selection.outcomes) - {NO_CONDITIONS} else []
        if NO_CONDITIONS in selection.outcomes:
            signatures.append(NO_SIGNATURE)
        return Terms(SIGNATURE_FIELD, tuple(signatures)) if signatures else NOTHING

    def engine_counts(self, selection: Any) -> tuple[Any, ...]:
        return () if selection is None else (TermsCount(SIGNATURE_FIELD),)

    def engine_rows(self, rows: list[tuple[str, int]], selection: Any) -> list[tuple[str, int]]:
        """Documents per signature, as :meth:`counts` gives them ('' for none)."""
        return [("" if value == NO_SIGNATURE else value, count) for value, count in rows if count]


def annotate_fit(actor: Actor, query: Any, hits: list[Any]) -> None:
    """``hit.extras["fit"]`` for every hit of a search with a purpose (one statement for the
    page's signatures; the results are the facet's, already computed)."""
    selection = query.selections.get(FitFacet.name) if query is not None else None
    if not isinstance(selection, FitSelection) or not hits:
        return
    table = _conditions_table()
    rows = get_session().execute(
        select(table.c.dataset_id, table.c.signature).where(
            table.c.dataset_id.in_(sorted({h.dataset_id for h in hits}))
        )
    )
    signatures: dict[str, str] = {row[0]: row[1] for row in rows}
    for hit in hits:
        signature = signatures.get(hit.dataset_id)
        hit.extras["fit"] = fit_json(selection.results.get(signature) if signature else None)


# --- requestable ----------------------------------------------------------------------------

TRUE_WORDS = {"true": True, "false": False}


class RequestableFacet(Facet):
    """ "Requestable now": an active agreement covers the dataset today and it has data-use
    conditions. ``requestable=true`` keeps those, ``requestable=false`` the others."""

    name, label = "requestable", "Requestable now"
    repeatable = False
    page_order = 1
    descriptions = {
        "requestable": "true: only datasets that can be requested today (an active "
        "data-sharing agreement covers them and they have data-use conditions); false: only "
        "the others.",
    }

    def parse(self, args: dict[str, list[str]]) -> Any:
        values = list(
            dict.fromkeys(v.strip().lower() for v in args.get(self.name, []) if v.strip())
        )
        if not values:
            return None
        if len(values) > 1 or values[0] not in TRUE_WORDS:
            raise self.invalid("true or false.")
        return TRUE_WORDS[values[0]]

    def shape(self, selection: Any) -> Hashable:
        return selection

    def _requestable(self, dataset_id: Any) -> Any:
        from governance.agreements.services import requestable_condition

        return requestable_condition(dataset_id)

    def condition(self, document: Any, selection: Any) -> Any:
        requestable = self._requestable(document.c.dataset_id)
        return requestable if selection else not_(requestable)

    def counts(self, candidates: Any, where: Any, selection: Any) -> Any:
        flag = case(
            (self._requestable(candidates.c.dataset_id), literal_column("'true'")),
            else_=literal_column("'false'"),
        )
        flagged = select(flag.label("value")).select_from(candidates).where(where).subquery()
        return select(flagged.c.value, func.count()).group_by(flagged.c.value)

    def values(self, rows: list[tuple[str, int]], selection: Any) -> list[FacetValue]:
        counted = dict(rows)
        # the facet is "Requestable now", so its values read "Yes" and "No" (and the filter's
        # chip "Requestable now: Yes")
        out = [FacetValue("true", "Yes", counted.get("true", 0), selected=selection is True)]
        if selection is False:
            out.append(FacetValue("false", "No", counted.get("false", 0), selected=True))
        return out

    # --- the same in a search engine: agreements in effect today, and conditions ----------

    def _engine_requestable(self) -> Any:
        in_effect = agreements_in_effect()
        if not in_effect:
            return NOTHING
        return AllOf(
            (
                Terms(AGREEMENTS_FIELD, in_effect),
                Not(Terms(SIGNATURE_FIELD, (NO_SIGNATURE,))),
            )
        )

    def engine_clause(self, selection: Any) -> Any:
        requestable = self._engine_requestable()
        return requestable if selection else Not(requestable)

    def engine_counts(self, selection: Any) -> tuple[Any, ...]:
        requestable = self._engine_requestable()
        return (MatchCount("true", requestable), MatchCount("false", Not(requestable)))

    def engine_rows(self, rows: list[tuple[str, int]], selection: Any) -> list[tuple[str, int]]:
        return [(value, count) for value, count in rows if count]


# --- the engine's fields, kept current ------------------------------------------------------

#: the ids of the active agreements that cover the document's dataset (whether they are in
#: effect today is asked at search time: :func:`agreements_in_effect`)
AGREEMENTS_FIELD = "agreements"
#: matches no document
NOTHING = Not(Everything())
_IN_EFFECT = "governance_agreements_in_effect"  # session.info: (transaction, day, ids)


def agreements_in_effect() -> tuple[str, ...]:
    """The ids of the agreements in effect today (active, from ``effective_on`` up to, not
    including, ``expires_on``): a few rows, read once per transaction and day (a search asks
    for them for its clause and for its counts)."""
    from governance.agreements import services as agreements
    from governance.agreements.models import Agreement

    session = get_session()
    on = agreements.today()
    cached = session.info.get(_IN_EFFECT)
    current = session.get_transaction()
    if cached is not None and current is not None and cached[0] is current and cached[1] == on:
        return cached[2]
    ids = tuple(sorted(session.scalars(select(Agreement.id).where(agreements._active_on(on)))))
    session.info[_IN_EFFECT] = (session.get_transaction(), on, ids)
    return ids


def engine_fields(documents: Sequence[EngineDocument]) -> dict[int, dict[str, Any]]:
    """``agreements`` of each document: the active agreements covering its dataset, whatever
    their dates (one statement per :data:`~governance.data_use.search.ENGINE_CHUNK`
    datasets)."""
    from governance.agreements.models import Agreement, AgreementDataset, AgreementStatus

    datasets = sorted({dataset_of(d) for d in documents})
    session = get_session()
    covering: dict[str, list[str]] = {}
    for chunk in chunks(datasets):
        for dataset_id, agreement_id in session.execute(
            select(AgreementDataset.dataset_id, AgreementDataset.agreement_id)
            .join(Agreement, Agreement.id == AgreementDataset.agreement_id)
            .where(
                AgreementDataset.dataset_id.in_(chunk),
                Agreement.status == AgreementStatus.ACTIVE,
            )
            .order_by(AgreementDataset.dataset_id, AgreementDataset.agreement_id)
        ).all():
            covering.setdefault(dataset_id, []).append(agreement_id)
    return {d.id: {AGREEMENTS_FIELD: list(covering.get(dataset_of(d), []))} for d in documents}


def on_agreement_event(event: events.Event) -> None:
    """Any change of an agreement (made, edited, activated, amended, ended, deleted): its
    datasets' documents are written again after the commit. Only an activation changes what
    :func:`engine_fields` gives; the rest keeps the documents tidy."""
    from governance.agreements.jobs import REMINDER_EVENT
    from governance.agreements.models import AgreementDataset

    if event.name == REMINDER_EVENT:
        return
    session = get_session()
    session.flush()
    refresh_engine(
        session.scalars(
            select(AgreementDataset.dataset_id).where(
                AgreementDataset.agreement_id == event.object_id
            )
        )
    )


def register_engine() -> None:
    """The engine's ``agreements`` field, kept current (once, however many applications are
    made)."""
    register_fields({AGREEMENTS_FIELD: "keyword"}, engine_fields)
    events.subscribe("agreement.*", on_agreement_event)
