"""How the care team can reach one patient: the least personal data that works.

A handout may carry these, all optional. They are shown only to the issuing clinic's staff and
never written to logs, emails or webhook bodies, so this type has no ``__str__`` worth logging:
its ``repr`` hides every value. Checking happens here, once, for every face (form, CLI, API,
SMART launch), so a bad phone or email gets the same clear message everywhere.
"""

from __future__ import annotations

import hashlib
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


# The last nine digits: the part of a number that survives both the way a nurse types it
# ("(555) 123-4567", "06 12 34 56 78") and the way an SMS gateway reports it ("+15551234567",
# "+33612345678"). Trunk zeros and country codes differ; these digits do not.
PHONE_KEY_DIGITS = 9


def phone_key(phone: str | None) -> str | None:
    """The lookup key of a phone number (a hash of its last nine digits), or None.

    Several numbers may share a key (the same nine digits behind another area or country
    code): ``same_phone`` decides among them. A hash, so the column is no second copy of the
    number in a dump; nine digits are no secret from someone who holds the table, though.
    """
    digits = "".join(c for c in phone or "" if c.isdigit())
    if len(digits) < 3:
        return None
    return hashlib.sha256(digits[-PHONE_KEY_DIGITS:].encode("ascii")).hexdigest()


def same_phone(stored: str, reported: str) -> bool:
    """Whether ``reported`` (a gateway's full number, "+15551234567") is the ``stored`` one.

    The stored number may lack the country code and carry a trunk zero ("06 12 34 56 78"):
    it matches when its digits, without leading zeros, end the reported digits (or the reverse,
    for a stored full number and a reported national one).
    """
    mine = "".join(c for c in stored if c.isdigit()).lstrip("0")
    theirs = "".join(c for c in reported if c.isdigit()).lstrip("0")
    if len(mine) < 3 or len(theirs) < 3:
        return False
    return theirs.endswith(mine) or mine.endswith(theirs)


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
