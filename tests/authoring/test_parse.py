"""The authoring format: round trips, and malformed files that point at the exact line."""

from __future__ import annotations

from pathlib import Path

import pytest

from caresheet.authoring.parse import Parsed, iter_sheet_files, parse, read_file, write
from caresheet.errors import SheetFormatError
from caresheet.model.condition import parse_condition
from caresheet.model.sheet import Sheet
from caresheet.quality import lint
from doc_examples import fenced

P586 = Path(__file__).resolve().parents[2] / "src" / "caresheet" / "library" / "P586.en.md"
P586_TEXT = P586.read_text(encoding="utf-8")
EXAMPLE = fenced("caresheet")[0]
TRANSLATION = fenced("caresheet-translation")[0]


def example() -> Parsed:
    return parse(EXAMPLE, "D900.en.md")


def assert_round_trip(sheet: Sheet, base: Sheet | None = None) -> None:
    written = write(sheet, base)
    again = parse(written, "again.md", base).sheet
    assert again == sheet
    assert write(again, base) == written  # writing is a fixpoint


def test_p586_round_trips() -> None:
    assert_round_trip(read_file(P586).sheet)


def test_the_guide_example_uses_every_field_and_round_trips() -> None:
    sheet = example().sheet
    assert sheet.reviewer and sheet.reviewed_on and sheet.review_note
    assert sheet.sources and sheet.sources[0].url.startswith("https://")
    assert sheet.aliases and sheet.keywords and sheet.clinical_codes[0].display
    assert {p.type for p in sheet.params.values()} >= {"integer", "phone"}
    assert any(f.kind == "number" and f.unit for f in sheet.findings.values())
    assert any(f.ask_if for f in sheet.findings.values())
    assert any(e.lasts and e.finding for e in sheet.expected)
    assert any(e.lasts is None for e in sheet.expected)
    assert {m.at for m in sheet.milestones} >= {"keep_dry_hours", "3d"}
    assert {s.kind.value for s in sheet.sections} >= {"recovery", "home_care", "learn_more"}
    home = sheet.sections[1]
    assert home.groups[0].blocks and home.groups[1].blocks[0].text.startswith("Rest")  # type: ignore[union-attr]
    assert_round_trip(sheet)


def test_a_continuation_line_joins_its_step() -> None:
    sheet = example().sheet
    steps = sheet.sections[1].groups[0].blocks[0].steps  # type: ignore[union-attr]
    assert (
        steps[2].text
        == "Put a thin layer of petroleum jelly on the cut. Then cover it with a bandage."
    )
    assert [s.text for s in steps[1].steps] == [
        "Use mild soap and water.",
        "Pat it dry with a clean towel.",
    ]


def test_the_guide_translation_takes_its_logic_from_the_base_and_round_trips() -> None:
    base = example().sheet
    translated = parse(TRANSLATION, "D900.es.md", base).sheet
    assert translated.language == "es" and translated.translation_of == "en"
    assert [r.when for r in translated.rules] == [r.when for r in base.rules]
    assert translated.rule("heavy_bleeding").text.startswith("La sangre")
    assert translated.findings["bleeding"].ask == "¿La sangre empapa el vendaje?"
    assert translated.findings["pain"].ask == base.findings["pain"].ask  # untranslated: kept
    assert translated.params["clinic_phone"].type == "phone"
    assert_round_trip(translated, base)


def test_the_guide_example_lints_clean() -> None:
    parsed = example()
    assert lint(parsed, [parsed]) == []


@pytest.mark.parametrize("source", fenced("condition")[0].splitlines())
def test_every_condition_in_the_guide_parses(source: str) -> None:
    assert str(parse_condition(source))


def test_iter_sheet_files_reads_bases_before_translations(tmp_path: Path) -> None:
    (tmp_path / "A.es.md").write_text(TRANSLATION, encoding="utf-8")
    (tmp_path / "B.en.md").write_text(EXAMPLE, encoding="utf-8")
    assert [p.name for p in iter_sheet_files([tmp_path])] == ["B.en.md", "A.es.md"]


