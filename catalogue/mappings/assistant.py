"""The mapping assistant: lexical suggestions of terms for variables and permissible values.

Custodians name variables the way their case report forms do — ``hb_dx``, ``flt3itd``,
``ecog_bl``, ``bm_blasts_pct`` — and label them in a line of prose. The assistant reads both:

1. **Tokens.** Names are split at underscores, punctuation, camelCase humps and letter/digit
   seams that leave known words on both sides; a run-together token is cut into known pieces
   (``hbdx`` → ``hb dx``, ``flt3itd`` → ``flt3 itd``) when it is not a word itself.
2. **Readings of each token.** The token itself, and the expansions of common clinical
   abbreviations (:data:`ABBREVIATIONS`: ``dx`` = diagnosis, ``bm`` = bone marrow, ``dt`` = date
   …). Time points (``bl``, ``dx``, ``fu``, ``m3``, ``c2`` …), units, yes/no and words such as
   ``value`` or ``status`` are *weak*: they count when a term's name has them (``age_dx`` →
   "Age at diagnosis") and are otherwise ignored (``hb_dx`` → "Haemoglobin"). Words in
   brackets in a label are weak too ("Weight (kg)").
3. **Matching term names.** Every label, synonym and abbreviation of the terms of
   :data:`VARIABLE_VOCABULARIES` is tokenised the same way (British and American spellings
   folded, plurals and stop words dropped). A query token matches a name token exactly, as a
   stem (``mutated`` ~ ``mutation``), as a prefix (``neut`` → neutrophil), as a spelling
   neighbour, or as letters in order (``hgb`` → hemoglobin); a query token also matches a whole
   name by its initials (``yob`` → year of birth) or written together (``cart`` → CAR-T).
4. **Score.** For each name: recall (how much of the query's non-weak tokens the name covers)
   and precision (how much of the name the query covers), combined as their harmonic mean; a
   term scores with its best name. Name and label are scored separately and combined; value
   type and unit agreement break ties; variables prefer the HARMONY variables (``HV``) over
   disease terms, and never the grouping concepts of HV (those without a value type).
5. **Traps.** Many names share a generic word (:data:`GENERIC_WORDS`: group, status, date,
   type, score …), an organisation (:data:`ORGANISATIONS`: WHO, ELN …), a bare number or a
   single letter with names of other concepts: “Disease group” and “Ethnic group”, “WHO 2016
   diagnosis” and “WHO PS”. A name met *only* in such words while a distinctive word of it is
   missed (“ethnic”, “PS”) scores :data:`GENERIC_ONLY_WEIGHT` of its score (the reason says
   “only “group” in common”) — or :data:`GENERIC_ONLY_FALLBACK_WEIGHT` when no distinctive
   word of the subject met any name, as such matches are then all there is (``stage_aa``: the
   stages). The benchmark's trap rows (bench/data/assistant_traps.csv) hold the assistant to
   it. A name whose numbers disagree with the query's
   (“t(16;16)” for t(8;16), “ELN 2022” for ELN 2017, “del(17p)” for del(7q): each side has a
   number the other lacks) scores :data:`NUMBER_CLASH_WEIGHT` of it. Brackets written onto a
   word with a number inside (``del(7q)``, ``t(8;21)``) are notation, not a weak aside.

Permissible values are read the same way, their label being the query and the variable's
name and label weak context ("Normal" of ``karyotype`` → "Normal karyotype").

Scores lie in [0, 1]; each suggestion says why it was made ("“hb” matches the abbreviation
“Hb” of Haemoglobin; “dx” read as a time point"). The lexicon is read once per run from the
term store (``Term`` and ``TermSynonym`` rows of the chosen vocabularies).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import select

from core.db import get_session
from ontologies.models import SynonymKind, Term, TermSynonym
from ontologies.text import normalise

VARIABLE_VOCABULARIES = ("HV", "HAEM")
# a variable is rarely a disease: disease terms score lower for variables
VOCABULARY_WEIGHT = {"variable": {"HV": 1.0, "HAEM": 0.85}, "value": {"HV": 1.0, "HAEM": 1.0}}
GROUP_WEIGHT = 0.7  # HV's grouping concepts ("Treatment", "Diagnosis") are not variables
MIN_SCORE = {"variable": 0.35, "value": 0.6}
KEEP = 5
# a name met only in generic words or organisations, missing a distinctive word of its own
GENERIC_ONLY_WEIGHT = 0.6
# … when no distinctive word of the query met any name: the generic matches are all there is
GENERIC_ONLY_FALLBACK_WEIGHT = 0.8
# a name with a number the query lacks, for a query with a number the name lacks
NUMBER_CLASH_WEIGHT = 0.5

# Words that say what kind of value a variable holds, not what it is about: two names sharing
# only these ("Disease group" and "Ethnic group", "Year of diagnosis" and "Year of birth")
# name different things. Folded forms (see :func:`fold`).
GENERIC_WORDS = frozenset(
    {
        *("group", "status", "state", "date", "time", "year", "month", "week", "day", "type"),
        *("kind", "score", "index", "number", "count", "total", "code", "level", "value"),
        *("test", "result", "grade", "stage", "category", "class", "risk", "system", "scale"),
        *("version", "edition", "method", "technique", "source", "measurement", "assessment"),
        *("percentage", "ratio", "rate"),
    }
)
# Organisations that name classifications, criteria and scales: "WHO" starts "WHO PS" (a
# performance scale), "WHO diagnosis" and "WHO grade" alike, so it says little on its own.
ORGANISATIONS = frozenset(
    {"who", "eln", "icc", "imwg", "iwg", "nci", "nccn", "ebmt", "cibmtr", "ctcae", "cog"}
    | {"gimema", "hovon", "esmo", "iarc"}
)

# General clinical abbreviations as custodians write them in variable names (expansions in
# lower case; several readings where the abbreviation is ambiguous).
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    # dates, times and counts
    "dt": ("date",),
    "dte": ("date",),
    "yr": ("year", "date"),
    "year": ("date",),  # a year of diagnosis is its date to the year
    "yrs": ("years",),
    "mo": ("month",),
    "mos": ("months",),
    "mth": ("month",),
    "wk": ("week",),
    "n": ("number",),
    "nb": ("number",),
    "no": ("number",),
    "nr": ("number",),
    "num": ("number",),
    "cnt": ("count",),
    "dur": ("duration",),
    # clinical shorthand
    "dx": ("diagnosis",),
    "diag": ("diagnosis",),
    "subtype": ("diagnosis",),  # "WHO 2016 MDS subtype": the diagnosis under a classification
    "hx": ("history",),
    "sx": ("symptoms",),
    "sympt": ("symptoms",),
    "dz": ("disease",),
    "pt": ("patient",),
    "tx": ("treatment", "therapy", "transplantation"),
    "trt": ("treatment",),
    "rx": ("treatment", "therapy"),
    "chemo": ("chemotherapy",),
    "rt": ("radiotherapy",),
    "xrt": ("radiotherapy",),
    "resp": ("response",),
    "rsp": ("response",),
    "rem": ("remission",),
    "cr": ("complete remission", "creatinine"),
    "pr": ("partial response",),
    "sd": ("stable disease",),
    "pd": ("progressive disease", "progression"),
    "prog": ("progression",),
    "rel": ("relapse",),
    "ind": ("induction",),
    "cons": ("consolidation",),
    "maint": ("maintenance",),
    "reg": ("regimen",),
    "int": ("intensity",),
    "eot": ("end of treatment",),
    "eos": ("end of study",),
    "bl": ("baseline",),
    "fu": ("follow up",),
    "lfu": ("last follow up",),
    "prev": ("previous", "prior"),
    "prior": ("previous",),
    "abs": ("absolute",),
    "tot": ("total",),
    "pct": ("percentage",),
    "perc": ("percentage",),
    "elev": ("elevated",),
    "pos": ("positive",),
    "neg": ("negative",),
    "uln": ("upper limit of normal",),
    "lln": ("lower limit of normal",),
    "src": ("source",),
    "grd": ("grade",),
    "gr": ("grade",),
    "inv": ("inversion", "involvement"),
    "enl": ("enlarged",),
    # sites and samples
    "bm": ("bone marrow",),
    "pb": ("peripheral blood",),
    "cns": ("central nervous system",),
    "ln": ("lymph node",),
    "bx": ("biopsy",),
    # laboratory
    "hb": ("haemoglobin",),
    "hgb": ("haemoglobin",),
    "hct": ("haematocrit", "haematopoietic cell transplantation"),
    "wbc": ("white blood cell count",),
    "wcc": ("white cell count",),
    "rbc": ("red blood cell",),
    "plt": ("platelet",),
    "anc": ("absolute neutrophil count",),
    "alc": ("absolute lymphocyte count",),
    "amc": ("absolute monocyte count",),
    "neut": ("neutrophil",),
    "lymph": ("lymphocyte",),
    "mono": ("monocyte", "monosomy"),
    "leuko": ("leukocyte",),
    "ldh": ("lactate dehydrogenase",),
    "b2m": ("beta2 microglobulin",),
    "b2mg": ("beta2 microglobulin",),
    "beta2m": ("beta2 microglobulin",),
    "crp": ("c reactive protein",),
    "alb": ("albumin",),
    "bili": ("bilirubin",),
    "tbili": ("total bilirubin",),
    "creat": ("creatinine",),
    "crea": ("creatinine",),
    "ca": ("calcium",),
    "ua": ("uric acid",),
    "ferr": ("ferritin",),
    "prot": ("protein",),
    "ig": ("immunoglobulin",),
    "flc": ("free light chain",),
    "lc": ("light chain",),
    "hc": ("heavy chain",),
    "iso": ("isotype",),
    "ife": ("immunofixation",),
    "spep": ("serum protein electrophoresis",),
    "upep": ("urine protein electrophoresis",),
    "mprot": ("m protein",),
    "mf": ("myelofibrosis", "marrow fibrosis"),
    "fib": ("fibrosis",),
    "td": ("transfusion dependence",),
    "ti": ("transfusion independence",),
    # genetics
    "mut": ("mutation", "mutated"),
    "mutn": ("mutation",),
    "wt": ("wild type", "weight"),
    "del": ("deletion",),
    "dup": ("duplication",),
    "amp": ("amplification",),
    "tri": ("trisomy",),
    "trans": ("translocation",),
    "fus": ("fusion",),
    "rearr": ("rearrangement",),
    "kary": ("karyotype",),
    "cyto": ("cytogenetic",),
    "cg": ("cytogenetic",),
    "mol": ("molecular",),
    "itd": ("internal tandem duplication",),
    "tkd": ("tyrosine kinase domain",),
    "ptd": ("partial tandem duplication",),
    "vaf": ("variant allele frequency",),
    "ph": ("philadelphia chromosome",),
    # scores, fitness
    "ecog": ("eastern cooperative oncology group performance status",),
    "ps": ("performance status",),
    # transplantation
    "sct": ("stem cell transplantation",),
    "hsct": ("haematopoietic stem cell transplantation",),
    "allo": ("allogeneic",),
    "auto": ("autologous",),
    "gvhd": ("graft versus host disease",),
    "agvhd": ("acute graft versus host disease",),
    "cgvhd": ("chronic graft versus host disease",),
    "cond": ("conditioning",),
    "don": ("donor",),
    # outcomes
    "os": ("overall survival",),
    "efs": ("event free survival",),
    "pfs": ("progression free survival",),
    "rfs": ("relapse free survival",),
    "dfs": ("disease free survival",),
    "dor": ("duration of response",),
    "ttp": ("time to progression",),
    "nrm": ("non relapse mortality",),
    "cod": ("cause of death",),
    "dod": ("date of death",),
    "ae": ("adverse event",),
    "sae": ("serious adverse event",),
    "qol": ("quality of life",),
    "hrqol": ("health related quality of life",),
    "mrd": ("measurable residual disease", "minimal residual disease"),
    "mmr": ("major molecular response",),
    # diseases
    "aml": ("acute myeloid leukaemia",),
    "all": ("acute lymphoblastic leukaemia",),
    "cll": ("chronic lymphocytic leukaemia",),
    "cml": ("chronic myeloid leukaemia",),
    "mds": ("myelodysplastic syndrome", "myelodysplastic neoplasm"),
    "mpn": ("myeloproliferative neoplasm",),
    "mm": ("multiple myeloma",),
    # demographics: the words custodians use for the same thing
    "gender": ("sex",),
    "ht": ("height",),
    "hgt": ("height",),
    "wgt": ("weight",),
    "ctry": ("country",),
    "eth": ("ethnicity",),
}

# words that qualify rather than name a variable: time points, units, method, yes/no, filler
_TIME_POINT = re.compile(
    r"^(?:bl|base|baseline|scr|scrn|screen|screening|dx|diag|diagnosis|enrol|enroll|enrolment|"
    r"enrollment|incl|inclusion|entry|rand|randomisation|randomization|fu|followup|pre|post|"
    r"pretx|posttx|visit|day|days|week|weeks|month|months|year|years|cycle|cycles|"
    r"[vmdwcty]\d{1,3}|mo\d{1,3}|wk\d{1,3}|cy\d{1,3}|yr\d{1,3}|day\d{1,3}|\d+)$"
)
_WEAK_WORDS = frozenset(
    {
        *("value", "val", "result", "level", "lvl", "measurement", "meas", "test", "status"),
        *("stat", "flag", "yn", "yes", "no", "local", "central", "lab", "labs", "used"),
        *("assessment", "done", "category", "cat", "serum", "fish", "pcr", "ngs", "flow", "by"),
        *("method", "mo", "mos", "yrs", "wk", "pct", "percent", "percentage", "perc"),
        # units
        *("kg", "cm", "g", "gl", "gdl", "dl", "mg", "mgl", "mgdl", "umol", "umoll", "mmol"),
        *("mmoll", "l", "ul", "fl", "u", "iu", "x10", "10e9"),
    }
)
_STOP_WORDS = frozenset(
    {"of", "the", "a", "an", "at", "in", "on", "or", "and", "to", "for", "with", "from", "per"}
    | {"as", "is", "vs"}
)
# camelCase humps (hbDx, wbcCount, HBValue) but not a trailing capital (IgG, IgA)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z][a-z])|(?<=[A-Z])(?=[A-Z][a-z])")
_BRACKETS = re.compile(r"[(\[]([^)\]]*)[)\]]")
_DIGIT_RUN = re.compile(r"\d+")
_LETTERS = re.compile(r"[a-z]")


def fold(token: str) -> str:
    """One spelling for British and American forms and for singular and plural:
    haemoglobin → hemoglobin, leukaemia → leukemia, leucocyte → leukocyte, tumour → tumor,
    analysed → analyzed, blasts → blast, therapies → therapy."""
    if len(token) <= 3 or not _LETTERS.search(token):
        return token
    t = token.replace("haem", "hem").replace("aem", "em").replace("leuc", "leuk")
    t = t.replace("oedem", "edem").replace("oesoph", "esoph").replace("oestr", "estr")
    if t.endswith("our") and len(t) > 5:
        t = t[:-3] + "or"
    t = t.replace("isation", "ization").replace("ysed", "yzed").replace("yse", "yze")
    if t.endswith("ies") and len(t) > 5:
        t = t[:-3] + "y"
    elif t.endswith("s") and not t.endswith(("ss", "us", "is", "os")) and len(t) > 4:
        t = t[:-1]
    return t


def words(text: str) -> list[str]:
    """Normalised words: camelCase split, accents and punctuation gone, Greek spelled out."""
    return normalise(_CAMEL.sub(" ", text)).split()


@dataclass
class Name:
    """One label, synonym or abbreviation of a term, tokenised."""

    curie: str
    text: str
    kind: str  # label, synonym, abbreviation
    tokens: tuple[str, ...]  # folded, without stop words
    compact: str
    numbers: Counter[str] = field(default_factory=Counter)  # its digit runs (t(16;16): 16, 16)
    generic: frozenset[str] = frozenset()  # its tokens that say little alone (see _generic)


@dataclass
class TermInfo:
    curie: str
    label: str
    prefix: str
    value_type: str | None
    unit: str | None


@dataclass
class Reading:
    """One way to read a query token: the tokens it stands for, and why."""

    tokens: tuple[str, ...]
    why: str | None = None


@dataclass
class Slot:
    raw: str
    readings: list[Reading]
    weak: bool
    time_point: bool = False
    context: bool = False  # the variable around a value: never what the query is about


@dataclass
class Query:
    source: str  # "name", "label", "value"
    text: str
    slots: list[Slot]


@dataclass
class Subject:
    """What the assistant is asked about: a variable, or one permissible value of it."""

    variable_id: int | None
    value_code: str | None
    name: str
    label: str | None = None
    value_type: str | None = None
    unit: str | None = None
    value_label: str | None = None

    @property
    def kind(self) -> str:
        return "variable" if self.value_code is None else "value"

    @classmethod
    def of_variable(cls, variable: Any) -> Subject:
        value_type = variable.value_type
        return cls(
            variable_id=variable.id,
            value_code=None,
            name=variable.name,
            label=variable.label,
            value_type=getattr(value_type, "value", value_type),
            unit=variable.unit,
        )

    @classmethod
    def of_value(cls, variable: Any, code: str, label: str) -> Subject:
        return cls(
            variable_id=variable.id,
            value_code=code,
            name=variable.name,
            label=variable.label,
            value_label=label or code,
        )


@dataclass
class Proposal:
    curie: str
    label: str
    score: float
    reason: str


@dataclass
class _Match:
    score: float
    name: Name
    query: Query
    used: list[str] = field(default_factory=list)  # explanations of the readings used
    ignored: list[str] = field(default_factory=list)  # weak tokens the name did not need
    indirect: int = 0  # expansions and initials used (a direct match explains itself better)
    doubts: list[str] = field(default_factory=list)  # why the score was lowered
    # the generic words that are all the query met in a name with distinctive words of its own
    generic_only: list[str] = field(default_factory=list)
    distinctive: bool = True  # the query met a distinctive word of the name


class Assistant:
    """Ranks terms for subjects; build it with :meth:`from_store` (or :meth:`from_terms`)."""

    keep = KEEP

    def __init__(self, terms: dict[str, TermInfo], names: list[Name]):
        self.terms = terms
        self.names = names
        self.by_token: dict[str, list[int]] = defaultdict(list)
        self.by_compact: dict[str, list[int]] = defaultdict(list)
        self.by_initials: dict[str, list[int]] = defaultdict(list)
        for i, name in enumerate(names):
            for token in set(name.tokens):
                self.by_token[token].append(i)
            self.by_compact[name.compact].append(i)
            for initials in _initials(name):
                self.by_initials[initials].append(i)
        self.vocabulary = sorted(self.by_token)
        self._token_cache: dict[str, dict[str, float]] = {}
        self._query_cache: dict[tuple[Any, ...], list[Proposal]] = {}

    # --- building ---------------------------------------------------------------------------

    @classmethod
    def from_store(cls, prefixes: Iterable[str] = VARIABLE_VOCABULARIES) -> Assistant:
        """The lexicon of the given vocabularies as the term store holds them now."""
        session = get_session()
        wanted = list(prefixes)
        rows = session.execute(
            select(Term.curie, Term.label, Term.ontology_prefix, Term.value_type, Term.unit)
            .where(Term.ontology_prefix.in_(wanted), Term.is_obsolete.is_(False))
            .order_by(Term.curie)
        ).all()
        terms = {c: TermInfo(c, label, prefix, vt, unit) for c, label, prefix, vt, unit in rows}
        synonyms = session.execute(
            select(TermSynonym.term_curie, TermSynonym.text, TermSynonym.kind)
            .join(Term, Term.curie == TermSynonym.term_curie)
            .where(Term.ontology_prefix.in_(wanted), Term.is_obsolete.is_(False))
            .order_by(TermSynonym.id)
        ).all()
        return cls.from_terms(terms, [(c, t, k) for c, t, k in synonyms])

    @classmethod
    def from_terms(
        cls, terms: dict[str, TermInfo], synonyms: Iterable[tuple[str, str, Any]]
    ) -> Assistant:
        names: list[Name] = []
        for info in terms.values():
            names.append(_name(info.curie, info.label, "label"))
        for curie, text, kind in synonyms:
            if curie in terms:
                kind_name = "abbreviation" if kind == SynonymKind.ABBREVIATION else "synonym"
                names.append(_name(curie, text, kind_name))
        return cls(terms, [n for n in names if n.tokens])

    # --- reading queries ---------------------------------------------------------------------

    def _known(self, token: str) -> bool:
        return (
            token in self.by_token
            or token in ABBREVIATIONS
            or token in _WEAK_WORDS
            or token in _STOP_WORDS
            or bool(_TIME_POINT.match(token))
        )

    def _is_prefix_of_word(self, token: str) -> bool:
        if len(token) < 3:
            return False
        i = bisect_left(self.vocabulary, token)
        return i < len(self.vocabulary) and self.vocabulary[i].startswith(token)

    def split(self, token: str) -> list[str]:
        """A run-together token cut into known pieces (fewest pieces; none shorter than two
        characters unless a digit run), or the token itself."""
        if (
            self._known(fold(token))
            or self._is_prefix_of_word(token)
            or len(token) < 4
            or token in self.by_initials  # an acronym of a name: dlfu, yob
        ):
            return [token]
        n = len(token)
        best: list[list[str] | None] = [None] * (n + 1)
        best[0] = []
        for end in range(1, n + 1):
            for start in range(max(0, end - 25), end):
                previous = best[start]
                if previous is None:
                    continue
                piece = token[start:end]
                if len(piece) < 2 and not piece.isdigit():
                    continue
                if not self._known(fold(piece)):
                    continue
                candidate = [*previous, piece]
                current = best[end]
                if current is None or len(candidate) < len(current):
                    best[end] = candidate
        pieces = best[n]
        return pieces if pieces and len(pieces) > 1 else [token]

    def query(self, text: str, source: str, *, context: bool = False) -> Query:
        """The slots of a name or label (``context``: the words around a value, all weak)."""
        asides: list[str] = []

        def aside_or_notation(match: re.Match[str]) -> str:
            # "del(7q)", "t(8;21)": notation written onto a word; "Weight (kg)": an aside
            start = match.start()
            inside = match.group(1)
            if start > 0 and text[start - 1].isalnum() and any(c.isdigit() for c in inside):
                return f" {inside} "
            asides.append(inside)
            return " "

        outside = _BRACKETS.sub(aside_or_notation, text)
        bracketed = " ".join(asides)
        slots: list[Slot] = []
        for part, weak_part in ((outside, context), (bracketed, True)):
            for raw in words(part):
                for piece in self.split(raw):
                    slot = self._slot(piece, weak_part)
                    if slot is not None:
                        slot.context = context
                        slots.append(slot)
        return Query(source, text, slots)

    def _slot(self, raw: str, weak: bool) -> Slot | None:
        if raw in _STOP_WORDS:
            return None
        token = fold(raw)
        readings = [Reading((token,))]
        for expansion in ABBREVIATIONS.get(raw, ()):
            tokens = tuple(fold(w) for w in expansion.split() if w not in _STOP_WORDS)
            readings.append(Reading(tokens, f"“{raw}” = {expansion}"))
        time_point = bool(_TIME_POINT.match(raw))
        weak = weak or time_point or raw in _WEAK_WORDS
        return Slot(raw, readings, weak, time_point)

    # --- matching tokens ---------------------------------------------------------------------

    def token_matches(self, token: str) -> dict[str, float]:
        """Vocabulary tokens a query token matches, with a credit from 0 to 1."""
        cached = self._token_cache.get(token)
        if cached is not None:
            return cached
        found: dict[str, float] = {}
        if token in self.by_token:
            found[token] = 1.0
        has_letter = bool(_LETTERS.search(token))
        if has_letter and len(token) >= 3:
            # prefixes: neut → neutrophil; stems: mutated ~ mutation
            stem = token[:5] if len(token) >= 5 else token
            i = bisect_left(self.vocabulary, stem)
            while i < len(self.vocabulary) and self.vocabulary[i].startswith(stem):
                word = self.vocabulary[i]
                i += 1
                if word == token:
                    continue
                if word.startswith(token):
                    found[word] = max(found.get(word, 0), 0.7 if len(token) >= 4 else 0.55)
                    continue
                common = _common_prefix(word, token)
                if common >= 5 and common >= 0.7 * min(len(word), len(token)):
                    found[word] = max(found.get(word, 0), 0.85)
            if len(token) == 3 or len(token) == 4:
                i = bisect_left(self.vocabulary, token)
                while i < len(self.vocabulary) and self.vocabulary[i].startswith(token):
                    word = self.vocabulary[i]
                    if word != token:
                        found.setdefault(word, 0.7 if len(token) >= 4 else 0.55)
                    i += 1
        if token.isalpha() and 3 <= len(token) <= 5 and token not in self.by_token:
            # letters in order, from the first: hgb → hemoglobin, wgt → weight
            i = bisect_left(self.vocabulary, token[0])
            hits = []
            while i < len(self.vocabulary) and self.vocabulary[i].startswith(token[0]):
                word = self.vocabulary[i]
                i += 1
                if len(word) > len(token) + 1 and _in_order(token, word):
                    hits.append(word)
            for word in sorted(hits, key=len)[:20]:
                found.setdefault(word, 0.5)
        if token.isalpha() and len(token) >= 6:
            # spelling neighbours: haemoglobn → hemoglobin
            for word, similarity, _ in process.extract(
                token, self.vocabulary, scorer=fuzz.ratio, limit=5, score_cutoff=85
            ):
                found.setdefault(word, 0.7 * similarity / 100)
        self._token_cache[token] = found
        return found

    # --- scoring -----------------------------------------------------------------------------

    def propose(self, subject: Subject, limit: int = KEEP) -> list[Proposal]:
        """The best terms for ``subject``, best first, each with its score and reason (only
        those scoring at least :data:`MIN_SCORE` for the subject's kind)."""
        key = (
            subject.kind,
            subject.name,
            subject.label,
            subject.value_type,
            subject.unit,
            subject.value_label,
            limit,
        )
        cached = self._query_cache.get(key)
        if cached is not None:
            return cached
        queries: list[Query] = []
        if subject.kind == "variable":
            queries.append(self.query(subject.name, "name"))
            if subject.label and normalise(subject.label) != normalise(subject.name):
                queries.append(self.query(subject.label, "label"))
        else:
            value = self.query(subject.value_label or subject.value_code or "", "value")
            context = self.query(f"{subject.name} {subject.label or ''}", "name", context=True)
            value.slots += context.slots
            queries.append(value)
        found = [self._matches(q) for q in queries]
        # a name met only in generic words is a distraction when the subject's distinctive
        # words met other names ("Disease group": “Ethnic group”), and a weak lead when they met
        # nothing ("stage_aa": the stages)
        distinctive = any(m.distinctive for matches in found for m in matches)
        weight = GENERIC_ONLY_WEIGHT if distinctive else GENERIC_ONLY_FALLBACK_WEIGHT
        per_query = [_best_per_term(matches, weight) for matches in found]
        weights = VOCABULARY_WEIGHT[subject.kind]
        ranked: list[tuple[float, tuple[Any, ...], Proposal]] = []
        for curie in set().union(*per_query) if per_query else set():
            info = self.terms[curie]
            matches = sorted((m[curie] for m in per_query if curie in m), key=lambda m: -m.score)
            best = matches[0]
            score = best.score
            if len(matches) > 1:
                score += 0.2 * matches[1].score * (1 - best.score)
            score *= weights.get(info.prefix, 0.8)
            if info.prefix == "HV" and info.value_type is None:
                score *= GROUP_WEIGHT
            notes: list[str] = []
            score += self._agreement(subject, info, notes)
            confidence = max(0.0, min(1.0, score))
            if confidence < MIN_SCORE[subject.kind]:
                continue
            reason = _reason(best, matches[1:], info, notes)
            tie = (
                0 if best.name.kind == "label" else 1,
                0 if info.prefix == "HV" else 1,
                len(info.label),
                curie,
            )
            ranked.append((score, tie, Proposal(curie, info.label, round(confidence, 3), reason)))
        ranked.sort(key=lambda r: (-r[0], r[1]))
        proposals = [p for _, _, p in ranked[:limit]]
        self._query_cache[key] = proposals
        return proposals

    def _agreement(self, subject: Subject, info: TermInfo, notes: list[str]) -> float:
        """A small bonus (or penalty) for agreeing (or clashing) value types and units."""
        bonus = 0.0
        mine, theirs = subject.value_type, info.value_type
        if mine and theirs and mine != "text":
            if mine == theirs:
                bonus += 0.03
                notes.append(f"value type {mine} agrees")
            elif {mine, theirs} <= {"integer", "decimal"} or {mine, theirs} <= {"date", "datetime"}:
                bonus += 0.02
            elif {mine, theirs} <= {"boolean", "categorical"}:
                pass
            else:
                bonus -= 0.05
        if subject.unit and info.unit and _unit_key(subject.unit) == _unit_key(info.unit):
            bonus += 0.03
            notes.append(f"unit {info.unit} agrees")
        return bonus

    def _matches(self, query: Query) -> list[_Match]:
        """Every name the query meets, scored (before the weight of generic-only matches)."""
        own = [s for s in query.slots if not s.context]
        if not own:
            return []
        # a variable named by weak words only ("Date", "Status") is about those words; a value
        # of weak words only ("Yes", "No", "Baseline") names no concept
        weak_only = all(s.weak for s in own)
        if weak_only and query.source == "value":
            return []
        slots = [
            Slot(s.raw, s.readings, False, s.time_point) if weak_only and not s.context else s
            for s in query.slots
        ]
        # candidate names: those sharing a token with some reading, or matching a whole token
        # by initials, or the whole query written together
        candidates: set[int] = set()
        for slot in slots:
            for reading in slot.readings:
                for token in reading.tokens:
                    for word in self.token_matches(token):
                        candidates.update(self.by_token[word])
        # several words written together: flt3itd, cart (CAR-T), hctci (HCT-CI)
        together: dict[int, tuple[str, list[str]]] = {}  # name → (why, time points ignored)
        own = [s for s in slots if not s.context]
        core = [s for s in own if not s.weak]
        for group in (own, core):
            compact = "".join(s.raw for s in group)
            ignored = [s.raw for s in own if s.time_point and s not in group]
            for i in self.by_compact.get(compact, ()):
                if len(self.names[i].tokens) >= 2 and i not in together:
                    why = f"“{compact}” is “{self.names[i].text}” written together"
                    together[i] = (why, ignored)
        initials: dict[int, dict[int, str]] = defaultdict(dict)  # name → slot index → why
        for k, slot in enumerate(slots):
            if 3 <= len(slot.raw) <= 6 and slot.raw.isalpha():
                for i in self.by_initials.get(slot.raw, ()):
                    initials[i][k] = f"“{slot.raw}” = the initials of “{self.names[i].text}”"
        candidates.update(together)
        candidates.update(initials)
        matches: list[_Match] = []
        numbers = _numbers(s.raw for s in slots if not s.context and not _visit(s))
        for i in candidates:
            name = self.names[i]
            match = self._score(name, slots, initials.get(i, {}), query, numbers)
            if i in together and (match is None or match.score < 1.0 or match.indirect):
                why, ignored = together[i]
                match = _Match(1.0, name, query, [why], ignored, 0)
            if match is not None:
                matches.append(match)
        return matches

    def _score(
        self,
        name: Name,
        slots: list[Slot],
        initials: dict[int, str],
        query: Query,
        numbers: Counter[str],
    ) -> _Match | None:
        """Recall of the query's non-weak slots and precision over the name's tokens."""
        name_tokens = name.tokens
        covered = dict.fromkeys(name_tokens, 0.0)
        recall_sum = 0.0
        core = 0
        used: list[str] = []
        ignored: list[str] = []
        indirect = 0
        for k, slot in enumerate(slots):
            best_credit, best_cover, best_why = 0.0, {}, None
            for reading in slot.readings:
                cover: dict[str, float] = {}
                total = 0.0
                for token in reading.tokens:
                    matches = self.token_matches(token)
                    credit = 0.0
                    for word in name_tokens:
                        c = matches.get(word, 0.0)
                        if c > credit:
                            credit = c
                        if c > cover.get(word, 0.0):
                            cover[word] = c
                    total += credit
                mean = total / len(reading.tokens)
                if mean > best_credit:
                    best_credit, best_cover, best_why = mean, cover, reading.why
            if k in initials:
                # an acronym reading; weaker when the token is a word of the vocabulary itself
                credit = 0.9 if len(slots) == 1 else 0.85
                if slot.raw in self.by_token:
                    credit = 0.6
                if credit > best_credit:
                    best_credit, best_why = credit, initials[k]
                    best_cover = dict.fromkeys(name_tokens, credit)
            for word, c in best_cover.items():
                if c > covered[word]:
                    covered[word] = c
            if not slot.weak:
                core += 1
                recall_sum += best_credit
            if best_credit > 0 and best_why:
                used.append(best_why)
                indirect += 1
            elif best_credit == 0 and slot.time_point:
                ignored.append(slot.raw)
        if core == 0 or recall_sum == 0:
            return None
        recall = recall_sum / core
        precision = sum(covered.values()) / len(name_tokens)
        if precision == 0:
            return None
        score = 2 * recall * precision / (recall + precision)
        doubts: list[str] = []
        distinctive = missed = False  # a distinctive word of the name met, and one missed
        for token, credit in covered.items():
            if token not in name.generic:
                if credit > 0:
                    distinctive = True
                else:
                    missed = True
        generic_only = []
        if missed and not distinctive:
            generic_only = [t for t, c in covered.items() if c > 0]
        theirs = name.numbers
        if numbers and theirs and numbers - theirs and theirs - numbers:
            score *= NUMBER_CLASH_WEIGHT
            doubts.append(
                f"numbers differ ({', '.join(sorted(numbers.elements()))} vs "
                f"{', '.join(sorted(theirs.elements()))})"
            )
        return _Match(
            score, name, query, used, ignored, indirect, doubts, generic_only, distinctive
        )


def _generic(token: str) -> bool:
    """A token that does not say what a name is about on its own: a generic word, an
    organisation, a stop word kept in an abbreviation, a bare number, or a single letter (the
    “t” of t(8;16) is not the “T” of CAR-T)."""
    return (
        token in GENERIC_WORDS
        or token in ORGANISATIONS
        or token in _STOP_WORDS
        or token.isdigit()
        or len(token) == 1
    )


def _visit(slot: Slot) -> bool:
    """A visit or cycle written with a letter (``m3``, ``c2``, ``d28``): its number counts
    visits, not chromosomes or years."""
    return slot.time_point and not slot.raw.isdigit()


def _numbers(tokens: Iterable[str]) -> Counter[str]:
    """The digit runs of ``tokens``, as many times as they occur (``t(16;16)`` → 16, 16)."""
    return Counter(run for token in tokens for run in _DIGIT_RUN.findall(token))


def _listed(tokens: list[str]) -> str:
    return ", ".join(f"“{t}”" for t in tokens)


def _best_per_term(matches: list[_Match], generic_weight: float) -> dict[str, _Match]:
    """Each term's best name among ``matches``, a generic-only match weighing
    ``generic_weight`` of its score."""
    best: dict[str, _Match] = {}
    for match in matches:
        if match.generic_only:
            match.score *= generic_weight
            match.doubts.insert(0, "only " + _listed(match.generic_only) + " in common")
        current = best.get(match.name.curie)
        if current is None or _better(match, current):
            best[match.name.curie] = match
    return best


def _better(a: _Match, b: _Match) -> bool:
    if abs(a.score - b.score) > 1e-9:
        return a.score > b.score
    if a.indirect != b.indirect:
        return a.indirect < b.indirect
    order = {"label": 0, "abbreviation": 1, "synonym": 2}
    return order[a.name.kind] < order[b.name.kind]


def _name(curie: str, text: str, kind: str) -> Name:
    plain = words(text)
    # in an abbreviation every word counts ("BCR::ABL1 IS": International Scale)
    keep_all = kind == "abbreviation"
    tokens = tuple(fold(w) for w in plain if keep_all or w not in _STOP_WORDS)
    generic = frozenset(t for t in tokens if _generic(t))
    return Name(curie, text, kind, tokens, "".join(plain), _numbers(tokens), generic)


def _initials(name: Name) -> set[str]:
    plain = words(name.text)
    if len(plain) < 2:
        return set()
    with_stop = "".join(w[0] for w in plain)
    without = "".join(w[0] for w in plain if w not in _STOP_WORDS)
    return {i for i in (with_stop, without) if len(i) >= 2 and i.isalpha()}


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _in_order(letters: str, word: str) -> bool:
    position = 0
    for letter in letters:
        position = word.find(letter, position)
        if position < 0:
            return False
        position += 1
    return True


def _unit_key(unit: str) -> str:
    return unit.strip().lower().replace("^", "*").replace(" ", "")


def _reason(best: _Match, others: list[_Match], info: TermInfo, notes: list[str]) -> str:
    what = {"name": "name", "label": "label", "value": "value"}[best.query.source]
    of = "" if best.name.kind == "label" else f" of “{info.label}”"
    head = f"{what} “{best.query.text}” matches the {best.name.kind} “{best.name.text}”{of}"
    if best.score < 0.95:
        head = (
            f"{what} “{best.query.text}” partly matches the {best.name.kind} “{best.name.text}”{of}"
        )
    parts = [head, *dict.fromkeys(best.used), *best.doubts]
    if best.ignored:
        parts.append("time point " + ", ".join(f"“{t}”" for t in best.ignored) + " ignored")
    for other in others:
        parts.append(f"{other.query.source} “{other.query.text}” agrees")
    parts += notes
    return "; ".join(parts)[:300]
