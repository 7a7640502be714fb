"""The fixed words around a sheet's own text: tier headings, actions and the 911 line.

Kept per language in one place because triage, every renderer and the guide must say the
same thing; a sheet's language picks the set, English is the fallback.
"""

from __future__ import annotations

from dataclasses import dataclass

from caresheet.sheet import Tier


@dataclass(frozen=True, slots=True)
class TierWords:
    heading: str  # introduces the tier's rules in "When should you call for help?"
    action: str  # the one thing to do; {phone} is the clinic phone, or "your doctor"
    action_no_phone: str


@dataclass(frozen=True, slots=True)
class Wording:
    call_for_help: str
    emergency_line: str
    normal_heading: str
    tiers: dict[Tier, TierWords]


WORDING: dict[str, Wording] = {
    "en": Wording(
        call_for_help="When should you call for help?",
        emergency_line="Call 911 anytime you think you may need emergency care.",
        normal_heading="What is normal",
        tiers={
            Tier.EMERGENCY: TierWords(
                heading="Call 911 now if:",
                action="Call 911 now.",
                action_no_phone="Call 911 now.",
            ),
            Tier.URGENT: TierWords(
                heading="Call your doctor now, or get care right away, if:",
                action="Call your doctor now at {phone}. "
                "If you cannot reach them, get care right away.",
                action_no_phone="Call your doctor now. "
                "If you cannot reach them, get care right away.",
            ),
            Tier.CONTACT: TierWords(
                heading="Watch for changes, and call your doctor if:",
                action="Watch closely. Call your doctor at {phone} if this goes on or gets worse.",
                action_no_phone="Watch closely. Call your doctor if this goes on or gets worse.",
            ),
            Tier.SELF_CARE: TierWords(
                heading="You can care for yourself at home if none of these happen.",
                action="You do not need to call now. Keep following your home care steps.",
                action_no_phone="You do not need to call now. Keep following your home care steps.",
            ),
        },
    ),
    "es": Wording(
        call_for_help="¿Cuándo debe pedir ayuda?",
        emergency_line="Llame al 911 siempre que crea que necesita atención de emergencia.",
        normal_heading="Lo que es normal",
        tiers={
            Tier.EMERGENCY: TierWords(
                heading="Llame al 911 ahora si:",
                action="Llame al 911 ahora.",
                action_no_phone="Llame al 911 ahora.",
            ),
            Tier.URGENT: TierWords(
                heading="Llame a su médico ahora, o busque atención de inmediato, si:",
                action="Llame a su médico ahora al {phone}. "
                "Si no le contestan, busque atención de inmediato.",
                action_no_phone="Llame a su médico ahora. "
                "Si no le contestan, busque atención de inmediato.",
            ),
            Tier.CONTACT: TierWords(
                heading="Esté atento a los cambios y llame a su médico si:",
                action="Esté atento. Llame a su médico al {phone} si esto sigue o empeora.",
                action_no_phone="Esté atento. Llame a su médico si esto sigue o empeora.",
            ),
            Tier.SELF_CARE: TierWords(
                heading="Puede cuidarse en casa si no le pasa nada de esto.",
                action="No necesita llamar ahora. Siga con los pasos de cuidado en casa.",
                action_no_phone="No necesita llamar ahora. Siga con los pasos de cuidado en casa.",
            ),
        },
    ),
}


def wording_for(language: str) -> Wording:
    """The words for a language (``es-MX`` uses ``es``), falling back to English."""
    return WORDING.get(language.split("-")[0], WORDING["en"])


def action_for(tier: Tier, language: str, phone: str | None) -> str:
    words = wording_for(language).tiers[tier]
    return words.action.format(phone=phone) if phone else words.action_no_phone
