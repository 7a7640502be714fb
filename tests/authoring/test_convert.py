"""`caresheet convert`: handouts written for these tests, in every format a clinic keeps, become
draft sheets whose sections, tiers, findings and times match what each handout says, and which
parse and lint with zero errors. Bad input gives one line and exit 2."""

from __future__ import annotations

import subprocess
from pathlib import Path

import docx
import pytest
from weasyprint import HTML

from caresheet.authoring.convert import MAX_BYTES, convert_file, convert_text
from caresheet.authoring.parse import parse, read_file
from caresheet.errors import HandoutFileError
from caresheet.model.condition import time_limits
from caresheet.model.sheet import SectionKind, Sheet, Tier
from caresheet.quality import lint_files
from caresheet.render.text import render_text
from helpers import caresheet_command

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "src" / "caresheet" / "library"
REFERENCE = ROOT.parent.parent / "shared" / "reference" / "lumbar-puncture-care-sheet.txt"

# A knee scope handout typed in a word processor and saved as text: '*' and 'o' bullets,
# headings alone on their lines, the tiers as lines ending in a colon.
KNEE_TXT = """\
Knee Scope: Care After Your Surgery

What to Expect

Your knee may be swollen and stiff for a few days.
Most people walk with crutches for 1 to 3 days.

Discharge Instructions

Activity
  * Keep your leg up on pillows when you sit.
  * Walk a little each hour you are awake.
      o Use your crutches until your knee feels steady.

Wound Care
  * Keep the bandage dry for 48 hours.

Follow-Up

Your surgeon's office will call you to set up a visit in 1 to 2 weeks.

When to call the doctor

Call 911 if:
  * You have chest pain or trouble breathing.

Call your surgeon right away if:
  * Your calf is swollen and your calf hurts.
  * You have a fever over 101 degrees.

Call your doctor if:
  * Your knee still drains fluid 3 days after your surgery.
  * The swelling lasts more than 1 week.
"""

# A wisdom-tooth handout in Markdown, with other headings and a tier as a section heading.
TOOTH_MD = """\
# Wisdom Tooth Removal

## Care After

### Diet

1. Eat soft foods for the first day.
2. Drink from a cup, not a straw.
   - A straw can pull the clot out.

## Your Next Appointment

- Come back in 1 week so we can check the spot.

## Get help right away if

- You bleed so much that the gauze soaks through in 30 minutes.
- You passed out.
- Your pain gets worse after 3 days.
"""

# A colonoscopy page from a clinic's site: tiers in bold paragraphs, nested lists, a script.
COLON_HTML = """\
<!doctype html>
<html lang="en"><head><title>Colonoscopy at home</title>
<script>var tracking = "You passed out.";</script></head>
<body>
<nav><a href="/">Home</a></nav>
<h1>Colonoscopy: Going Home</h1>
<h2>What to expect</h2>
<p>You may feel bloated for a few hours.</p>
<h2>Home care</h2>
<h3>Diet</h3>
<ul>
  <li>Start with light foods.
    <ul><li>Soup and toast are good choices.</li></ul>
  </li>
</ul>
<h2>Follow-up care</h2>
<p>Ask when your results will be ready.</p>
<h2>Seek care right away if</h2>
<ul>
  <li>You see a lot of blood in your stool.</li>
  <li>Your belly is hard and swollen.</li>
</ul>
<p><strong>Call 911 if:</strong></p>
<ul><li>You fainted.</li></ul>
<h2>Learn more</h2>
<p>Ask your nurse for more sheets.</p>
</body></html>
"""


