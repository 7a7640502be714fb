"""Personalization: values checked against the sheet's params before any output."""

from __future__ import annotations

import pytest

from caresheet.errors import BadParamError
from caresheet.model.personalize import check, parse_assignments
from caresheet.model.sheet import Sheet

GOOD = [
    ({"lie_flat_hours": "2"}, {"lie_flat_hours": "2"}),
    ({"lie_flat_hours": " 4 "}, {"lie_flat_hours": "4"}),
    ({"lie_flat_hours": "3.0"}, {"lie_flat_hours": "3"}),
    ({"clinic_phone": "555-0100"}, {"clinic_phone": "555-0100"}),
    ({"clinic_phone": " (555)   010-0100 ext 12 "}, {"clinic_phone": "(555) 010-0100 ext 12"}),
    ({"clinic_phone": "+1 555.010.0100"}, {"clinic_phone": "+1 555.010.0100"}),
    ({"clinic_phone": "", "lie_flat_hours": "1"}, {"lie_flat_hours": "1"}),
]

BAD = [
    ({"lie_flat_hours": "9"}, "lie_flat_hours must be 1 to 4"),
    ({"lie_flat_hours": "0"}, "lie_flat_hours must be 1 to 4"),
    ({"lie_flat_hours": "2.5"}, "must be a whole number"),
    ({"lie_flat_hours": "two"}, "must be a whole number, 1 to 4"),
    ({"lie_flat_hours": "nan"}, "must be a whole number"),
    ({"clinic_phone": "call me"}, "clinic_phone must be a phone number"),
    ({"clinic_phone": "<script>555</script>"}, "clinic_phone must be a phone number"),
    ({"clinic_phone": "12"}, "clinic_phone must be a phone number"),
    ({"bed_rest": "2"}, "unknown param 'bed_rest'; valid params: clinic_phone, lie_flat_hours"),
]


@pytest.mark.parametrize(("raw", "expected"), GOOD, ids=[str(g[0]) for g in GOOD])
def test_good_values_are_normalized(
    p586: Sheet, raw: dict[str, str], expected: dict[str, str]
) -> None:
    assert check(p586, raw) == expected


@pytest.mark.parametrize(("raw", "message"), BAD, ids=[str(b[0]) for b in BAD])
def test_bad_values_are_refused_with_what_is_allowed(
    p586: Sheet, raw: dict[str, str], message: str
) -> None:
    with pytest.raises(BadParamError, match=message.replace("(", r"\(")):
        check(p586, raw)


def test_text_params_keep_hostile_text_for_the_renderer_to_escape(
    xss_sheet: Sheet, xss: str
) -> None:
    assert check(xss_sheet, {"nurse_name": xss}) == {"nurse_name": xss}


def test_control_characters_are_refused(xss_sheet: Sheet) -> None:
    with pytest.raises(BadParamError, match="control characters"):
        check(xss_sheet, {"nurse_name": "Ann\x00"})


def test_assignments_from_the_command_line() -> None:
    assert parse_assignments(["lie_flat_hours=2", "clinic_phone=555-0100"]) == {
        "lie_flat_hours": "2",
        "clinic_phone": "555-0100",
    }
    with pytest.raises(BadParamError, match="NAME=VALUE"):
        parse_assignments(["lie_flat_hours"])
