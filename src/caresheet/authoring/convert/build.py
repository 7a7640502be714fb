"""From a handout's outline to a draft sheet in the authoring format, inventing nothing.

Headings become sections (by their usual wordings) or groups; bullets become steps; each
bullet under a call-for-help tier becomes a finding, its question and a rule in that tier,
with the time it states as ``after``/``within`` and ``source: file:line``. What cannot be
placed is kept in a ``# TODO`` comment with its line; the values a clinician would set per
patient are listed for the author, not guessed into the text. The draft says where it came
from (``converted_from``), so the linter reports the clinical checks it cannot meet yet as
warnings for the author rather than errors, until its status leaves ``draft``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from caresheet.authoring.convert import phrasing
from caresheet.authoring.convert.outline import Item, Outline
from caresheet.model.sheet import SectionKind, Tier

_SECTION_WORDS: tuple[tuple[SectionKind, re.Pattern[str]], ...] = (
    (SectionKind.CALL_FOR_HELP, re.compile(
        r"\b(when (should|to|do|would) (you )?(call|get|seek|contact|ask)|call for help|"
        r"get (medical )?help|seek (medical )?(care|help)|get care|call (your|the) (doctor|nurse|"
        r"clinic|provider|surgeon)|call 911|warning signs|signs to watch|when to call|emergency "
        r"signs|danger signs)\b")),
    (SectionKind.FOLLOW_UP,
     re.compile(r"\b(follow[- ]?up|appointments?|next visit|check-?ups?)\b")),
    (SectionKind.LEARN_MORE, re.compile(
        r"\b(learn more|more information|more info|resources|where can you|for more)\b")),
    (SectionKind.HOME_CARE, re.compile(
        r"\b(home care|care at home|at home\?|care for yourself|caring for yourself|self[- ]care|"
        r"discharge instructions|care after|instructions|how (can|do|to|should) (you )?care|"
        r"what to do at home|taking care|looking after)\b")),
    (SectionKind.RECOVERY, re.compile(
        r"\b(your recovery|recovery|recovering|what to expect|what can you expect|what happens|"
        r"about your|overview|healing|after your (test|procedure|surgery))\b")),
)
_EMERGENCY = re.compile(r"\b(911|emergency|ambulance)\b", re.IGNORECASE)
_URGENT = re.compile(
    r"\b(now|right away|immediately|immediate|at once|urgent|urgently|same day|today|"
    r"without delay|straight away)\b",
    re.IGNORECASE,
)
_CONTACT = re.compile(
    r"\b(watch|contact|call (your|the) (doctor|nurse|clinic|provider|surgeon)|let (your|the) "
    r"(doctor|nurse) know|be sure|goes on|lasts)\b",
    re.IGNORECASE,
)
_REQUIRED = (SectionKind.RECOVERY, SectionKind.HOME_CARE, SectionKind.FOLLOW_UP)
_DEFAULT_HEADINGS = {
    SectionKind.RECOVERY: "Your recovery",
    SectionKind.HOME_CARE: "How can you care for yourself at home?",
    SectionKind.FOLLOW_UP: "Follow-up care",
    SectionKind.CALL_FOR_HELP: "When should you call for help?",
}
_PARAM_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b\d+\s*(?:to|-|\u2013)\s*\d+\s*(?:minutes|hours|days|weeks)\b", re.IGNORECASE),
     "a range of time a clinician may set for each patient (an integer param with min and max)"),
    (re.compile(r"\(?\b\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b"),
     "a phone number: make it the clinic phone param (type: phone)"),
    (re.compile(r"\b(?:call|phone|contact) (?:your|the) (?:doctor|clinic|nurse|surgeon|provider)"
                r"(?:'s office)?\b", re.IGNORECASE),
     "where the clinic's phone could go (type: phone)"),
    (re.compile(r"\bblood[- ]thinners?\b", re.IGNORECASE),
     "when to restart a blood thinner, if the clinic sets it per patient"),
)


@dataclass(slots=True)
class Conversion:
    """A draft sheet's text, with what the author must check, for one handout."""

    source: str
    code: str
    text: str
    warnings: list[str] = field(default_factory=list)
    rules: int = 0
    findings: int = 0
    todos: int = 0


@dataclass(slots=True)
class _Section:
    kind: SectionKind
    heading: str
    line: int
    level: int
    blocks: list[list[tuple[int, str]] | str] = field(default_factory=list)
    groups: list[tuple[str, list[list[tuple[int, str]] | str]]] = field(default_factory=list)

    def target(self) -> list[list[tuple[int, str]] | str]:
        return self.groups[-1][1] if self.groups else self.blocks


