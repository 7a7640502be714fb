"""Language tags, catalogs, the UI words they give, and the strings we put into CSS."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from caresheet.care.teachback import quiz
from caresheet.care.timeline import clock_words, timeline, when_words
from caresheet.i18n import fallback_notice, gettext_for, language_name, normalize
from caresheet.model.sheet import Sheet, Tier
from caresheet.model.wording import action_for, wording_for
from caresheet.render.html import css_string
from caresheet.search import _also_called
from caresheet.web.deps import chrome_for
from caresheet.web.guide import elapsed_words
from caresheet.web.public import words_for

from .conftest import FILLED


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("es", "es"),
        ("es-MX", "es"),
        ("ES_us", "es"),
        ("sp", "es"),
        ("en-GB", "en"),
        ("", "en"),
        (None, "en"),
        ("fr", "fr"),
    ],
)
def test_normalize(tag: str | None, expected: str) -> None:
    assert normalize(tag) == expected


def test_catalogs() -> None:
    assert gettext_for("es").gettext("Emergency") == "Emergencia"
    assert gettext_for("es-MX").gettext("Page") == "Página"
    assert gettext_for("en").gettext("Emergency") == "Emergency"
    assert gettext_for("fr").gettext("Emergency") == "Emergency"  # no catalog: English


def test_spanish_ui_words_come_from_the_catalog_as_before(p586_es: Sheet) -> None:
    """One word from each former per-language table, word for word as the table had it."""
    wording = wording_for("es")
    assert wording.tiers[Tier.EMERGENCY].heading == "Llame al 911 ahora si:"
    assert wording.emergency_line == (
        "Si cree que puede ser una emergencia, llame al 911 en cualquier momento."
    )
    assert action_for(Tier.URGENT, "es-MX", "555-0100") == (
        "Llame a su médico ahora al 555-0100. Si no le contestan, busque atención de inmediato."
    )
    words = words_for("es")
    assert words.search_button == "Buscar"
    assert words.no_results % {"query": "tos"} == "No se encontraron hojas para “tos”."
    assert words.results_count(1, "tos") == "1 hoja encontrada para “tos”."
    assert words.results_count(3, "tos") == "3 hojas encontradas para “tos”."
    assert words.language_names == {"en": "inglés", "es": "español"}
    assert chrome_for("es").skip == "Ir al contenido principal"
    assert _also_called("es") == "También se llama"

    questions = quiz(p586_es, FILLED, seed="h1")
    choices = {c.text for q in questions for c in q.choices}
    assert choices & {
        "Deje todos sus medicamentos por su cuenta.",
        "Espere a su próxima cita para contar un problema.",
        "No coma ni beba por unos días.",
        "Haga más de lo que dijo su médico, para sanar más rápido.",
    }
    assert {"1 hora", "2 horas"} <= choices
    assert any(q.prompt.endswith("¿Qué hace usted?") for q in questions)


@pytest.mark.parametrize("lang", ["en", "fr", "zz"])
def test_english_is_the_msgid_and_the_fallback(lang: str) -> None:
    assert wording_for(lang).tiers[Tier.EMERGENCY].heading == "Call 911 now if:"
    assert chrome_for(lang).skip == "Skip to main content"
    words = words_for(lang)
    assert words.results_count(1, "cough") == "1 care sheet found for “cough”."
    assert words.results_count(2, "cough") == "2 care sheets found for “cough”."
    assert words.language_names == {"en": "English", "es": "Spanish"}  # the page's language
    assert _also_called(lang) == "Also called"


NY = ZoneInfo("America/New_York")
# Wednesday 25 November 2026, 9:00 a.m. in New York.
PROCEDURE = dt.datetime(2026, 11, 25, 9, 0, tzinfo=NY)


def _later(minutes: int) -> dt.datetime:
    return (PROCEDURE.astimezone(dt.UTC) + dt.timedelta(minutes=minutes)).astimezone(NY)


def test_spanish_time_words_come_from_the_catalog(p586_es: Sheet) -> None:
    """The timeline's and the guide's time words in Spanish: a 24-hour clock, "a las" but
    "a la 1:05", "hasta el viernes" but "hasta mañana", day before month in a date."""
    line = timeline(p586_es, FILLED, PROCEDURE, _later(30))
    events = {e.id: e for e in line.events}
    assert events["procedure"].text == "Su prueba o procedimiento."
    assert events["procedure"].when == "hoy a las 9:00"
    assert events["lie_flat"].when == "hoy a las 11:00"
    assert events["headache_limit"].when == "viernes a las 9:00"
    assert {n.until_words for n in line.normal} == {"hasta el viernes a las 9:00"}
    thursday = timeline(p586_es, FILLED, PROCEDURE, _later(30 * 60))
    assert {n.until_words for n in thursday.normal} == {"hasta mañana a las 9:00"}
    assert when_words(_later(-8 * 60 + 5), PROCEDURE, "es") == "hoy a la 1:05"
    assert when_words(_later(4 * 60 + 5), PROCEDURE, "es") == "hoy a las 13:05"

    assert when_words(_later(28 * 60 + 5), PROCEDURE, "es") == "mañana a las 13:05"
    assert when_words(_later(-9 * 60), PROCEDURE, "es-MX") == "hoy a las 0:00"
    assert when_words(_later(-33 * 60), PROCEDURE, "sp") == "ayer a las 0:00"
    assert when_words(_later((7 * 24 + 4) * 60), PROCEDURE, "es") == (
        "miércoles, 2 de diciembre a las 13:00"
    )
    assert when_words(_later(24 * 60), PROCEDURE, "es", all_day=True) == "mañana"
    assert clock_words(_later(3 * 60 + 40), "es") == "12:40"

    assert elapsed_words(51.0, "es") == "2 días y 3 horas desde su procedimiento"
    assert elapsed_words(24.0, "es") == "1 día desde su procedimiento"
    assert elapsed_words(1 + 1 / 60, "es-MX") == "1 hora y 1 minuto desde su procedimiento"
    assert elapsed_words(2 / 60, "es") == "2 minutos desde su procedimiento"
    assert elapsed_words(0.0, "es") == "0 minutos desde su procedimiento"
    assert elapsed_words(-0.5, "es") == "Antes de su procedimiento"


@pytest.mark.parametrize("lang", ["en", "en-US", "fr", "zz"])
def test_time_words_fall_back_to_english_whole(p586: Sheet, lang: str) -> None:
    """A language without a catalog gets English day words, clock and dates, never a mix
    (before the catalog, "fr" said "today at 15:40")."""
    line = timeline(p586.model_copy(update={"language": lang}), FILLED, PROCEDURE, _later(30))
    events = {e.id: e for e in line.events}
    assert events["procedure"].text == "Your test or procedure."
    assert events["procedure"].when == "today at 9:00 a.m."
    assert events["headache_limit"].when == "Friday at 9:00 a.m."
    assert {n.until_words for n in line.normal} == {"until Friday at 9:00 a.m."}
    thursday = timeline(p586.model_copy(update={"language": lang}), FILLED, PROCEDURE,
                        _later(30 * 60))
    assert {n.until_words for n in thursday.normal} == {"until tomorrow at 9:00 a.m."}

    assert when_words(_later(28 * 60 + 5), PROCEDURE, lang) == "tomorrow at 1:05 p.m."
    assert when_words(_later(-9 * 60), PROCEDURE, lang) == "today at 12:00 a.m."
    assert when_words(_later(-33 * 60), PROCEDURE, lang) == "yesterday at 12:00 a.m."
    assert when_words(_later((7 * 24 + 4) * 60), PROCEDURE, lang) == (
        "Wednesday, December 2 at 1:00 p.m."
    )
    assert clock_words(_later(3 * 60), lang) == "12:00 p.m."

    assert elapsed_words(51.0, lang) == "2 days and 3 hours since your procedure"
    assert elapsed_words(24.0, lang) == "1 day since your procedure"
    assert elapsed_words(1 + 1 / 60, lang) == "1 hour and 1 minute since your procedure"
    assert elapsed_words(0.0, lang) == "0 minutes since your procedure"
    assert elapsed_words(-0.5, lang) == "Before your procedure"


def test_language_names_and_notice() -> None:
    assert language_name("es", "es") == "español"
    assert language_name("en", "es") == "inglés"
    assert fallback_notice("en", "en").startswith("This sheet is not available in English")


@pytest.mark.parametrize("text", ['Page "', "</style><script>", "a\\b\nc"])
def test_css_strings_cannot_escape_their_quotes(text: str) -> None:
    quoted = css_string(text)
    inner = quoted[1:-1]
    assert quoted.startswith('"') and quoted.endswith('"')
    assert '"' not in inner and "<" not in inner and "\n" not in inner
