"""Search of the error catalogue by diag text or plain words, ranked by several independent signals.

A hit's score is a sum of signals:
- weighted coverage of the query's terms by the entry's fields (message, acronym, keywords, explanations);
- the official message or a keyword phrase found inside the text;
- a fuzzy match of the whole query against the message and the keywords;
- word pairs in the same order as in the message or a keyword;
- codes named in the text ("error code: 1099", "exit code 65", "signal 11");
- the worker-node script the text names.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from shared.errorcodes import analysis
from shared.errorcodes.catalogue import Catalogue
from shared.errorcodes.decode import DEFAULT_WNSCRIPT_OFFSETS, SIGNAL_NUMBERS, CodeMention, find_code_mentions
from shared.errorcodes.models import ErrorEntry, ErrorSummary
from shared.errorcodes.searchresult import SearchHit, SearchResult, shorten
from shared.errorcodes.vocabulary import ACRONYM_ABBREVIATIONS, ACRONYM_VOCABULARY

# How much a query term counts when it appears in each field of an entry.
FIELD_WEIGHTS: dict[str, float] = {
    "message": 3.0,
    "keywords": 2.5,
    "acronym": 2.0,
    "signal": 2.0,
    "script": 2.0,
    "explanation": 1.0,
    "causes": 0.8,
    "actions": 0.3,
}
MAX_FIELD_WEIGHT = max(FIELD_WEIGHTS.values())

# Multipliers for entries a user is less likely to mean: pilot process exit statuses never appear in
# the job record, and legacy or removed codes only in old jobs.
COMPONENT_PRIOR: dict[str, float] = {"pilot-exit": 0.8, "wnscripts-legacy": 0.8}
HISTORICAL_PRIOR = 0.85

_SCRIPT_NAMES = (*DEFAULT_WNSCRIPT_OFFSETS, "runcontainer")
_SCRIPT_PATTERN = re.compile(r"\b(" + "|".join(_SCRIPT_NAMES) + r")\b", re.IGNORECASE)
_PUNCTUATION = re.compile(r"[^a-z0-9]+")
MIN_SCORE = 0.08

# Score added for a keyword phrase found in the text. A one-word phrase adds less in a longer text,
# because there that word is only one of several.
PHRASE_BONUS = 0.4


@dataclass(frozen=True)
class _Query:
    """A query in the forms the signals compare: plain, with numbers (padded with spaces), and its words."""

    text: str
    phrase_text: str
    word_count: int
    display: dict[str, str]


@dataclass
class _Document:
    """The searchable form of one entry."""

    entry: ErrorEntry
    group: tuple[str, int, str]
    fields: dict[str, set[str]]
    bigrams: set[tuple[str, str]]
    message: str
    phrases: list[str] = field(default_factory=list)


def normalize(text: str, keep_numbers: bool = False) -> str:
    """Return lower-case text with phrases unified and every run of punctuation turned into one space."""
    return _PUNCTUATION.sub(" ", analysis.clean(text, keep_numbers).lower()).strip()


def _mention_reason(code: int, mention: CodeMention) -> str:
    if mention.reason in SIGNAL_NUMBERS:
        return f"{mention.reason} named in text ({code} = 128 + {code - 128})"
    return f"code {code} named in text ({mention.reason})"


def _pairs(stems: list[str]) -> set[tuple[str, str]]:
    return set(itertools.pairwise(stems))


class SearchIndex:
    """An in-memory index over a catalogue; building it takes tens of milliseconds."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        vocabulary = self._vocabulary(catalogue)
        self.documents = [self._document(entry, vocabulary) for entry in catalogue.entries]
        self.vocabulary = sorted(
            {term for doc in self.documents for terms in doc.fields.values() for term in terms}
        )
        self._vocabulary_set = set(self.vocabulary)
        self._idf = self._inverse_document_frequencies()
        self._messages = [doc.message for doc in self.documents]
        self._pilot_index: dict[int, list[int]] = {}
        for position, doc in enumerate(self.documents):
            if doc.entry.component == "pilot":
                self._pilot_index.setdefault(doc.entry.code, []).append(position)
        self._phrase_owner = [
            (phrase, index) for index, doc in enumerate(self.documents) for phrase in doc.phrases
        ]

    @staticmethod
    def _vocabulary(catalogue: Catalogue) -> set[str]:
        words: set[str] = set(ACRONYM_VOCABULARY)
        for entry in catalogue.entries:
            for text in (entry.message, entry.user_explanation, *entry.keywords):
                words.update(analysis.words(text))
        return {word for word in words if len(word) >= 2}

    @staticmethod
    def _document(entry: ErrorEntry, vocabulary: set[str]) -> _Document:
        acronym_words = analysis.segment_acronym(entry.acronym, vocabulary)
        acronym_terms = analysis.terms(acronym_words, ACRONYM_ABBREVIATIONS)
        message_terms = analysis.terms(analysis.words(analysis.clean(entry.message)))
        keyword_terms = [
            analysis.terms(analysis.words(analysis.clean(keyword))) for keyword in entry.keywords
        ]

        def field_terms(*texts: str) -> set[str]:
            return set(analysis.analyze(" ".join(texts)))

        fields = {
            "message": set(analysis.with_concepts(message_terms)),
            "acronym": set(analysis.with_concepts(acronym_terms)),
            "keywords": set(analysis.with_concepts(term for terms in keyword_terms for term in terms)),
            "explanation": field_terms(entry.user_explanation, entry.expert_explanation),
            "causes": field_terms(*entry.likely_causes),
            "actions": field_terms(*entry.suggested_actions),
            "signal": set(analysis.analyze(entry.signal)) if entry.signal else set(),
            "script": {entry.script.lower(), *analysis.terms(analysis.words(entry.script))}
            if entry.script
            else set(),
        }
        bigrams = _pairs(message_terms) | _pairs(acronym_terms)
        for terms in keyword_terms:
            bigrams |= _pairs(terms)

        message = normalize(entry.message)
        # Numbers stay in phrases, so "pilot exit code 65" matches only a text that names 65.
        phrases = [normalize(keyword, keep_numbers=True) for keyword in entry.keywords]
        if len(message) >= 12 and " " in message:
            phrases.append(normalize(entry.message, keep_numbers=True))
        group_code = entry.base_code if entry.component == "wnscripts" and entry.base_code else entry.code
        return _Document(
            entry=entry,
            group=(
                entry.component,
                group_code,
                entry.script if entry.base_code is None and entry.script else "",
            ),
            fields=fields,
            bigrams=bigrams,
            message=message,
            phrases=[phrase for phrase in phrases if len(phrase) >= 6],
        )

    def _inverse_document_frequencies(self) -> dict[str, float]:
        # wnscripts base codes appear once per script; count each group once so their words keep weight.
        groups: dict[tuple[str, int, str], set[str]] = {}
        for doc in self.documents:
            groups.setdefault(doc.group, set()).update(*doc.fields.values())
        total = len(groups)
        frequency: dict[str, int] = {}
        for terms in groups.values():
            for term in terms:
                frequency[term] = frequency.get(term, 0) + 1
        return {
            term: math.log(1 + (total - count + 0.5) / (count + 0.5)) for term, count in frequency.items()
        }

    def _query_terms(self, text: str) -> tuple[list[str], dict[str, str]]:
        """Return the query's terms and {term: the words of the text it came from}.

        Words unknown to the catalogue are replaced by a close known word.
        """
        sources = analysis.phrase_sources(text)
        corrected = []
        display: dict[str, str] = {}
        for term, word in analysis.sourced_terms(analysis.words(analysis.clean(text))):
            if term not in self._vocabulary_set and len(term) >= 5:
                match = process.extractOne(term, self.vocabulary, scorer=fuzz.ratio, score_cutoff=85)
                term = match[0] if match else term
            corrected.append(term)
            display.setdefault(term, sources.get(word, word))
        return analysis.with_concepts(corrected), display

    def search(self, text: str, limit: int = 5) -> SearchResult:
        """Return up to `limit` hits for `text`, best first, one per wnscripts base error."""
        mentions = find_code_mentions(text)
        query_terms, display = self._query_terms(text)
        query_pairs = _pairs([term for term in query_terms if not term.startswith("_")])
        unique_terms = list(dict.fromkeys(query_terms))
        idf_total = sum(self._idf.get(term, 1.0) for term in unique_terms) or 1.0
        query = _Query(
            text=normalize(text),
            phrase_text=f" {normalize(text, keep_numbers=True)} ",
            word_count=len({term for term in unique_terms if not term.startswith("_")}),
            display=display,
        )
        scripts = {name.lower() for name in _SCRIPT_PATTERN.findall(text)}

        fuzzy_message = self._fuzzy_scores(query.text, self._messages)
        fuzzy_phrase: dict[int, float] = {}
        for position, score in self._fuzzy_scores(
            query.phrase_text.strip(), [phrase for phrase, _ in self._phrase_owner]
        ).items():
            index = self._phrase_owner[position][1]
            fuzzy_phrase[index] = max(fuzzy_phrase.get(index, 0.0), score)

        scored: list[tuple[float, int, list[str]]] = []
        for index, doc in enumerate(self.documents):
            score, matched = self._score(
                doc,
                unique_terms,
                idf_total,
                query_pairs,
                query,
                mentions,
                scripts,
                fuzzy_message.get(index, 0.0),
                fuzzy_phrase.get(index, 0.0),
            )
            if score >= MIN_SCORE:
                scored.append((score, index, matched))

        numbers = {mention.code for mention in mentions if mention.reason not in SIGNAL_NUMBERS}
        scored = self._lift_exit_status_targets(scored, numbers)
        scored.sort(key=lambda item: (-item[0], self._tie_break(self.documents[item[1]].entry)))
        return SearchResult(
            query=shorten(text),
            hits=self._collapse(scored, limit),
            codes_in_text=[f"{'/'.join(m.components) or 'any'} {m.code} ({m.reason})" for m in mentions],
        )

    def _lift_exit_status_targets(
        self, scored: list[tuple[float, int, list[str]]], named_codes: set[int]
    ) -> list[tuple[float, int, list[str]]]:
        """Give each pilot code at least the score of a matching pilot exit status that stands for it.

        An exit status and its pilot code describe the same failure, but only the pilot code reaches
        the job record, so it should not rank below the status. The status is given as the reason only
        when the text names its number; otherwise the pilot code takes over what the status matched.
        """
        best: dict[int, tuple[float, int, list[str]]] = {item[1]: item for item in scored}
        for score, index, matched in scored:
            status = self.documents[index].entry
            if status.pilot_error_code is None:
                continue
            named = status.code in named_codes
            # A named status passes on its score without the pilot-exit prior; otherwise the pilot code
            # only draws level with it.
            lifted = score / COMPONENT_PRIOR["pilot-exit"] if named else score
            for pilot_index in self._pilot_index.get(status.pilot_error_code, []):
                current = best.get(pilot_index)
                if current is not None and current[0] >= lifted:
                    continue
                if named:
                    reasons = [f"pilot exit status {status.code} stands for this code"]
                else:
                    reasons = [reason for reason in matched if not reason.startswith("code ")]
                kinds = {reason.split(":")[0] for reason in reasons}
                own = [
                    reason for reason in (current[2] if current else []) if reason.split(":")[0] not in kinds
                ]
                best[pilot_index] = (lifted, pilot_index, reasons + own)
        return list(best.values())

    @staticmethod
    def _fuzzy_scores(query_text: str, choices: list[str]) -> dict[int, float]:
        """Return {choice index: 0..1} for choices that resemble the whole query (token sort ratio above 60)."""
        if not query_text:
            return {}
        matches = process.extract(
            query_text, choices, scorer=fuzz.token_sort_ratio, score_cutoff=60, limit=None
        )
        return {index: (score - 60) / 40 for _, score, index in matches}

    def _score(
        self,
        doc: _Document,
        query_terms: list[str],
        idf_total: float,
        query_pairs: set[tuple[str, str]],
        query: _Query,
        mentions: list[CodeMention],
        scripts: set[str],
        fuzzy_message: float,
        fuzzy_phrase: float,
    ) -> tuple[float, list[str]]:
        """Return the score of one document and the short reasons behind it."""
        matched: list[str] = []
        coverage = 0.0
        hit_words: list[str] = []
        for term in query_terms:
            weight = max(
                (FIELD_WEIGHTS[name] for name, terms in doc.fields.items() if term in terms), default=0.0
            )
            if weight:
                coverage += self._idf.get(term, 1.0) * weight
                if weight >= FIELD_WEIGHTS["acronym"] and not term.startswith("_"):
                    hit_words.append(query.display.get(term, term))
        score = coverage / (idf_total * MAX_FIELD_WEIGHT)
        if hit_words:
            matched.append("words: " + ", ".join(hit_words[:6]))

        phrase_bonus = 0.0
        found = [phrase for phrase in doc.phrases if f" {phrase} " in query.phrase_text]
        if doc.message and len(doc.message) >= 12 and " " in doc.message and doc.message in query.text:
            phrase_bonus = 0.6 + (0.3 if query.text.startswith(doc.message) else 0.0)
            matched.append("official message in text")
        elif found:
            longest = max(len(phrase.split()) for phrase in found)
            phrase_bonus = (
                PHRASE_BONUS if longest > 1 else PHRASE_BONUS * min(1.0, 2 / max(1, query.word_count))
            )
            matched.append("keyword phrase in text")
        score += phrase_bonus

        score += 0.5 * fuzzy_message + 0.3 * fuzzy_phrase
        score += 0.1 * min(3, len(query_pairs & doc.bigrams))

        entry = doc.entry
        for mention in mentions:
            if mention.code != entry.code:
                continue
            if not mention.components or entry.component in mention.components:
                score += 1.5
                matched.append(_mention_reason(entry.code, mention))
            else:
                score += 0.3
            break

        if scripts and entry.script:
            if entry.script.lower() in scripts:
                score += 0.3
                matched.append(f"script {entry.script} named in text")
            elif entry.component == "wnscripts":
                score -= 0.2

        score *= COMPONENT_PRIOR.get(entry.component, 1.0) * (HISTORICAL_PRIOR if entry.historical else 1.0)
        return score, matched

    @staticmethod
    def _tie_break(entry: ErrorEntry) -> tuple[bool, bool, int]:
        # A pilot code goes before the exit status that stands for it, and among the variants of one
        # wnscripts base code a script that really sets it goes first.
        return (entry.component == "pilot-exit", entry.set_by_script is False, entry.code)

    def _collapse(self, scored: list[tuple[float, int, list[str]]], limit: int) -> list[SearchHit]:
        """Return the best `limit` hits, folding the wnscripts variants of one base code into one hit."""
        hits: list[SearchHit] = []
        seen: dict[tuple[str, int, str], SearchHit] = {}
        for score, index, matched in scored:
            doc = self.documents[index]
            if doc.group in seen:
                seen[doc.group].other_codes.append(doc.entry.code)
                continue
            if len(hits) >= limit:
                continue
            summary = ErrorSummary.of(doc.entry)
            hit = SearchHit(**summary.model_dump(), score=round(score, 3), matched=matched)
            if doc.entry.component == "wnscripts" and doc.entry.base_code is not None:
                seen[doc.group] = hit
            hits.append(hit)
        for hit in hits:
            hit.other_codes.sort()
        return hits


_INDEXES: dict[int, SearchIndex] = {}


def get_search_index(catalogue: Catalogue | None = None) -> SearchIndex:
    """Return the search index of `catalogue` (the package catalogue by default), built on first use."""
    from shared.errorcodes.catalogue import get_catalogue

    target = catalogue or get_catalogue()
    index = _INDEXES.get(id(target))
    if index is None or index.catalogue is not target:
        index = SearchIndex(target)
        _INDEXES[id(target)] = index
    return index


def search_errors(text: str, limit: int = 5, catalogue: Catalogue | None = None) -> SearchResult:
    """Return the entries that best match diag text or plain words, best first."""
    return get_search_index(catalogue).search(text, limit=limit)
