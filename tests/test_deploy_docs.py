"""docs/deploy.md stays true: its settings table names exactly the settings the code reads, and
the systemd unit and the Dockerfile it shows parse and run real caresheet commands."""

from __future__ import annotations

import configparser
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer

from caresheet.cli import app

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "caresheet"
DOC = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
NAME = re.compile(r"\bCARESHEET_[A-Z0-9]+(?:_[A-Z0-9]+)*\b")
# The notification settings are read as CARESHEET_ + a name (team/notify/settings.py).
PREFIXED = re.compile(r'\bget\("([A-Z][A-Z0-9_]*)"\)')


def settings_in_code() -> set[str]:
    names: set[str] = set()
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        names |= set(NAME.findall(text))
        if 'f"CARESHEET_{name}"' in text:
            names |= {f"CARESHEET_{name}" for name in PREFIXED.findall(text)}
    return names


def settings_in_table() -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    for line in DOC.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `CARESHEET_") and len(cells) == 4:
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def test_the_table_lists_every_setting_the_code_reads_and_no_other() -> None:
    table = settings_in_table()
    code = settings_in_code()
    assert len(code) > 20  # the grep found the settings, not nothing
    assert sorted(code - set(table)) == [], "settings read by the code but missing from the table"
    assert sorted(set(table) - code) == [], "settings in the table that no code reads"
    for name, (default, meaning, example) in table.items():
        assert default and meaning and example, f"{name}: every column is filled"


def _check_command(argv: list[str]) -> None:
    """Parse ``caresheet ...`` argv with the real CLI: an unknown command or option fails."""
    assert Path(argv[0]).name == "caresheet", argv
    group: Any = typer.main.get_command(app)  # typer's own click, not the installed one
    command = group.get_command(group.make_context("caresheet", [argv[1]]), argv[1])
    assert command is not None, f"no command {argv[1]!r}"
    command.make_context(argv[1], argv[2:])  # raises on an unknown option or a bad value


def test_the_systemd_unit_parses_and_runs_a_real_command() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(ROOT / "deploy" / "caresheet.service", encoding="utf-8")
    assert {"Unit", "Service", "Install"} <= set(unit.sections())
    service = unit["Service"]
    argv = shlex.split(service["ExecStart"])
    _check_command(argv)
    assert argv[1] == "serve" and "--workers" in argv
    assert service["Restart"] == "on-failure" and service["User"] != "root"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def _instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def test_the_dockerfile_parses_and_runs_a_real_command() -> None:
    known = {"FROM", "RUN", "COPY", "WORKDIR", "USER", "ENV", "EXPOSE", "CMD"}
    instructions = _instructions()
    assert instructions[0][0] == "FROM"
    assert {keyword for keyword, _ in instructions} <= known
    for keyword, rest in instructions:
        if keyword == "COPY":
            *sources, _ = rest.split()
            assert all((ROOT / s).exists() for s in sources), rest
    [cmd] = [rest for keyword, rest in instructions if keyword == "CMD"]
    argv = json.loads(cmd)  # the exec form: no shell between the signal and the server
    _check_command(argv)
    assert instructions[-1][0] == "CMD" and ("USER", "caresheet") in instructions


def test_the_dockerfile_installs_only_packages_the_project_lists() -> None:
    script = (ROOT / "scripts" / "install-system-deps.sh").read_text(encoding="utf-8")
    listed = set(re.search(r"PACKAGES=\(([^)]*)\)", script, re.S).group(1).split())  # type: ignore[union-attr]
    [apt] = [rest for keyword, rest in _instructions()
             if keyword == "RUN" and "apt-get install" in rest]
    wanted = {word for word in apt.split("apt-get install", 1)[1].split("&&")[0].split()
              if not word.startswith("-")}
    assert wanted and wanted <= listed


@pytest.mark.parametrize("needle", ["pg_dump", ".backup", "caresheet init --no-samples",
                                    "CARESHEET_PGBOUNCER=on", "Strict-Transport-Security",
                                    "caresheet serve --host 127.0.0.1 --port 8000 --workers"])
def test_the_guide_covers(needle: str) -> None:
    assert needle in DOC
