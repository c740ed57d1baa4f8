"""Words as search sees them, identically when indexing and when querying.

A text becomes *keys*: ``ontologies.text.normalise`` (lower case, accents gone, Greek letters
spelled out), camelCase and snake_case names split into words, British spellings folded onto
the American ones by rule (``haemoglobin`` → ``hemoglobin``, ``tumour`` → ``tumor``,
``randomised`` → ``randomized``, ``oedema`` → ``edema``, ``centre`` → ``center``), common
English function words dropped, and every word stemmed with the Snowball English stemmer
(``patients`` → ``patient``). Words with digits (``flt3``, ``del5q``) are kept as they are.

Both databases index these keys, not raw text: the FTS5 table and the ``simple`` tsvector see
exactly the same words, so both give the same hits. (PostgreSQL's own ``english``
configuration stems with the Snowball release bundled with the server, which differs from the
current one in a few words — ``organization``, ``international``, ``added`` — and knows no
British spellings.)

Highlighting runs the same pipeline over each word of the original text, so a word is marked
exactly when it is one that matched.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from functools import lru_cache

import snowballstemmer
from markupsafe import Markup

from ontologies.text import normalise

MAX_WORD = 60  # longer "words" are identifiers or noise; nobody searches for them

# Function words that carry no meaning for search; dropped at index and query time alike.
_STOPWORD_TEXT = """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other ought our
    ours ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

# British → American spelling families, as rules on whole words (applied before stemming).
# Over-folding a rare word (``poet`` → ``pet``) is harmless: it happens at both ends alike.
_SPELLING_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"ae"), "e"),  # haemoglobin, leukaemia, paediatric, anaemia, aetiology
    (re.compile(r"oe(?=[^e])"), "e"),  # oedema, foetal, diarrhoea, oesophagus, coeliac
    (  # tumour, colour, behaviour, favourite, labourer
        re.compile(r"(?<=[a-z]{2})our(?=(?:s|ed|ing|ite|ites|able|ably|ful|less|er|ers|al)?$)"),
        "or",
    ),
    (  # randomised, organisation, characterise, hospitalising
        re.compile(r"(?<=[a-z]{3})is(?=(?:e|es|ed|ing|ation|ations|er|ers)$)"),
        "iz",
    ),
    (re.compile(r"(?<=[a-z]{2})ys(?=(?:e|es|ed|ing|er|ers)$)"), "yz"),  # analyse, dialysed
    (re.compile(r"(?<=[a-z]{2})([tb])re(?=[sd]?$)"), r"\1er"),  # centre, litre, titre, fibre
    (re.compile(r"(?<=[a-z]{3})ogue(?=s?$)"), "og"),  # catalogue, analogue
    (re.compile(r"(?<=[a-z]{3})mme(?=s?$)"), "m"),  # programme
)

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_ASCII_SEPARATORS = re.compile(r"[^0-9a-z]+")
_WORD = re.compile(r"[^\W_]+")  # a run of letters and digits in the original text
_stemmer = snowballstemmer.stemmer("english")


def fold_spelling(word: str) -> str:
    """The American spelling of a lower-case word (the word itself when none applies)."""
    if not word.isalpha():
        return word
    for pattern, replacement in _SPELLING_RULES:
        word = pattern.sub(replacement, word)
    return word


@lru_cache(maxsize=200_000)
def key_of(word: str) -> str | None:
    """The key of one normalised word (``[0-9a-z]+``), or None for a stopword."""
    if len(word) > MAX_WORD:
        return None
    if not word.isalpha():
        return word
    if word in STOPWORDS:
        return None
    return str(_stemmer.stemWord(fold_spelling(word)))


def words(text: str | None) -> list[str]:
    """The normalised words of a text (before spelling and stemming)."""
    if not text:
        return []
    text = _CAMEL.sub(" ", text)
    if text.isascii():  # no accents or Greek letters to fold: the same result, much faster
        return _ASCII_SEPARATORS.sub(" ", text.lower()).split()
    return normalise(text).split()


def keys(text: str | None) -> list[str]:
    """The keys of a text, in order, repeats kept."""
    found = []
    for word in words(text):
        key = key_of(word)
        if key is not None:
            found.append(key)
    return found


def index_text(*texts: str | None) -> str:
    """What the index stores for a field: its keys, space separated."""
    return " ".join(key for text in texts for key in keys(text))


def distinct_keys(texts: Iterable[str | None]) -> Iterator[str]:
    """Each key of ``texts`` once, in order of first appearance."""
    seen: set[str] = set()
    for text in texts:
        for key in keys(text):
            if key not in seen:
                seen.add(key)
                yield key


# --- highlighting ---------------------------------------------------------------------------
#
# A page of hits highlights ~300 short texts (titles, keywords, variables' names and labels) and
# cuts a snippet from ~20 descriptions of ~500 characters. Only the words that match are
# marked, so only their positions are kept, and the pieces between them are escaped as plain
# strings (markupsafe's rule) and wrapped in Markup once per text: 1.2 → 0.5 ms per search.


@lru_cache(maxsize=100_000)
def _token_keys(token: str) -> frozenset[str]:
    return frozenset(k for w in words(token) if (k := key_of(w)) is not None)


#: names, labels, titles and keywords repeat across datasets ("Date of diagnosis"): their
#: tokens are remembered; descriptions are read anew
SHORT_TEXT = 120


