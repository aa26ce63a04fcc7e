"""Checks of a mapping before it is saved: required fields, sizes, and the target against the registry.

Every problem is returned (not the first), each naming its field: unknown system -> NOM-0001 on
``target_system``, code not in the system -> NOM-0002 on ``target_code``.
"""

from __future__ import annotations

from aiguillage.errors import Issue
from aiguillage.mappings.entries import LIMITS, Target
from aiguillage.mappings.errors import MISSING_FIELD, TOO_LONG
from aiguillage.nomenclatures.errors import UNKNOWN_CODE, UNKNOWN_SYSTEM
from aiguillage.nomenclatures.registry import Registry


def _where(prefix: str, name: str) -> str:
    return f"{prefix}{name}" if prefix else name


def check_fields(values: dict[str, str], required: tuple[str, ...], prefix: str = "") -> list[Issue]:
    issues: list[Issue] = []
    for name in required:
        if not (values.get(name) or "").strip():
            issues.append(Issue("error", MISSING_FIELD, f"{name} is required", _where(prefix, name)))
    for name, limit in LIMITS.items():
        value = values.get(name) or ""
        if len(value.strip()) > limit:
            issues.append(Issue("error", TOO_LONG, f"{name} is longer than {limit} characters", _where(prefix, name)))
    for name in ("source", "field"):
        if "/" in (values.get(name) or ""):
            issues.append(Issue("error", MISSING_FIELD, f"{name} must not contain '/'", _where(prefix, name)))
    return issues


def check_system(registry: Registry, system: str, prefix: str = "") -> tuple[str | None, list[Issue]]:
    """(canonical URL, issues) of a target system reference (URL, OID, NOS id or short id)."""
    if not system.strip():
        return None, []  # reported as a missing field by check_fields
    url = registry.resolve(system.strip())
    if url is None:
        msg = f"unknown code system or value set: {system.strip()}"
        return None, [Issue("error", UNKNOWN_SYSTEM, msg, _where(prefix, "target_system"))]
    return url, []


def check_target(
    registry: Registry, system: str, code: str, display: str | None = None, prefix: str = ""
) -> tuple[Target | None, list[Issue]]:
    """The target as stored (canonical system URL, registry display) and every issue found.

    Errors: NOM-0001 (``target_system``), NOM-0002 (``target_code``). Warnings: inactive code
    (NOM-0003), display differing from the registry's (NOM-0004; the registry's display is kept).
    """
    url, issues = check_system(registry, system, prefix)
    if url is None or not code.strip():
        return None, issues
    result = registry.validate(url, code.strip(), display=(display or None))
    if not result.valid or result.display is None:
        msg = result.message or f"code {code.strip()!r} is not in {system.strip()}"
        return None, [Issue("error", UNKNOWN_CODE, msg, _where(prefix, "target_code"))]
    warnings = [
        Issue(i.severity, i.code, i.message, _where(prefix, "target_display" if i.location == "display"
                                                      else "target_code"))
        for i in result.issues
        if i.severity not in ("error", "fatal")
    ]
    return Target(url, code.strip(), result.display), warnings
