"""The 8-word rule for P586: normalized shingles of the reference sheet, kept only as hashes.

The reference text lives outside the repository (``../shared/reference/``) and must not be
copied in, so the test compares hashes: sha256 of each normalized 8-word run, cut to 16 hex.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

SIZE = 8
TITLE = "Spinal Tap (Lumbar Puncture): What to Expect at Home"
HASH_FILE = Path(__file__).parent / "library" / "p586_reference_shingles.txt"


def words(text: str) -> list[str]:
    """Case-folded words with punctuation stripped, so only the wording counts."""
    return re.findall(r"[\w']+", text.casefold().replace("\u2019", "'"))


def shingles(text: str) -> set[str]:
    found = words(text)
    return {" ".join(found[i : i + SIZE]) for i in range(len(found) - SIZE + 1)}


def digest(shingle: str) -> str:
    return hashlib.sha256(shingle.encode("utf-8")).hexdigest()[:16]


def reference_hashes(reference_text: str) -> list[str]:
    """The sorted hashes of the reference's shingles, less those inside the shared title."""
    return sorted({digest(s) for s in shingles(reference_text) - shingles(TITLE)})


def shared_with_reference(text: str) -> set[str]:
    """The 8-word runs of ``text`` whose hash is a reference shingle's hash."""
    known = set(HASH_FILE.read_text(encoding="ascii").split())
    return {s for s in shingles(text) - shingles(TITLE) if digest(s) in known}