# ------------------------------------------------------------------ malformed files


def line_with(text: str, marker: str) -> int:
    """The 1-based number of the only line holding ``marker``."""
    found = [n for n, line in enumerate(text.splitlines(), 1) if marker in line]
    assert len(found) == 1, (marker, found)
    return found[0]


def swap(old: str, new: str, text: str = EXAMPLE) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


# (id, text, marker of the line the error must name, words the message must hold)
MALFORMED = [
    (
        "no front matter",
        "## Your recovery {#recovery}\n\nHello.\n",
        None,
        "starts with a '---' line",
    ),
    ("empty file", "", None, "starts with a '---' line"),
    ("no closing fence", "---\ncode: D900\ntitle: x\n", None, "no closing '---' line"),
    ("bad YAML", swap("  - skin stitches", "  - [skin stitches"), "keywords:", "not valid YAML"),
    (
        "unknown key",
        swap("version: 1\n", "version: 1\ncolour: red\n"),
        "colour: red",
        "colour: Extra inputs are not permitted",
    ),
    (
        "duplicate key",
        swap("version: 1\n", "version: 1\nversion: 2\n"),
        "version: 2",
        "'version' is given twice",
    ),
    (
        "unknown section kind",
        swap("{#follow_up}", "{#followup}"),
        "{#followup}",
        "unknown section kind {#followup}; use one of: recovery, home_care",
    ),
    (
        "section kind in capitals",
        swap("{#follow_up}", "{#Follow_Up}"),
        "{#Follow_Up}",
        "unknown section kind {#Follow_Up}; use one of: recovery, home_care",
    ),
    (
        "duplicate section",
        swap("## Follow-up care {#follow_up}", "## Again {#home_care}"),
        "## Again",
        "there is already a {#home_care} section",
    ),
    (
        "text in call_for_help",
        EXAMPLE.replace(
            "## When should you call for help? {#call_for_help}\n",
            "## When should you call for help? {#call_for_help}\n\n- Call if you bleed.\n",
        ),
        "- Call if you bleed.",
        "put each warning sign in the front matter's 'rules:'",
    ),
    (
        "sub-step indented 3",
        swap("  - Use mild soap", "   - Use mild soap"),
        "   - Use mild soap",
        "indent a sub-step by 2 spaces",
    ),
    (
        "sub-step 3 deep",
        swap("  - Pat it dry", "      - Pat it dry"),
        "      - Pat it dry",
        "steps go 2 levels deep",
    ),
    (
        "sub-step with no step",
        swap("- Keep the cut dry", "  - Keep the cut dry"),
        "  - Keep the cut dry",
        "indent a sub-step by 2 spaces",
    ),
    (
        "a third level of steps",
        swap("  - Pat it dry", "    - Pat it dry"),
        "    - Pat it dry",
        "steps go 2 levels deep",
    ),
    (
        "a tab before a sub-step",
        swap("  - Pat it dry", "\t- Pat it dry"),
        "\t- Pat it dry",
        "indent with spaces, not tabs",
    ),
    (
        "title line in body",
        swap("## Your recovery {#recovery}", "# Stitches"),
        "# Stitches",
        "the title goes in the front matter",
    ),
    (
        "text before a section",
        swap("\n## Your recovery {#recovery}", "\nHello there.\n\n## Your recovery {#recovery}"),
        "Hello there.",
        "start a section first",
    ),
    (
        "bad rule condition",
        swap("when: bleeding\n", "when: bleeding and and pus\n"),
        "bleeding and and pus",
        "expected a finding, got 'and' (column 14 of the 'when:' line)",
    ),
    (
        "unknown finding in a rule",
        swap("when: bleeding\n", "when: bleding\n"),
        "when: bleding",
        "unknown finding 'bleding'; defined findings: bleeding, chills, fever, opened, pain, "
        "pus, red_streaks, temperature",
    ),
    (
        "negated finding",
        swap("when: pain and after 3d", "when: not pain and after 3d"),
        "not pain and",
        "'not' may only be used on 'after' and 'within'",
    ),
    (
        "bad duration in a rule",
        swap("when: pain and after 3d", "when: pain and after 3x"),
        "after 3x",
        "'3x' is neither a number nor a time; write a time like 90m, 30h, 2d or 1d6h",
    ),
    (
        "bad lasts",
        swap("lasts: 3d", "lasts: soon"),
        "lasts: soon",
        "write it like 90m, 30h, 2d or 1d6h",
    ),
    ("bad milestone at", swap("at: 3d", "at: later"), "at: later", "neither a param nor a time"),
    (
        "compared yes/no finding",
        swap("when: bleeding\n", "when: bleeding >= 2\n"),
        "bleeding >= 2",
        "is a yes/no finding; name it without a comparison",
    ),
    (
        "number finding named alone",
        swap("(fever and temperature >= 100.4)", "temperature"),
        "or chills or temperature",
        "compare it, e.g. temperature >= 100.4",
    ),
    (
        "finding with nothing under it",
        swap("  pain:\n    ask: Does the cut hurt?", "  pain:"),
        "  pain:",
        "findings.pain: nothing is given here; fill in its fields",
    ),
    ("unknown tier", swap("tier: emergency", "tier: critical"), "tier: critical", "'emergency'"),
    (
        "self_care rule",
        swap("tier: emergency", "tier: self_care"),
        "tier: self_care",
        "self_care is the default",
    ),
    (
        "duplicate rule id",
        swap("id: lasting_pain", "id: infection"),
        "id: infection\n",
        "used twice",
    ),
    (
        "unknown ask_if",
        swap("ask_if: fever", "ask_if: fevr"),
        "ask_if: fevr",
        "unknown finding 'fevr'",
    ),
    (
        "ask_if on a number finding",
        swap(
            "    ask: Do you have a fever?",
            "    ask: Do you have a fever?\n    ask_if: temperature",
        ),
        "ask_if: temperature",
        "ask_if must name a yes/no finding; 'temperature' asks for a number",
    ),
    (
        "ask_if on itself",
        swap("    ask: Does the cut hurt?", "    ask: Does the cut hurt?\n    ask_if: pain"),
        "ask_if: pain",
        "ask_if goes round in a circle (pain -> pain)",
    ),
    (
        "ask_if round two findings",
        swap(
            "    ask: Did a stitch come loose, or did the cut open?",
            "    ask: Did a stitch come loose, or did the cut open?\n    ask_if: fever",
            swap(
                "    ask: Do you have a fever?", "    ask: Do you have a fever?\n    ask_if: opened"
            ),
        ),
        "ask_if: opened",
        "ask_if goes round in a circle (fever -> opened -> fever)",
    ),
    (
        "unknown code system",
        swap("system: cpt", "system: cptx"),
        "system: cptx",
        "unknown code system",
    ),
    (
        "bad range",
        swap("    min: 24\n", "    min: 72\n"),
        "  keep_dry_hours:",
        "min 72 is above max 48",
    ),
]


