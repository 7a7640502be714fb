"""docs/cli.md stays true: every command is documented, has an example in its help, and the
doc's example block runs as written on a fresh database."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from typer.main import get_command_name
from typer.testing import CliRunner

from caresheet.cli import app
from helpers import caresheet_command

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")


def command_names() -> list[str]:
    """Every command as a user types it: ``init``, ``handout-revoke``, ``user add``…"""
    names = [info.name or get_command_name(info.callback.__name__)
             for info in app.registered_commands if info.callback is not None]
    for group in app.registered_groups:
        assert group.name and group.typer_instance is not None
        names.append(group.name)
        names += [f"{group.name} {info.name or get_command_name(info.callback.__name__)}"
                  for info in group.typer_instance.registered_commands
                  if info.callback is not None]
    return names


def test_the_command_list_is_complete() -> None:
    assert {"init", "import", "export", "triage", "serve", "lint", "search", "show",
            "handout", "worker", "user add"} <= set(command_names())


@pytest.mark.parametrize("name", command_names())
def test_every_command_is_in_the_doc(name: str) -> None:
    top = name.split()[0]
    assert re.search(rf"^### caresheet {re.escape(top)}$", DOC, re.MULTILINE), (
        f"docs/cli.md has no '### caresheet {top}' section")
    assert f"caresheet {name}" in DOC


@pytest.mark.parametrize("name", [n for n in command_names() if n != "user"])
def test_every_command_has_help_with_an_example(name: str) -> None:
    result = CliRunner().invoke(app, [*name.split(), "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"'caresheet {name} --help' shows no example"


def example_lines() -> list[str]:
    block = DOC.split("```console\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.startswith("caresheet ")]


def test_the_doc_examples_run(tmp_path: Path) -> None:
    env = {**os.environ, "CARESHEET_DATABASE_URL": f"sqlite:///{tmp_path}/caresheet.db"}
    lines = example_lines()
    assert len(lines) >= 8
    for line in lines:
        done = subprocess.run(
            [*caresheet_command(), *shlex.split(line)[1:]], env=env, cwd=ROOT,
            capture_output=True, text=True, timeout=120, check=False,
        )
        assert done.returncode == 0, f"{line}\n{done.stderr}"
        assert done.stdout.strip(), f"{line} printed nothing"
