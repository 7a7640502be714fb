"""The one batch reader: files on disk and texts in memory read the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

from caresheet.authoring.batch import (
    SheetText,
    code_of,
    load_paths,
    load_texts,
    read_texts,
)
from caresheet.errors import SheetFilesError
from doc_examples import fenced

EXAMPLE = fenced("caresheet")[0]
TRANSLATION = fenced("caresheet-translation")[0]


def test_texts_in_memory_read_like_files(tmp_path: Path) -> None:
    (tmp_path / "D900.en.md").write_text(EXAMPLE, encoding="utf-8")
    (tmp_path / "D900.es.md").write_text(TRANSLATION, encoding="utf-8")
    from_files = load_paths([tmp_path])
    # The translation first: the reader still reads its base before it.
    from_texts = load_texts(
        [SheetText("D900.es.md", TRANSLATION), SheetText("D900.en.md", EXAMPLE)]
    )
    assert [i.sheet for i in from_texts] == [i.sheet for i in from_files]
    assert [i.path for i in from_texts] == ["D900.en.md", "D900.es.md"]


def test_a_translation_finds_its_base_through_the_lookup() -> None:
    base = load_texts([SheetText("D900.en.md", EXAMPLE)])[0].sheet
    asked: list[tuple[str, str]] = []

    def find(code: str, language: str) -> object:
        asked.append((code, language))
        return base

    loaded = load_texts([SheetText("up.md", TRANSLATION)], find)  # type: ignore[arg-type]
    assert asked == [("D900", "en")] and loaded[0].sheet.language == "es"


def test_every_bad_text_is_reported_in_one_error() -> None:
    texts = [SheetText("a.md", "no front matter"), SheetText("b.md", EXAMPLE),
             SheetText("c.md", EXAMPLE), SheetText("d.md", TRANSLATION.replace("D900", "Z9"))]
    with pytest.raises(SheetFilesError) as raised:
        load_texts(texts)
    assert [(e.path, e.line) for e in raised.value.errors][:1] == [("a.md", 1)]
    assert {e.path for e in raised.value.errors} == {"a.md", "c.md", "d.md"}
    assert "is also in b.md" in str(raised.value)


def test_reading_never_raises_for_a_bad_text() -> None:
    batch = read_texts([SheetText("x.md", "---\ncode: [\n---\n"), SheetText("b.md", EXAMPLE)])
    assert [e.path for e in batch.errors] == ["x.md"] and len(batch.loaded) == 1


def test_code_of_reads_the_code_line_without_parsing() -> None:
    assert code_of("---\ncode: 'p586'\ntitle: x\n") == "P586"
    assert code_of("---\ntitle: x\n") is None
