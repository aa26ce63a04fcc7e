"""Suggestions for an unmapped value: the closest national labels of the table's target system.

Accent- and case-insensitive fuzzy matching (rapidfuzz WRatio on folded labels), plus
abbreviations: a token ending with a dot ("S." in "S.aureus", "hosp." in "Hyg. hosp.") is expanded
against the candidate's own words (the first unused word starting with it), so "S.aureus" scores
100 against "Staphylococcus aureus". A value equal to a code of the system scores 100.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from aiguillage.mappings.normalize import normalize_key
from aiguillage.nomenclatures.registry import Registry

_TOKEN = re.compile(r"[^\W_]+\.?")
DEFAULT_CUTOFF = 50.0


@dataclass(frozen=True, slots=True)
class Suggestion:
    system: str
    code: str
    display: str
    score: int  # 0..100

    def as_dict(self) -> dict[str, object]:
        return {"system": self.system, "code": self.code, "display": self.display, "score": self.score}


@dataclass(frozen=True, slots=True)
class _Candidates:
    system: str
    codes: list[str]
    displays: list[str]
    folded: list[str]
    words: list[list[str]]
    by_code: dict[str, int]


_CACHE: dict[tuple[int, str, str], _Candidates] = {}
_LOCK = threading.Lock()


def _candidates(registry: Registry, system: str) -> _Candidates:
    res = registry.get(system)  # raises NomenclatureNotFound (NOM-0001)
    key = (id(registry), res.url, res.version)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    codes: list[str] = []
    displays: list[str] = []
    for m in registry.expand(system, active_only=True):
        display = m.display or registry.display(m.system, m.code) or ""
        codes.append(m.code)
        displays.append(display)
    folded = [normalize_key(d) for d in displays]
    cands = _Candidates(
        res.url, codes, displays, folded, [_TOKEN.findall(f) for f in folded],
        {normalize_key(c): i for i, c in enumerate(codes)},
    )
    with _LOCK:
        _CACHE[key] = cands
    return cands


def expand_abbreviations(tokens: list[str], words: list[str]) -> str:
    """Replace each ``prefix.`` token by the first unused candidate word starting with ``prefix``."""
    used: set[int] = set()
    out: list[str] = []
    for tok in tokens:
        if tok.endswith("."):
            prefix = tok[:-1]
            for i, w in enumerate(words):
                if i not in used and w.startswith(prefix):
                    used.add(i)
                    out.append(w)
                    break
            else:
                out.append(prefix)
        else:
            out.append(tok)
            for i, w in enumerate(words):
                if i not in used and w == tok:
                    used.add(i)
                    break
    return " ".join(out)


def suggest(
    registry: Registry, system: str, value: str, limit: int = 5, cutoff: float = DEFAULT_CUTOFF
) -> list[Suggestion]:
    """The ``limit`` best concepts of ``system`` for the local ``value``, best first (score 0..100)."""
    cands = _candidates(registry, system)
    query = normalize_key(value)
    if not query or limit <= 0:
        return []
    tokens = _TOKEN.findall(query)
    plain = " ".join(t.rstrip(".") for t in tokens) or query
    scores: dict[int, float] = {}
    exact = cands.by_code.get(query)
    if exact is not None:
        scores[exact] = 100.0
    for _, score, idx in process.extract(
        plain, cands.folded, scorer=fuzz.WRatio, limit=max(limit * 4, 20), score_cutoff=cutoff
    ):
        scores[idx] = max(scores.get(idx, 0.0), float(score))
    if any(t.endswith(".") for t in tokens):
        for idx, words in enumerate(cands.words):
            expanded = expand_abbreviations(tokens, words)
            if expanded != plain:
                score = fuzz.WRatio(expanded, cands.folded[idx])
                if score >= cutoff:
                    scores[idx] = max(scores.get(idx, 0.0), float(score))
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], cands.codes[kv[0]]))[:limit]
    return [Suggestion(cands.system, cands.codes[i], cands.displays[i], round(s)) for i, s in ranked]
