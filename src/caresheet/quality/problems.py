"""What the linter reports: one problem at one line, as an editor or CI log expects it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["error", "warning"]


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One finding of the linter; ``str()`` gives ``file:line: level: message``."""

    path: str
    line: int
    level: Level
    code: str  # a short stable name of the check, e.g. "readability", "jargon"
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.level}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.level == "error"
