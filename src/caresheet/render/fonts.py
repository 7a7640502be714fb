"""The type for print and PDF: Atkinson Hyperlegible from its PyPI package, DejaVu Sans after.

The TTF files are found inside the installed package and given to WeasyPrint as file URLs,
so a PDF never needs the network; if the package is missing, DejaVu Sans (a Debian package)
is used alone.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

FAMILY = '"Atkinson Hyperlegible", "DejaVu Sans", sans-serif'
_FACES = (
    ("Regular", "normal", "normal"),
    ("Bold", "bold", "normal"),
    ("Italic", "normal", "italic"),
    ("BoldItalic", "bold", "italic"),
)


@lru_cache(maxsize=1)
def atkinson_files() -> dict[str, Path]:
    """The installed Atkinson Hyperlegible TTF files by style name (empty if not installed)."""
    spec = importlib.util.find_spec("fontpkg_atkinson_hyperlegible")
    if spec is None or not spec.submodule_search_locations:
        return {}
    found: dict[str, Path] = {}
    for folder in spec.submodule_search_locations:
        for path in Path(folder).rglob("AtkinsonHyperlegible-*.ttf"):
            found[path.stem.split("-", 1)[1]] = path
    return found


@lru_cache(maxsize=1)
def font_face_css() -> str:
    """@font-face rules pointing at the local TTF files."""
    files = atkinson_files()
    rules = []
    for style, weight, slant in _FACES:
        if style in files:
            rules.append(
                '@font-face { font-family: "Atkinson Hyperlegible"; '
                f'src: url("{files[style].as_uri()}") format("truetype"); '
                f"font-weight: {weight}; font-style: {slant}; }}\n"
            )
    return "".join(rules)
