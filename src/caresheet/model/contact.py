"""How the care team can reach one patient: the least personal data that works.

A handout may carry these, all optional. They are shown only to the issuing clinic's staff and
never written to logs, emails or webhook bodies, so this type has no ``__str__`` worth logging:
its ``repr`` hides every value. Checking happens here, once, for every face (form, CLI, API,
SMART launch), so a bad phone or email gets the same clear message everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields

from caresheet.errors import BadInputError
from caresheet.model.personalize import normalized_phone

MAX_ID = 64
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")
_ID = re.compile(r"^[A-Za-z0-9._:/\-]+$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True)
class PatientContact:
    """Record number, encounter, callback phone, email and preferred language, each optional."""

    mrn: str | None = field(default=None, repr=False)
    encounter_id: str | None = field(default=None, repr=False)
    phone: str | None = field(default=None, repr=False)
    email: str | None = field(default=None, repr=False)
    language: str | None = field(default=None, repr=False)

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


def checked(
    mrn: str | None = None,
    encounter_id: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    language: str | None = None,
) -> PatientContact:
    """The contact with each value trimmed and checked; empty text counts as not given."""
    return PatientContact(
        mrn=_identifier("record number", mrn),
        encounter_id=_identifier("encounter id", encounter_id),
        phone=normalized_phone("phone", phone.strip()) if phone and phone.strip() else None,
        email=_email(email),
        language=_language(language),
    )


def _identifier(what: str, text: str | None) -> str | None:
    text = (text or "").strip()
    if not text:
        return None
    if len(text) > MAX_ID or not _ID.match(text):
        raise BadInputError(
            f"the {what} must be at most {MAX_ID} letters, digits or . _ : / - (got {text!r})"
        )
    return text


def _email(text: str | None) -> str | None:
    text = (text or "").strip()
    if not text:
        return None
    if len(text) > 254 or not _EMAIL.match(text):
        raise BadInputError(f"the email must look like name@example.org (got {text!r})")
    return text


def _language(text: str | None) -> str | None:
    text = (text or "").strip().replace("_", "-")
    if not text:
        return None
    if not _LANGUAGE.match(text):
        raise BadInputError(f"the language must be a code like en or es (got {text!r})")
    return text.split("-")[0].lower()