@pytest.mark.parametrize(
    ("name", "text", "marker", "words"), MALFORMED, ids=[m[0] for m in MALFORMED]
)
def test_malformed_files_name_the_line_and_the_fix(
    name: str, text: str, marker: str | None, words: str
) -> None:
    with pytest.raises(SheetFormatError) as caught:
        parse(text, "D900.en.md")
    if name == "duplicate rule id":  # the second one is at fault
        expected_line = [
            n for n, line in enumerate(text.splitlines(), 1) if "id: infection" in line
        ][-1]
    else:
        expected_line = 1 if marker is None else line_with(text, marker)
    if name == "bad YAML":
        expected_line = line_with(text, "[skin stitches") + 1  # YAML notices at the next key
    assert (caught.value.path, caught.value.line) == ("D900.en.md", expected_line)
    assert words in caught.value.message
    assert str(caught.value).startswith(f"D900.en.md:{expected_line}: ")


def translation(old: str = "", new: str = "") -> str:
    return swap(old, new, TRANSLATION) if old else TRANSLATION


MALFORMED_TRANSLATIONS = [
    (
        "translation without base",
        translation(),
        None,
        "translation_of: en",
        "keep that file beside it and read both together",
    ),
    (
        "unknown rule id",
        translation("  opened_later:", "  opened_late:"),
        "base",
        "opened_late:",
        "'opened_late' is not in the sheet being translated; its rules: heavy_bleeding",
    ),
    (
        "missing rule text",
        translation("  lasting_pain: La herida todavía duele después de 3 días.\n", ""),
        "base",
        "rules:",
        "rules not yet translated: lasting_pain",
    ),
    (
        "unknown finding",
        translation("  fever:\n    ask: ¿Tiene fiebre?", "  fiebre:\n    ask: ¿Tiene fiebre?"),
        "base",
        "fiebre:",
        "'fiebre' is not in the sheet being translated",
    ),
    (
        "logic in a translation",
        translation("    ask: ¿Tiene fiebre?", "    ask: ¿Tiene fiebre?\n    kind: number"),
        "base",
        "  fever:",
        "translate only ask here",
    ),
    (
        "codes in a translation",
        translation("version: 1\n", "version: 1\nclinical_codes: []\n"),
        "base",
        "clinical_codes",
        "a translation holds only words",
    ),
]