@dataclass(slots=True)
class _Rule:
    tier: Tier
    when: str
    text: str
    line: int
    findings: list[str]


class _Builder:
    def __init__(self, outline: Outline, source_name: str) -> None:
        self.outline = outline
        self.name = source_name
        self.sections: list[_Section] = []
        self.tier: Tier | None = None
        self.tier_guessed = False
        self.findings: dict[str, str] = {}  # id -> question
        self.asked: dict[str, str] = {}  # question -> id, so one sign is asked once
        self.rules: list[_Rule] = []
        self.todos: list[tuple[int, str, str]] = []  # line, text, why
        self.warnings: list[str] = []
        self.parent_sign: str | None = None

    # ------------------------------------------------------------ placing items

    def run(self) -> None:
        for item in self.outline.items:
            self.place(item)

    def current(self) -> _Section | None:
        return self.sections[-1] if self.sections else None

    def place(self, item: Item) -> None:
        section = self.current()
        in_help = section is not None and section.kind is SectionKind.CALL_FOR_HELP
        text = item.text.strip()
        if item.kind != "bullet":
            kind = _section_kind(text) if _heading_like(item) else None
            if in_help and kind in (None, SectionKind.CALL_FOR_HELP):
                tier = _tier_intro(text, item.kind == "heading")
                if tier is not None:
                    self.tier, self.tier_guessed = tier, False
                    return
            if kind is not None and not (section is not None and section.kind is kind):
                self.start_section(kind, text, item)
                return
            if item.kind == "heading":
                self.heading(item, text)
                return
            if in_help or section is None:
                why = ("text under 'when to call' that is neither a tier nor a sign"
                       if in_help else "text before the first section heading")
                self.todo(item.line, text, why)
                return
            section.target().append(_clean(text))
            return
        if section is None:
            self.todo(item.line, text, "a bullet before the first section heading")
            return
        if in_help:
            self.sign(item)
            return
        self.step(section, item)

    def start_section(self, kind: SectionKind, text: str, item: Item) -> None:
        if any(s.kind is kind for s in self.sections):
            # A second "Home care" heading: keep its words as a group of the first one's kind.
            section = self.current()
            if section is not None and section.kind is not SectionKind.CALL_FOR_HELP:
                section.groups.append((_clean(text), []))
            else:
                self.todo(item.line, text, f"a second {kind.value} heading")
            return
        self.sections.append(_Section(kind, _clean(text), item.line, item.level))
        self.tier, self.tier_guessed = None, False
        if kind is SectionKind.CALL_FOR_HELP:
            tier = _tier_intro(text, True)
            self.tier = tier

    def heading(self, item: Item, text: str) -> None:
        section = self.current()
        if section is None:
            self.todo(item.line, text, "a heading before the first section this converter knows")
            return
        if section.kind is SectionKind.CALL_FOR_HELP:
            self.todo(item.line, text, "a heading under 'when to call' that names no tier")
            return
        if item.level and section.level and item.level <= section.level:
            self.sections.append(_Section(SectionKind.OTHER, _clean(text), item.line, item.level))
            return
        section.groups.append((_clean(text), []))

    def step(self, section: _Section, item: Item) -> None:
        target = section.target()
        depth = item.level
        if depth > 1:
            self.warn(item.line, "a bullet nested 3 deep became a sub-step; steps go 2 levels deep")
            depth = 1
        if depth == 1 and not (target and isinstance(target[-1], list)):
            depth = 0
        if target and isinstance(target[-1], list):
            target[-1].append((depth, _clean(item.text)))
        else:
            target.append([(depth, _clean(item.text))])

    def todo(self, line: int, text: str, why: str) -> None:
        self.todos.append((line, text, why))

    def warn(self, line: int, message: str) -> None:
        self.warnings.append(f"{self.name}:{line}: warning: {message}")

    # ------------------------------------------------------------ warning signs

    def sign(self, item: Item) -> None:
        text = _clean(item.text)
        if item.level == 0 and text.endswith(":"):
            # "Signs of infection, such as:" leads into the signs under it, each its own rule.
            self.parent_sign = text.rstrip(":")
            self.todo(item.line, text, "a sign that leads into the signs under it (each is "
                      "its own rule); put its words into them if they need it")
            return
        if item.level == 0:
            self.parent_sign = None
        tier = self.tier
        if tier is None:
            tier = Tier.URGENT
            if not self.tier_guessed:
                self.warn(item.line, "these signs have no tier in the handout; they are set to "
                          "'urgent' (the higher choice) until the author sets each one")
                self.tier_guessed = True
        first = phrasing.sentences(text)[0] if phrasing.sentences(text) else text
        parts: list[str] = []
        times: list[str] = []
        for alternative in phrasing.alternatives(first):
            time = phrasing.find_time(alternative)
            if time is None and (vague := phrasing.vague_time(alternative)):
                self.warn(item.line, f"{vague!r} names no number; set a time limit in the rule "
                          "by hand if the sign counts only then")
            if time is not None and time.ranged:
                self.warn(item.line, f"{time.words!r} is a range; the rule uses "
                          f"'{time.condition}', the end that tells the patient sooner")
            words = phrasing.without_time(alternative, time)
            names = [self.finding(p, item.line) for p in phrasing.both(words)]
            atoms = [*names, *([time.condition] if time else [])]
            parts.append(" and ".join(atoms))
            times += [time.condition] if time else []
            if len(names) > 1:
                joined = " and ".join(names)
                self.warn(item.line, f"the sign joins two findings with 'and' ({joined}); "
                          "check that the handout means both together")
        when = " or ".join(f"({p})" if " and " in p and len(parts) > 1 else p for p in parts)
        names_here = sorted({n for p in parts for n in re.findall(r"[a-z][a-z0-9_]*", p)
                             if n in self.findings})
        self.rules.append(_Rule(tier, when, _clean(text), item.line, names_here))

    def finding(self, words: str, line: int) -> str:
        asked = phrasing.question(words)
        if asked.text in self.asked:
            return self.asked[asked.text]
        name = phrasing.finding_id(words, set(self.findings))
        self.findings[name] = asked.text
        self.asked[asked.text] = name
        if not asked.sure:
            self.warn(line, f"the question for {name!r} is the sign's own words; reword it "
                      "as a plain yes/no question")
        return name

    # ------------------------------------------------------------ writing

    def write(self, code: str, title: str) -> str:
        kinds = {s.kind for s in self.sections}
        for kind in _REQUIRED:
            if kind not in kinds:
                self.sections.append(_Section(kind, _DEFAULT_HEADINGS[kind], 0, 0))
                self.todo(0, _DEFAULT_HEADINGS[kind], f"the handout has no {kind.value} section; "
                          "this empty one was added for the author to write")
                self.warn(1, f"no {kind.value} section was found; an empty one was added")
        if SectionKind.CALL_FOR_HELP not in kinds:
            self.sections.append(_Section(SectionKind.CALL_FOR_HELP,
                                          _DEFAULT_HEADINGS[SectionKind.CALL_FOR_HELP], 0, 0))
            self.warn(1, "no 'when to call for help' section was found, so there are no rules")
        if not any(r.tier is Tier.EMERGENCY for r in self.rules):
            self.warn(1, "no 'call 911' sign was found; a clinician must add the emergency rule "
                      "(none was invented)")
        order = {k: i for i, k in enumerate(
            (SectionKind.RECOVERY, SectionKind.HOME_CARE, SectionKind.OTHER,
             SectionKind.FOLLOW_UP, SectionKind.CALL_FOR_HELP, SectionKind.LEARN_MORE))}
        sections = sorted(self.sections, key=lambda s: order[s.kind])
        front = self.front_matter(code, title)
        body = "\n".join(_write_section(s) for s in sections)
        return f"---\n{front}---\n\n{body}"

    def front_matter(self, code: str, title: str) -> str:
        head = {
            "code": code,
            "language": "en",
            "title": title,
            "version": 1,
            "status": "draft",
            "reviewer": None,
            "reviewed_on": None,
            "review_note": (
                f"Converted from {self.name} by caresheet convert. Nothing in it is reviewed: "
                "check every rule, question and time against the handout, then finish the "
                "TODO comments, before a clinician reviews it."
            ),
            "converted_from": self.name,
        }
        out = _dump(head)
        out += "# TODO: code: give the sheet the clinic's own code; this one is made from the " \
               "file name.\n"
        hints = self.param_hints()
        if hints:
            out += ("# Params to consider (a clinician sets these for each patient; define them "
                    "under 'params:'\n# and write {{ name }} in the text where they belong):\n")
            out += "".join(f"#   line {line}: {words!r}: {why}\n" for line, words, why in hints)
        if self.findings:
            out += _dump({"findings": {k: {"ask": q} for k, q in self.findings.items()}})
        if self.rules:
            rules = []
            taken: set[str] = set()
            for rule in self.rules:
                rule_id = _rule_id(rule.findings, taken)
                rules.append({"id": rule_id, "tier": rule.tier.value, "when": rule.when,
                              "text": rule.text, "source": f"{self.name}:{rule.line}"})
            out += _dump({"rules": rules})
        for line, text, why in sorted(self.todos):
            where = f"line {line}" if line else "added"
            out += f"# TODO ({where}): {why}: {_comment(text)}\n"
        return out

    def param_hints(self) -> list[tuple[int, str, str]]:
        found: list[tuple[int, str, str]] = []
        seen: set[str] = set()
        for item in self.outline.items:
            for pattern, why in _PARAM_HINTS:
                for match in pattern.finditer(item.text):
                    key = match.group(0).lower()
                    if key not in seen:
                        seen.add(key)
                        found.append((item.line, match.group(0), why))
        return sorted(found)


