"""Text messages a patient sends back to the SMS gateway: who sent them, and what they mean.

The gateway (Twilio, or one of the many that copy its API) posts each inbound message as a
form (``From``, ``To``, ``Body``) and signs it: ``X-Twilio-Signature`` is the base64 HMAC-SHA1,
keyed with the account's auth token (``CARESHEET_SMS_TOKEN``), of the full URL it called
followed by every form field's name and value, sorted by name. ``signature`` computes it,
``signed`` checks one in constant time.

A reply is read for one thing only, the opt-out words carriers know: STOP and its kin stop
the prompts, START or UNSTOP resumes them. Anything else gets a fixed answer pointing to the
clinic and 911; symptoms are never triaged from free text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from enum import Enum
from xml.sax.saxutils import escape

SIGNATURE_HEADER = "X-Twilio-Signature"
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "UNSTOP"})


class Reply(Enum):
    """What an inbound text asks for."""

    STOP = "stop"
    START = "start"
    OTHER = "other"


def meaning(body: str) -> Reply:
    """STOP, START or OTHER: the whole message must be one of the words (any case, spaces)."""
    word = body.strip().upper()
    if word in STOP_WORDS:
        return Reply.STOP
    if word in START_WORDS:
        return Reply.START
    return Reply.OTHER


def signature(token: str, url: str, fields: Iterable[tuple[str, str]]) -> str:
    """The gateway's signature of a POST to ``url`` with ``fields`` (Twilio's documented way)."""
    text = url + "".join(name + value for name, value in sorted(fields))
    digest = hmac.new(token.encode("utf-8"), text.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def signed(token: str | None, url: str, fields: Iterable[tuple[str, str]],
           given: str | None) -> bool:
    """Whether ``given`` is the signature of this request; False with no token or none given."""
    if not token or not given:
        return False
    return hmac.compare_digest(signature(token, url, fields), given.strip())


_WORDS = {
    "en": {
        Reply.STOP: "You will get no more check-in reminders. If you feel worse, call your "
                    "clinic. In an emergency, call 911.",
        Reply.START: "Check-in reminders are on again. Reply STOP to end them. In an "
                     "emergency, call 911.",
        Reply.OTHER: "No one reads replies to this number. Call your clinic with questions. "
                     "In an emergency, call 911.",
    },
    "es": {
        Reply.STOP: "No recibira mas recordatorios. Si se siente peor, llame a su clinica. "
                    "En una emergencia, llame al 911.",
        Reply.START: "Los recordatorios estan activos otra vez. Responda STOP para terminar. "
                     "En una emergencia, llame al 911.",
        Reply.OTHER: "Nadie lee las respuestas a este numero. Llame a su clinica si tiene "
                     "preguntas. En una emergencia, llame al 911.",
    },
}


def answer(reply: Reply, language: str | None) -> str:
    """The TwiML document that answers a text: one short message, in the patient's language."""
    words = _WORDS.get(language or "en", _WORDS["en"])[reply]
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            f"<Response><Message>{escape(words)}</Message></Response>")
