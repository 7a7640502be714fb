"""Messages to a patient: the hand-over of the private link, and the follow-up prompts that
ask them to check their symptoms again when a time limit of their sheet passes.

Both go through the one outbox (``outbox``), each row tied to its handout and keyed by what
it is (``handover:<handout>:<channel>``, ``prompt:<handout>:<moment>``). The key is unique in
the table, so a message is queued once however often the queueing runs; the outbox's leases
make a second worker or a restart send it once. A prompt is not sent when the link has ended,
was revoked or the patient tapped "stop"; it waits out the clinic's quiet hours.

Only these rows hold the link itself (the database otherwise keeps only its hash), and only
until they are sent or dropped: the outbox erases a patient message's payload when it is done.
The texts name the clinic and carry the link, never the sheet, a finding or a name.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from caresheet.care.timeline import EventKind, Timeline
from caresheet.errors import BadInputError
from caresheet.store.handouts import Handout
from caresheet.store.team import OutboxRow
from caresheet.team.clinics import Clinic
from caresheet.team.notify.settings import Settings

CHANNELS = ("email", "sms")
SMS_LIMIT = 160
# The GSM 03.38 basic set: a text of only these is one 160-character message.
GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€")  # two septets each


def gsm7_length(text: str) -> int | None:
    """How many GSM-7 characters ``text`` takes, or None when it needs UCS-2 (70 a message)."""
    size = 0
    for char in text:
        if char in GSM7:
            size += 1
        elif char in GSM7_EXTENDED:
            size += 2
        else:
            return None
    return size


# ---------------------------------------------------------------- words

_WORDS = {
    "en": {
        "handover_sms": "{clinic}: your care guide is at {link} Reply STOP to end texts.",
        "handover_sms_short": "Your care guide: {link} Reply STOP to end texts.",
        "prompt_sms": "{clinic}: please check your symptoms again: {link} Reply STOP to end.",
        "prompt_sms_short": "Please check your symptoms again: {link} Reply STOP to end.",
        "handover_subject": "Your care sheet from {clinic}",
        "prompt_subject": "Time to check your symptoms again",
        "handover_body": "Here is your care sheet from {clinic}:\n{link}\n\n"
                         "Open it to read your care steps and to check your symptoms.",
        "prompt_body": "Please check your symptoms again now:\n{link}",
        "call": "Call {phone} with questions.",
        "emergency": "If you think you may need emergency care, call 911.",
        "stop": "To get no more of these messages, open {stop}",
    },
    "es": {
        "handover_sms": "{clinic}: su guia de cuidados: {link} Responda STOP para no recibir "
                        "mensajes.",
        "handover_sms_short": "Su guia de cuidados: {link} Responda STOP para terminar.",
        "prompt_sms": "{clinic}: revise sus sintomas otra vez: {link} Responda STOP para "
                      "terminar.",
        "prompt_sms_short": "Revise sus sintomas otra vez: {link} Responda STOP para terminar.",
        "handover_subject": "Su hoja de cuidados de {clinic}",
        "prompt_subject": "Revise sus síntomas otra vez",
        "handover_body": "Esta es su hoja de cuidados de {clinic}:\n{link}\n\n"
                         "Ábrala para leer sus cuidados y revisar sus síntomas.",
        "prompt_body": "Por favor, revise sus síntomas otra vez ahora:\n{link}",
        "call": "Llame al {phone} si tiene preguntas.",
        "emergency": "Si cree que necesita atención de emergencia, llame al 911.",
        "stop": "Para no recibir más mensajes, abra {stop}",
    },
}


def words_for(language: str | None) -> dict[str, str]:
    return _WORDS.get((language or "en").split("-")[0].lower(), _WORDS["en"])


def sms_text(kind: str, language: str | None, clinic: str, link: str) -> str:
    """The text of a hand-over or prompt: with the clinic's name when it still fits in one
    GSM-7 message, else without it."""
    words = words_for(language)
    full = words[f"{kind}_sms"].format(clinic=clinic, link=link)
    size = gsm7_length(full)
    if size is not None and size <= SMS_LIMIT:
        return full
    return words[f"{kind}_sms_short"].format(link=link)


def email_text(kind: str, language: str | None, clinic: Clinic, link: str) -> dict[str, str]:
    words = words_for(language)
    lines = [words[f"{kind}_body"].format(clinic=clinic.name, link=link), ""]
    if clinic.phone:
        lines.append(words["call"].format(phone=clinic.phone))
    lines.append(words["emergency"])
    lines += ["", words["stop"].format(stop=f"{link}/stop")]
    return {"subject": words[f"{kind}_subject"].format(clinic=clinic.name),
            "body": "\n".join(lines)}


def sms_number(phone: str) -> str:
    """The number as a gateway wants it: a leading + kept, digits only after it."""
    digits = "".join(c for c in phone if c.isdigit())
    return ("+" if phone.strip().startswith("+") else "") + digits


def link_for(settings: Settings, token: str) -> str:
    return f"{settings.base_url.rstrip('/')}/h/{token}"


# ---------------------------------------------------------------- queueing


@dataclass(frozen=True)
class Sending:
    """What happened to one requested channel: queued, or why not."""

    channel: str
    queued: bool
    reason: str | None = None


def check_channels(channels: Iterable[str]) -> tuple[str, ...]:
    """The requested channels, each once; refuses one we do not have."""
    chosen: list[str] = []
    for channel in channels:
        name = channel.strip().lower()
        if name not in CHANNELS:
            raise BadInputError(f"cannot send by {channel!r}; use email or sms")
        if name not in chosen:
            chosen.append(name)
    return tuple(chosen)


def _exists(session: Session, key: str) -> bool:
    return session.scalar(select(OutboxRow.id).where(OutboxRow.idempotency_key == key)) is not None


def _queue(session: Session, channel: str, payload: dict[str, object], handout_id: int,
           key: str, due: dt.datetime, now: dt.datetime) -> bool:
    if _exists(session, key):
        return False
    session.add(OutboxRow(
        channel=channel, payload=json.dumps(payload, sort_keys=True), escalation_id=None,
        handout_id=handout_id, created_at=now, attempts=0, next_attempt_at=due,
        idempotency_key=key))
    session.flush()
    return True


def _why_not(channel: str, handout: Handout, settings: Settings) -> str | None:
    if channel == "email":
        if not handout.contact.email:
            return "no email address was given"
        if not settings.patient_email_on:
            return "email is not set up (CARESHEET_SMTP_HOST)"
    else:
        if not handout.contact.phone:
            return "no phone number was given"
        if not settings.sms_on:
            return "text messages are not set up (" + ", ".join(settings.sms_missing()) + ")"
    return None


def _payload(channel: str, kind: str, handout: Handout, clinic: Clinic, link: str
             ) -> dict[str, object]:
    language = handout.contact.language or handout.language
    if channel == "sms":
        assert handout.contact.phone is not None
        return {"kind": kind, "to": sms_number(handout.contact.phone),
                "body": sms_text(kind, language, clinic.name, link)}
    assert handout.contact.email is not None
    return {"kind": kind, "to": [handout.contact.email],
            **email_text(kind, language, clinic, link)}


def queue_handover(
    session: Session, handout: Handout, token: str, channels: Sequence[str], clinic: Clinic,
    settings: Settings, now: dt.datetime,
) -> list[Sending]:
    """Queue the private link to the patient on each channel asked for; a channel that cannot
    be used is reported, not raised, so the handout is still issued."""
    link = link_for(settings, token)
    results = []
    for channel in check_channels(channels):
        reason = _why_not(channel, handout, settings)
        if reason is None:
            _queue(session, channel, _payload(channel, "handover", handout, clinic, link),
                   handout.id, f"handover:{handout.id}:{channel}", now, now)
        results.append(Sending(channel, reason is None, reason))
    return results


def after_quiet_hours(moment: dt.datetime, clinic: Clinic) -> dt.datetime:
    """``moment``, or the end of the clinic's quiet hours when it falls inside them."""
    start, end = clinic.quiet_start, clinic.quiet_end
    if start == end:
        return moment
    local = moment.astimezone(clinic.zone)
    minute = local.hour * 60 + local.minute
    quiet = (start <= minute or minute < end) if start > end else (start <= minute < end)
    if not quiet:
        return moment
    day = local.date() if minute < end else local.date() + dt.timedelta(days=1)
    wake = dt.datetime.combine(day, dt.time(end // 60, end % 60))
    return wake.replace(tzinfo=clinic.zone).astimezone(dt.UTC)


def prompt_moments(timeline: Timeline, expires_at: dt.datetime) -> list[dt.datetime]:
    """When to prompt: every milestone and ``after`` limit still ahead and before the link
    ends, each moment once (two limits at 48 hours make one message)."""
    moments = {
        e.at.astimezone(dt.UTC) for e in timeline.events
        if e.kind in (EventKind.MILESTONE, EventKind.RULE_LIMIT) and not e.past
        and e.at.astimezone(dt.UTC) < expires_at
    }
    return sorted(moments)


def schedule_prompts(
    session: Session, handout: Handout, token: str, timeline: Timeline, clinic: Clinic,
    settings: Settings, now: dt.datetime,
) -> int:
    """Queue one prompt per moment for a patient who gave a phone (texts preferred) or an
    email; returns how many were queued (none when neither can be sent)."""
    channel = next((c for c in ("sms", "email") if _why_not(c, handout, settings) is None), None)
    if channel is None:
        return 0
    link = link_for(settings, token)
    queued = 0
    for moment in prompt_moments(timeline, handout.expires_at):
        due = after_quiet_hours(moment, clinic)
        key = f"prompt:{handout.id}:{moment.strftime('%Y%m%dT%H%M%SZ')}"
        queued += _queue(session, channel, _payload(channel, "prompt", handout, clinic, link),
                         handout.id, key, due, now)
    return queued
