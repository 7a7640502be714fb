"""The linter: each check on a clean sheet made wrong in one place, at the right line."""

from __future__ import annotations

from pathlib import Path

import pytest

from caresheet.authoring.parse import Parsed, parse, read_file
from caresheet.errors import BadInputError, SheetFormatError
from caresheet.quality import Problem, lint, lint_files, lint_paths, readability_parts
from caresheet.quality.checks import WARNING_WORDS
from caresheet.quality.language import action_problem, grade, jargon, jargon_in, long_sentences
from doc_examples import fenced

LIBRARY = Path(__file__).resolve().parents[2] / "src" / "caresheet" / "library"
EXAMPLE = fenced("caresheet")[0]
TRANSLATION = fenced("caresheet-translation")[0]
RECOVERY = (
    "Your doctor closed your cut with stitches. "
    "The stitches hold the skin together while it heals.\n"
    "Most cuts heal in 1 to 2 weeks."
)


def swap(old: str, new: str, text: str = EXAMPLE) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


HARD = "text: Wound dehiscence necessitates immediate professional evaluation."
HARD_RULES = EXAMPLE
for _easy in (
    "text: Blood soaks through the bandage, and it does not stop when you press on it.",
    "text: The cut opens in the first 2 days.",
    "text: A stitch comes loose after the first 2 days.",
    "text: The cut still hurts after 3 days.",
):
    HARD_RULES = swap(_easy, HARD, HARD_RULES)


def line_with(text: str, marker: str) -> int:
    found = [n for n, line in enumerate(text.splitlines(), 1) if marker in line]
    assert len(found) == 1, (marker, found)
    return found[0]


def problems(text: str, path: str = "D900.en.md") -> list[tuple[int, str, str]]:
    parsed = parse(text, path)
    return [(p.line, p.level, p.code) for p in lint(parsed, [parsed])]


# ------------------------------------------------------------------ P586


def test_p586_lints_clean_with_no_warnings() -> None:
    result = lint_files([LIBRARY / "P586.en.md"])
    assert [str(p) for p in result.problems] == []


def test_p586_reads_at_grade_5_or_lower_in_every_part() -> None:
    sheet = read_file(LIBRARY / "P586.en.md").sheet
    grades = {label: grade(text) for _, label, text in readability_parts(sheet)}
    assert len(grades) == len(sheet.sections) + 3
    assert all(g <= 5.0 for g in grades.values()), grades


def test_the_example_sheet_is_clean() -> None:
    assert problems(EXAMPLE) == []


# ------------------------------------------------------------------ each check

CASES = [
    (
        "missing section",
        swap("## Follow-up care {#follow_up}", "## Follow-up care {#other}"),
        "## Your recovery",
        "error",
        "missing-section",
    ),
    (
        "unknown param",
        swap("- Wash the cut once a day.", "- Wash the cut {{ times }} a day."),
        "- Wash the cut {{ times }}",
        "error",
        "unknown-param",
    ),
    (
        "unused param",
        swap("- Go back in {{ stitches_out_days }} days", "- Go back in a week"),
        "  stitches_out_days:",
        "warning",
        "unused-param",
    ),
    (
        "no emergency rule",
        swap("tier: emergency", "tier: urgent"),
        "rules:",
        "error",
        "no-emergency-rule",
    ),
    (
        "unused finding",
        swap("  pain:\n", "  swelling:\n    ask: Is it swollen?\n  pain:\n"),
        "  swelling:",
        "warning",
        "unused-finding",
    ),
    (
        "draft with a reviewer",
        swap("status: reviewed", "status: draft"),
        "reviewer: Dr.",
        "warning",
        "draft-reviewed",
    ),
    (
        "readability warning",
        swap(
            RECOVERY,
            "Your doctor closed your wound with stitches. Stitches usually "
            "hold the skin together while everything heals completely.",
        ),
        "## Your recovery",
        "warning",
        "readability",
    ),
    (
        "readability error",
        swap(RECOVERY, "Most wounds heal completely within approximately two weeks."),
        "## Your recovery",
        "error",
        "readability",
    ),
    ("rule text readability", HARD_RULES, "rules:", "error", "readability"),
    (
        "long sentence",
        swap(
            "Ask your nurse for more sheets about cuts and stitches.",
            "Ask your nurse for more sheets about cuts and stitches, and for the ones about "
            "bandages, pain, and when to go back.",
        ),
        "Ask your nurse",
        "warning",
        "long-sentence",
    ),
    (
        "jargon",
        swap("- Wash the cut once a day.", "- Wash the cut once a day, as your Physician said."),
        "as your Physician said",
        "warning",
        "jargon",
    ),
    (
        "jargon in a question",
        swap("ask: Does the cut hurt?", "ask: Does the incision hurt?"),
        "the incision hurt",
        "warning",
        "jargon",
    ),
    (
        "step without an action",
        swap("- Do not swim until", "- You should not swim until"),
        "You should not swim",
        "warning",
        "step-action",
    ),
    (
        "condition without an action",
        swap("- Wash the cut once a day.", "- If it is dirty you wash it."),
        "If it is dirty",
        "warning",
        "step-action",
    ),
]


