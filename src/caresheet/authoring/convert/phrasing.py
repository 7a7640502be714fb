"""The words of a warning sign: its finding id, its question and its time limit.

A handout states a sign ("You have a severe headache."); the symptom check asks it ("Do you
have a severe headache?"). These helpers turn one into the other with a few grammar rules and
a short verb table, and read a time ("2 days after your procedure", "more than 24 hours") as
a condition (``after 2d``). They never guess: a sentence they cannot turn is asked as
"Is this true for you: …?" and the builder marks it for the author.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from caresheet.model.condition import format_hours

_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "fourteen": 14, "twenty-four": 24, "forty-eight": 48, "seventy-two": 72,
}
_NUM = r"(\d+(?:\.\d+)?|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
_RANGE = rf"{_NUM}(?:\s*(?:to|-|\u2013|or)\s*{_NUM})?"
_UNIT = r"(minutes?|mins?|hours?|hrs?|days?|weeks?|months?)"
_UNIT_HOURS = {"m": 1 / 60, "h": 1.0, "d": 24.0, "w": 168.0, "mo": 720.0}
_WITHIN = re.compile(
    rf"\b(?:within|in the first|during the first|for the first|in the next|in the)\s+{_RANGE}\s+"
    rf"{_UNIT}",
    re.IGNORECASE,
)
_AFTER_BEFORE = re.compile(
    rf"\b(?:after|more than|longer than|over|past|beyond|at least|for more than|for longer than)"
    rf"\s+{_RANGE}\s+{_UNIT}",
    re.IGNORECASE,
)
_AFTER_AFTER = re.compile(
    rf"\b{_RANGE}\s+(?:or more\s+)?{_UNIT}\s+(?:or more\s+)?(?:after|later|past|since|from now)\b",
    re.IGNORECASE,
)
_VAGUE_TIME = re.compile(
    r"\b(?:in the first few|first few|a few|several|a couple of)\s+(?:hours|days|weeks)\b",
    re.IGNORECASE,
)
# After a time's number and unit, the words that only say what the time counts from.
_TIME_TAIL = re.compile(
    r"\s*(?:(?:after|since|from)\s+(?:(?:your|the)\s+)?[\w-]+(?:\s+(?:was|were)\s+[\w-]+)?"
    r"(?:\s+(?:out|in|done|pulled|removed|taken out))?)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class TimeLimit:
    """``after 2d`` or ``within 6h``, with the words it was read from."""

    kind: str  # "after" or "within"
    hours: float
    words: str
    ranged: bool = False  # the handout gave a range; the safer end was taken

    @property
    def condition(self) -> str:
        return f"{self.kind} {format_hours(self.hours)}"


def _number(word: str) -> float:
    lowered = word.lower()
    return float(_NUMBER_WORDS[lowered]) if lowered in _NUMBER_WORDS else float(word)


def _hours(unit: str) -> float:
    lowered = unit.lower()
    key = "mo" if lowered.startswith("mo") else lowered[0]
    return _UNIT_HOURS[key]


def find_time(text: str) -> TimeLimit | None:
    """The first time limit the text states, or None.

    A range takes the end that makes the rule count sooner or longer, never later: the lower
    number for ``after``, the higher for ``within``, so a patient is never told less.
    """
    found: list[tuple[int, TimeLimit]] = []
    for kind, pattern in (("within", _WITHIN), ("after", _AFTER_BEFORE), ("after", _AFTER_AFTER)):
        for match in pattern.finditer(text):
            low = _number(match.group(1))
            high = _number(match.group(2)) if match.group(2) else low
            unit = _hours(match.group(3))
            amount = min(low, high) if kind == "after" else max(low, high)
            found.append((match.start(), TimeLimit(
                kind, amount * unit, match.group(0), ranged=match.group(2) is not None)))
    if not found:
        return None
    return min(found, key=lambda pair: pair[0])[1]


def vague_time(text: str) -> str | None:
    """Time words with no number ("in the first few hours"): the author must set the limit."""
    match = _VAGUE_TIME.search(text)
    return match.group(0) if match else None


def without_time(text: str, time: TimeLimit | None) -> str:
    """The sign's words with its time phrase (and what the time counts from) taken out.

    "2 days after your procedure" and "2 or more days after the tooth was pulled" lose the
    whole clause up to the next comma; "more than 24 hours after surgery" loses its tail.
    """
    if time is None:
        return text
    start = text.find(time.words)
    if start < 0:
        return text
    end = start + len(time.words)
    if re.search(r"(?:after|later|past|since|from now)$", time.words.lower().rstrip()):
        if not time.words.lower().rstrip().endswith(("later", "from now")):
            clause = re.match(r"[^,.;]*", text[end:])
            end += clause.end() if clause else 0
    else:
        tail = _TIME_TAIL.match(text, end)
        end = tail.end() if tail else end
    cut = (text[:start] + text[end:]).strip()
    return " ".join(cut.split()).replace(" .", ".").replace(" ,", ",")


# ---------------------------------------------------------------- splitting a sign


def sentences(text: str) -> list[str]:
    """The sentences of a bullet ("You feel hot. Take your temperature." is two)."""
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", text.strip()) if s]


def alternatives(sign: str) -> list[str]:
    """Parts joined by ", or" (each its own way to match the rule)."""
    return [p.strip() for p in re.split(r",\s*or\s+", sign) if p.strip()]


def both(sign: str) -> list[str]:
    """Parts joined by "and" that are each a sign: "a fever and a stiff neck".

    Only a split whose every part holds a noun-like word is taken, so "pale and cool"
    (two words of one sign) stays whole.
    """
    parts = [p.strip(" ,") for p in re.split(r",?\s+and\s+", sign) if p.strip(" ,")]
    if len(parts) != 2 or not all(_has_subject(p) for p in parts):
        return [sign]
    return parts


def _has_subject(part: str) -> bool:
    return bool(re.match(r"(?i)(you|your|the|a|an|there|it|any|some|signs)\b", part.strip()))


# ---------------------------------------------------------------- ids


_STOP_WORDS = (
    "a an the you your yours any some have has had is are was were be been do does did "
    "feel feels felt get gets got it its of to in on at for from with or and that this "
    "there very still more than new not no up by as if what which who when so"
)
_STOP = frozenset(_STOP_WORDS.split())
_ID_WORDS = 4
_CONDITION_WORDS = frozenset({"and", "or", "not", "after", "within"})  # the rule grammar's own


def _content(text: str) -> list[str]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return [w for w in words if w not in _STOP]


def finding_id(text: str, taken: set[str]) -> str:
    """An id from the sign's own words ("You passed out (lost consciousness)." → passed_out)."""
    plain = re.sub(r"\([^)]*\)", " ", text)
    words = _content(plain) or _content(text) or ["sign"]
    base = "_".join(words[:_ID_WORDS])
    if not base[0].isalpha() or base in _CONDITION_WORDS:
        base = "sign_" + base
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


