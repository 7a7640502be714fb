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


# A doc line: optional NAME=value settings, then the command (as a shell would read it).
EXAMPLE = re.compile(r"^(?:[A-Z_]+=\S+ )*caresheet ")


def example_lines() -> list[str]:
    block = DOC.split("```console\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if EXAMPLE.match(line)]


def test_the_doc_examples_run(tmp_path: Path) -> None:
    env = {**os.environ, "CARESHEET_DATABASE_URL": f"sqlite:///{tmp_path}/caresheet.db"}
    for name in ("CARESHEET_SMTP_HOST", "CARESHEET_SMS_URL", "CARESHEET_PASSWORD"):
        env.pop(name, None)
    # A scratch folder that sees the repository's src/ and docs/, so what the examples write
    # (converted drafts) lands there and never in the repository.
    work = tmp_path / "work"
    work.mkdir()
    for name in ("src", "docs"):
        (work / name).symlink_to(ROOT / name)
    lines = example_lines()
    assert len(lines) >= 24
    for line in lines:
        words = shlex.split(line)
        settings = {}
        while words[0] != "caresheet":
            name, _, value = words.pop(0).partition("=")
            settings[name] = value
        done = subprocess.run(
            [*caresheet_command(), *words[1:]], env={**env, **settings}, cwd=work,
            capture_output=True, text=True, timeout=120, check=False,
        )
        assert done.returncode == 0, f"{line}\n{done.stderr}"
        assert done.stdout.strip(), f"{line} printed nothing"
    assert (work / "drafts" / "KNEESCOPE.en.md").is_file()


@pytest.mark.parametrize("name", ["clinic add", "clinic list", "clinic remove", "token add",
                                  "token list", "token revoke", "handout", "worker",
                                  "ehr add", "ehr list", "ehr remove", "user link-ehr",
                                  "convert"])
def test_the_loops_commands_have_a_running_example(name: str) -> None:
    assert any(f"caresheet {name} " in line + " " for line in example_lines()), name
    handout = next(line for line in example_lines() if line.startswith("caresheet handout "))
    for option in ("--email", "--phone", "--send email", "--send sms"):
        assert option in handout
