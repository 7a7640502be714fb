"""The query as the index sees it: typos corrected, lay phrases expanded, common words focused.

``plan_query`` turns the words of a query into phrases of index terms, grouped by idea, using
the dictionary of indexed terms (cached per database, rebuilt when the index changes) and the
lay vocabulary. Both stores then run the same plan, so they find the same sheets.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from caresheet.search import match as matching
from caresheet.search.analysis import LANGUAGES, STOPWORDS, query_stems, stem
from caresheet.search.typos import TermDictionary
from caresheet.search.vocabulary import Vocabulary, find_phrases, vocabulary

Phrase = tuple[str, ...]

# A word in more sheets than this is "common": looked for in titles, aliases and keywords only.
# Ranking a word by the body of thousands of sheets is slow on FTS5 (it scores every match) and
# tells a reader little; the sheets that name it in the title or aliases are the ones wanted.
COMMON_MIN_SHEETS = 500
COMMON_SHARE = 0.01


@dataclass(frozen=True, slots=True)
class Plan:
    """The query as the index sees it."""

    phrases: list[Phrase]
    marks: list[Phrase]  # the words as typed (stems): marked in snippets before expansions
    corrected: list[str]  # the query words after typo correction
    changed: bool
    focused: frozenset[Phrase] = frozenset()
    # One entry per idea in the query (a lay phrase with its synonyms, or a word): a sheet
    # that has every idea is searched for first.
    groups: list[list[Phrase]] = field(default_factory=list)


def common_limit(dictionary: TermDictionary) -> float:
    """A term in more sheets than this is common."""
    return max(COMMON_MIN_SHEETS, dictionary.documents * COMMON_SHARE)


def common_terms(dictionary: TermDictionary, candidates: list[Phrase]) -> frozenset[Phrase]:
    """The phrases with a word in so many sheets that matching it in the body is slow and
    tells the sheets apart poorly ("camera test", "knee"): they are matched in the head."""
    limit = common_limit(dictionary)
    return frozenset(
        p for p in candidates if any(dictionary.counts.get(t, 0) > limit for t in p)
    )


def stems_of(phrase: Phrase, language: str | None) -> list[Phrase]:
    """A phrase as index terms: in the query's language, or in each language when unknown."""
    languages = (language,) if language is not None else LANGUAGES
    return list(dict.fromkeys(tuple(stem(w, lang) for w in phrase) for lang in languages))


def plan_query(
    query_words: list[str], language: str | None, dictionary: TermDictionary, vocab: Vocabulary
) -> Plan:
    """Correct typos, find lay phrases and expand them, drop stopwords."""
    corrected: list[str] = []
    changed = False
    vocab_words = vocabulary_words(vocab)
    for word in query_words:
        known = word in vocab_words or any(s in dictionary for s in query_stems(word, language))
        fixed = None if known or not word.isalpha() else dictionary.correct(word)
        corrected.append(fixed or word)
        changed = changed or fixed is not None
    matches = find_phrases(corrected, vocab)
    phrases: list[Phrase] = []
    groups: list[list[Phrase]] = []
    covered: set[int] = set()
    for found in matches:
        group = [v for alternative in found.alternatives for v in stems_of(alternative, language)]
        phrases.extend(group)
        groups.append(list(dict.fromkeys(group)))
        covered.update(range(found.start, found.end))
    # A query of stopwords only ("the", "how do I") finds nothing rather than everything.
    meaningful = [w for w in corrected if w not in STOPWORDS and _worth_a_term(w)]
    # Every meaningful word also counts alone: "headache after spinal tap" still ranks sheets
    # that speak of headaches, and the word is marked in the snippet.
    singles: list[Phrase] = [(s,) for w in meaningful for s in query_stems(w, language)]
    focused = common_terms(dictionary, [*phrases, *singles])
    phrases.extend(singles)
    whole = stems_of(tuple(corrected), language) if 1 < len(corrected) <= 8 else []
    if len(meaningful) == len(corrected) and not focused.intersection(singles):
        phrases.extend(whole)  # the words together, as typed, count extra
    for index_, word in enumerate(corrected):
        if index_ not in covered and word not in STOPWORDS and _worth_a_term(word):
            groups.append([(s,) for s in query_stems(word, language)])
    unique = list(dict.fromkeys(phrases))
    typed = list(dict.fromkeys([*singles, *whole]))
    return Plan(unique, typed, corrected, changed, focused, groups)


def _worth_a_term(word: str) -> bool:
    """Single letters say nothing ("x-ray" keeps "ray"); digits and longer words do."""
    return len(word) > 1 or word.isdigit()


@dataclass
class _Cache:
    lock: threading.Lock = field(default_factory=threading.Lock)
    dictionaries: dict[str, tuple[int, TermDictionary]] = field(default_factory=dict)
    vocab_words: dict[int, frozenset[str]] = field(default_factory=dict)


_CACHE = _Cache()


def vocabulary_words(vocab: Vocabulary) -> frozenset[str]:
    found = _CACHE.vocab_words.get(id(vocab))
    if found is None:
        found = frozenset(vocab.words())
        _CACHE.vocab_words[id(vocab)] = found
    return found


def term_dictionary(session: Session, generation: int | None = None) -> TermDictionary:
    """The index's terms (plus the lay vocabulary's words), rebuilt when the index changed.

    ``generation`` is the index's change counter when the caller has just read it."""
    key = str(session.get_bind().engine.url)
    if generation is None:
        generation = matching.generation(session)
    cached = _CACHE.dictionaries.get(key)
    if cached is not None and cached[0] == generation:
        return cached[1]
    with _CACHE.lock:
        dictionary = TermDictionary.build(matching.term_counts(session))
        dictionary.documents = matching.document_count(session)
        for word in vocabulary_words(vocabulary()):
            if word not in dictionary:
                dictionary.add(stem(word), 0)
        _CACHE.dictionaries[key] = (generation, dictionary)
    return dictionary
