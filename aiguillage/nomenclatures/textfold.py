"""Accent- and case-insensitive text folding for ``filter=`` searches."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """``"Hygiène HOSPITALIÈRE"`` -> ``"hygiene hospitaliere"`` (NFKD, combining marks dropped, casefold)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