@pytest.mark.parametrize(
    ("name", "text", "with_base", "marker", "words"),
    MALFORMED_TRANSLATIONS,
    ids=[m[0] for m in MALFORMED_TRANSLATIONS],
)
def test_malformed_translations(
    name: str, text: str, with_base: str | None, marker: str, words: str
) -> None:
    base = example().sheet if with_base else None
    with pytest.raises(SheetFormatError) as caught:
        parse(text, "D900.es.md", base)
    assert caught.value.line == line_with(text, marker)
    assert words in caught.value.message


def test_an_unreadable_file_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "X1.en.md"
    path.write_bytes(b"---\n\xff\xfe\n---\n")
    with pytest.raises(SheetFormatError) as caught:
        read_file(path)
    assert caught.value.line == 1 and "cannot read the file" in caught.value.message


def test_sub_steps_may_be_indented_by_4_when_all_are() -> None:
    text = swap("  - Use mild soap", "    - Use mild soap")
    text = swap("  - Pat it dry", "    - Pat it dry", text)
    assert parse(text).sheet == example().sheet


def test_a_byte_order_mark_is_not_in_the_way(tmp_path: Path) -> None:
    path = tmp_path / "D900.en.md"
    path.write_text("\ufeff" + EXAMPLE, encoding="utf-8")
    assert read_file(path).sheet == example().sheet
    assert [p.name for p in iter_sheet_files([tmp_path])] == ["D900.en.md"]


def test_sources_are_checked_and_a_translation_takes_them_from_its_base() -> None:
    """Reviewers follow the links, so each needs a title and a web address."""
    bad = EXAMPLE.replace("url: https://medlineplus", "url: medlineplus", 1)
    with pytest.raises(SheetFormatError) as caught:
        parse(bad, "D900.en.md")
    assert "sources.0.url" in caught.value.message
    base = example().sheet
    translated = parse(TRANSLATION, "D900.es.md", base).sheet
    assert translated.sources == base.sources
    assert "sources" not in write(translated, base)
    with pytest.raises(SheetFormatError, match="a translation holds only words"):
        parse(TRANSLATION.replace("aliases:", "sources: []\naliases:", 1), "D900.es.md", base)