@pytest.mark.parametrize(
    ("name", "text", "marker", "level", "code"), CASES, ids=[c[0] for c in CASES]
)
def test_each_check_reports_its_line(
    name: str, text: str, marker: str, level: str, code: str
) -> None:
    assert problems(text) == [(line_with(text, marker), level, code)]


def test_the_readability_bands_are_where_the_cases_say() -> None:
    assert (
        6
        < grade(
            "Your doctor closed your wound with stitches. Stitches usually hold the skin "
            "together while everything heals completely."
        )
        <= 8
    )
    assert grade("Most wounds heal completely within approximately two weeks.") > 8


def test_a_param_used_only_by_a_milestone_counts_as_used() -> None:
    text = swap("- Keep the cut dry for {{ keep_dry_hours }} hours.", "- Keep the cut dry.")
    assert problems(text) == []


def test_a_published_sheet_needs_a_reviewer_and_a_date() -> None:
    published = swap("status: reviewed", "status: published")
    assert problems(published) == []
    text = swap("reviewer: Dr. A. Example\nreviewed_on: 2026-11-01\n", "", published)
    status_line = line_with(text, "status: published")
    assert problems(text) == [(status_line, "error", "unreviewed-published")] * 2


def test_messages_say_what_to_do() -> None:
    parsed = parse(
        swap("- Wash the cut once a day.", "- Wash the cut once a day with your physician.")
    )
    (problem,) = lint(parsed)
    assert problem.message == "'physician' is medical jargon; write 'doctor' instead"
    assert str(problem) == f"{parsed.path}:{problem.line}: warning: {problem.message}"


def test_jargon_in_the_sheets_own_names_is_allowed() -> None:
    text = swap('title: "Stitches: How', 'title: "Sutures and Stitches: How')
    text = swap(
        "- Do not swim until your stitches are out.",
        "- Do not swim until your sutures are out.",
        text,
    )
    assert problems(text) == []
    aliased = swap("  - skin stitches", "  - skin stitches\n  - puncture site")
    assert jargon_in("Wash the puncture site.", "skin stitches | puncture site") == []
    assert problems(aliased) == []


# ------------------------------------------------------------------ the language helpers

ACTIONS = [
    ("Rest when you feel tired.", False),
    ("Do not swim.", False),
    ("Take it after a meal, unless your doctor said not to.", False),
    ("If you stopped your blood thinner, ask when to start it again.", False),
    ("When the bandage gets wet, change it.", False),
    ("After 2 days, you can shower.", True),
    ("If you feel sick you should rest.", True),
    ("You should rest.", True),
    ("Your doctor will call you.", True),
    ("The bandage can come off tomorrow.", True),
    ("It may itch.", True),
    ("Ask your doctor before you drive.", False),
    ("Call {{ clinic_phone }} to set up a visit.", False),
]


@pytest.mark.parametrize(("step", "flagged"), ACTIONS)
def test_steps_should_lead_with_an_action(step: str, flagged: bool) -> None:
    assert (action_problem(step) is not None) is flagged


def test_long_sentences_are_counted_by_words() -> None:
    twenty = " ".join(["word"] * 20) + "."
    assert long_sentences(twenty) == []
    assert long_sentences(twenty + " " + " ".join(["word"] * 21) + ".") == [21]


