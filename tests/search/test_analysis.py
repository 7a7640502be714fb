"""Analysis, typo correction, the vocabulary file, query cleaning: pure functions as tables."""

from __future__ import annotations

import random

import pytest

from caresheet import search
from caresheet.errors import SheetFormatError
from caresheet.library import LIBRARY_DIR
from caresheet.search.analysis import WORD, fold, stem, stem_en, stem_es, terms
from caresheet.search.match import fts5_expression, tsquery_expression
from caresheet.search.snippets import _Phrases, mark
from caresheet.search.typos import TermDictionary, edit_distance, max_edits
from caresheet.search.vocabulary import VOCABULARY_PATH, find_phrases, parse_vocabulary


@pytest.mark.parametrize(
    ("text", "folded"),
    [("Cirugía", "cirugia"), ("NIÑO", "nino"), ("Punción Lumbar", "puncion lumbar"),
     ("P586", "p586")],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


@pytest.mark.parametrize(
    ("word", "english", "spanish"),
    [
        ("biopsies", "biopsy", "biopsie"),
        ("stitches", "stitch", "stitch"),
        ("needles", "needle", "needl"),
        ("bones", "bone", "bon"),
        ("bleeding", "bleed", "bleeding"),
        ("stopped", "stop", "stopped"),
        ("swelling", "swell", "swelling"),
        ("pruebas", "prueba", "prueba"),
        ("dolores", "dolore", "dolor"),
        ("luces", "luce", "luz"),
        ("glass", "glass", "glass"),
        ("tap", "tap", "tap"),
    ],
)
def test_light_stemmers(word: str, english: str, spanish: str) -> None:
    assert (stem_en(word), stem_es(word)) == (english, spanish)


def test_terms_split_on_anything_but_letters_and_digits() -> None:
    assert terms("Blood-thinners (e.g. warfarin), P586!") == [
        "blood", "thinner", "e", "g", "warfarin", "p586",
    ]


@pytest.mark.parametrize(
    ("word", "allowed"), [("tap", 0), ("scope", 1), ("punture", 1), ("colonscopy", 2)]
)
def test_longer_words_allow_more_edits(word: str, allowed: int) -> None:
    assert max_edits(word) == allowed


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("punture", "puncture", 1), ("colonscopy", "colonoscopy", 1), ("hedaache", "headache", 1),
     ("cataract", "cataract", 0), ("abc", "xyz", 3)],
)
def test_edit_distance(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b, 3) == distance


