"""The nomenclature model: concepts, code system versions, value set versions, validation results."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from aiguillage.errors import Issue


class ConceptStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"  # end of validity (dateFin) reached
    DEPRECATED = "deprecated"  # flagged deprecated/retired by the publisher


@dataclass(frozen=True, slots=True)
class Concept:
    """One code of a code system. Dates are ISO ``YYYY-MM-DD`` strings, as published."""

    code: str
    display: str
    status: ConceptStatus = ConceptStatus.ACTIVE
    valid_from: str | None = None
    valid_to: str | None = None
    updated: str | None = None
    explicit_status: bool = False  # status came from the source (not derived from valid_to)
    source: str | None = None  # citation for curated built-in concepts

    @property
    def active(self) -> bool:
        return self.status is ConceptStatus.ACTIVE


def derive_status(
    valid_to: str | None, explicit: ConceptStatus | None = None, today: date | None = None
) -> ConceptStatus:
    """Explicit status wins; otherwise a concept whose end date has passed is inactive."""
    if explicit is not None:
        return explicit
    if valid_to and valid_to <= (today or date.today()).isoformat():
        return ConceptStatus.INACTIVE
    return ConceptStatus.ACTIVE


_VERSION_CHUNK = re.compile(r"(\d+)")


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Natural sort key: ``20230802150000`` < ``20260730120000``; ``1.10`` > ``1.9``."""
    parts: list[tuple[int, int | str]] = []
    for chunk in _VERSION_CHUNK.split(version):
        if not chunk:
            continue
        parts.append((1, int(chunk)) if chunk.isdigit() else (0, chunk))
    return tuple(parts)


@dataclass(slots=True)
class CodeSystemVersion:
    """One version of a code system. ``content`` is ``complete`` or ``fragment`` (curated subset)."""

    url: str
    id: str
    version: str
    concepts: dict[str, Concept]
    oid: str | None = None
    name: str | None = None
    title: str | None = None
    content: str = "complete"
    status: str = "active"
    date: str | None = None
    publisher: str | None = None
    source: str | None = None  # where this version came from (file name, citation)
    builtin: bool = False
    kind: str = "CodeSystem"

    @property
    def active_count(self) -> int:
        return sum(1 for c in self.concepts.values() if c.active)


@dataclass(frozen=True, slots=True)
class Member:
    """One (system, code) pair included by a value set. ``system`` is a canonical URL when known."""

    system: str
    code: str
    display: str | None = None


@dataclass(slots=True)
class ValueSetVersion:
    """One version of a value set: explicit members plus whole code systems included."""

    url: str
    id: str
    version: str
    members: list[Member]
    oid: str | None = None
    name: str | None = None
    title: str | None = None
    include_systems: list[str] = field(default_factory=list)
    content: str = "complete"
    status: str = "active"
    date: str | None = None
    publisher: str | None = None
    source: str | None = None
    builtin: bool = False
    kind: str = "ValueSet"

    @property
    def concepts(self) -> dict[str, Member]:
        """Members by code (last one wins when two systems share a code)."""
        return {m.code: m for m in self.members}


Resource = CodeSystemVersion | ValueSetVersion


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """Outcome of ``Registry.validate``. ``issues`` lists every problem (warnings included)."""

    valid: bool
    display: str | None = None
    message: str | None = None
    issues: tuple[Issue, ...] = ()
    system: str | None = None  # canonical URL the system resolved to
    version: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "valid": self.valid,
            "display": self.display,
            "message": self.message,
            "system": self.system,
            "version": self.version,
            "issues": [i.as_dict() for i in self.issues],
        }


@dataclass(frozen=True, slots=True)
class SystemSummary:
    kind: str
    id: str
    short_id: str | None
    url: str
    oid: str | None
    title: str | None
    version: str
    versions: tuple[str, ...]
    content: str
    concept_count: int
    active_count: int
    builtin: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "short_id": self.short_id,
            "url": self.url,
            "oid": self.oid,
            "title": self.title,
            "version": self.version,
            "versions": list(self.versions),
            "content": self.content,
            "concept_count": self.concept_count,
            "active_count": self.active_count,
            "builtin": self.builtin,
        }