def test_jargon_matches_whole_words_in_any_case() -> None:
    assert jargon_in("Ask your PHYSICIAN.") == [("PHYSICIAN", "doctor")]
    assert jargon_in("Keep the puncture site dry.") == [
        ("puncture site", "the spot where the needle went in")
    ]
    assert jargon_in("overambulate and unmonitored") == []
    # Plurals and other regular forms are the same word to a patient.
    assert jargon_in("Your physicians gave analgesics; we monitored the sutures.") == [
        ("physicians", "doctor"), ("analgesics", "pain medicine"), ("monitored", "watch"),
        ("sutures", "stitches"),
    ]
    assert len(jargon()) >= 60
    assert all(word == word.lower() and plain for word, plain in jargon().items())


# ------------------------------------------------------------------ many files


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_duplicate_codes_and_aliases_across_the_library(tmp_path: Path) -> None:
    write(tmp_path, "D900.en.md", EXAMPLE)
    copy = write(tmp_path, "copy/D900.en.md".replace("/", "_"), EXAMPLE)
    other = swap(
        "code: D900", "code: D901", swap("  - skin stitches", "  - Skin Stitches\n  - sewn cut")
    )
    write(tmp_path, "D901.en.md", other)
    found = {(Path(p.path).name, p.line, p.code) for p in lint_paths([tmp_path])}
    code_line, alias_line = line_with(EXAMPLE, "code: D900"), line_with(EXAMPLE, "skin stitches")
    assert found == {
        ("D900.en.md", code_line, "duplicate-code"),
        (copy.name, code_line, "duplicate-code"),
        ("D900.en.md", alias_line, "duplicate-alias"),
        (copy.name, alias_line, "duplicate-alias"),
        ("D901.en.md", line_with(other, "Skin Stitches"), "duplicate-alias"),
    }


def test_a_translation_is_linted_with_its_base_and_may_share_aliases(tmp_path: Path) -> None:
    write(tmp_path, "D900.en.md", EXAMPLE)
    write(tmp_path, "D900.es.md", swap("  - puntos", "  - skin stitches", TRANSLATION))
    result = lint_files([tmp_path])
    assert result.problems == [] and result.files == 2


def test_a_malformed_file_is_linted_whole_and_the_rest_are_still_linted(tmp_path: Path) -> None:
    bad = swap("when: bleeding\n", "when: bleding\n")
    write(tmp_path, "B1.en.md", bad)
    write(tmp_path, "D900.en.md", swap("status: reviewed", "status: draft"))
    write(tmp_path, "D900.es.md.orphan", "")
    write(tmp_path, "Z1.es.md", swap("code: D900", "code: Z1", TRANSLATION))
    result = lint_files([tmp_path])
    # B1 is D900 with a typo: read without the broken rule, it still shows it repeats D900's
    # code, so the author sees both problems from one run.
    assert [(Path(p.path).name, p.line, p.level, p.code) for p in result.problems] == [
        ("B1.en.md", line_with(bad, "code: D900"), "error", "duplicate-code"),
        ("B1.en.md", line_with(bad, "when: bleding"), "error", "format"),
        ("D900.en.md", line_with(EXAMPLE, "code: D900"), "error", "duplicate-code"),
        ("D900.en.md", line_with(EXAMPLE, "reviewer:"), "warning", "draft-reviewed"),
        ("Z1.es.md", line_with(TRANSLATION, "translation_of:"), "error", "format"),
    ]
    assert result.summary() == "4 errors, 1 warning in 3 files"
    assert "unknown finding 'bleding'" in str(result.problems[1])


def test_paths_that_do_not_exist_or_hold_no_sheets_are_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="no such file or folder"):
        lint_paths([tmp_path / "missing"])
    with pytest.raises(BadInputError, match="no sheet files"):
        lint_paths([tmp_path])


def test_problems_print_as_file_line_level_message() -> None:
    problem = Problem("a.md", 7, "error", "x", "it is wrong")
    assert str(problem) == "a.md:7: error: it is wrong"