@lru_cache(maxsize=20_000)
def _short_tokens(text: str) -> tuple[tuple[int, int, frozenset[str]], ...]:
    """``(start, end, keys)`` of each word of a short text that has keys (a word such as
    ``hgbDx`` or ``β2`` may stand for several)."""
    token_keys = _token_keys
    return tuple(
        (match.start(), match.end(), found)
        for match in _WORD.finditer(text)
        if (found := token_keys(match.group()))
    )


def _matches(text: str, wanted: AbstractSet[str]) -> list[tuple[int, int]]:
    """``(start, end)`` of each word of the original text that has a key in ``wanted``."""
    if len(text) <= SHORT_TEXT:
        return [(s, e) for s, e, found in _short_tokens(text) if not found.isdisjoint(wanted)]
    # A long text: its distinct runs between spaces are looked up (a word lies inside one), and
    # only the words that match are looked for, as strings, standing alone (a word is a
    # maximal run of letters and digits: ``[^\W_]`` is ``str.isalnum``). The regular
    # expression over the whole text took 30-90 µs per description.
    chunk_keys = _chunk_keys
    chunks = [c for c in set(text.split()) if not chunk_keys(c).isdisjoint(wanted)]
    if not chunks:
        return []
    token_keys = _token_keys
    matching = {t for c in chunks for t in _WORD.findall(c) if not token_keys(t).isdisjoint(wanted)}
    spans = []
    size = len(text)
    for word in matching:
        at = text.find(word)
        while at >= 0:
            after = at + len(word)
            if (at == 0 or not text[at - 1].isalnum()) and (
                after == size or not text[after].isalnum()
            ):
                spans.append((at, after))
            at = text.find(word, after)  # none can start inside this one and stand alone
    spans.sort()
    return spans


@lru_cache(maxsize=100_000)
def _chunk_keys(chunk: str) -> frozenset[str]:
    """The keys of the words of a run of text between spaces (``patients,``, ``del(5q)``)."""
    return frozenset(k for t in _WORD.findall(chunk) for k in _token_keys(t))


def _escape(text: str) -> str:
    """``markupsafe.escape`` as a plain string (the same five characters, the same
    entities), for pieces joined before they become one Markup."""
    return (
        text.replace("&", "&amp;")
        .replace(">", "&gt;")
        .replace("<", "&lt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


def _marked(text: str, spans: Sequence[tuple[int, int]], begin: int = 0, end: int = -1) -> str:
    """``text[begin:end]`` HTML-escaped, with the ``spans`` inside it in ``<mark>``."""
    stop = len(text) if end < 0 else end
    parts: list[str] = []
    at = begin
    for start, finish in spans:
        if start < begin or finish > stop:
            continue
        parts.append(_escape(text[at:start]))
        parts.append("<mark>" + _escape(text[start:finish]) + "</mark>")
        at = finish
    parts.append(_escape(text[at:stop]))
    return "".join(parts)


def highlight(text: str | None, wanted: AbstractSet[str]) -> Markup:
    """``text`` HTML-escaped, with the words whose key is in ``wanted`` in ``<mark>``."""
    if not text:
        return Markup("")
    if len(text) <= SHORT_TEXT:  # the same names and labels come back on every page
        return _short_highlight(text, frozenset(wanted))
    return Markup(_marked(text, _matches(text, wanted)))  # noqa: S704 - escaped in _marked


@lru_cache(maxsize=20_000)
def _short_highlight(text: str, wanted: frozenset[str]) -> Markup:
    return Markup(_marked(text, _matches(text, wanted)))  # noqa: S704 - escaped in _marked


def holds(text: str | None, wanted: AbstractSet[str]) -> bool:
    """Whether a word of ``text`` has a key in ``wanted``."""
    return bool(text) and bool(_matches(text or "", wanted))


def snippet(text: str | None, wanted: AbstractSet[str], length: int = 220) -> Markup:
    """A window of about ``length`` characters of ``text`` around its densest matches,
    highlighted, with ellipses where it was cut; the start of the text when nothing matches."""
    if not text:
        return Markup("")
    if len(text) <= length:
        return highlight(text, wanted)  # all of it
    spans = _matches(text, wanted)
    hits = [start for start, _end in spans]
    if not hits:
        cut = len(text[:length].rsplit(" ", 1)[0])
        return Markup(_escape(text[:cut]) + "…")  # noqa: S704 - escaped
    # the window that holds the most matches, starting a little before its first one (the
    # matches are in order: those within reach of one are counted by bisection)
    best, best_count = hits[0], 0
    for i, start in enumerate(hits):
        count = bisect_left(hits, start + length - 40, i) - i
        if count > best_count:
            best, best_count = start, count
    begin = max(0, best - 40)
    if begin:
        space = text.find(" ", begin)
        begin = space + 1 if 0 <= space < best else begin
    end = min(len(text), begin + length)
    if end < len(text):
        space = text.rfind(" ", begin, end)
        end = space if space > best else end
    body = _marked(text, spans, begin, end)
    return Markup(  # noqa: S704 - escaped in _marked
        ("…" if begin else "") + body + ("…" if end < len(text) else "")
    )


# --- fuzzy matching -------------------------------------------------------------------------


def trigrams(word: str) -> set[str]:
    """The trigrams of one word as PostgreSQL's pg_trgm forms them (two spaces before, one
    after), so that SQLite can compute the same similarity."""
    padded = f"  {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def trigram_similarity(a: str, b: str) -> float:
    """pg_trgm's ``similarity``: shared trigrams over all distinct trigrams of both."""
    ta, tb = trigrams(a), trigrams(b)
    shared = len(ta & tb)
    return shared / (len(ta) + len(tb) - shared) if ta or tb else 0.0
