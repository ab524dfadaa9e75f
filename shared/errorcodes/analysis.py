"""Text analysis for error search: noise removal, word splitting, light stemming and field synonyms.

Documents (catalogue entries) and queries (pasted diags, plain words) go through the same steps, so a
query matches an entry whenever both reduce to the same stems or synonym concepts.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from shared.errorcodes.vocabulary import ABBREVIATIONS, PHRASE_TABLE, STOPWORDS, SYNONYM_GROUPS

_PHRASES = tuple(
    (re.compile(pattern, re.IGNORECASE), replacement, triggers)
    for pattern, replacement, triggers in PHRASE_TABLE
)


# Pasted diags carry paths, hosts, file names, ids and numbers that never help to find the code. Each
# pattern runs only when its trigger occurs in the text. The number pattern comes last, because
# clean(keep_numbers=True) skips the last pattern.
_NOISE: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), trigger)
    for pattern, trigger in (
        (r"\b[a-z][a-z0-9+.-]*://\S+", "://"),  # URLs
        (r"(?:^|(?<=[\s'\"(=:\[]))(?:/[\w.+-]+){2,}/?", "/"),  # absolute paths with at least two parts
        (r"\b[\w-]+(?:\.[\w-]+){2,}\b", "."),  # host names and dotted file names
        (r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "-"),  # GUIDs
        (r"\b0x[0-9a-f]+\b", "0x"),
        (r"\b\d[\d:.,_-]*\b", ""),  # numbers, times, dates
    )
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z][a-z])|(?<=[a-z])(?=[A-Z])")
_WORD = re.compile(r"[a-z][a-z0-9]*")


@functools.lru_cache(maxsize=8192)
def stem(word: str) -> str:
    """Return a light stem of a lower-case word: plural, -ed, -ing, -ation and a final -e removed.

    Not a full Porter stemmer, only consistent: both sides of a comparison use it, so "failed" and
    "failure" both become "fail", "files" and "file" both become "fil".
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, replacement in (("ies", "y"), ("sses", "ss"), ("ches", "ch"), ("shes", "sh"), ("xes", "x")):
        if word.endswith(suffix):
            word = word[: -len(suffix)] + replacement
            break
    else:
        if word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]

    for suffix in ("ation", "ing", "ure", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if suffix == "ation":
                word += "at"
            elif len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]
            break

    if len(word) >= 4 and word.endswith("e"):
        word = word[:-1]
    return word


_CONCEPTS_OF: dict[str, list[str]] = {}
for _concept, _words in SYNONYM_GROUPS.items():
    for _word in _words:
        _CONCEPTS_OF.setdefault(stem(_word), []).append(_concept)


def concepts_of(token: str) -> list[str]:
    """Return the synonym concepts of a stemmed token (often none, sometimes two)."""
    return _CONCEPTS_OF.get(token, [])


@functools.lru_cache(maxsize=4096)
def clean(text: str, keep_numbers: bool = False) -> str:
    """Return `text` with phrases unified and noise (URLs, paths, hosts, ids and, unless kept, numbers) removed."""
    lower = text.lower()
    for pattern, replacement, triggers in _PHRASES:
        if any(trigger in lower for trigger in triggers):
            text = pattern.sub(replacement, text)
    noise = _NOISE[:-1] if keep_numbers else _NOISE
    for pattern, trigger in noise:
        if trigger in text:
            text = pattern.sub(" ", text)
    return text


def phrase_sources(text: str) -> dict[str, str]:
    """Return {phrase token: the text it replaced}, e.g. {"nospace": "No space left"}, for display."""
    sources: dict[str, str] = {}
    lower = text.lower()
    for pattern, replacement, triggers in _PHRASES:
        if any(trigger in lower for trigger in triggers):
            match = pattern.search(text)
            if match:
                sources.setdefault(replacement.strip(), " ".join(match.group(0).split()))
    return sources


def words(text: str) -> list[str]:
    """Return the lower-case words of cleaned text, with camelCase and snake_case split."""
    split = _CAMEL.sub(" ", text).replace("_", " ")
    return _WORD.findall(split.lower())


def terms(raw_words: Iterable[str], abbreviations: dict[str, tuple[str, ...]] = ABBREVIATIONS) -> list[str]:
    """Return the stems of `raw_words`, abbreviations expanded and stop words dropped, in order."""
    return [term for term, _ in sourced_terms(raw_words, abbreviations)]


def sourced_terms(
    raw_words: Iterable[str], abbreviations: dict[str, tuple[str, ...]] = ABBREVIATIONS
) -> list[tuple[str, str]]:
    """Return (stem, the word it came from) for each term of `raw_words`, as terms() computes them."""
    result: list[tuple[str, str]] = []
    for word in raw_words:
        for part in abbreviations.get(word, (word,)):
            if part not in STOPWORDS:
                result.append((stem(part), word))
    return result


def with_concepts(stems: Iterable[str]) -> list[str]:
    """Return the stems followed by the synonym concept of each stem that has one."""
    stems = list(stems)
    concepts = [concept for stem_ in stems for concept in concepts_of(stem_)]
    return stems + list(dict.fromkeys(concepts))


def analyze(text: str) -> list[str]:
    """Return the search terms of `text`: cleaned, split, stemmed, with synonym concepts added."""
    return list(_analyze_cached(text))


@functools.lru_cache(maxsize=4096)
def _analyze_cached(text: str) -> tuple[str, ...]:
    # Expanded wnscripts entries repeat one text per script, so caching saves most of the index build.
    return tuple(with_concepts(terms(words(clean(text)))))


def segment_acronym(acronym: str, vocabulary: set[str]) -> list[str]:
    """Split an acronym such as NOLOCALSPACE or GETMD5MISMATCH into known words.

    Underscore-separated parts are split first; each part is then cut into the fewest words of
    `vocabulary` (at least two letters each). A part that cannot be cut completely stays whole.
    """
    pieces: list[str] = []
    for part in words(acronym.replace("_", " ")):
        pieces.extend(_segment(part, vocabulary) or [part])
    return pieces


def _segment(part: str, vocabulary: set[str]) -> list[str] | None:
    """Return the fewest vocabulary words that concatenate to `part`, or None."""
    best: list[list[str] | None] = [None] * (len(part) + 1)
    best[0] = []
    for end in range(1, len(part) + 1):
        for start in range(max(0, end - 20), end - 1):
            prefix = best[start]
            piece = part[start:end]
            if prefix is None or piece not in vocabulary:
                continue
            candidate = prefix + [piece]
            current = best[end]
            if current is None or len(candidate) < len(current):
                best[end] = candidate
    return best[len(part)]