def test_a_non_english_sheet_skips_the_english_only_checks() -> None:
    base = parse(EXAMPLE)
    hard = swap(
        "Su médico cerró la herida con puntos.",
        "Indudablemente, la extraordinariamente complicada intervención quirúrgica terminó.",
        TRANSLATION,
    )
    translated: Parsed = parse(hard, "D900.es.md", base.sheet)
    assert lint(translated, [base, translated]) == []


def test_a_translation_linted_alone_finds_its_base_beside_it(tmp_path: Path) -> None:
    write(tmp_path, "D900.en.md", swap("status: reviewed", "status: draft"))  # a warning
    translation = write(tmp_path, "D900.es.md", TRANSLATION)
    result = lint_files([translation])
    assert (result.problems, result.files) == ([], 1)


# ------------------------------------------------------------------ clinical safety checks

SEVERE_PAIN_FINDING = "  severe_pain:\n    ask: Is the pain very bad, or getting worse?\n  pain:\n"
SEVERE_PAIN_RULE = (
    "  - id: severe_pain\n    tier: urgent\n    when: severe_pain\n"
    "    text: The pain is very bad, or it gets worse.\n  - id: lasting_pain\n"
)
PAIN_ONLY_LATE = swap("    finding: pain\n    lasts: 3d\n", "    lasts: 3d\n")


def test_pain_that_counts_only_after_a_time_is_an_error() -> None:
    """The bad sheet: 'Does the cut hurt?' counts only from day 3, and only as 'contact'."""
    assert problems(PAIN_ONLY_LATE) == [
        (line_with(PAIN_ONLY_LATE, "  pain:"), "error", "severity-any-hour")
    ]


def test_a_separate_severe_finding_at_any_hour_fixes_it() -> None:
    fixed = swap("  pain:\n", SEVERE_PAIN_FINDING, PAIN_ONLY_LATE)
    fixed = swap("  - id: lasting_pain\n", SEVERE_PAIN_RULE, fixed)
    assert problems(fixed) == []


def test_a_severe_finding_gated_by_time_does_not_fix_it() -> None:
    fixed = swap("  pain:\n", SEVERE_PAIN_FINDING, PAIN_ONLY_LATE)
    fixed = swap("  - id: lasting_pain\n", SEVERE_PAIN_RULE, fixed)
    gated = swap("when: severe_pain\n", "when: severe_pain and after 1d\n", fixed)
    codes = [(line, code) for line, _, code in problems(gated)]
    assert (line_with(gated, "  pain:"), "severity-any-hour") in codes
    assert (line_with(gated, "  severe_pain:"), "severity-any-hour") not in codes  # urgent


def test_a_severe_finding_joined_by_or_to_a_timed_sign_still_counts_at_any_hour() -> None:
    """`(opened and within 2d) or severe_pain`: the time limit is the other sign's, not pain's."""
    fixed = swap("  pain:\n", SEVERE_PAIN_FINDING, PAIN_ONLY_LATE)
    fixed = swap("when: opened and within 2d", "when: (opened and within 2d) or severe_pain", fixed)
    assert problems(fixed) == []


def test_a_severe_finding_inside_the_timed_alternative_does_not_fix_it() -> None:
    fixed = swap("  pain:\n", SEVERE_PAIN_FINDING, PAIN_ONLY_LATE)
    gated = swap("when: opened and within 2d", "when: (opened or severe_pain) and within 2d", fixed)
    assert (line_with(gated, "  pain:"), "error", "severity-any-hour") in problems(gated)


def test_a_sign_watched_early_below_urgent_is_an_error_even_if_urgent_later() -> None:
    """CS109's old shape: weak legs 'contact' within 6h and 'urgent' after: worse weakness hid."""
    bad = swap("ask: Is blood soaking through the bandage?", "ask: Is your arm weak?")
    bad = swap("    when: bleeding\n", "    when: bleeding and after 6h\n", bad)
    bad = swap(
        "  - id: infection\n",
        "  - id: early_weak\n    tier: contact\n    when: bleeding and within 6h\n"
        "    text: Your arm feels weak in the first hours.\n  - id: infection\n",
        bad,
    )
    assert (line_with(bad, "  bleeding:"), "error", "severity-any-hour") in problems(bad)


