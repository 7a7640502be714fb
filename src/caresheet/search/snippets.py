"""Snippets: the best line of a sheet for a query, with the matched words marked.

Built in Python from the sheet's own text, so SQLite and PostgreSQL show the same snippet;
every piece of sheet text is escaped before ``<mark>`` goes around it. A search hit carries a
``Snippet`` that is made (and the sheet's text read) the first time it is read: the sheet
picker and the Infobutton never show one, and on a results page making them was most of a
search's time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

from caresheet.search.analysis import WORD, fold, stem

MAX_CHARS = 220
Phrase = tuple[str, ...]


def _spans(line: str, folded: str | None = None) -> list[tuple[int, int, str]]:
    """The words of a line with where they are: (start, end, folded word)."""
    folded = fold(line) if folded is None else folded
    if len(folded) == len(line):  # the usual case: positions in both agree
        return [(m.start(), m.end(), m.group()) for m in WORD.finditer(folded)]
    return [(m.start(), m.end(), fold(m.group())) for m in WORD.finditer(line)]


def _could_stem_to(term: str) -> str:
    """A prefix that every word whose stem is ``term`` starts with.

    The stemmers change at most the last three letters and leave at least one letter of the
    stem in place ("flies" -> "fly", "luces" -> "luz", "stopping" -> "stop"); a stem of two
    letters or fewer comes only from that very word.
    """
    return term[:-1] if len(term) >= 3 else term


class _Phrases:
    """The phrases of one query, arranged once for the many lines a snippet reads: by
    first term, with the prefixes a word needs to be worth stemming."""

    __slots__ = ("by_first", "longest", "prefixes")

    def __init__(self, phrases: Sequence[Phrase]) -> None:
        self.by_first: dict[str, list[Phrase]] = {}
        for phrase in phrases:
            if phrase:
                self.by_first.setdefault(phrase[0], []).append(phrase)
        self.prefixes = tuple({_could_stem_to(term) for term in self.by_first})
        self.longest = max((len(p) for p in phrases), default=0)

    def count(self, folded: str, language: str) -> int:
        """``len(self.marked(WORD.findall(folded), language))``, without splitting the line:
        ``str.find`` (in C) finds where each prefix starts a word, and each word is known by
        where it starts. Most words of a candidate line start with no prefix and cost nothing.
        """
        if "" in self.prefixes:  # no phrase has an empty term; the general path if one did
            return len(self.marked(WORD.findall(folded), language))
        starts: set[int] = set()
        for prefix in self.prefixes:
            at = folded.find(prefix)
            while at >= 0:
                if at == 0 or WORD.match(folded, at - 1, at) is None:  # a word starts here
                    starts.add(at)
                at = folded.find(prefix, at + 1)
        marked: set[int] = set()
        for start in starts:
            word = WORD.match(folded, start)
            if word is None or not word.group().startswith(self.prefixes):
                continue
            phrases = self.by_first.get(stem(word.group(), language))
            if not phrases:
                continue
            following: list[tuple[int, str]] | None = None
            for phrase in phrases:
                if len(phrase) == 1:
                    marked.add(start)
                    continue
                if following is None:
                    following = []
                    for after in WORD.finditer(folded, word.end()):
                        following.append((after.start(), stem(after.group(), language)))
                        if len(following) >= self.longest - 1:
                            break
                rest = following[: len(phrase) - 1]
                if len(rest) == len(phrase) - 1 and all(
                    term == phrase[k + 1] for k, (_, term) in enumerate(rest)
                ):
                    marked.add(start)
                    marked.update(at for at, _ in rest)
        return len(marked)

    def marked(self, words: list[str], language: str) -> set[int]:
        """Indexes of the words that belong to a whole matched phrase.

        Only a word that starts like some phrase's first term is stemmed (and then the
        words after it): most words of a line cannot match and cost one ``startswith``.
        """
        marked: set[int] = set()
        if not self.by_first:
            return marked
        by_first, prefixes = self.by_first, self.prefixes
        stems: dict[int, str] = {}

        def stem_at(index: int) -> str:
            found = stems.get(index)
            if found is None:
                found = stems[index] = stem(words[index], language)
            return found

        for start, word in enumerate(words):
            if not word.startswith(prefixes):
                continue
            for phrase in by_first.get(stem_at(start), ()):
                size = len(phrase)
                if start + size <= len(words) and all(
                    stem_at(start + k) == phrase[k] for k in range(1, size)
                ):
                    marked.update(range(start, start + size))
        return marked


def _marked_positions(
    spans: list[tuple[int, int, str]], phrases: Sequence[Phrase] | _Phrases, language: str
) -> set[int]:
    """Indexes of the words of ``spans`` that belong to a whole matched phrase."""
    arranged = phrases if isinstance(phrases, _Phrases) else _Phrases(phrases)
    return arranged.marked([span[2] for span in spans], language)


def mark(
    line: str, phrases: Sequence[Phrase] | _Phrases, language: str
) -> tuple[Markup, int]:
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


def _shorten(line: str, phrases: Sequence[Phrase] | _Phrases, language: str) -> str:
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


def _count(line: str, folded: str, phrases: _Phrases, language: str) -> int:
    """How many words of a line ``mark`` would mark (the line shortened as it shows)."""
    if len(line) > MAX_CHARS:
        return mark(_shorten(line, phrases, language), phrases, language)[1]
    if len(folded) == len(line):  # the usual case: the words are those of the folded line
        return phrases.count(folded, language)
    return len(_marked_positions(_spans(line, folded), phrases, language))


def _candidate_lines(folded_body: str, needles: set[str]) -> list[int]:
    """The numbers of the lines (split on newlines) that contain a needle, in order.

    The needles are looked for in the whole folded body at once (``str.find`` runs in C),
    so the lines without any, most of a sheet, cost nothing.
    """
    found: set[int] = set()
    for needle in needles:
        if not needle:
            continue
        at = folded_body.find(needle)
        while at >= 0:
            line = folded_body.count("\n", 0, at)
            found.add(line)
            next_line = folded_body.find("\n", at)
            if next_line < 0:
                break
            at = folded_body.find(needle, next_line + 1)
    return sorted(found)


def snippet(
    aliases: Sequence[str], body: str, phrases: Sequence[Phrase], language: str,
    also_called: str = "Also called",
) -> Markup:
    """The sheet line that matches the most query words; the aliases when they match best."""
    best: tuple[int, str] | None = None
    raw_lines = body.split("\n")
    folded_body = fold(body)
    folded_lines = folded_body.split("\n")
    if len(folded_lines) != len(raw_lines):  # folding never adds a newline; be safe anyway
        folded_lines = [fold(line) for line in raw_lines]
        folded_body = "\n".join(folded_lines)
    arranged = _Phrases(phrases)
    for number in _candidate_lines(folded_body, _needles(phrases)):
        line = raw_lines[number]
        if not line.strip():
            continue
        # Count first and mark only the winner: most lines that pass the needles lose.
        count = _count(line, folded_lines[number], arranged, language)
        if count and (best is None or count > best[0]):
            best = (count, line)
    alias_line = ", ".join(aliases)
    if alias_line:
        folded_aliases = fold(alias_line)
        count = (arranged.count(folded_aliases, language) if len(folded_aliases) ==
                 len(alias_line) else len(_marked_positions(_spans(alias_line), arranged,
                                                            language)))
        if count and (best is None or count >= best[0]):
            return Markup(f"{escape(also_called)}: ") + mark(alias_line, arranged, language)[0]
    if best is not None:
        return mark(_shorten(best[1], arranged, language), arranged, language)[0]
    first = next((line for line in raw_lines if line.strip()), "")
    return mark(_shorten(first, (), language), (), language)[0]


class Snippet:
    """One hit's snippet, made when first read and then kept (its inputs let go).

    The sheet's text is read only then too (``body``, in practice ``match.Bodies``). Safe to
    read from several threads at once (a cached answer is shared): at worst two make the
    same text.
    """

    __slots__ = ("_inputs", "_made")

    def __init__(self, aliases: Sequence[str], body: Callable[[], str], marks: Sequence[Phrase],
                 expanded: Sequence[Phrase], language: str, also_called: str) -> None:
        self._made: Markup | None = None
        self._inputs: tuple[Sequence[str], Callable[[], str], Sequence[Phrase],
                            Sequence[Phrase], str, str] | None = (
            aliases, body, marks, expanded, language, also_called)

    @property
    def made(self) -> bool:
        return self._made is not None

    def html(self) -> Markup:
        made = self._made
        if made is not None:
            return made
        inputs = self._inputs
        if inputs is None:  # another thread made it between the two reads
            assert self._made is not None
            return self._made
        aliases, body_of, marks, expanded, language, also_called = inputs
        body = body_of()
        made = snippet(aliases, body, marks, language, also_called)
        if expanded and "<mark>" not in made:
            # Found through a lay word or synonym: mark that instead of the typed words.
            made = snippet(aliases, body, expanded, language, also_called)
        self._made = made
        self._inputs = None
        return made

    def __str__(self) -> str:
        return str(self.html())
