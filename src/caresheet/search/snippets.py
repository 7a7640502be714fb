"""Snippets: the best line of a sheet for a query, with the matched words marked.

Built in Python from the sheet's own text, so SQLite and PostgreSQL show the same snippet;
every piece of sheet text is escaped before ``<mark>`` goes around it.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from caresheet.search.analysis import WORD, fold, stem

MAX_CHARS = 220
Phrase = tuple[str, ...]


def _spans(line: str) -> list[tuple[int, int, str]]:
    """The words of a line with where they are: (start, end, folded word)."""
    folded = fold(line)
    if len(folded) == len(line):  # the usual case: positions in both agree
        return [(m.start(), m.end(), m.group()) for m in WORD.finditer(folded)]
    return [(m.start(), m.end(), fold(m.group())) for m in WORD.finditer(line)]


def _marked_positions(
    spans: list[tuple[int, int, str]], phrases: Sequence[Phrase], language: str
) -> set[int]:
    """Indexes of the words that belong to a whole matched phrase."""
    stems = [stem(word, language) for _, _, word in spans]
    marked: set[int] = set()
    for phrase in phrases:
        size = len(phrase)
        for start in range(len(stems) - size + 1):
            if tuple(stems[start : start + size]) == phrase:
                marked.update(range(start, start + size))
    return marked


def mark(line: str, phrases: Sequence[Phrase], language: str) -> tuple[Markup, int]:
    """The line escaped, matched words in ``<mark>``; and how many words matched."""
    spans = _spans(line)
    marked = _marked_positions(spans, phrases, language)
    pieces: list[str] = []
    cursor = 0
    for index, (start, end, _) in enumerate(spans):
        if index not in marked:
            continue
        pieces.append(str(escape(line[cursor:start])))
        pieces.append(f"<mark>{escape(line[start:end])}</mark>")
        cursor = end
    pieces.append(str(escape(line[cursor:])))
    return Markup("".join(pieces)), len(marked)


def _shorten(line: str, phrases: Sequence[Phrase], language: str) -> str:
    """Cut a long line to about MAX_CHARS around its first match, on word boundaries."""
    if len(line) <= MAX_CHARS:
        return line
    spans = _spans(line)
    marked = sorted(_marked_positions(spans, phrases, language))
    first = spans[marked[0]][0] if marked else 0
    start = max(0, first - MAX_CHARS // 3)
    if start > 0:
        space = line.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    end = min(len(line), start + MAX_CHARS)
    if end < len(line):
        space = line.rfind(" ", start, end)
        end = space if space > start else end
    return ("… " if start > 0 else "") + line[start:end] + (" …" if end < len(line) else "")


def _needles(phrases: Sequence[Phrase]) -> set[str]:
    """Pieces of text a line must contain to match a phrase: each first term's start, short
    enough to be inside any inflected form ("biops" is in "biopsies")."""
    return {
        term if len(term) <= 5 else term[: len(term) - 2]
        for term in (phrase[0] for phrase in phrases if phrase)
    }


def snippet(
    aliases: Sequence[str], body: str, phrases: Sequence[Phrase], language: str,
    also_called: str = "Also called",
) -> Markup:
    """The sheet line that matches the most query words; the aliases when they match best."""
    best: tuple[int, int, Markup] | None = None
    lines = [line for line in body.split("\n") if line.strip()]
    needles = _needles(phrases)
    for position, line in enumerate(lines):
        folded = fold(line)
        if not any(needle in folded for needle in needles):
            continue  # cannot match: skip the word-by-word pass
        shown, count = mark(_shorten(line, phrases, language), phrases, language)
        if count and (best is None or count > best[0]):
            best = (count, position, shown)
    alias_line = ", ".join(aliases)
    if alias_line:
        shown, count = mark(alias_line, phrases, language)
        if count and (best is None or count >= best[0]):
            return Markup(f"{escape(also_called)}: ") + shown
    if best is not None:
        return best[2]
    first = lines[0] if lines else ""
    return mark(_shorten(first, (), language), (), language)[0]
