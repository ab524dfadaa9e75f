"""Text analysis for error search: noise removal, word splitting, light stemming and field synonyms.

Documents (catalogue entries) and queries (pasted diags, plain words) go through the same steps, so a
query matches an entry whenever both reduce to the same stems or synonym concepts.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

# Phrases rewritten to one token before splitting, so "timed out", "time-out" and "timeout" agree.
# Each pattern runs only when one of its trigger substrings occurs in the lower-case text.
_PHRASE_TABLE: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (r"\btime[sd]?[\s_-]*out", " timeout ", ("time",)),
    (r"\bstage[\s_-]*in\b", " stagein ", ("stage",)),
    (r"\bstage[\s_-]*out\b", " stageout ", ("stage",)),
    (r"\binputs?\s+(?:file\s+)?(?:copy|transfer|download)\w*", " stagein ", ("input",)),
    (r"\boutputs?\s+(?:file\s+)?(?:copy|transfer|upload)\w*", " stageout ", ("output",)),
    (
        r"\bno\s+space\s+left\b|\bdisk\s+(?:is\s+)?full\b|\bout\s+of\s+(?:disk\s+)?space\b",
        " nospace ",
        ("space", "full"),
    ),
    (r"\bquota\s+exceeded\b|\bexceeded\s+(?:the\s+)?quota\b", " nospace ", ("quota",)),
    (
        r"\bout\s+of\s+memory\b|\boom[\s-]*kill\w*|\b(?:std::)?bad_alloc\b",
        " oom ",
        ("memory", "oom", "alloc"),
    ),
    (
        r"\bseg(?:mentation)?\s*(?:fault|violation)\b|\binvalid\s+memory\s+reference\b",
        " segfault ",
        ("seg", "invalid"),
    ),
    (
        r"\bnot\s+found\b|\bdoes\s*n[o']t\s+exist\b|\bno\s+such\b|\bcannot\s+find\b|\bcould\s+not\s+find\b",
        " missing ",
        ("not", "n't", "such", "find"),
    ),
    (
        r"\bwall[\s-]*(?:time|clock)\b|\btime\s+limit\b|\bmax(?:imum)?\s+time\b",
        " walltime ",
        ("wall", "time"),
    ),
    (r"\bcheck[\s-]*sum", " checksum ", ("check",)),
    (r"\bstorage\s+element\b", " rse ", ("element",)),
    (r"\bworker[\s-]*node\b", " workernode ", ("worker",)),
    (r"\bnon[\s-]*zero\b", " nonzero ", ("zero",)),
    (r"\bcore[\s-]*dump(?:ed)?\b", " coredump ", ("dump",)),
    (r"\bdata\s*base\b", " database ", ("base",)),
    (r"\bkill(?:ed)?\s+by\s+(?:the\s+)?(?:batch|condor|slurm|lsf|pbs)\b", " batchkill ", ("kill",)),
)
_PHRASES = tuple(
    (re.compile(pattern, re.IGNORECASE), replacement, triggers)
    for pattern, replacement, triggers in _PHRASE_TABLE
)


# Pasted diags carry paths, hosts, file names, ids and numbers that never help to find the code. Each
# pattern runs only when its trigger occurs in the text.
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

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "being",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "nor",
        "not",
        "of",
        "on",
        "or",
        "our",
        "so",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "to",
        "too",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "after",
        "before",
        "during",
        "about",
        "again",
        "all",
        "also",
        "any",
        "because",
        "both",
        "each",
        "few",
        "more",
        "most",
        "other",
        "over",
        "same",
        "some",
        "under",
        "until",
        "up",
        "very",
        "via",
        "just",
        "please",
        "help",
        "got",
        "get",
        "gets",
        "getting",
        "see",
        "seen",
        "saying",
        "says",
        "said",
    ]
)

# Words of the field that mean the same thing; each group adds one concept token to the text.
SYNONYM_GROUPS: dict[str, tuple[str, ...]] = {
    "_checksum": ("md5", "md5sum", "adler32", "adler", "ad", "checksum", "checksums", "crc", "crc32"),
    "_space": ("space", "disk", "disks", "quota", "nospace", "enospc", "diskspace", "full"),
    "_timeout": ("timeout", "timeouts", "slow", "hung", "hang", "hanging", "stuck"),
    "_looping": (
        "looping",
        "loop",
        "idle",
        "frozen",
        "stalled",
        "stall",
        "inactive",
        "hung",
        "hang",
        "stuck",
    ),
    "_credential": (
        "proxy",
        "proxies",
        "certificate",
        "certificates",
        "cert",
        "certs",
        "credential",
        "credentials",
        "x509",
        "voms",
        "arcproxy",
        "token",
        "tokens",
        "authentication",
        "auth",
    ),
    "_memory": (
        "memory",
        "rss",
        "pss",
        "oom",
        "ram",
        "vmem",
        "swap",
        "malloc",
        "alloc",
        "badalloc",
        "maxrss",
        "maxpss",
        "leak",
    ),
    "_segfault": ("segfault", "sigsegv", "segv", "crash", "crashed", "crashes", "coredump"),
    "_container": ("singularity", "apptainer", "container", "containers", "docker", "podman"),
    "_preempt": ("preempt", "preempted", "preemption", "preemptible", "evict", "evicted", "eviction"),
    "_stagein": ("stagein", "download", "downloading", "downloaded"),
    "_stageout": ("stageout", "upload", "uploading", "uploaded"),
    "_missing": ("missing", "absent", "lost", "unavailable", "gone"),
    "_storage": (
        "rse",
        "se",
        "storage",
        "endpoint",
        "ddmendpoint",
        "dcache",
        "eos",
        "xrootd",
        "webdav",
        "davs",
    ),
    "_network": (
        "network",
        "connection",
        "connect",
        "connectivity",
        "unreachable",
        "communication",
        "communicate",
        "dns",
        "socket",
    ),
    "_queue": ("queuedata", "queue", "queues", "schedconfig", "pandaqueue"),
    "_walltime": ("walltime", "sigxcpu", "xcpu", "maxtime", "deadline"),
    "_kill": ("kill", "killed", "terminated", "terminate", "sigkill", "sigterm", "batchkill"),
    "_software": ("release", "athena", "asetup", "cvmfs", "software", "installation"),
    "_validation": ("validation", "validate", "validated", "corrupt", "corrupted", "corruption"),
    "_file": ("file", "files", "lfn", "pfn", "replica", "replicas", "dataset"),
    "_input": ("input", "inputs"),
    "_output": ("output", "outputs"),
    "_mismatch": ("mismatch", "mismatched", "differ", "differs", "different", "wrong", "inconsistent"),
    "_transfer": ("transfer", "transfers", "transferring", "copy", "copying", "xrdcp", "copytool", "gfal"),
}

# Short forms used in logs and diags, expanded before stemming.
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "trf": ("transform",),
    "trfs": ("transform",),
    "wn": ("workernode",),
    "mkdir": ("create", "directory"),
    "dir": ("directory",),
    "env": ("environment",),
    "exe": ("execution",),
    "exec": ("execution",),
    "db": ("database",),
    "chksum": ("checksum",),
    "msg": ("message",),
}

# Short forms found only inside acronyms: GET and PUT are Pilot 1 names for stage-in and stage-out,
# AD is adler32, ES is event service, EC_ is the prefix of every server constant.
ACRONYM_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    **ABBREVIATIONS,
    "get": ("stagein",),
    "put": ("stageout",),
    "ad": ("adler32",),
    "es": ("event", "service"),
    "ec": (),
    "sig": (),
}


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
def clean(text: str) -> str:
    """Return `text` with phrases unified and noise (URLs, paths, hosts, ids, numbers) removed."""
    lower = text.lower()
    for pattern, replacement, triggers in _PHRASES:
        if any(trigger in lower for trigger in triggers):
            text = pattern.sub(replacement, text)
    for pattern, trigger in _NOISE:
        if trigger in text:
            text = pattern.sub(" ", text)
    return text


def words(text: str) -> list[str]:
    """Return the lower-case words of cleaned text, with camelCase and snake_case split."""
    split = _CAMEL.sub(" ", text).replace("_", " ")
    return _WORD.findall(split.lower())


def terms(raw_words: Iterable[str], abbreviations: dict[str, tuple[str, ...]] = ABBREVIATIONS) -> list[str]:
    """Return the stems of `raw_words`, abbreviations expanded and stop words dropped, in order."""
    result: list[str] = []
    for word in raw_words:
        for part in abbreviations.get(word, (word,)):
            if part not in STOPWORDS:
                result.append(stem(part))
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
