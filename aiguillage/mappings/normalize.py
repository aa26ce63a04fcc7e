"""The lookup key of a local value: trimmed, inner blanks collapsed, case- and accent-insensitive."""

from __future__ import annotations

from functools import lru_cache

from aiguillage.nomenclatures.textfold import fold

KEY_MAX = 255


@lru_cache(maxsize=65_536)
def normalize_key(value: str) -> str:
    """``"  Hygiène   HOSPITALIÈRE "`` -> ``"hygiene hospitaliere"`` (at most 255 characters)."""
    return " ".join(fold(value).split())[:KEY_MAX]
