"""The care sheets shipped with caresheet, as the text files authors edit.

Only sheet files (``*.md``) belong in this folder: ``caresheet init`` imports every one.
"""

from __future__ import annotations

from pathlib import Path

LIBRARY_DIR = Path(__file__).resolve().parent
