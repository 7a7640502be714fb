"""The fenced examples of docs/authoring.md, so tests check that the guide tells the truth."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "authoring.md"
_FENCE = re.compile(r"^```(?P<info>[\w-]+)\n(?P<body>.*?)^```$", re.DOTALL | re.MULTILINE)


def fenced(info: str) -> list[str]:
    """The bodies of every fenced block with this info string, in order."""
    text = DOC.read_text(encoding="utf-8")
    return [m.group("body") for m in _FENCE.finditer(text) if m.group("info") == info]
