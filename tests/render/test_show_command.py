"""``caresheet show`` as a user runs it: a real ``caresheet init`` database, a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import (
    ENGLISH_ONLY_CODE,
    ENGLISH_ONLY_TITLE,
    caresheet_command,
    english_only_sheet,
    publish_files,
    require,
)

FILLED = ["--param", "lie_flat_hours=2", "--param", "clinic_phone=555-0100"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("show")
    run(folder, "init")
    return folder


def run(folder: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "CARESHEET_DATABASE_URL": f"sqlite:///{folder}/caresheet.db"}
    done = subprocess.run(
        [*caresheet_command(), *args], cwd=folder, env=env, capture_output=True, timeout=120
    )
    if ok:
        assert done.returncode == 0, done.stderr.decode()
    return done


def test_text_is_the_default(workdir: Path) -> None:
    out = run(workdir, "show", "P586", *FILLED).stdout.decode()
    assert "[URGENT] Call your doctor now, or get care right away, if:" in out
    assert "Stay lying down flat for 2 hours" in " ".join(out.split())


def test_pdf_to_a_file_in_spanish_large_print(workdir: Path) -> None:
    require(shutil.which("pdftotext"), "poppler-utils")
    target = workdir / "p586-es.pdf"
    run(
        workdir,
        "show",
        "P586",
        "--format",
        "pdf",
        "--lang",
        "es",
        "--large",
        *FILLED,
        "-o",
        str(target),
    )
    text = " ".join(
        subprocess.run(
            ["pdftotext", str(target), "-"], capture_output=True, text=True
        ).stdout.split()
    )
    assert "Quédese acostado boca arriba 2 horas" in text and "555-0100" in text


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("html", b'<html lang="en">'),
        ("sms", b"If you think it could be an emergency, call 911 at any time."),
    ],
)
def test_other_formats(workdir: Path, fmt: str, expected: bytes) -> None:
    assert expected in run(workdir, "show", "P586", "--format", fmt, *FILLED).stdout


def test_fhir_bundle(workdir: Path) -> None:
    bundle = json.loads(run(workdir, "show", "P586", "--format", "fhir").stdout)
    assert bundle["resourceType"] == "Bundle" and len(bundle["entry"]) == 3


def test_missing_translation_notice_on_stderr(workdir: Path, tmp_path: Path) -> None:
    # Every shipped sheet is in Spanish (issue 16): the test brings a sheet that is not.
    publish_files(f"sqlite:///{workdir}/caresheet.db", [english_only_sheet(tmp_path)])
    done = run(workdir, "show", ENGLISH_ONLY_CODE, "--lang", "es")
    assert "Esta hoja no está disponible en español" in done.stderr.decode()
    assert ENGLISH_ONLY_TITLE.split(":")[0].upper().encode() in done.stdout
    spanish = run(workdir, "show", "CS101", "--lang", "es")
    assert "no está disponible" not in spanish.stderr.decode()
    assert "COLONOSCOPIA" in spanish.stdout.decode()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["P999"], "no care sheet with code P999"),
        (["P586", "--param", "lie_flat_hours=9"], "lie_flat_hours must be 1 to 4"),
        (["P586", "--param", "nap=1"], "valid params: clinic_phone, lie_flat_hours"),
        (["P586", "--param", "lie_flat_hours"], "NAME=VALUE"),
        (["P586", "--format", "docx"], "unknown format 'docx'; use one of: html, pdf, text"),
        (["P586", "--paper", "legal"], "unknown paper size"),
        (["P586", "-o", "/nonexistent/folder/x.txt"], "cannot write"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(workdir: Path, args: list[str], message: str) -> None:
    done = run(workdir, "show", *args, ok=False)
    assert done.returncode == 2
    err = done.stderr.decode().strip()
    assert len(err.splitlines()) == 1 and message in err
    assert "Traceback" not in err