def _osa(a: str, b: str) -> int:
    """Optimal string alignment by its textbook recurrence: the oracle for the C one."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1,
                          d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


@pytest.mark.parametrize("seed", range(5))
def test_edit_distance_is_optimal_string_alignment_capped_at_limit_plus_one(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(400):
        a = "".join(rng.choice("abct") for _ in range(rng.randint(0, 9)))
        b = "".join(rng.choice("abct") for _ in range(rng.randint(0, 9)))
        for limit in (0, 1, 2):
            assert edit_distance(a, b, limit) == min(_osa(a, b), limit + 1), (a, b, limit)
    assert edit_distance("ca", "abc", 5) == 3  # OSA, not Damerau: no edit of a swapped pair


DICTIONARY = TermDictionary.build(
    [("puncture", 3), ("colonoscopy", 1), ("headache", 9), ("needle", 2), ("cataract", 1),
     ("tape", 1)]
)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("punture", "puncture"),
        ("colonscopy", "colonoscopy"),
        ("colonoscpy", "colonoscopy"),
        ("hedaache", "headache"),
        ("catarct", "cataract"),
        ("neddle", "needle"),
        ("tap", None),  # under 5 letters: never corrected
        ("headache", None),  # already a term
        ("zzzzzzz", None),
        ("c0lonoscopy", None),  # not a word
    ],
)
def test_typo_correction(word: str, expected: str | None) -> None:
    assert DICTIONARY.correct(word) == expected


def test_a_word_two_edits_from_two_terms_gets_the_more_used() -> None:
    # "bcdefghz" shares a delete with the word (found first); "abcdef" is two deletes away
    # (found only among the farther keys) and more used: it wins, as ties go by use.
    dictionary = TermDictionary.build([("bcdefghz", 1), ("abcdef", 9)])
    assert dictionary.correct("abcdefgh") == "abcdef"
    assert TermDictionary.build([("bcdefghz", 9), ("abcdef", 1)]).correct("abcdefgh") == (
        "bcdefghz")


def _correct_from_every_key(dictionary: TermDictionary, word: str) -> str | None:
    """The correction looked up under every key two deletes away at once: the oracle for
    ``correct``, which looks one delete away first."""
    allowed = max_edits(word)
    if allowed == 0 or word in dictionary or not word.isalpha():
        return None
    keys = {word} | {word[:i] + word[i + 1:] for i in range(len(word))}
    if allowed >= 2:
        keys |= {k[:i] + k[i + 1:] for k in set(keys) for i in range(len(k))}
    found = {t for key in keys for t in dictionary._by_delete.get(key, ())}
    ranked = sorted((edit_distance(word, t, allowed), -dictionary.counts[t], t) for t in found)
    return next((t for d, _, t in ranked if d <= allowed), None)


@pytest.mark.parametrize("seed", range(4))
def test_typo_correction_looks_one_edit_away_first_and_answers_the_same(seed: int) -> None:
    rng = random.Random(seed)
    letters = "aeiorstnc"
    terms = {"".join(rng.choice(letters) for _ in range(rng.randint(5, 10))) for _ in range(400)}
    dictionary = TermDictionary.build((t, rng.randint(1, 9)) for t in sorted(terms))
    for _ in range(300):
        word = list(rng.choice(sorted(terms)))
        for _ in range(rng.randint(1, 3)):  # one to three edits of a known term
            at = rng.randrange(len(word))
            if rng.random() < 0.5:
                word[at] = rng.choice(letters)
            else:
                del word[at]
        typed = "".join(word)
        assert dictionary.correct(typed) == _correct_from_every_key(dictionary, typed), typed


def test_the_shipped_vocabulary_is_valid_with_no_phrase_twice() -> None:
    vocab = parse_vocabulary(VOCABULARY_PATH.read_text(encoding="utf-8"), strict=True)
    spinal = vocab.entry(("spinal", "tap"))
    assert spinal is not None and ("lumbar", "puncture") in spinal
    assert vocab.entry(("heart", "cath")) is not None


def test_a_phrase_in_two_entries_names_its_line() -> None:
    text = "- [lumbar puncture, spinal tap]\n- [spinal tap, LP]\n"
    with pytest.raises(SheetFormatError) as caught:
        parse_vocabulary(text, "vocabulary.yaml")
    assert caught.value.line == 2
    lenient = parse_vocabulary(text, strict=False)
    assert lenient.entry(("spinal", "tap")) == (("lumbar", "puncture"), ("spinal", "tap"))


@pytest.mark.parametrize(
    "text", ["- just text\n", "a: mapping\n", "- [ok, fine]\n- [unclosed\n"]
)
def test_a_malformed_vocabulary_is_a_format_error(text: str) -> None:
    with pytest.raises(SheetFormatError):
        parse_vocabulary(text)


def test_phrases_are_found_longest_first_and_as_plurals() -> None:
    vocab = parse_vocabulary(
        "- [lumbar puncture, spinal tap]\n- [post spinal tap headache, spinal headache]\n"
    )
    found = find_phrases(["post", "spinal", "tap", "headache"], vocab)
    assert [(m.start, m.end) for m in found] == [(0, 4)]
    plural = find_phrases(["spinal", "taps"], vocab)
    assert [(m.start, m.end) for m in plural] == [(0, 2)]


@pytest.mark.parametrize(
    ("query", "code"),
    [("P586", "P586"), ("p 586", "P586"), (" cs101 ", "CS101"), ("spinal tap", None),
     ("586", None), ("colonoscopy", None)],
)
def test_sheet_codes_in_queries(query: str, code: str | None) -> None:
    assert search.as_sheet_code(query) == code


@pytest.mark.parametrize(
    ("query", "cleaned"),
    [("a\x00b", "a b"), ("  spinal\n\ttap ", "spinal tap"), ("x" * 20_000, "x" * 500), ("", "")],
)
def test_queries_are_cleaned(query: str, cleaned: str) -> None:
    assert search.clean(query) == cleaned


def test_snippet_marks_are_escaped() -> None:
    shown, count = mark("Take <b>pain</b> medicine & rest", [("pain",)], "en")
    assert count == 1
    assert str(shown) == "Take &lt;b&gt;<mark>pain</mark>&lt;/b&gt; medicine &amp; rest"


def test_a_phrase_is_marked_only_where_it_is_whole() -> None:
    shown, _ = mark("A spinal tap. Your spinal cord. A tap.", [("spinal", "tap")], "en")
    assert str(shown) == "A <mark>spinal</mark> <mark>tap</mark>. Your spinal cord. A tap."


def test_user_text_never_becomes_fts_syntax() -> None:
    phrases = [("near",), ('a"b', "or")]
    assert fts5_expression(phrases, None) == '"near" OR "a""b or"'
    assert fts5_expression([("tap",)], "es") == '("tap") AND t_lang : "xlanges"'
    assert tsquery_expression([("it's",), ("a", "b")]) == "('it''s') | ('a' <-> 'b')"


@pytest.mark.parametrize("language", ["en", "es"])
def test_counting_marks_by_regex_agrees_with_marking_word_by_word(language: str) -> None:
    """``_Phrases.count`` (the fast path of a snippet's candidate lines) counts exactly the
    words ``marked`` would, on every line of the shipped sheets' files, for single words,
    phrases, overlapping phrases and a phrase cut short by the end of a line."""
    lines = [
        fold(line)
        for path in sorted(LIBRARY_DIR.glob(f"*.{language}.md"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    vocabulary_words = sorted({w for line in lines for w in WORD.findall(line)})
    rng = random.Random(586)
    phrase_sets: list[list[tuple[str, ...]]] = [[("call",), ("doctor",)], [("your", "doctor")],
                                                [("a", "fever"), ("fever",), ("fever", "of")]]
    for _ in range(40):
        picked = rng.sample(vocabulary_words, 4)
        phrase_sets.append([(stem(picked[0], language),),
                            tuple(stem(w, language) for w in picked[1:3]),
                            (stem(picked[3], language), stem(picked[0], language))])
    # Phrases from the lines themselves, so that many do match (and some run to a line's end).
    for line in rng.sample(lines, 40):
        found = WORD.findall(line)
        if len(found) >= 2:
            start = rng.randrange(len(found) - 1)
            phrase_sets.append([tuple(stem(w, language) for w in found[start:start + 3]),
                                (stem(found[start], language),)])
    matched = 0
    for phrases in phrase_sets:
        arranged = _Phrases(phrases)
        for line in lines:
            expected = len(arranged.marked(WORD.findall(line), language))
            assert arranged.count(line, language) == expected, (phrases, line)
            matched += expected > 0
    assert matched > 100
