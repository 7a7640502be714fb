"""`caresheet init|import|export|triage` as a user runs them: the real command, a real database."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from caresheet.authoring.parse import parse, read_file
from caresheet.library import LIBRARY_DIR
from helpers import caresheet_command

CASES = yaml.safe_load((Path(__file__).parent / "p586_cli_cases.yaml").read_text("utf-8"))
P586_EN = LIBRARY_DIR / "P586.en.md"
P586_ES = LIBRARY_DIR / "P586.es.md"


def run(
    args: Sequence[str], db_url: str, cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CARESHEET_DATABASE_URL": db_url, "NO_COLOR": "1"}
    return subprocess.run(
        [*caresheet_command(), *args], env=env, cwd=cwd, capture_output=True, text=True,
        timeout=timeout, check=False,
    )


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """One initialized SQLite library shared by the read-only tests of this module."""
    folder = tmp_path_factory.mktemp("cli")
    url = f"sqlite:///{folder}/caresheet.db"
    done = run(["init"], url, folder)
    assert done.returncode == 0, done.stderr
    return url, folder


# ---------------------------------------------------------------- init and import


def test_init_creates_the_library_and_is_idempotent(sqlite_url: str, tmp_path: Path) -> None:
    first = run(["init"], sqlite_url, tmp_path)
    second = run(["init"], sqlite_url, tmp_path)
    shipped = len(list(LIBRARY_DIR.rglob("*.md")))
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    summary = f"{shipped} sample sheets in the library ({shipped} new, 0 updated, 0 unchanged)"
    assert summary in first.stdout
    assert f"(0 new, 0 updated, {shipped} unchanged)" in second.stdout
    assert len(first.stdout.splitlines()) == 1


def test_init_installs_published_samples_and_no_samples_installs_none(
    tmp_path: Path
) -> None:
    from caresheet.store import sheets as stored_sheets
    from caresheet.store.db import Store

    with_samples, without = (f"sqlite:///{tmp_path}/{name}.db" for name in ("with", "without"))
    assert run(["init"], with_samples, tmp_path).returncode == 0
    bare = run(["init", "--no-samples"], without, tmp_path)
    assert bare.returncode == 0, bare.stderr
    assert "no samples installed (0 sheets stored)" in bare.stdout
    for url, expected in ((with_samples, True), (without, False)):
        store = Store.open(url)
        try:
            with store.session(write=False) as session:
                shown = stored_sheets.list_current(session)
        finally:
            store.close()
        assert bool(shown) is expected
        assert all(s.sample and s.status.value == "published" for s in shown)
    # Without samples there is nothing to show the public.
    assert run(["show", "P586", "--format", "text"], without, tmp_path).returncode == 2


def test_init_leaves_a_sheet_the_clinic_has_its_own_versions_of(
    sqlite_url: str, tmp_path: Path
) -> None:
    from caresheet.store import sheets as stored_sheets
    from caresheet.store.db import Store

    own = tmp_path / "P586.en.md"
    own.write_text(P586_EN.read_text("utf-8").replace("You passed out.", "You fainted."), "utf-8")
    assert run(["init", "--no-samples"], sqlite_url, tmp_path).returncode == 0
    assert run(["import", str(own), "--by", "ana@clinic.example"], sqlite_url,
               tmp_path).returncode == 0
    again = run(["init"], sqlite_url, tmp_path)
    assert again.returncode == 0, again.stderr
    store = Store.open(sqlite_url)
    try:
        with store.session(write=False) as session:
            versions = stored_sheets.versions(session, "P586")
    finally:
        store.close()
    assert [(v.version, v.sample, v.author) for v in versions] == [
        (1, False, "ana@clinic.example")
    ]


def test_init_uses_caresheet_db_in_the_current_folder_by_default(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CARESHEET_DATABASE_URL"}
    done = subprocess.run([*caresheet_command(), "init"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "caresheet.db").is_file()


def test_import_prints_each_outcome_and_adds_a_version_for_a_change(
    sqlite_url: str, tmp_path: Path
) -> None:
    sheet = Path(shutil.copy(P586_EN, tmp_path / "P586.en.md"))
    first = run(["import", str(sheet)], sqlite_url, tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.split()[:4] == ["created", "P586", "en", "v1"]
    same = run(["import", str(sheet)], sqlite_url, tmp_path)
    assert same.stdout.split()[:4] == ["unchanged", "P586", "en", "v1"]
    sheet.write_text(sheet.read_text("utf-8").replace("You passed out.", "You fainted."), "utf-8")
    changed = run(["import", str(tmp_path)], sqlite_url, tmp_path)  # a folder works too
    assert changed.stdout.split()[:4] == ["new_version", "P586", "en", "v2"]
    old = run(["export", "P586", "--version", "1"], sqlite_url, tmp_path)
    assert "text: You passed out." in old.stdout


def test_import_records_its_author_and_stores_a_draft(sqlite_url: str, tmp_path: Path) -> None:
    from caresheet.store import sheets as stored_sheets
    from caresheet.store.db import Store

    published = tmp_path / "P586.en.md"
    # Whatever the file says, an import is a draft: only review publishes.
    published.write_text(P586_EN.read_text("utf-8").replace("status: draft", "status: published"),
                         "utf-8")
    assert run(["import", str(published), "--by", "Ana@Clinic.example"], sqlite_url,
               tmp_path).returncode == 0
    bad = run(["import", str(published), "--by", "nobody"], sqlite_url, tmp_path)
    assert bad.returncode == 2 and "--by needs the author's email" in bad.stderr
    other = Path(shutil.copy(P586_ES, tmp_path / "P586.es.md"))
    assert run(["import", str(other)], sqlite_url, tmp_path).returncode == 0
    store = Store.open(sqlite_url)
    try:
        with store.session(write=False) as session:
            english = stored_sheets.latest(session, "P586", "en")
            spanish = stored_sheets.latest(session, "P586", "es")
            public = stored_sheets.list_current(session)
    finally:
        store.close()
    assert (english.author, english.status.value) == ("ana@clinic.example", "draft")
    assert (spanish.author, spanish.base_version) == ("file import", 1)
    assert public == []


def test_a_malformed_file_names_its_line_and_saves_nothing(
    sqlite_url: str, tmp_path: Path
) -> None:
    bad = tmp_path / "P1.en.md"
    bad.write_text("---\ncode: P1\ntitle: [unclosed\n---\n", encoding="utf-8")
    done = run(["import", str(P586_EN), str(bad)], sqlite_url, tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(f"{bad}:3: ")
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr
    assert done.stdout == ""
    listing = run(["export", "P586"], sqlite_url, tmp_path)
    assert listing.returncode == 2 and "no care sheet with code P586" in listing.stderr


def _alias_bomb() -> str:
    """A few hundred bytes of YAML that expand to 10**7 items when aliases are followed."""
    lines = ["---", "code: B1", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, 8):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    return "\n".join([*lines, "title: Bomb", "---", "## Recovery {#recovery}", "", "Rest."]) + "\n"


@pytest.mark.parametrize(("text", "words"), [
    pytest.param("---\ncode: B1\ntitle: " + "[" * 3000 + "\n---\n", "nested", id="deep"),
    pytest.param(_alias_bomb(), "anchors and aliases", id="alias-bomb"),
])
@pytest.mark.parametrize("command", ["import", "lint"])
def test_hostile_yaml_is_one_file_line_message(
    sqlite_url: str, tmp_path: Path, command: str, text: str, words: str
) -> None:
    bad = tmp_path / "B1.en.md"
    bad.write_text(text, encoding="utf-8")
    done = run([command, str(bad)], sqlite_url, tmp_path, timeout=20)
    assert "Traceback" not in done.stderr + done.stdout
    if command == "import":  # bad input: one line on stderr, exit 2
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr.startswith(f"{bad}:3: ") and words in done.stderr
        assert len(done.stderr.splitlines()) == 1
    else:  # the linter's own contract: the problem on stdout, exit 1 for an error
        assert done.returncode == 1 and done.stderr == ""
        assert done.stdout.splitlines()[0].startswith(f"{bad}:3: error: ")
        assert words in done.stdout and len(done.stdout.splitlines()) == 2


def test_every_command_leaves_its_errors_to_the_one_translator() -> None:
    """No command catches core errors itself: the root group translates them all."""
    sources = (Path(__file__).resolve().parents[2] / "src" / "caresheet" / "cli").glob("*.py")
    for source in sources:
        text = source.read_text(encoding="utf-8")
        assert "reports_errors" not in text, source.name
        if source.name != "app.py":
            assert "except CaresheetError" not in text and "except SheetFilesError" not in text


# ---------------------------------------------------------------- export


@pytest.mark.parametrize("path", [P586_EN, P586_ES], ids=["en", "es"])
def test_export_gives_back_the_sheet_that_was_imported(
    library: tuple[str, Path], path: Path
) -> None:
    url, folder = library
    language = path.name.split(".")[1]
    done = run(["export", "P586", "--lang", language], url, folder)
    assert done.returncode == 0, done.stderr
    base = read_file(P586_EN).sheet if language != "en" else None
    exported = parse(done.stdout, "exported.md", base).sheet
    # The same sheet; its status is the stored review state (the sample is published).
    assert exported.status.value == "published"
    assert exported.model_dump(exclude={"status"}) == read_file(path, base).sheet.model_dump(
        exclude={"status"})


def test_export_to_a_file(library: tuple[str, Path], tmp_path: Path) -> None:
    url, folder = library
    target = tmp_path / "out.md"
    done = run(["export", "p586", "-o", str(target)], url, folder)
    assert done.returncode == 0 and done.stdout == ""
    assert read_file(target).sheet.model_dump(exclude={"status"}) == read_file(
        P586_EN).sheet.model_dump(exclude={"status"})


# ---------------------------------------------------------------- triage


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_triage_json_gives_the_tier_the_sheet_implies(
    library: tuple[str, Path], case: dict[str, Any]
) -> None:
    url, folder = library
    args = ["triage", "P586", "--json"]
    for finding, value in case["answers"].items():
        args += ["--answer", f"{finding}={value}"]
    if case["elapsed"] is not None:
        args += ["--elapsed", case["elapsed"]]
    done = run(args, url, folder)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["tier"] == case["tier"]
    assert {m["id"] for m in result["matched"]} >= set(case["matched"])
    if not case["matched"]:
        assert result["matched"] == []
    assert {a["kind"] for a in result["assumed"]} >= set(case.get("assumed", []))
    assert result["emergency_line"] == (
        "If you think it could be an emergency, call 911 at any time."
    )
    assert {"action", "normal", "sheet"} <= set(result)
    assert result["sheet"]["status"] == "published"  # the shipped sample


def test_triage_fills_in_the_clinic_phone(library: tuple[str, Path]) -> None:
    url, folder = library
    done = run(["triage", "P586", "--answer", "severe_headache=yes",
                "--param", "clinic_phone=555-0100", "--json"], url, folder)
    assert "555-0100" in json.loads(done.stdout)["action"]


def test_triage_text_puts_the_action_first(library: tuple[str, Path]) -> None:
    url, folder = library
    done = run(["triage", "P586", "--answer", "passed_out=yes", "--elapsed", "2h"], url, folder)
    lines = done.stdout.splitlines()
    assert lines[0] == "Call 911 now."
    assert "  - You passed out." in lines
    assert lines[-1] == "If you think it could be an emergency, call 911 at any time."


def test_triage_in_spanish(library: tuple[str, Path]) -> None:
    url, folder = library
    done = run(["triage", "P586", "--lang", "es", "--answer", "passed_out=yes", "--json"],
               url, folder)
    result = json.loads(done.stdout)
    assert result["tier"] == "emergency" and result["action"] == "Llame al 911 ahora."


BAD_INPUT = [
    ("unknown_code", ["triage", "P999", "--answer", "fever=yes"], "P999"),
    ("unknown_finding", ["triage", "P586", "--answer", "dizzy=yes"],
     "valid findings: fever, headache, numb_or_weak, other_concern, passed_out, "
     "severe_headache"),
    ("bad_answer", ["triage", "P586", "--answer", "fever=maybe"], "use one of: no, unsure, yes"),
    ("two_bad_answers", ["triage", "P586", "--answer", "fever=maybe", "--answer", "dizzy=yes"],
     "bad answer 'maybe' for 'fever'; use one of: no, unsure, yes; unknown finding 'dizzy'"),
    ("answer_without_equals", ["triage", "P586", "--answer", "fever"], "FINDING=yes|no|unsure"),
    ("answer_twice", ["triage", "P586", "--answer", "fever=yes", "--answer", "fever=no"],
     "answered twice"),
    ("unreadable_elapsed", ["triage", "P586", "--elapsed", "soon"], "not a duration"),
    ("negative_elapsed", ["triage", "P586", "--elapsed", "-3h"], "negative"),
    ("unknown_param", ["triage", "P586", "--param", "pager=1"], "valid params"),
    ("bad_param_value", ["triage", "P586", "--param", "lie_flat_hours=9"], "lie_flat_hours"),
    ("unknown_language", ["triage", "P586", "--lang", "fr"], "languages: en, es"),
    ("export_unknown_version", ["export", "P586", "--version", "7"], "no version 7"),
    ("import_missing_path", ["import", "no-such-file.md"], "no such file or folder"),
]


@pytest.mark.parametrize(("args", "expected"), [c[1:] for c in BAD_INPUT],
                         ids=[c[0] for c in BAD_INPUT])
def test_bad_input_is_one_line_and_exit_2(
    library: tuple[str, Path], args: list[str], expected: str
) -> None:
    url, folder = library
    done = run(args, url, folder)
    assert done.returncode == 2
    assert expected in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr + done.stdout


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///{tmp}/missing/folder/caresheet.db", "does not exist"),
        ("postgresql://nobody@127.0.0.1:1/caresheet", "cannot use the database"),
        ("mysql://nobody@127.0.0.1/caresheet", "SQLite or PostgreSQL"),
    ],
    ids=["missing_folder", "unreachable_postgres", "other_database"],
)
def test_a_database_that_cannot_be_used_is_one_line(
    tmp_path: Path, url: str, expected: str
) -> None:
    done = run(["init"], url.format(tmp=tmp_path), tmp_path)
    assert done.returncode == 2
    assert expected in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_every_command_has_help_with_an_example(tmp_path: Path) -> None:
    for command in ("init", "import", "export", "triage", "serve"):
        done = run([command, "--help"], "sqlite:///unused.db", tmp_path)
        assert done.returncode == 0
        assert "Example: caresheet " + command in " ".join(done.stdout.split())


def test_import_warns_when_a_translation_falls_behind_its_english(
    sqlite_url: str, tmp_path: Path
) -> None:
    from caresheet import sheets
    from caresheet.store.db import Store

    english = Path(shutil.copy(P586_EN, tmp_path / "P586.en.md"))
    spanish = Path(shutil.copy(P586_ES, tmp_path / "P586.es.md"))
    both = run(["import", str(english), str(spanish)], sqlite_url, tmp_path)
    assert both.returncode == 0 and "stale" not in both.stderr
    english.write_text(english.read_text("utf-8").replace("You passed out.", "You fainted."),
                       "utf-8")
    changed = run(["import", str(english)], sqlite_url, tmp_path)
    assert changed.returncode == 0, changed.stderr
    assert ("warning: P586 (es) translation is stale: written for English version 1, now "
            "version 2") in changed.stderr
    store = Store.open(sqlite_url)
    try:
        with store.session(write=False) as session:
            (row,) = sheets.translation_status(session)
    finally:
        store.close()
    assert (row.code, row.language, row.state) == ("P586", "es", "stale")
    # A new translation, written against the new English, clears it.
    spanish.write_text(spanish.read_text("utf-8").replace("passed_out: Se desmayó.",
                                                          "passed_out: Perdió el sentido."),
                       "utf-8")
    again = run(["import", str(spanish)], sqlite_url, tmp_path)
    assert again.returncode == 0, again.stderr
    store = Store.open(sqlite_url)
    try:
        with store.session(write=False) as session:
            (row,) = sheets.translation_status(session)
    finally:
        store.close()
    assert row.state == "current"
