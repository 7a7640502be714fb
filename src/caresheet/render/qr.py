"""A QR code to the sheet online (public page or a patient's private link), as inline SVG."""

from __future__ import annotations

import segno
from markupsafe import Markup


def svg(url: str, scale: int = 3) -> Markup:
    """Inline SVG of a QR code for ``url``; safe to place in HTML as is (we made the markup)."""
    code = segno.make(url, error="m", micro=False)
    text: str = code.svg_inline(scale=scale, dark="#000", light="#fff", border=2, omitsize=False)
    return Markup(text.replace("<svg ", '<svg role="img" aria-label="QR code" ', 1))
