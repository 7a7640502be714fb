"""Language tags, catalogs and the strings we put into CSS."""

from __future__ import annotations

import pytest

from caresheet.i18n import fallback_notice, gettext_for, language_name, normalize
from caresheet.render.html import css_string


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("es", "es"),
        ("es-MX", "es"),
        ("ES_us", "es"),
        ("sp", "es"),
        ("en-GB", "en"),
        ("", "en"),
        (None, "en"),
        ("fr", "fr"),
    ],
)
def test_normalize(tag: str | None, expected: str) -> None:
    assert normalize(tag) == expected


def test_catalogs() -> None:
    assert gettext_for("es").gettext("Emergency") == "Emergencia"
    assert gettext_for("es-MX").gettext("Page") == "Página"
    assert gettext_for("en").gettext("Emergency") == "Emergency"
    assert gettext_for("fr").gettext("Emergency") == "Emergency"  # no catalog: English


def test_every_spanish_message_is_translated() -> None:
    from babel.messages.pofile import read_po

    from caresheet.i18n import LOCALE_DIR

    with open(LOCALE_DIR / "es" / "LC_MESSAGES" / "caresheet.po", "rb") as handle:
        catalog = read_po(handle)
    missing = [m.id for m in catalog if m.id and not m.string]
    assert missing == []


def test_language_names_and_notice() -> None:
    assert language_name("es", "es") == "español"
    assert language_name("en", "es") == "inglés"
    assert fallback_notice("en", "en").startswith("This sheet is not available in English")


@pytest.mark.parametrize("text", ['Page "', "</style><script>", "a\\b\nc"])
def test_css_strings_cannot_escape_their_quotes(text: str) -> None:
    quoted = css_string(text)
    inner = quoted[1:-1]
    assert quoted.startswith('"') and quoted.endswith('"')
    assert '"' not in inner and "<" not in inner and "\n" not in inner