def write_docx(path: Path) -> None:
    """A cast-care handout as a Word file: Title, Heading 1 and List Bullet styles."""
    document = docx.Document()
    document.add_paragraph("Caring for Your Cast", style="Title")
    document.add_paragraph("Your recovery", style="Heading 1")
    document.add_paragraph("The cast holds your bone still while it heals.")
    document.add_paragraph("How can you care for yourself at home?", style="Heading 1")
    document.add_paragraph("Keep the cast dry.", style="List Bullet")
    document.add_paragraph("Cover it with a bag when you shower.", style="List Bullet 2")
    document.add_paragraph("Follow-up care", style="Heading 1")
    document.add_paragraph("Go to your cast check in 2 weeks.", style="List Bullet")
    document.add_paragraph("When should you call for help?", style="Heading 1")
    document.add_paragraph("Call 911 if:")
    document.add_paragraph("You have trouble breathing.", style="List Bullet")
    document.add_paragraph("Call your doctor now if:")
    document.add_paragraph("Your fingers are cold, blue or numb.", style="List Bullet")
    document.add_paragraph("Watch closely and call your doctor if:")
    document.add_paragraph("The cast still feels tight 2 days after it was put on.",
                           style="List Bullet")
    document.save(str(path))


PDF_HTML = """\
<html><body>
<h1>Allergy Shot: After Your Visit</h1>
<h2>Your recovery</h2>
<p>The spot where you got the shot may itch for a day.</p>
<h2>Home care</h2>
<ul><li>Put a cold pack on the spot.</li></ul>
<h2>Follow-up care</h2>
<ul><li>Keep your next shot visit.</li></ul>
<h2>When should you call for help?</h2>
<p>Call 911 if:</p>
<ul><li>Your throat feels tight.</li></ul>
<p>Call your doctor if:</p>
<ul><li>The spot is still swollen after 2 days.</li></ul>
</body></html>
"""


def signature(sheet: Sheet) -> list[tuple[str, list[tuple[str, float]]]]:
    """Each rule's tier and time limits, in a stable order: what a conversion must keep."""
    return sorted(
        (rule.tier.value, sorted((t.kind, t.hours) for t in time_limits(rule.condition)))
        for rule in sheet.rules
    )


def converted(path: Path) -> Sheet:
    """Convert a file, write the draft beside it, and check it parses and lints clean."""
    conversion = convert_file(path)
    draft = path.with_name(f"{conversion.code}.en.md")
    draft.write_text(conversion.text, encoding="utf-8")
    result = lint_files([draft])
    assert result.errors == 0, [str(p) for p in result.problems if p.is_error]
    return read_file(draft).sheet


def kinds(sheet: Sheet) -> list[SectionKind]:
    return [s.kind for s in sheet.sections]


def test_plain_text_handout(tmp_path: Path) -> None:
    path = tmp_path / "knee-scope.txt"
    path.write_text(KNEE_TXT, encoding="utf-8")
    sheet = converted(path)
    assert sheet.title == "Knee Scope: Care After Your Surgery"
    assert sheet.status.value == "draft" and sheet.converted_from == "knee-scope.txt"
    assert "Converted from knee-scope.txt" in (sheet.review_note or "")
    assert kinds(sheet)[:4] == [SectionKind.RECOVERY, SectionKind.HOME_CARE,
                                SectionKind.FOLLOW_UP, SectionKind.CALL_FOR_HELP]
    home = sheet.sections[1]
    assert [g.heading for g in home.groups] == ["Activity", "Wound Care"]
    walk = home.groups[0].blocks[0].steps[1]  # type: ignore[union-attr]
    assert walk.text.startswith("Walk a little") and walk.steps[0].text.startswith("Use your")
    assert signature(sheet) == [
        ("contact", [("after", 72.0)]), ("contact", [("after", 168.0)]),
        ("emergency", []), ("urgent", []), ("urgent", []),
    ]
    calf = next(r for r in sheet.rules if "calf" in r.text)
    assert calf.tier is Tier.URGENT and " and " in calf.when  # two signs, both needed
    first, second = calf.when.split(" and ")
    assert sheet.findings[first].ask == "Is your calf swollen?"
    assert sheet.findings[second].ask == "Does your calf hurt?"
    drains = next(r for r in sheet.rules if "drains" in r.text)
    assert drains.when.endswith("and after 3d")
    assert sheet.findings[drains.when.split()[0]].ask == "Does your knee still drain fluid?"
    line = KNEE_TXT.splitlines().index(
        "  * Your knee still drains fluid 3 days after your surgery.") + 1
    assert drains.source == f"knee-scope.txt:{line}"