# ---------------------------------------------------------------- questions


_IRREGULAR_PAST = {
    "passed": "pass", "fainted": "faint", "fell": "fall", "lost": "lose", "had": "have",
    "took": "take", "felt": "feel", "threw": "throw", "hit": "hit", "broke": "break",
    "got": "get", "saw": "see", "bled": "bleed", "began": "begin", "came": "come",
    "went": "go", "ran": "run", "swallowed": "swallow", "noticed": "notice", "vomited": "vomit",
    "started": "start", "stopped": "stop", "became": "become", "hurt": "hurt", "woke": "wake",
    "struck": "strike", "swelled": "swell", "coughed": "cough", "used": "use", "missed": "miss",
}
_THIRD_PERSON = {
    "has": "have", "does": "do", "goes": "go", "hurts": "hurt", "soaks": "soak",
    "starts": "start", "comes": "come", "gets": "get", "keeps": "keep", "looks": "look",
    "feels": "feel", "smells": "smell", "swells": "swell", "bleeds": "bleed", "oozes": "ooze",
    "burns": "burn", "lasts": "last", "becomes": "become", "turns": "turn", "spreads": "spread",
    "stays": "stay", "seems": "seem", "drains": "drain", "leaks": "leak", "runs": "run",
    "itches": "itch", "aches": "ache", "opens": "open", "changes": "change", "grows": "grow",
    "throbs": "throb", "worsens": "worsen", "appears": "appear", "develops": "develop",
}
_PLURAL = frozenset(_THIRD_PERSON.values()) - {"have", "do", "go", "come"} | {"have"}
_BE = {"is", "are", "was", "were"}
_MODALS = {"can", "cannot", "can't", "could", "will", "should", "must"}
_ADVERBS = {"still", "suddenly", "often", "also", "now", "ever", "again", "just", "really"}


@dataclass(frozen=True, slots=True)
class Question:
    """The question for a sign; ``sure`` is False when no grammar rule fit (the author rewords)."""

    text: str
    sure: bool


def question(statement: str) -> Question:
    """Turn a sign into a yes/no question: "You have X." → "Do you have X?"."""
    text = statement.strip().rstrip(".!:;")
    if not text:
        return Question("Is this true for you?", False)
    words = text.split()
    first = words[0].lower()
    if first == "you":
        turned = _you(words[1:])
        if turned:
            return Question(turned, True)
    if first == "there" and len(words) > 1 and words[1].lower() in _BE:
        return Question(f"{words[1].capitalize()} there {' '.join(words[2:])}?", True)
    turned = _subject_verb(words)
    if turned:
        return Question(turned, True)
    if first in ("if", "when", "call", "go", "get", "seek", "take", "watch", "tell"):
        return Question(f"Is this true for you: {_lower_first(text)}?", False)
    # No verb of ours: a noun phrase naming the sign ("Chest pain", "A fever over 101°F").
    if not any(w.lower() in _THIRD_PERSON or w.lower() in _BE for w in words):
        return Question(f"Do you have {_lower_first(text)}?", True)
    return Question(f"Is this true for you: {_lower_first(text)}?", False)


