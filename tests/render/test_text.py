"""Plain text (72 columns, tiers first-class) and SMS (under 480 characters)."""

from __future__ import annotations

import pytest

from caresheet.model.sheet import Sheet, Tier
from caresheet.render.common import call_for_help
from caresheet.render.text import SMS_LIMIT, WIDTH, render_sms, render_text

FILLED = {"lie_flat_hours": "2", "clinic_phone": "555-0100"}
LINK = "https://caresheet.example.org/sheets/P586?lie_flat_hours=2&clinic_phone=555-0100"


@pytest.mark.parametrize("lang", ["en", "es"])
def test_text_is_wrapped_and_filled(sheets_by_lang: dict[str, Sheet], lang: str) -> None:
    text = render_text(sheets_by_lang[lang], FILLED)
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    flat = " ".join(text.split())
    assert ("2 hours" if lang == "en" else "2 horas") in flat
    assert "555-0100" in flat


def test_text_tiers_have_labels_bullets_and_actions(p586: Sheet) -> None:
    text = render_text(p586, FILLED)
    lines = text.splitlines()
    emergency = lines.index("[EMERGENCY] Call 911 now if:")
    urgent = lines.index("[URGENT] Call your doctor now, or get care right away, if:")
    contact = lines.index("[WATCH] Watch for changes, and call your doctor if:")
    assert emergency < urgent < contact
    assert lines[emergency + 1] == "  * You passed out."
    assert lines[emergency + 2] == "  => Call 911 now."
    assert "WHEN SHOULD YOU CALL FOR HELP?" in lines
    assert "Not reviewed yet. Do not give it to patients." in text


def test_spanish_text_labels(p586_es: Sheet) -> None:
    text = render_text(p586_es, FILLED, notice="Aviso de prueba.")
    assert "[EMERGENCIA] Llame al 911 ahora si:" in text
    assert "AVISO: Aviso de prueba." in text
    assert "Borrador" in text


def test_unset_params_show_their_unset_text(p586: Sheet) -> None:
    flat = " ".join(render_text(p586).split())
    assert "Stay lying down flat for 1 to 4 hours" in flat
    assert "Call your doctor's office if you need to set one up." in flat


@pytest.mark.parametrize("filled", [False, True], ids=["unset", "filled"])
@pytest.mark.parametrize("link", [None, LINK], ids=["no-link", "link"])
def test_sms_is_short_and_keeps_911_urgent_signs_and_phone(
    library_sheet: Sheet, filled: bool, link: str | None
) -> None:
    values = {}
    phone_param = library_sheet.phone_param()
    if filled and phone_param:
        values[phone_param] = "555-0100"
    sms = render_sms(library_sheet, values, link=link)
    assert len(sms) < SMS_LIMIT
    cfh = call_for_help(library_sheet, values)
    assert cfh.emergency_line in sms
    for block in cfh.tiers:
        if block.tier is Tier.URGENT:
            for sign in block.signs:
                assert sign in sms
    if values:
        assert "555-0100" in sms


def test_text_of_every_shipped_sheet_fits_72_columns(library_sheet: Sheet) -> None:
    text = render_text(library_sheet)
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    assert call_for_help(library_sheet).emergency_line in text


@pytest.mark.parametrize("link", [None, LINK])
def test_p586_sms_keeps_every_911_and_urgent_sign(
    sheets_by_lang: dict[str, Sheet], link: str | None
) -> None:
    for sheet in sheets_by_lang.values():
        sms = render_sms(sheet, FILLED, link=link)
        for block in call_for_help(sheet, FILLED).tiers[:2]:
            assert all(sign in sms for sign in block.signs)


def test_sms_puts_911_before_the_signs(p586: Sheet) -> None:
    sms = render_sms(p586, FILLED)
    assert sms.index("call 911 at any time") < sms.index("You passed out.") < sms.index("very bad")