def build(outline: Outline, source_name: str, code: str) -> Conversion:
    """The draft sheet for one handout's outline (``source_name`` is shown in ``source:``)."""
    if outline.title is None and outline.items and outline.items[0].kind != "bullet" and (
        _section_kind(outline.items[0].text) is None or _titled(outline.items[0].text)
    ):
        # Plain text, a PDF or a page without <h1>: the first line is the title.
        first = outline.items.pop(0)
        outline.title, outline.title_line = first.text, first.line
    builder = _Builder(outline, source_name)
    for note in outline.notes:
        builder.warn(1, note)
    builder.run()
    title = outline.title
    if not title:
        title = Path(source_name).stem.replace("_", " ").replace("-", " ").strip().capitalize()
        builder.todo(0, title, "the handout has no title; this one is the file name")
    text = builder.write(code, _clean(title))
    return Conversion(source_name, code, text, builder.warnings, len(builder.rules),
                      len(builder.findings), len(builder.todos))


def _titled(text: str) -> bool:
    """"Spinal Tap: What to Expect at Home" is a title that names a section's words."""
    return ":" in text.rstrip(":") or len(text.split()) > 5


def code_for(path: Path) -> str:
    """A sheet code from the file name (``discharge-knee.docx`` → ``DISCHARGEKNEE``)."""
    letters = re.sub(r"[^A-Z0-9]", "", path.stem.upper())[:16]
    if not letters or not letters[0].isalpha():
        letters = ("H" + letters)[:16]
    return letters if len(letters) >= 2 else letters + "X"


