"""Import nomenclature files into a registry and persist the imported versions.

``import_paths`` detects each file's format (FHIR JSON, IHE SVS XML, NOS ``.tabs``), adds every
version to the registry (older versions are kept), writes it under ``store_dir`` and reports, per
file, the system, version, concept count and what changed. A bad file never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiguillage.errors import Issue
from aiguillage.nomenclatures import storage
from aiguillage.nomenclatures.errors import READ_ERROR, STORE_ERROR, UNKNOWN_FORMAT, ImportFormatError
from aiguillage.nomenclatures.importers.common import ParseResult
from aiguillage.nomenclatures.importers.fhir_json import parse_fhir_json
from aiguillage.nomenclatures.importers.svs_xml import parse_svs
from aiguillage.nomenclatures.importers.tabs import decode, looks_like_tabs, parse_tabs
from aiguillage.nomenclatures.model import CodeSystemVersion
from aiguillage.nomenclatures.registry import Registry

log = logging.getLogger(__name__)

IMPORT_SUFFIXES = (".json", ".xml", ".tabs")


def detect_format(data: bytes, filename: str = "") -> str | None:
    """``fhir-json`` | ``svs-xml`` | ``tabs`` | None, by content first, then by extension."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        return "fhir-json"
    if head.startswith(b"<OID>") or looks_like_tabs(decode(head[:64])):
        return "tabs"
    if head.startswith(b"<") and b"RetrieveValueSetResponse" in data[:8192]:
        return "svs-xml"
    lower = filename.lower()
    if lower.endswith(".tabs"):
        return "tabs"
    return None


PARSERS: dict[str, Callable[[bytes, str], ParseResult]] = {
    "fhir-json": parse_fhir_json,
    "svs-xml": parse_svs,
    "tabs": parse_tabs,
}


@dataclass(slots=True)
class FileReport:
    path: str
    format: str | None = None
    kind: str | None = None
    system: str | None = None  # canonical URL
    id: str | None = None
    version: str | None = None
    concept_count: int = 0
    action: str | None = None  # new | updated | added | replaced | unchanged
    previous_version: str | None = None
    changes: dict[str, int] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.action is not None and not any(i.severity in ("error", "fatal") for i in self.issues)

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "kind": self.kind,
            "system": self.system,
            "id": self.id,
            "version": self.version,
            "concept_count": self.concept_count,
            "action": self.action,
            "previous_version": self.previous_version,
            "changes": dict(self.changes),
            "ok": self.ok,
            "issues": [i.as_dict() for i in self.issues],
        }


@dataclass(slots=True)
class ImportReport:
    files: list[FileReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.files)

    @property
    def errors(self) -> list[Issue]:
        return [i for f in self.files for i in f.issues if i.severity in ("error", "fatal")]

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "files": [f.as_dict() for f in self.files]}


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given; directories walked recursively for ``.json``, ``.xml`` and ``.tabs`` files."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMPORT_SUFFIXES))
        else:
            out.append(p)
    return out


def import_file(registry: Registry, path: Path, store_dir: Path | None) -> list[FileReport]:
    """Import one file (a Bundle may hold several resources: one report each)."""
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [FileReport(name, issues=[Issue("error", READ_ERROR, f"cannot read: {exc.strerror}", name)])]
    fmt = detect_format(data, path.name)
    if fmt is None:
        msg = "format not recognised (expected FHIR JSON, IHE SVS XML or NOS .tabs)"
        return [FileReport(name, issues=[Issue("error", UNKNOWN_FORMAT, msg, name)])]
    try:
        resources, warnings = PARSERS[fmt](data, path.name)
    except ImportFormatError as exc:
        return [FileReport(name, fmt, issues=exc.issues or [Issue("error", exc.code, exc.message, name)])]
    reports: list[FileReport] = []
    for res in resources:
        rep = FileReport(name, fmt, res.kind, res.url, res.id, res.version, issues=list(warnings))
        rep.concept_count = len(res.concepts) if isinstance(res, CodeSystemVersion) else len(res.members)
        try:
            outcome = registry.add(res)
        except ImportFormatError as exc:
            rep.issues.append(Issue("error", exc.code, exc.message, name))
            reports.append(rep)
            continue
        rep.system, rep.action = outcome.url, outcome.action
        rep.previous_version, rep.changes = outcome.previous_version, outcome.changes
        if store_dir is not None and outcome.action != "unchanged":
            try:
                storage.save(res, store_dir)
            except OSError as exc:
                rep.issues.append(
                    Issue("error", STORE_ERROR, f"cannot persist: {exc.strerror}", str(store_dir))
                )
        log.info(
            "nomenclature imported id=%s version=%s concepts=%d action=%s",
            res.id,
            res.version,
            rep.concept_count,
            outcome.action,
        )
        reports.append(rep)
    return reports


def import_paths(
    registry: Registry,
    paths: Iterable[Path],
    store_dir: Path | None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import every file under ``paths`` into ``registry``; persist new versions under ``store_dir``."""
    files = expand_paths(paths)
    report = ImportReport()
    total = len(files)
    if progress is not None:
        progress(0, total)
    for done, path in enumerate(files, start=1):
        report.files.extend(import_file(registry, path, store_dir))
        if progress is not None:
            progress(done, total)
    return report