def test_the_draft_lists_param_candidates_and_keeps_unplaced_lines(tmp_path: Path) -> None:
    path = tmp_path / "knee.txt"
    title, rest = KNEE_TXT.split("\n", 1)
    path.write_text(f"{title}\n\nSkip to content\n{rest}", encoding="utf-8")
    text = convert_file(path).text
    assert "# Params to consider" in text and "'1 to 3 days'" in text
    assert "{{" not in text.split("# Params to consider")[0]  # nothing guessed into the text
    todo = next(line for line in text.splitlines() if line.startswith("# TODO (line 3)"))
    assert todo.endswith(": Skip to content") and "before the first section" in todo


def test_markdown_handout(tmp_path: Path) -> None:
    path = tmp_path / "tooth.md"
    path.write_text(TOOTH_MD, encoding="utf-8")
    conversion = convert_file(path)
    path.with_name(f"{conversion.code}.en.md").write_text(conversion.text, encoding="utf-8")
    sheet = converted(path)
    assert sheet.title == "Wisdom Tooth Removal"
    assert SectionKind.HOME_CARE in kinds(sheet) and SectionKind.FOLLOW_UP in kinds(sheet)
    diet = sheet.section(SectionKind.HOME_CARE).groups[0]  # type: ignore[union-attr]
    assert diet.heading == "Diet" and diet.blocks[0].steps[1].steps  # type: ignore[union-attr]
    # A heading that is itself a tier ("Get help right away if") sets its signs' tier.
    assert {r.tier for r in sheet.rules} == {Tier.URGENT}
    assert signature(sheet) == [("urgent", []), ("urgent", []), ("urgent", [("after", 72.0)])]
    passed = next(r for r in sheet.rules if "passed out" in r.text)
    assert sheet.findings[passed.when].ask == "Did you pass out?" and passed.when == "passed_out"
    # No 911 sign in the handout: none is invented, and lint warns instead of failing.
    problems = lint_files([path.with_name(f"{conversion.code}.en.md")]).problems
    assert any(p.code == "no-emergency-rule" and p.level == "warning" for p in problems)
    assert any("no 'call 911' sign" in w for w in conversion.warnings)


def test_html_handout(tmp_path: Path) -> None:
    path = tmp_path / "colonoscopy.html"
    path.write_text(COLON_HTML, encoding="utf-8")
    sheet = converted(path)
    assert sheet.title == "Colonoscopy: Going Home"
    assert kinds(sheet) == [SectionKind.RECOVERY, SectionKind.HOME_CARE, SectionKind.FOLLOW_UP,
                            SectionKind.CALL_FOR_HELP, SectionKind.LEARN_MORE]
    assert signature(sheet) == [("emergency", []), ("urgent", []), ("urgent", [])]
    assert "tracking" not in convert_file(path).text  # scripts are not what a patient read
    belly = next(r for r in sheet.rules if "belly" in r.text)
    assert sheet.findings[belly.when].ask == "Is your belly hard and swollen?"
    fainted = next(r for r in sheet.rules if r.tier is Tier.EMERGENCY)
    assert sheet.findings[fainted.when].ask == "Did you faint?"


def test_docx_handout(tmp_path: Path) -> None:
    path = tmp_path / "cast-care.docx"
    write_docx(path)
    sheet = converted(path)
    assert sheet.title == "Caring for Your Cast"
    home = sheet.section(SectionKind.HOME_CARE)
    assert home is not None
    step = home.blocks[0].steps[0]  # type: ignore[union-attr]
    assert step.text == "Keep the cast dry." and step.steps[0].text.startswith("Cover it")
    assert signature(sheet) == [("contact", [("after", 48.0)]), ("emergency", []), ("urgent", [])]
    tight = next(r for r in sheet.rules if r.tier is Tier.CONTACT)
    assert sheet.findings[tight.when.split()[0]].ask == "Does the cast still feel tight?"


