"""HTML handouts (a web page saved from the clinic's site), read with the standard library's
HTML parser, which keeps the source line of every tag and never fetches anything.

Headings keep their level and list items their nesting; scripts, styles, navigation and
forms are skipped, since they are not what the patient was told.
"""

from __future__ import annotations

from html.parser import HTMLParser

from caresheet.authoring.convert.outline import Item, Outline

_SKIPPED = {"script", "style", "nav", "form", "noscript", "template", "svg", "button", "select"}
_BLOCKS = {"p", "div", "td", "th", "dt", "dd", "blockquote", "section", "article", "main", "pre",
           "header", "footer", "aside", "figcaption", "caption", "tr", "table", "body"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_VOID = {"br", "img", "hr", "meta", "link", "input", "area", "base", "col", "embed", "source",
         "track", "wbr"}


def read_html(text: str, source: str) -> Outline:
    """The outline of an HTML handout; its ``<h1>`` (else its ``<title>``) is the title."""
    reader = _Reader(source)
    reader.feed(text)
    reader.close()
    reader.flush()
    outline = reader.outline
    if outline.title is None and reader.page_title:
        outline.title, outline.title_line = reader.page_title
    return outline


class _Reader(HTMLParser):
    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.outline = Outline(source)
        self.skip = 0
        self.lists = 0
        self.words: list[str] = []
        self.kind: str = "text"
        self.level = 0
        self.line = 1
        self.in_title = False
        self.page_title: tuple[str, int] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            if tag == "br":
                self.words.append(" ")
            return
        if tag in _SKIPPED or self.skip:
            self.skip += 1 if tag not in _VOID else 0
            return
        if tag == "title":
            self.in_title = True
        elif tag in ("ul", "ol"):
            self.flush()
            self.lists += 1
        elif tag == "li":
            self.start("bullet", self.lists - 1)
        elif tag in _HEADINGS:
            self.start("heading", int(tag[1]))
        elif tag in _BLOCKS and self.kind != "bullet":
            self.start("text", 0)

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if self.skip:
            self.skip -= 1
            return
        if tag == "title":
            self.in_title = False
        elif tag in ("ul", "ol"):
            self.flush()
            self.lists = max(0, self.lists - 1)
            self.kind = "bullet" if self.lists else "text"
            self.level = self.lists - 1
        elif tag in _HEADINGS or tag == "li" or (tag in _BLOCKS and self.kind != "bullet"):
            self.flush()
            self.kind, self.level = ("bullet", self.lists - 1) if self.lists else ("text", 0)

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.in_title:
            if data.strip() and self.page_title is None:
                self.page_title = (" ".join(data.split()), self.getpos()[0])
            return
        if data.strip() and not "".join(self.words).strip():
            self.line = self.getpos()[0]
        self.words.append(data)

    def start(self, kind: str, level: int) -> None:
        self.flush()
        self.kind, self.level = kind, level

    def flush(self) -> None:
        text = " ".join("".join(self.words).split())
        self.words = []
        if not text:
            return
        if self.kind == "heading" and self.level == 1 and self.outline.title is None and not (
            self.outline.items
        ):
            self.outline.title, self.outline.title_line = text, self.line
            return
        kind = self.kind if self.kind in ("heading", "bullet") else "text"
        level = max(self.level, 0)
        self.outline.items.append(Item(kind, text, self.line, level))  # type: ignore[arg-type]
