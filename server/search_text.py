"""How search sees a name: the words users expect (case, accents, punctuation and "feat." credits folded away),
the terms indexed for them, the typo budget per word, and which words of a shown name a query matched.

Pure text functions, shared by the index and the queries so both sides fold a name the same way; no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from itertools import pairwise

from rapidfuzz.distance import OSA

MAX_QUERY_WORDS = 8  # a query longer than this is a sentence, not a name: its first words decide
MAX_WORD_CHARS = 40  # longer "words" are noise; the index keeps them cut to this length
MIN_PREFIX, MAX_PREFIX = 2, 12  # starts of words indexed as terms; a longer start is looked up in the dictionary
_CREDIT_WORDS = frozenset({"feat", "ft", "featuring"})
_APOSTROPHES = re.compile(r"['\u2019`]")
_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """The searchable words of ``text``: case- and accent-folded, punctuation and "feat." credits dropped."""
    folded = unicodedata.normalize("NFKD", _APOSTROPHES.sub("", text).casefold())
    plain = "".join(char for char in folded if not unicodedata.combining(char))
    return [word[:MAX_WORD_CHARS] for word in _WORD.findall(plain) if word not in _CREDIT_WORDS]


def joined_terms(name_words: Sequence[str]) -> str:
    """Each pair of neighbouring words joined, space-separated, so a query that misses a space ("tidewater" for
    "Tide Water", "helloadele") still matches a whole term."""
    return " ".join(first + second for first, second in pairwise(name_words))


def prefix_terms(name_words: Sequence[str]) -> str:
    """Every start of each word from MIN_PREFIX letters to one short of the word (MAX_PREFIX at most),
    space-separated: a word being typed is then one term to look up, not a walk over the whole dictionary."""
    return " ".join(word[:length] for word in name_words
                    for length in range(MIN_PREFIX, min(len(word), MAX_PREFIX + 1)))


def typo_budget(word: str) -> int:
    """Edits forgiven in a word of this length: none under 4 letters, 1 up to 7, 2 beyond (a swap costs one)."""
    return 0 if len(word) < 4 else 1 if len(word) <= 7 else 2


def matches(query_word: str, name_word: str, *, prefix: bool) -> bool:
    """Whether ``name_word`` is what ``query_word`` asks for: exactly, within its typo budget, or (``prefix``:
    the word being typed) as the start of it, within the same budget."""
    budget = typo_budget(query_word)
    if prefix and len(name_word) > len(query_word):
        name_word = name_word[:len(query_word)]
    return query_word == name_word or (budget > 0 and OSA.distance(query_word, name_word) <= budget)


def highlights(text: str, query: Sequence[str]) -> list[tuple[int, int]]:
    """The ``[start, end)`` character spans of the words of ``text`` the query's words matched, for the app to
    emphasise; the last query word matches as a prefix, being typed."""
    spans: list[tuple[int, int]] = []
    for found in _WORD.finditer(text):
        folded = words(found.group())
        if folded and any(matches(word, folded[0], prefix=index == len(query) - 1)
                          for index, word in enumerate(query)):
            spans.append(found.span())
    return spans
