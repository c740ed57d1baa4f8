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
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache

import snowballstemmer
from markupsafe import Markup, escape

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


@lru_cache(maxsize=100_000)
def _token_keys(token: str) -> frozenset[str]:
    return frozenset(k for w in words(token) if (k := key_of(w)) is not None)


def _tokens(text: str) -> tuple[tuple[int, int, frozenset[str]], ...]:
    """``(start, end, keys)`` of each word of the original text (a word such as ``hgbDx`` or
    ``β2`` may stand for several keys)."""
    if len(text) <= SHORT_TEXT:
        return _short_tokens(text)
    return _tokens_of(text)


#: names, labels, titles and keywords repeat across datasets ("Date of diagnosis"): their
#: tokens are remembered; descriptions are read anew
SHORT_TEXT = 120


@lru_cache(maxsize=20_000)
def _short_tokens(text: str) -> tuple[tuple[int, int, frozenset[str]], ...]:
    return _tokens_of(text)


def _tokens_of(text: str) -> tuple[tuple[int, int, frozenset[str]], ...]:
    token_keys = _token_keys
    return tuple(
        (match.start(), match.end(), found)
        for match in _WORD.finditer(text)
        if (found := token_keys(match.group()))
    )


def _marked(
    text: str,
    tokens: Sequence[tuple[int, int, frozenset[str]]],
    wanted: set[str],
    begin: int = 0,
    end: int | None = None,
) -> Markup:
    """``text[begin:end]`` HTML-escaped, with its tokens whose key is in ``wanted`` marked."""
    stop = len(text) if end is None else end
    parts: list[str] = []
    at = begin
    for start, finish, found in tokens:
        if start < begin or finish > stop or not found & wanted:
            continue
        parts.append(str(escape(text[at:start])))
        parts.append(f"<mark>{escape(text[start:finish])}</mark>")
        at = finish
    parts.append(str(escape(text[at:stop])))
    return Markup("".join(parts))  # noqa: S704 - every piece escaped above


def highlight(text: str | None, wanted: set[str]) -> Markup:
    """``text`` HTML-escaped, with the words whose key is in ``wanted`` in ``<mark>``."""
    if not text:
        return Markup("")
    return _marked(text, _tokens(text), wanted)


def holds(text: str | None, wanted: set[str]) -> bool:
    """Whether a word of ``text`` has a key in ``wanted``."""
    return bool(text) and any(found & wanted for _s, _e, found in _tokens(text or ""))


def snippet(text: str | None, wanted: set[str], length: int = 220) -> Markup:
    """A window of about ``length`` characters of ``text`` around its densest matches,
    highlighted, with ellipses where it was cut; the start of the text when nothing matches."""
    if not text:
        return Markup("")
    tokens = _tokens(text)
    if len(text) <= length:
        return _marked(text, tokens, wanted)
    hits = [start for start, _end, found in tokens if found & wanted]
    if not hits:
        cut = len(text[:length].rsplit(" ", 1)[0])
        return _marked(text, tokens, wanted, 0, cut) + Markup("…")
    # the window that holds the most matches, starting a little before its first one
    best, best_count = hits[0], 0
    for i, start in enumerate(hits):
        count = sum(1 for h in hits[i:] if h < start + length - 40)
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
    body = _marked(text, tokens, wanted, begin, end)
    return (Markup("…") if begin else Markup("")) + body + (Markup("…") if end < len(text) else "")


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
