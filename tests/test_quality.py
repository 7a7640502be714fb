"""The linter: each check on a clean sheet made wrong in one place, at the right line."""

from __future__ import annotations

from pathlib import Path

import pytest

from caresheet.authoring.parse import Parsed, parse, read_file
from caresheet.errors import BadInputError
from caresheet.quality import Problem, lint, lint_files, lint_paths, readability_parts
from caresheet.quality.language import action_problem, grade, jargon, jargon_in, long_sentences
from doc_examples import fenced

LIBRARY = Path(__file__).resolve().parent.parent / "src" / "caresheet" / "library"
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
    assert jargon_in("physicians and overambulate") == []
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


def test_a_malformed_file_is_one_error_and_the_rest_are_still_linted(tmp_path: Path) -> None:
    bad = swap("when: bleeding\n", "when: bleding\n")
    write(tmp_path, "B1.en.md", bad)
    write(tmp_path, "D900.en.md", swap("status: reviewed", "status: draft"))
    write(tmp_path, "D900.es.md.orphan", "")
    write(tmp_path, "Z1.es.md", swap("code: D900", "code: Z1", TRANSLATION))
    result = lint_files([tmp_path])
    assert [(Path(p.path).name, p.line, p.level, p.code) for p in result.problems] == [
        ("B1.en.md", line_with(bad, "when: bleding"), "error", "format"),
        ("D900.en.md", line_with(EXAMPLE, "reviewer:"), "warning", "draft-reviewed"),
        ("Z1.es.md", line_with(TRANSLATION, "translation_of:"), "error", "format"),
    ]
    assert result.summary() == "2 errors, 1 warning in 3 files"
    assert "unknown finding 'bleding'" in str(result.problems[0])


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
