"""Our compact JSON format for code system / value set versions, and its persistence on disk.

The built-in data files (``aiguillage/nomenclatures/data/*.json``) and the imported versions
persisted under ``<AIGUILLAGE_DATA_DIR>/nomenclatures`` use the same format::

    {"format": "aiguillage-nomenclature/1", "kind": "CodeSystem", "url": ..., "oid": ..., "id": ...,
     "version": ..., "content": "complete|fragment", "source": "...",
     "concepts": [{"c": code, "d": display, "f": valid_from, "t": valid_to, "u": updated,
                   "s": explicit status, "src": citation}, ...]}

Value sets carry ``"members": [{"sys": url, "c": code, "d": display}]`` and ``"include_systems"``.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from aiguillage.errors import Issue
from aiguillage.nomenclatures.errors import INVALID_VALUE, MISSING_FIELD, PARSE_ERROR, ImportFormatError
from aiguillage.nomenclatures.model import (
    CodeSystemVersion,
    Concept,
    ConceptStatus,
    Member,
    Resource,
    ValueSetVersion,
    derive_status,
)

FORMAT = "aiguillage-nomenclature/1"
_HEADER_KEYS = (
    "url",
    "oid",
    "id",
    "name",
    "title",
    "version",
    "content",
    "status",
    "date",
    "publisher",
    "source",
)


def to_compact(res: Resource) -> dict[str, Any]:
    d: dict[str, Any] = {"format": FORMAT, "kind": res.kind}
    for key in _HEADER_KEYS:
        value = getattr(res, key)
        if value is not None:
            d[key] = value
    if isinstance(res, CodeSystemVersion):
        rows = []
        for c in res.concepts.values():
            row: dict[str, Any] = {"c": c.code, "d": c.display}
            if c.valid_from:
                row["f"] = c.valid_from
            if c.valid_to:
                row["t"] = c.valid_to
            if c.updated:
                row["u"] = c.updated
            if c.explicit_status:
                row["s"] = c.status.value
            if c.source:
                row["src"] = c.source
            rows.append(row)
        d["concepts"] = rows
    else:
        d["include_systems"] = list(res.include_systems)
        d["members"] = [
            {"sys": m.system, "c": m.code, **({"d": m.display} if m.display is not None else {})}
            for m in res.members
        ]
    return d


def _req(d: dict[str, Any], key: str, where: str) -> Any:
    value = d.get(key)
    if value in (None, ""):
        raise ImportFormatError(
            f"missing field {key!r}", MISSING_FIELD, [Issue("error", MISSING_FIELD, f"missing {key}", where)]
        )
    return value


def from_compact(d: dict[str, Any], where: str = "", builtin: bool = False) -> Resource:
    if d.get("format") != FORMAT:
        raise ImportFormatError(f"{where}: not an {FORMAT} file", PARSE_ERROR)
    kind = d.get("kind")
    header = {k: d.get(k) for k in _HEADER_KEYS}
    url, rid, version = _req(d, "url", where), _req(d, "id", where), str(_req(d, "version", where))
    common: dict[str, Any] = {k: v for k, v in header.items() if k not in ("url", "id", "version")}
    common["content"] = common.get("content") or "complete"
    common["status"] = common.get("status") or "active"
    if kind == "CodeSystem":
        concepts: dict[str, Concept] = {}
        for i, row in enumerate(d.get("concepts") or []):
            code = _req(row, "c", f"{where} concepts[{i}]")
            explicit = None
            if "s" in row:
                try:
                    explicit = ConceptStatus(row["s"])
                except ValueError as exc:
                    raise ImportFormatError(
                        f"{where}: bad status {row['s']!r}",
                        INVALID_VALUE,
                        [Issue("error", INVALID_VALUE, "bad status", f"{where} concepts[{i}].s")],
                    ) from exc
            concepts[code] = Concept(
                code,
                row.get("d") or "",
                derive_status(row.get("t"), explicit),
                row.get("f"),
                row.get("t"),
                row.get("u"),
                explicit is not None,
                row.get("src"),
            )
        return CodeSystemVersion(
            url=url, id=rid, version=version, concepts=concepts, builtin=builtin, **common
        )
    if kind == "ValueSet":
        members = [Member(m["sys"], m["c"], m.get("d")) for m in d.get("members") or []]
        return ValueSetVersion(
            url=url,
            id=rid,
            version=version,
            members=members,
            include_systems=list(d.get("include_systems") or []),
            builtin=builtin,
            **common,
        )
    raise ImportFormatError(f"{where}: unknown kind {kind!r}", INVALID_VALUE)


def load_file(path: Path, builtin: bool = False) -> Resource:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ImportFormatError(f"{path.name}: unreadable ({exc.__class__.__name__})", PARSE_ERROR) from exc
    return from_compact(data, path.name, builtin)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def file_name(res: Resource) -> str:
    return f"{_UNSAFE.sub('_', res.id)}__{_UNSAFE.sub('_', res.version)}.json"


def save(res: Resource, directory: Path, pretty: bool = False) -> Path:
    """Write one version atomically (temp file + rename); returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / file_name(res)
    if pretty:
        text = json.dumps(to_compact(res), ensure_ascii=False, indent=1) + "\n"
    else:
        text = json.dumps(to_compact(res), ensure_ascii=False, separators=(",", ":"))
    payload = text.encode("utf-8")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def load_dir(directory: Path) -> tuple[list[Resource], list[Issue]]:
    """Every stored version under ``directory`` plus an issue per unreadable file (never raises)."""
    resources: list[Resource] = []
    issues: list[Issue] = []
    if not directory.is_dir():
        return resources, issues
    for path in sorted(directory.glob("*.json")):
        if path.name.startswith("."):
            continue
        try:
            resources.append(load_file(path))
        except ImportFormatError as exc:
            issues.append(Issue("error", exc.code, exc.message, str(path)))
    return resources, issues