def _you(rest: list[str]) -> str | None:
    """"You …" → the question, or None."""
    adverbs: list[str] = []
    while rest and rest[0].lower() in _ADVERBS:
        adverbs.append(rest[0])
        rest = rest[1:]
    if not rest:
        return None
    verb, tail = rest[0], rest[1:]
    lowered = verb.lower()
    pre = (" ".join(adverbs) + " ") if adverbs else ""
    after = " ".join(tail)
    if lowered in _BE:
        return _join(f"{lowered.capitalize()} you {pre}", after)
    if lowered in ("have", "has") and tail and tail[0].lower() in ("been", "had", "noticed"):
        return _join(f"Have you {pre}", after)
    if lowered in _MODALS:
        if lowered in ("cannot", "can't"):
            return _join(f"Are you {pre}unable to ", after)
        return _join(f"{lowered.capitalize()} you {pre}", after)
    if lowered in ("do", "did") and tail and tail[0].lower() == "not":
        return _join(f"{lowered.capitalize()} you {pre}not ", " ".join(tail[1:]))
    past = _IRREGULAR_PAST.get(lowered) or _regular_past(lowered)
    if past:
        return _join(f"Did you {pre}{past} ", _past_to_base(after))
    return _join(f"Do you {pre}{lowered} ", _third_to_base(after))


def _subject_verb(words: list[str]) -> str | None:
    """"Your X is Y" → "Is your X Y?"; "Blood soaks the bandage" → "Does blood soak …?"."""
    for index in range(1, min(len(words), 7)):
        word = words[index].lower().strip(",")
        if index > 0 and words[index - 1].endswith(","):
            return None
        subject = _lower_first(" ".join(words[:index]))
        rest = " ".join(words[index + 1 :])
        if word in _BE:
            if rest.lower().startswith("not "):
                return _join(f"{word.capitalize()} {subject} not ", rest[4:])
            return _join(f"{word.capitalize()} {subject} ", rest)
        if word in _THIRD_PERSON:
            return _join(f"Does {subject} {_THIRD_PERSON[word]} ", _third_to_base(rest))
        if word in _PLURAL and subject.split()[0] in ("your", "the", "my"):
            return _join(f"Do {subject} {word} ", rest)
        if word in ("still", "suddenly") and index + 1 < len(words):
            follow = words[index + 1].lower()
            if follow in _THIRD_PERSON:
                return _join(
                    f"Does {subject} {word} {_THIRD_PERSON[follow]} ",
                    _third_to_base(" ".join(words[index + 2 :])),
                )
            if follow in _BE:
                return _join(f"{follow.capitalize()} {subject} {word} ",
                             " ".join(words[index + 2 :]))
    return None


def _regular_past(word: str) -> str | None:
    if not word.endswith("ed") or len(word) < 5:
        return None
    if word.endswith("ied"):
        return word[:-3] + "y"
    stem = word[:-2]
    if re.search(r"(?:[^aeiou][aeiou][cgvsz]|at|ur|iz|ak)$", stem):
        return stem + "e"
    return stem


def _past_to_base(text: str) -> str:
    """"or lost strength" → "or lose strength": a past verb after "or"/"and" follows the first."""
    def swap(match: re.Match[str]) -> str:
        verb = match.group(2).lower()
        base = _IRREGULAR_PAST.get(verb) or _regular_past(verb)
        return f"{match.group(1)}{base or match.group(2)}"

    text = re.sub(r"(\b(?:or|and)\s+)(\w+ed|lost|fell|felt|had|threw|got|bled|came|went)\b",
                  swap, text)
    return re.sub(r"(\(\s*)(\w+)\b", swap, text)


def _third_to_base(text: str) -> str:
    def swap(match: re.Match[str]) -> str:
        verb = match.group(2).lower()
        return f"{match.group(1)}{_THIRD_PERSON.get(verb, match.group(2))}"

    return re.sub(r"(\b(?:or|and)\s+)(\w+)\b", swap, text)


def _join(head: str, tail: str) -> str:
    return " ".join(f"{head}{tail}".split()).rstrip(" ,") + "?"


def _lower_first(text: str) -> str:
    if len(text) > 1 and text[1].isupper():
        return text  # an acronym or code keeps its capitals
    return text[:1].lower() + text[1:]