def test_pdf_handout(tmp_path: Path) -> None:
    path = tmp_path / "allergy-shot.pdf"
    HTML(string=PDF_HTML).write_pdf(str(path))
    sheet = converted(path)
    assert sheet.title == "Allergy Shot: After Your Visit"
    assert signature(sheet) == [("contact", [("after", 48.0)]), ("emergency", [])]
    assert [r.source.split(":")[0] for r in sheet.rules] == ["allergy-shot.pdf"] * 2


@pytest.mark.parametrize("code", sorted(p.name.split(".")[0] for p in LIBRARY.glob("*.en.md")))
def test_the_text_of_every_shipped_sheet_converts_back_to_its_tiers_and_times(code: str) -> None:
    """A property of the pair: what the sheet prints as text, converted, gives its own rules'
    tiers and time limits. A rule whose printed words hold no number for its time (CS109's
    "in the first few hours") comes back untimed: the converter does not invent the number."""
    sheet = read_file(LIBRARY / f"{code}.en.md").sheet
    conversion = convert_text(render_text(sheet), f"{code}.txt", code)
    back = parse(conversion.text, f"{code}.converted.md").sheet
    expected = sorted(
        (rule.tier.value, sorted((t.kind, t.hours) for t in time_limits(rule.condition))
         if any(ch.isdigit() for ch in rule.text) else [])
        for rule in sheet.rules
    )
    assert signature(back) == expected
    assert back.title.casefold() == sheet.title.casefold()  # the text form prints it in capitals


def test_the_reference_sheet_converts(tmp_path: Path) -> None:
    if not REFERENCE.is_file():
        pytest.skip("the shared reference sheet is not on this machine")
    path = tmp_path / REFERENCE.name
    path.write_bytes(REFERENCE.read_bytes())
    sheet = converted(path)
    assert signature(sheet) == [("contact", [("after", 48.0)]), ("emergency", []),
                                ("urgent", []), ("urgent", []), ("urgent", []), ("urgent", [])]
    assert "passed_out" in sheet.findings
    assert SectionKind.LEARN_MORE in kinds(sheet)


# ---------------------------------------------------------------- bad input


def run_convert(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*caresheet_command(), "convert", *args], capture_output=True,
                          text=True, timeout=120, check=False, cwd=cwd)


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("empty.txt", b"", "the file is empty"),
        ("blank.md", b"\n   \n", "no text to convert"),
        ("binary.txt", b"\x00\x01\x02PK\x03\x04" * 10, "binary file"),
        ("latin.txt", "Caf\u00e9 care\n".encode("latin-1"), "not UTF-8"),
        ("notes.rtf", b"{\\rtf1 hello}", "cannot convert .rtf"),
        ("fake.docx", b"this is not a zip", "not a Word (.docx) file"),
        ("fake.pdf", b"%PDF-1.4 nothing else", "PDF cannot be read"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, name: str, content: bytes, words: str
) -> None:
    (tmp_path / name).write_bytes(content)
    done = run_convert(name, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and words in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and not list(tmp_path.glob("*.en.md"))


def test_a_file_over_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(MAX_BYTES + 1)
    with pytest.raises(HandoutFileError, match="up to 5 MB"):
        convert_file(path)


def test_a_scanned_pdf_without_text_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    HTML(string="<div style='width:5cm;height:5cm;background:#000'></div>").write_pdf(str(path))
    with pytest.raises(HandoutFileError, match="no text layer"):
        convert_file(path)


def test_the_command_writes_drafts_and_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "knee.txt").write_text(KNEE_TXT, encoding="utf-8")
    (tmp_path / "tooth.md").write_text(TOOTH_MD, encoding="utf-8")
    done = run_convert("knee.txt", "tooth.md", "-o", "drafts", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "drafts").iterdir()) == ["KNEE.en.md", "TOOTH.en.md"]
    assert "knee.txt -> drafts/KNEE.en.md: 5 rules" in done.stdout
    again = run_convert("knee.txt", "-o", "drafts", cwd=tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr
    assert run_convert("knee.txt", "-o", "drafts", "--force", cwd=tmp_path).returncode == 0
