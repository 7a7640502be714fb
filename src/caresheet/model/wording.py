"""The fixed words around a sheet's own text: tier headings, actions and the 911 line.

Grouped in one place because triage, every renderer and the guide must say the same thing.
The English text is the msgid; other languages come from the gettext catalog
(``locale/<lang>/LC_MESSAGES/caresheet.po``), English when a language has none.
"""

from __future__ import annotations

from dataclasses import dataclass

from caresheet.i18n import gettext_for, per_language
from caresheet.model.sheet import Tier


@dataclass(frozen=True, slots=True)
class TierWords:
    heading: str  # introduces the tier's rules in "When should you call for help?"
    action: str  # the one thing to do; %(phone)s is the clinic phone
    action_no_phone: str


@dataclass(frozen=True, slots=True)
class Wording:
    call_for_help: str
    emergency_line: str
    normal_heading: str
    tiers: dict[Tier, TierWords]


@per_language
def wording_for(language: str) -> Wording:
    """The words for a language (``es-MX`` uses ``es``), falling back to English."""
    gettext = gettext_for(language).gettext
    return Wording(
        call_for_help=gettext("When should you call for help?"),
        emergency_line=gettext("If you think it could be an emergency, call 911 at any time."),
        normal_heading=gettext("What is normal"),
        tiers={
            Tier.EMERGENCY: TierWords(
                heading=gettext("Call 911 now if:"),
                action=gettext("Call 911 now."),
                action_no_phone=gettext("Call 911 now."),
            ),
            Tier.URGENT: TierWords(
                heading=gettext("Call your doctor now, or get care right away, if:"),
                action=gettext(
                    "Call your doctor now at %(phone)s. "
                    "If you cannot reach them, get care right away."
                ),
                action_no_phone=gettext(
                    "Call your doctor now. If you cannot reach them, get care right away."
                ),
            ),
            Tier.CONTACT: TierWords(
                heading=gettext("Watch for changes, and call your doctor if:"),
                action=gettext(
                    "Watch closely. Call your doctor at %(phone)s if this goes on or gets worse."
                ),
                action_no_phone=gettext(
                    "Watch closely. Call your doctor if this goes on or gets worse."
                ),
            ),
            Tier.SELF_CARE: TierWords(
                heading=gettext("You can care for yourself at home if none of these happen."),
                action=gettext(
                    "You do not need to call now. Keep following your home care steps."
                ),
                action_no_phone=gettext(
                    "You do not need to call now. Keep following your home care steps."
                ),
            ),
        },
    )


def action_for(tier: Tier, language: str, phone: str | None) -> str:
    """What to do for a tier, with the clinic phone when there is one."""
    words = wording_for(language).tiers[tier]
    return words.action % {"phone": phone} if phone else words.action_no_phone
