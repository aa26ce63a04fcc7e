"""DMP document type codes (JDV_J07 XdsTypeCode CI-SIS): the set a CDA ``code`` must belong to.

Where the list comes from is one switch, :func:`dmp_type_codes`: the registry lookup plugged
with :func:`set_registry_lookup` — by default :func:`nomenclatures_lookup`, the builtin
``aiguillage.nomenclatures`` registry, used only when its JDV_J07 is *complete* (today it ships
a 10-code LOINC fragment, which would wrongly reject valid DMP types) — else the complete list
shipped in ``aiguillage/cda/data/jdv_j07_typecodes.csv`` (source and revision in its header).
Callers may also pass their own set to the validator.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from importlib import resources

from aiguillage.errors import EngineError

JDV_J07_OID = "1.2.250.1.213.1.1.5.471"
DATA_FILE = "jdv_j07_typecodes.csv"

TypeCodes = frozenset[tuple[str, str]]  # (code, codeSystem)


def nomenclatures_lookup(oid: str) -> TypeCodes | None:
    """(code, codeSystem OID) pairs of a *complete* value set of the builtin registry, else None."""
    try:
        from aiguillage.nomenclatures.registry import Registry

        registry = Registry.builtin()
        value_set = registry.get(oid)
        if getattr(value_set, "content", None) != "complete":
            return None
        pairs: set[tuple[str, str]] = set()
        for member in getattr(value_set, "members", []):
            system = member.system
            if system in registry:
                system = getattr(registry.get(system), "oid", None) or system
            pairs.add((member.code, system.removeprefix("urn:oid:")))
        return frozenset(pairs)
    except (ImportError, AttributeError, LookupError, EngineError, OSError, ValueError):
        return None


# A registry hook: returns the (code, codeSystem) pairs of a value set by OID, or None.
_registry_lookup: Callable[[str], TypeCodes | None] | None = nomenclatures_lookup


def set_registry_lookup(lookup: Callable[[str], TypeCodes | None] | None) -> None:
    """Plug (or unplug with ``None``) a value-set lookup, e.g. the nomenclatures registry."""
    global _registry_lookup
    _registry_lookup = lookup
    dmp_type_codes.cache_clear()


@lru_cache(maxsize=1)
def builtin_type_codes() -> TypeCodes:
    """The JDV_J07 list shipped with this package."""
    text = resources.files("aiguillage.cda").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    pairs: set[tuple[str, str]] = set()
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, system, *_ = line.split(";")
        pairs.add((code.strip(), system.strip()))
    return frozenset(pairs)


@lru_cache(maxsize=1)
def dmp_type_codes() -> TypeCodes:
    """JDV_J07 from the plugged registry when it has it, else the builtin list."""
    if _registry_lookup is not None:
        found = _registry_lookup(JDV_J07_OID)
        if found:
            return frozenset(found)
    return builtin_type_codes()


__all__ = [
    "JDV_J07_OID",
    "TypeCodes",
    "builtin_type_codes",
    "dmp_type_codes",
    "nomenclatures_lookup",
    "set_registry_lookup",
]
