"""A sheet as plain text (email, patient portal, screen readers) and as a short SMS.

Plain text is wrapped at 72 columns; the call-for-help tiers get their own headings with a
word label and bullets, so they stand out without color. The SMS keeps, whatever else is
dropped, the 911 line, the urgent signs and the clinic phone.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

from caresheet.i18n import gettext_for, normalize
from caresheet.model.sheet import Sheet, Tier
from caresheet.render.common import BlockView, CallForHelp, SheetView, StepView, sheet_view

WIDTH = 72
SMS_LIMIT = 480


def _labels(lang: str) -> dict[str, str]:
    gettext = gettext_for(lang).gettext
    return {
        "emergency": gettext("Emergency"),
        "urgent": gettext("Urgent"),
        "contact": gettext("Watch"),
        "version": gettext("Version"),
        "also": gettext("Also called:"),
        "note": gettext("NOTE:"),
        "draft": gettext("Draft"),
        "reviewed": gettext("Reviewed"),
        "published": gettext("Published"),
        "retired": gettext("Retired"),
        "draft_note": gettext("Not reviewed yet. Do not give it to patients."),
        "sample": gettext("Sample content — not reviewed for patient use"),
        "education": gettext(
            "This sheet is for education. It does not replace advice from your doctor."
        ),
    }


def render_text(
    sheet: Sheet,
    values: Mapping[str, str] | None = None,
    *,
    notice: str | None = None,
    lang: str | None = None,
) -> str:
    """The whole sheet as plain text, 72 columns wide."""
    view = sheet_view(sheet, values)
    words = _labels(normalize(lang or sheet.language))
    out: list[str] = []
    out += _wrap(view.title.upper())
    out.append("=" * min(WIDTH, max(len(line) for line in _wrap(view.title.upper()))))
    status = words.get(view.status, view.status)
    out += _wrap(f"{view.code} · {words['version']} {view.version} · {status}")
    if view.aliases:
        out += _wrap(f"{words['also']} {', '.join(view.aliases)}")
    if view.sample:
        out += ["", *_wrap(words["sample"])]
    if notice:
        out += ["", *_wrap(f"{words['note']} {notice}")]
    out += ["", *_wrap(view.call_for_help.emergency_line)]
    has_recovery = any(s.kind == "recovery" for s in view.sections)
    for section in view.sections:
        out += ["", *_heading(section.heading, "-")]
        if section.is_call_for_help:
            if not has_recovery:
                out += _normal(view)
            out += _call_for_help(view.call_for_help, words)
            continue
        out += _blocks(section.blocks)
        for group in section.groups:
            out += ["", group.heading, *_blocks(group.blocks)]
        if section.kind == "recovery":
            out += _normal(view)
    out += ["", "-" * WIDTH]
    if view.needs_review:
        out += _wrap(words["draft_note"])
    if view.sample:
        out += _wrap(words["sample"])
    out += _wrap(words["education"])
    return "\n".join(out).rstrip() + "\n"


def _wrap(text: str, indent: str = "", bullet: str = "") -> list[str]:
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=indent + bullet,
        subsequent_indent=indent + " " * len(bullet),
        break_long_words=True,
        break_on_hyphens=False,
    ) or [indent + bullet]


def _heading(text: str, rule: str) -> list[str]:
    lines = _wrap(text.upper())
    return [*lines, rule * min(WIDTH, max(len(line) for line in lines))]


def _blocks(blocks: tuple[BlockView, ...]) -> list[str]:
    out: list[str] = []
    for block in blocks:
        if block.text is not None:
            out += ["", *_wrap(block.text)]
        else:
            out += _steps(block.steps, 0)
    return out


def _steps(steps: tuple[StepView, ...], depth: int) -> list[str]:
    out: list[str] = []
    for step in steps:
        out += _wrap(step.text, "  " + "    " * depth, "- " if depth == 0 else "o ")
        out += _steps(step.steps, depth + 1)
    return out


def _normal(view: SheetView) -> list[str]:
    if not view.normal.items:
        return []
    out = ["", view.normal.heading + ":"]
    for item in view.normal.items:
        out += _wrap(item, "  ", "- ")
    return out


def _call_for_help(cfh: CallForHelp, words: Mapping[str, str]) -> list[str]:
    out: list[str] = []
    for block in cfh.tiers:
        out += ["", *_wrap(f"[{words[block.tier.value].upper()}] {block.heading}")]
        for sign in block.signs:
            out += _wrap(sign, "  ", "* ")
        out += _wrap(block.action, "  ", "=> ")
    return out


# ---------------------------------------------------------------- SMS


def render_sms(
    sheet: Sheet,
    values: Mapping[str, str] | None = None,
    *,
    link: str | None = None,
    limit: int = SMS_LIMIT,
) -> str:
    """A text message under ``limit`` characters: 911 line and urgent signs always kept."""
    view = sheet_view(sheet, values)
    cfh = view.call_for_help
    phone_param = sheet.phone_param()
    tiers = {block.tier: block for block in cfh.tiers}

    phone_label = gettext_for(sheet.language).gettext("Phone:")
    phone = (values or {}).get(phone_param or "")

    def tier_line(tier: Tier, action: str) -> str:
        block = tiers[tier]
        line = f"{block.heading} " + " ".join(block.signs)
        if not phone or action == "none":
            return line
        return f"{line} {block.action}" if action == "full" else f"{line} {phone_label} {phone}"

    def message(
        head: str = "title",
        emergency: bool = True,
        contact: bool = True,
        with_link: bool = True,
        short: bool = False,
    ) -> str:
        heads = {"title": f"{view.code}: {view.title}", "code": view.code, "none": ""}
        parts = [heads[head], cfh.emergency_line]
        if emergency and Tier.EMERGENCY in tiers:
            parts.append(tier_line(Tier.EMERGENCY, "none"))
        if Tier.URGENT in tiers:
            parts.append(tier_line(Tier.URGENT, "phone" if short else "full"))
        if contact and Tier.CONTACT in tiers:
            parts.append(tier_line(Tier.CONTACT, "none"))
        if with_link and link:
            parts.append(link)
        return "\n".join(part for part in parts if part)

    # From the fullest message to the barest; the first that fits is sent. The 911 line,
    # the urgent signs and the phone are in all of them; the 911 signs go only when a sheet
    # has too many to fit (the 911 line still says to call for any emergency).
    choices = [
        message(),
        message(contact=False),
        message("code", contact=False),
        message(with_link=False),
        message(contact=False, with_link=False),
        message("code", contact=False, with_link=False),
        message("code", contact=False, with_link=False, short=True),
        message("code", emergency=False, contact=False),
        message("code", emergency=False, contact=False, short=True),
        message("code", emergency=False, contact=False, with_link=False, short=True),
        message("none", emergency=False, contact=False, with_link=False, short=True),
    ]
    return next((text for text in choices if len(text) < limit), choices[-1])