def _heading_like(item: Item) -> bool:
    """A heading, or a short line that reads like one ("When to call the doctor")."""
    if item.kind == "heading":
        return True
    text = item.text.strip()
    return len(text.split()) <= 8 and not re.search(r"[.!;,]$", text)


def _section_kind(text: str) -> SectionKind | None:
    lowered = " ".join(text.lower().split())
    if len(lowered.split()) > 12:
        return None
    for kind, pattern in _SECTION_WORDS:
        if pattern.search(lowered):
            return kind
    return None


def _tier_intro(text: str, is_heading: bool) -> Tier | None:
    """The tier a line under "when to call" opens ("Call 911 if:", "Seek care right away if")."""
    words = " ".join(text.split())
    lowered = words.lower().rstrip(" :")
    intro = words.endswith(":") or lowered.endswith(" if") or lowered.endswith("if you")
    if not intro and not (is_heading and (_EMERGENCY.search(words) or _URGENT.search(words))):
        return None
    if len(words.split()) > 30:
        return None
    if _EMERGENCY.search(words):
        return Tier.EMERGENCY
    if _URGENT.search(words):
        return Tier.URGENT
    if _CONTACT.search(words):
        return Tier.CONTACT
    return None


def _rule_id(findings: list[str], taken: set[str]) -> str:
    base = "_".join(findings[:2])[:48].rstrip("_") or "sign"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def _clean(text: str) -> str:
    """Text safe in the body: no ``{{`` read as a param, no mark read as a heading or bullet."""
    text = " ".join(text.split()).replace("{{", "{ {").replace("}}", "} }").replace("{#", "{ #")
    return re.sub(r"^(?:#+|[-*]\s)\s*", "", text)


def _comment(text: str) -> str:
    return " ".join(text.split())[:300]


def _dump(data: dict[str, object]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _write_section(section: _Section) -> str:
    suffix = "" if section.kind is SectionKind.OTHER else f" {{#{section.kind.value}}}"
    parts = [f"## {section.heading}{suffix}\n"]
    if section.kind is not SectionKind.CALL_FOR_HELP:
        parts += _write_blocks(section.blocks)
        for heading, blocks in section.groups:
            parts.append(f"### {heading}\n")
            parts += _write_blocks(blocks)
    return "\n".join(parts)


def _write_blocks(blocks: list[list[tuple[int, str]] | str]) -> list[str]:
    out = []
    for block in blocks:
        if isinstance(block, str):
            out.append(block + "\n")
        else:
            out.append("".join(f"{'  ' * depth}- {text}\n" for depth, text in block))
    return out