def test_a_sign_normal_for_a_time_and_late_only_after_it_is_a_lasting_sign() -> None:
    """The guide's sheet: a sore cut is normal for 3 days; still hurting after is the sign."""
    assert "severity-any-hour" not in {code for _, _, code in problems(EXAMPLE)}


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        ("Does the cut hurt?", "pain"),
        ("The spot is painful.", "pain"),
        ("Is the pain worse?", "pain"),
        ("¿Le duele la herida?", "pain"),
        ("Tiene dolor.", "pain"),
        ("The cut bleeds.", "bleeding"),
        ("Is it bleeding?", "bleeding"),
        ("¿La herida sangra?", "bleeding"),
        ("Hay sangrado.", "bleeding"),
        ("Do your legs feel weak?", "weakness"),
        ("Weakness in a leg.", "weakness"),
        ("¿Siente las piernas débiles?", "weakness"),
        ("Is your foot numb?", "numbness"),
        ("Numbness in the foot.", "numbness"),
        ("¿Tiene el pie entumecido?", "numbness"),
    ],
)
def test_the_warning_words_match_in_english_and_spanish(text: str, sign: str) -> None:
    assert [s for s, pattern in WARNING_WORDS.items() if pattern.search(text)] == [sign]


@pytest.mark.parametrize(
    "text", ["Is your back sore?", "Is there blood in your pee?", "a number", "weekly", "spain"]
)
def test_other_words_are_not_warning_words(text: str) -> None:
    assert not any(pattern.search(text) for pattern in WARNING_WORDS.values())


def test_a_measured_temperature_without_chills_is_an_error() -> None:
    bad = swap("ask: Do you have shaking chills?", "ask: Do you shake all over?")
    assert problems(bad) == [(line_with(bad, "  temperature:"), "error", "chills-like-fever")]


def test_chills_below_the_tier_of_a_fever_are_an_error() -> None:
    """CS104's old shape: 'hot or chills' was 'contact', a measured fever 'urgent'."""
    bad = swap("red_streaks or pus or chills or", "red_streaks or pus or")
    bad = swap(
        "  - id: opened_early\n",
        "  - id: chills\n    tier: contact\n    when: chills\n"
        "    text: You have chills. Take your temperature.\n  - id: opened_early\n",
        bad,
    )
    assert problems(bad) == [(line_with(bad, "  chills:"), "error", "chills-like-fever")]


def test_chills_at_the_tier_of_a_fever_pass() -> None:
    assert "chills-like-fever" not in {code for _, _, code in problems(EXAMPLE)}


def test_chills_ticked_only_together_with_a_fever_do_not_count() -> None:
    """A 'fever or chills' answer that needs a measured fever too is not chills at that tier."""
    bad = swap("red_streaks or pus or chills or", "red_streaks or pus or (chills and")
    bad = swap("(fever and temperature >= 100.4)", "temperature >= 100.4) or fever", bad)
    assert (line_with(bad, "  chills:"), "error", "chills-like-fever") in problems(bad)


def test_a_sheet_without_a_temperature_need_not_ask_about_chills() -> None:
    sheet = read_file(LIBRARY / "P586.en.md").sheet
    assert not any(f.kind == "number" for f in sheet.findings.values())
    found = lint_files([LIBRARY / "P586.en.md"]).problems
    assert "chills-like-fever" not in {p.code for p in found}


# ------------------------------------------------------------------ SMS


SMS_SIGNS = (
    "You feel very sick, or you cannot keep food or drink down.",
    "The skin around the cut turns dark, or it smells bad.",
    "Your hand or foot past the cut is numb, cold or blue.",
)


def with_urgent_signs(*texts: str) -> str:
    rules = "".join(
        f"  - id: extra{i}\n    tier: urgent\n    when: pus\n    text: {text}\n"
        for i, text in enumerate(texts)
    )
    return swap("  - id: opened_later\n", rules + "  - id: opened_later\n")


def test_urgent_signs_that_fit_the_sms_pass() -> None:
    """At its shortest the SMS is 479 characters here, with a 10-digit clinic phone."""
    fits = with_urgent_signs(*SMS_SIGNS, "You bump the cut, and in 9 hours it swells or bleeds.")
    assert "sms-too-long" not in {code for _, _, code in problems(fits)}


