"""`caresheet lint` as a user runs it: the real command on real files; output and exit codes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from doc_examples import fenced
from helpers import caresheet_command

LIBRARY = Path(__file__).resolve().parents[2] / "src" / "caresheet" / "library"
EXAMPLE = fenced("caresheet")[0]


def lint(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*caresheet_command(), "lint", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A clean sheet, a sheet with a warning and a sheet with an error."""
    (tmp_path / "D900.en.md").write_text(EXAMPLE, encoding="utf-8")
    warned = EXAMPLE.replace("code: D900", "code: D901").replace("skin stitches", "sewn skin")
    warned = warned.replace("- Do not swim until", "- You should not swim until")
    (tmp_path / "D901.en.md").write_text(warned, encoding="utf-8")
    return tmp_path


def test_p586_is_clean_even_when_strict() -> None:
    done = lint("--strict", str(LIBRARY / "P586.en.md"))
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "0 errors, 0 warnings in 1 file\n",
        "",
    )


def test_warnings_pass_unless_strict(folder: Path) -> None:
    done = lint(str(folder))
    line = EXAMPLE.splitlines().index("- Do not swim until your stitches are out.") + 1
    assert done.stdout.splitlines() == [
        f"{folder / 'D901.en.md'}:{line}: warning: the step starts with 'you'; start it with the "
        "action, e.g. 'Rest…', 'Take…', 'Call…'",
        "0 errors, 1 warning in 2 files",
    ]
    assert done.returncode == 0
    assert lint("--strict", str(folder)).returncode == 1


def test_an_error_fails_and_a_malformed_file_is_reported_not_raised(folder: Path) -> None:
    bad = EXAMPLE.replace("code: D900", "code: D902").replace("skin stitches", "other name")
    (folder / "D902.en.md").write_text(
        bad.replace("when: bleeding\n", "when: bleding\n"), encoding="utf-8"
    )
    done = lint(str(folder / "D900.en.md"), str(folder / "D902.en.md"))
    assert done.returncode == 1
    line = bad.splitlines().index("    when: bleeding") + 1
    assert done.stdout.splitlines()[0].startswith(
        f"{folder / 'D902.en.md'}:{line}: error: rules.0.when: "
    )
    assert done.stdout.splitlines()[-1] == "1 error, 0 warnings in 2 files"
    assert "Traceback" not in done.stderr


def test_a_missing_path_exits_2_with_one_line(tmp_path: Path) -> None:
    done = lint(str(tmp_path / "nope"))
    assert done.returncode == 2
    assert done.stderr == f"error: no such file or folder: {tmp_path / 'nope'}\n"
    assert done.stdout == ""


def test_help_has_an_example() -> None:
    done = subprocess.run(
        [*caresheet_command(), "lint", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and "caresheet lint src/caresheet/library" in done.stdout


def test_four_errors_of_four_kinds_show_in_one_run(tmp_path: Path) -> None:
    """An unquoted colon in the title (YAML), a misspelt finding (a reference), a tab in the
    body (Markdown) and a missing section (a lint check): all four, in line order, at once,
    with the warnings (inflected jargon) between them."""
    text = EXAMPLE.replace('title: "Stitches: How to Care for Your Cut at Home"',
                           "title: Stitches: How to Care for Your Cut at Home")
    text = text.replace("    when: red_streaks or pus", "    when: red_streak or pus")
    text = text.replace("  - Use mild soap and water.", "\t- Use mild soap and water.")
    text = text.replace("## Follow-up care {#follow_up}", "## Follow-up care")
    text = text.replace("Your doctor closed your cut with stitches.",
                        "Your doctor closed your cut with sutures.")
    (tmp_path / "D903.en.md").write_text(text, encoding="utf-8")
    done = lint(str(tmp_path / "D903.en.md"))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    errors = [line for line in lines if ": error: " in line]
    assert len(errors) == 4, done.stdout
    def at(marker: str) -> int:
        return text.splitlines().index(marker) + 1
    path = tmp_path / "D903.en.md"
    assert errors[0] == (
        f"{path}:{at('title: Stitches: How to Care for Your Cut at Home')}: error: the text "
        "after 'title:' has a colon of its own, which YAML reads as a new field; put the text "
        'in quotes: title: "Stitches: How to Care for Your Cut at Home"')
    assert errors[1].startswith(f"{path}:{at('    when: red_streak or pus or chills or (fever and temperature >= 100.4)')}: error: rules.1.when: unknown finding 'red_streak'")  # noqa: E501
    assert errors[2].startswith(f"{path}:") and "no {#follow_up} section" in errors[2]
    assert errors[3] == f"{path}:{at(chr(9) + '- Use mild soap and water.')}: error: indent with " \
        "spaces, not tabs: 2 spaces for a sub-step"
    assert any("'sutures' is medical jargon" in line for line in lines)
    numbers = [int(line.split(":")[1]) for line in lines[:-1]]
    assert numbers == sorted(numbers)  # line order
    assert lines[-1].startswith("4 errors, ")
