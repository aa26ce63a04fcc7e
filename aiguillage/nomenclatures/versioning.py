"""Version bookkeeping: which version is current, and what changed between two versions."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiguillage.nomenclatures.model import CodeSystemVersion, Resource, ValueSetVersion, version_key


@dataclass(slots=True)
class AddOutcome:
    """What adding one version did: ``new`` system, ``updated`` (new current version), ``added``
    (older version kept as history), ``replaced`` (same version, different content), ``unchanged``."""

    action: str
    url: str
    id: str
    version: str
    previous_version: str | None
    changes: dict[str, int] = field(default_factory=dict)


def current_key(res: Resource) -> tuple[bool, tuple[tuple[int, int | str], ...]]:
    # any imported version beats the curated built-in subset; then the latest version wins
    return (not res.builtin, version_key(res.version))


def diff_versions(old: Resource | None, new: Resource) -> dict[str, int]:
    if not isinstance(old, CodeSystemVersion) or not isinstance(new, CodeSystemVersion):
        if isinstance(old, ValueSetVersion) and isinstance(new, ValueSetVersion):
            a = {(m.system, m.code) for m in old.members}
            b = {(m.system, m.code) for m in new.members}
            return {"added": len(b - a), "removed": len(a - b)}
        return {}
    added = removed = relabelled = deactivated = reactivated = 0
    for code, c in new.concepts.items():
        o = old.concepts.get(code)
        if o is None:
            added += 1
            continue
        if o.display != c.display:
            relabelled += 1
        if o.active and not c.active:
            deactivated += 1
        elif not o.active and c.active:
            reactivated += 1
    removed = sum(1 for code in old.concepts if code not in new.concepts)
    return {
        "added": added,
        "removed": removed,
        "relabelled": relabelled,
        "deactivated": deactivated,
        "reactivated": reactivated,
    }


def same_content(a: Resource, b: Resource) -> bool:
    if isinstance(a, CodeSystemVersion) and isinstance(b, CodeSystemVersion):
        return a.content == b.content and a.concepts == b.concepts
    if isinstance(a, ValueSetVersion) and isinstance(b, ValueSetVersion):
        return a.members == b.members and a.include_systems == b.include_systems
    return False
