"""The generated "When should you call for help?" section and "What is normal" list."""

from __future__ import annotations

from caresheet.model.sheet import Sheet, Tier
from caresheet.render.common import call_for_help, sheet_view, what_is_normal


def test_tiers_come_highest_first_with_headings_from_wording(p586: Sheet) -> None:
    section = call_for_help(p586, {"clinic_phone": "555-0100"})
    assert section.emergency_line == "If you think it could be an emergency, call 911 at any time."
    assert [b.tier for b in section.tiers] == [Tier.EMERGENCY, Tier.URGENT, Tier.CONTACT]
    assert section.tiers[0].heading == "Call 911 now if:"
    assert section.tiers[0].signs == ("You passed out.",)
    assert section.tiers[1].rule_ids == (
        "fever_stiff_neck",
        "severe_headache",
        "site_drainage",
        "numb_or_weak",
    )
    assert "555-0100" in section.tiers[1].action
    assert "555-0100" in section.tiers[2].action


def test_without_a_phone_the_action_still_says_what_to_do(p586: Sheet) -> None:
    section = call_for_help(p586)
    assert section.tiers[1].action.startswith("Call your doctor now.")


def test_spanish_sheet_gets_spanish_headings(p586_es: Sheet) -> None:
    section = call_for_help(p586_es)
    assert section.heading == "¿Cuándo debe pedir ayuda?"
    assert section.tiers[0].heading == "Llame al 911 ahora si:"
    assert section.tiers[0].signs == ("Se desmayó.",)


def test_what_is_normal_comes_from_expected(p586: Sheet) -> None:
    normal = what_is_normal(p586)
    assert normal.heading == "What is normal"
    assert normal.items[0] == "A light headache that lasts a day or two."
    assert len(normal.items) == len(p586.expected)


def test_params_are_filled_and_unset_ones_show_their_unset_text(p586: Sheet) -> None:
    filled = sheet_view(p586, {"lie_flat_hours": "2"})
    steps = [s.text for g in filled.sections[1].groups for b in g.blocks for s in b.steps]
    assert "Stay lying down flat for 2 hours after the test, as your doctor told you." in steps
    unset = sheet_view(p586)
    steps = [s.text for g in unset.sections[1].groups for b in g.blocks for s in b.steps]
    assert "Stay lying down flat for 1 to 4 hours after the test, as your doctor told you." in steps
    assert [p.shown for p in unset.params] == ["1 to 4", "your doctor's office"]
