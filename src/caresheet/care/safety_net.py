"""The safety net that ends every symptom check: "Is anything else worrying you?"

No sheet lists everything a patient may notice, and nurse-line protocols all end with this
question, so the system asks it itself, after every question of the sheet: no sheet declares
it, and its ids are reserved (``model.sheet.RESERVED_FINDINGS``) so no sheet's own finding can
collide with them. A yes, or "not sure", gives at least ``contact``, tells the patient to call
the clinic, and reaches the care team like any other warning sign.

The optional note (at most ``MAX_NOTE`` characters) is kept with the check-in's answers for
the care team to read. It is patient data: it never goes into a log line, an error message, an
email, a webhook body or a FHIR resource. Pure: no store, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from caresheet.errors import AnswerError, BadAnswerError
from caresheet.i18n import gettext_for, per_language
from caresheet.model.condition import Truth
from caresheet.model.sheet import RESERVED_FINDINGS, Finding, Sheet

QUESTION = "other_concern"
NOTE = "other_concern_note"
MAX_NOTE = 500
KEYS = frozenset({QUESTION, NOTE})
assert KEYS == RESERVED_FINDINGS  # one list of reserved ids, kept where the model checks it

_VALUES: dict[str, Truth] = {"yes": True, "no": False, "unsure": None, "not sure": None,
                             "not_sure": None}


@dataclass(frozen=True, slots=True)
class SafetyNetWords:
    ask: str  # the question
    note_label: str  # the optional text box
    reason_yes: str  # the "why" line after a yes
    reason_unsure: str  # the "why" line after "not sure": never stated as fact
    action: str  # %(phone)s is the clinic phone
    action_no_phone: str


@per_language
def words_for(language: str) -> SafetyNetWords:
    """The safety net's words in a language (English when it has no catalog)."""
    gettext = gettext_for(language).gettext
    return SafetyNetWords(
        ask=gettext("Is anything else worrying you about your recovery?"),
        note_label=gettext("If you want, tell us in a few words what worries you."),
        reason_yes=gettext("You told us something else worries you about your recovery."),
        reason_unsure=gettext(
            "You were not sure whether something else worries you about your recovery."),
        action=gettext("Call your clinic at %(phone)s and tell them what worries you."),
        action_no_phone=gettext("Call your clinic and tell them what worries you."),
    )


def split(answers: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The sheet's own answers, and the safety net's (question and note)."""
    own = {k: v for k, v in answers.items() if k not in KEYS}
    net = {k: v for k, v in answers.items() if k in KEYS}
    return own, net


def read(answers: Mapping[str, str]) -> tuple[bool, Truth]:
    """(asked, value) of the safety-net question; a bad answer or note raises AnswerError."""
    problems: dict[str, str] = {}
    value: Truth = False
    asked = QUESTION in answers
    if asked:
        text = answers[QUESTION].strip().lower()
        if text in _VALUES:
            value = _VALUES[text]
        else:
            problems.update(BadAnswerError(QUESTION, answers[QUESTION],
                                           ["yes", "no", "unsure"]).problems)
    if NOTE in answers:
        try:
            clean_note(answers[NOTE])
        except AnswerError as fault:
            problems.update(fault.problems)
    if problems:
        raise AnswerError(problems)
    return asked, value


def clean_note(text: str) -> str | None:
    """The note as kept: trimmed, None when empty; too long or with control characters refused.

    The message never repeats the note itself (it may be logged or shown in a CLI error).
    """
    note = text.strip()
    if not note:
        return None
    if len(note) > MAX_NOTE:
        raise AnswerError({NOTE: f"the note is {len(note)} characters long; "
                                 f"write at most {MAX_NOTE}"})
    if any(ord(c) < 32 and c not in "\n\r\t" for c in note):
        raise AnswerError({NOTE: "the note holds control characters; write plain text"})
    return note


def kept_answers(answers: Mapping[str, str]) -> dict[str, str]:
    """The safety net's answers as a check-in keeps them (the note as written, trimmed)."""
    kept: dict[str, str] = {}
    if QUESTION in answers:
        kept[QUESTION] = answers[QUESTION].strip().lower() or "unsure"
    note = clean_note(answers.get(NOTE, ""))
    if note is not None:
        kept[NOTE] = note
    return kept


def question(sheet: Sheet, name: str) -> Finding:
    """A question of the check by id: the sheet's own finding, or the safety net's."""
    if name == QUESTION:
        return Finding(ask=words_for(sheet.language).ask)
    return sheet.findings[name]
