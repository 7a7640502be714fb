"""The gettext catalog is the one place UI words are translated: it must be complete, compiled
and in step with the source, or a page silently falls back to English mid-sentence."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from caresheet.i18n import DOMAIN, LOCALE_DIR

PACKAGE_DIR = LOCALE_DIR.parent
POT = LOCALE_DIR / f"{DOMAIN}.pot"
PO_FILES = sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
# %(name)s, %s, %d, and {name} / {} in case a brace-style message slips in.
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]|%([a-zA-Z])|\{(\w*)[^{}]*\}")

UNNAMED = re.compile(r"%[sdif]|\{\w*\}")  # %s, %d, {name}, {}: not how our messages are written

Key = tuple[str | tuple[str, ...], str | None]


def _read_po(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def _keys(messages: Iterable[Message]) -> set[Key]:
    """What identifies a message: its msgid (with the plural msgid) and its context."""
    return {(m.id, m.context) for m in messages if m.id}


@pytest.fixture(scope="module")
def extracted() -> Catalog:
    """A fresh extraction from the source, as ``pybabel extract -F locale/babel.cfg`` does."""
    with (LOCALE_DIR / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    catalog = Catalog()
    for _, _, message, comments, context in extract_from_dir(
        str(PACKAGE_DIR), method_map, options_map
    ):
        catalog.add(message, None, [], auto_comments=comments, context=context)
    return catalog


def _placeholders(text: str) -> list[str]:
    return sorted("".join(groups) for groups in PLACEHOLDER.findall(text))


def test_there_is_a_catalog_to_check() -> None:
    """The checks below run once per ``.po``: none found must not mean all passed."""
    assert "es" in [path.parent.parent.name for path in PO_FILES]


def test_pot_is_up_to_date_with_the_source(extracted: Catalog) -> None:
    with POT.open("rb") as handle:
        committed = read_po(handle)
    new, gone = _keys(extracted) - _keys(committed), _keys(committed) - _keys(extracted)
    assert (new, gone) == (set(), set()), (
        "caresheet.pot is stale: run the pybabel extract/update/compile steps in the README"
    )


@pytest.mark.parametrize("po", PO_FILES, ids=lambda path: path.parent.parent.name)
def test_every_message_has_a_finished_translation(po: Path, extracted: Catalog) -> None:
    catalog = _read_po(po)
    missing, fuzzy, empty = [], [], []
    for message in extracted:
        if not message.id:
            continue
        found = catalog.get(message.id, message.context)
        if found is None:
            missing.append(message.id)
            continue
        if found.fuzzy:
            fuzzy.append(message.id)
        forms = found.string if isinstance(found.string, tuple) else (found.string,)
        wanted = catalog.num_plurals if found.pluralizable else 1
        if len(forms) != wanted or not all(forms):
            empty.append(message.id)
    assert (missing, fuzzy, empty) == ([], [], [])


@pytest.mark.parametrize("po", PO_FILES, ids=lambda path: path.parent.parent.name)
def test_committed_mo_is_the_compiled_po(po: Path) -> None:
    source = _read_po(po)
    compiled = io.BytesIO()
    write_mo(compiled, source)
    compiled.seek(0)
    expected = read_mo(compiled)
    with po.with_suffix(".mo").open("rb") as handle:
        committed = read_mo(handle)

    def messages(catalog: Catalog) -> dict[Key, object]:
        # read_mo gives a plural's ids and strings as lists, read_po as tuples.
        def value(text: str | Iterable[str]) -> str | tuple[str, ...]:
            return text if isinstance(text, str) else tuple(text)

        return {(value(m.id), m.context): value(m.string) for m in catalog if m.id}

    assert messages(committed) == messages(expected), (
        f"{po.name} changed without recompiling: run pybabel compile (see the README)"
    )
    assert committed.plural_forms == expected.plural_forms


@pytest.mark.parametrize("po", PO_FILES, ids=lambda path: path.parent.parent.name)
def test_translations_keep_the_placeholders_of_their_msgid(po: Path) -> None:
    wrong = []
    for message in _read_po(po):
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        # Every plural form names what the plural msgid names (the count too, in Spanish).
        expected = _placeholders(ids[-1])
        wrong += [(ids[0], form) for form in forms if _placeholders(form) != expected]
    assert wrong == []
    assert list(_read_po(po).check()) == []  # Babel's own format checks, as compile runs them


def test_placeholders_are_named_percent_style(extracted: Catalog) -> None:
    """One style for translators: ``%(name)s``, so the name says what goes there."""
    unnamed = [
        text for message in extracted if message.id
        for text in (message.id if isinstance(message.id, tuple) else (message.id,))
        if UNNAMED.search(text)
    ]
    assert unnamed == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Call your doctor at %(phone)s.", ["phone"]),
        ("%(count)s found for “%(query)s”.", ["count", "query"]),
        ("Hola {name}", ["name"]),
        ("100%", []),
        ("%d days", ["d"]),
    ],
)
def test_placeholder_pattern(text: str, expected: list[str]) -> None:
    assert _placeholders(text) == expected
