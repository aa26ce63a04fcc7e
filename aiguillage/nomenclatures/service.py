"""Pure functions the HTTP routes call (the routes stay thin): summaries and paged concept lists."""

from __future__ import annotations

from typing import Any

from aiguillage.errors import InputError
from aiguillage.nomenclatures.model import Concept
from aiguillage.nomenclatures.registry import Registry

MAX_COUNT = 1000


def list_systems(registry: Registry) -> list[dict[str, Any]]:
    """Every code system and value set, current version first-class, as plain dicts."""
    return [s.as_dict() for s in registry.systems()]


def concept_dict(c: Concept) -> dict[str, Any]:
    d: dict[str, Any] = {"code": c.code, "display": c.display, "status": c.status.value}
    if c.valid_from:
        d["valid_from"] = c.valid_from
    if c.valid_to:
        d["valid_to"] = c.valid_to
    if c.updated:
        d["updated"] = c.updated
    return d


def concepts(
    registry: Registry,
    system: str,
    filter: str | None = None,
    offset: int = 0,
    count: int = 50,
    version: str | None = None,
    active_only: bool = False,
) -> dict[str, Any]:
    """One page of a system's (or value set's) concepts, optionally filtered (accent/case-insensitive).

    Raises NomenclatureNotFound (NOM-0001) for an unknown system, InputError for a bad page.
    """
    if offset < 0 or count < 0 or count > MAX_COUNT:
        raise InputError(f"offset must be >= 0 and count within 0..{MAX_COUNT}", "NOM-0104")
    res = registry.get(system, version)
    matches = registry.search(system, filter or "", limit=None, version=version, active_only=active_only)
    page = matches[offset : offset + count]
    return {
        "kind": res.kind,
        "id": res.id,
        "url": res.url,
        "oid": res.oid,
        "version": res.version,
        "content": res.content,
        "filter": filter or None,
        "total": len(matches),
        "offset": offset,
        "count": len(page),
        "concepts": [concept_dict(c) for c in page],
    }
