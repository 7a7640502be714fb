"""The patient's contact fields: checked once, hidden from repr, empty means not given."""

from __future__ import annotations

import pytest

from caresheet.errors import BadInputError
from caresheet.model.contact import PatientContact, checked


def test_values_are_trimmed_and_empty_means_not_given() -> None:
    contact = checked(mrn=" A-123 ", phone=" (555)  010-0199 ", email="", language="es-MX")
    assert contact == PatientContact(mrn="A-123", phone="(555) 010-0199", language="es")
    assert not checked()
    assert contact


def test_repr_never_shows_patient_data() -> None:
    contact = checked(mrn="MRN-777", phone="555 0100", email="pat@example.org")
    assert "MRN-777" not in repr(contact)
    assert "pat@example.org" not in repr(contact)
    assert "555" not in repr(contact)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("phone", "call me", "phone number"),
        ("email", "not-an-email", "email"),
        ("mrn", "A 1<script>", "record number"),
        ("language", "english please", "language"),
    ],
)
def test_bad_values_get_a_clear_message(field: str, value: str, words: str) -> None:
    with pytest.raises(BadInputError, match=words):
        checked(**{field: value})