def test_urgent_signs_that_overflow_the_sms_are_an_error_at_the_first_urgent_rule() -> None:
    """One character more (480) and a texted sheet would be split or cut by the carrier."""
    bad = with_urgent_signs(*SMS_SIGNS, "You bump the cut, and in 10 hours it swells or bleeds.")
    assert (line_with(bad, "  - id: infection"), "error", "sms-too-long") in problems(bad)
    message = next(p.message for p in lint(parse(bad, "D900.en.md")) if p.code == "sms-too-long")
    assert message.startswith("the SMS form is 480 characters with the phone (555) 555-0100")
    assert "join related signs into one rule with 'or'" in message


def test_the_sms_check_runs_on_every_language() -> None:
    """The SMS goes out in the sheet's language; its headings are part of the length."""
    fits = with_urgent_signs(*SMS_SIGNS, "You bump the cut, and in 9 hours it swells or bleeds.")
    spanish = swap("language: en\n", "language: es\n", fits)
    assert (line_with(spanish, "  - id: infection"), "error", "sms-too-long") in problems(spanish)


# ------------------------------------------------------------------ implied_by

FIXED_PAIN = swap("  - id: lasting_pain\n", SEVERE_PAIN_RULE,
                  swap("  pain:\n", SEVERE_PAIN_FINDING, PAIN_ONLY_LATE))


def test_an_implication_from_the_more_severe_finding_lints_clean() -> None:
    implied = swap("  pain:\n", "  pain:\n    implied_by: severe_pain\n", FIXED_PAIN)
    assert problems(implied) == []
    assert parse(implied, "D900.en.md").sheet.findings["pain"].implied_by == "severe_pain"


def test_an_implication_that_could_lower_a_tier_is_an_error() -> None:
    """'Does the cut hurt?' implying 'very bad pain' (urgent) reads backwards: refused."""
    backwards = swap("  severe_pain:\n", "  severe_pain:\n    implied_by: pain\n", FIXED_PAIN)
    assert (line_with(backwards, "implied_by: pain"), "error", "implied-by-tier") in problems(
        backwards)


@pytest.mark.parametrize(("implied_by", "message"), [
    ("nothing_here", "unknown finding 'nothing_here'"),
    ("pain", "goes round in a circle"),
])
def test_an_implication_must_name_a_finding_and_never_loop(implied_by: str,
                                                           message: str) -> None:
    bad = swap("  pain:\n", "  pain:\n    implied_by: severe_pain\n", FIXED_PAIN)
    bad = swap("  severe_pain:\n", f"  severe_pain:\n    implied_by: {implied_by}\n", bad)
    if implied_by != "pain":
        bad = swap("    implied_by: severe_pain\n", "", bad)
    with pytest.raises(SheetFormatError, match=message):
        parse(bad, "D900.en.md")


def test_a_converted_draft_warns_where_a_finished_sheet_fails() -> None:
    """`caresheet convert` cannot invent a 911 sign: while its draft is a draft, the missing
    emergency rule is the author's warning; once the sheet leaves draft it is an error again."""
    text = swap("status: reviewed", "status: draft\nconverted_from: cut-care.txt")
    text = text.replace("    tier: emergency\n", "    tier: urgent\n")
    text = text.replace("    text: Blood soaks through the bandage, and it does not stop",
                        "    source: cut-care.txt:12\n"
                        "    text: Blood soaks through the bandage, and it does not stop")
    draft = lint(parse(text, "D900.en.md"))
    missing = [p for p in draft if p.code == "no-emergency-rule"]
    assert [p.level for p in missing] == ["warning"]
    assert "(converted draft: fix before review)" in missing[0].message
    assert any(p.code == "converted" and "1 rule against" in p.message for p in draft)
    assert not [p for p in draft if p.is_error]
    reviewed = lint(parse(text.replace("status: draft", "status: reviewed"), "D900.en.md"))
    assert [p.level for p in reviewed if p.code == "no-emergency-rule"] == ["error"]
    plain = lint(parse(text.replace("converted_from: cut-care.txt\n", ""), "D900.en.md"))
    assert [p.level for p in plain if p.code == "no-emergency-rule"] == ["error"]
