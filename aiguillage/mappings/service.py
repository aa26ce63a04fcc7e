"""Mapping-table operations the API and CLI call: save, delete, settings, queue, CSV, history.

Every change is audited (actor = API client name or ``cli:<user>``) and bumps the table version.
After a change commits, the messages held by the now-mapped values are queued again through the
engine (``release``); the handler holds a message again if something else is still missing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection
from sqlalchemy.engine import Engine as DbEngine

from aiguillage.errors import InputError, Issue
from aiguillage.mappings import audit, csvio, entries, unmapped
from aiguillage.mappings.audit import AuditAction
from aiguillage.mappings.entries import Target
from aiguillage.mappings.errors import (
    BAD_PAGE,
    CSV_ERRORS,
    DUPLICATE_LINE,
    ENTRY_NOT_FOUND,
    INVALID_MAPPING,
    VERSION_CONFLICT,
    MappingConflict,
    MappingInputError,
    MappingNotFound,
)
from aiguillage.mappings.normalize import normalize_key
from aiguillage.mappings.suggest import suggest
from aiguillage.mappings.validation import check_fields, check_system, check_target
from aiguillage.nomenclatures.errors import NomenclatureNotFound
from aiguillage.nomenclatures.registry import Registry

if TYPE_CHECKING:
    from aiguillage.engine import Engine

log = logging.getLogger(__name__)

MAX_PAGE = 1000
Release = Callable[[Sequence[str]], Sequence[str]]


def _is_error(i: Issue) -> bool:
    return i.severity in ("error", "fatal")


def check_page(offset: int, count: int) -> None:
    if offset < 0 or count < 0 or count > MAX_PAGE:
        raise InputError(f"offset must be >= 0 and count within 0..{MAX_PAGE}", BAD_PAGE)


class MappingService:
    def __init__(self, db: DbEngine, registry: Callable[[], Registry], release: Release) -> None:
        self.db = db
        self._registry = registry
        self._release = release

    @classmethod
    def for_engine(cls, engine: Engine) -> MappingService:
        from aiguillage.nomenclatures.install import get_registry

        return cls(engine.db, lambda: get_registry(engine), lambda ids: engine.reprocess(list(ids), strict=False))

    @property
    def registry(self) -> Registry:
        return self._registry()

    # --- release ------------------------------------------------------------------------------

    def release(self, message_ids: Sequence[str]) -> int:
        ids = list(dict.fromkeys(message_ids))
        if not ids:
            return 0
        moved = len(self._release(ids))
        log.info("mappings released %d held message(s)", moved)
        return moved

    def release_stale(self) -> int:
        """Release messages held by values that were mapped meanwhile (a save that raced a worker)."""
        with self.db.begin() as conn:
            rows = unmapped.stale(conn)
            unmapped.resolve(conn, [r["id"] for r in rows])
        return self.release([m for r in rows for m in r["message_ids"]])

    # --- one mapping --------------------------------------------------------------------------

    def save(
        self,
        source: str,
        field: str,
        local_value: str,
        target_system: str,
        target_code: str,
        actor: str,
        target_display: str | None = None,
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        values = {"source": source, "field": field, "local_value": local_value, "target_system": target_system,
                  "target_code": target_code, "target_display": target_display or ""}
        issues = check_fields(values, ("source", "field", "local_value", "target_system", "target_code"))
        target, target_issues = check_target(self.registry, target_system, target_code, target_display)
        issues += target_issues
        if any(_is_error(i) for i in issues) or target is None:
            raise MappingInputError(f"invalid mapping for {source}/{field}", INVALID_MAPPING, issues)
        source, field, local_value = source.strip(), field.strip(), local_value.strip()
        audit_id = None
        with self.db.begin() as conn:
            version = self._check_version(conn, source, field, expected_version)
            old_row = entries.get_entry(conn, source, field, local_value)
            old = _target_of(old_row)
            action = "unchanged"
            if old != target:
                action = "updated" if old is not None else "created"
                version = entries.bump_version(conn, source, field, actor)
                entries.upsert_entry(conn, source, field, local_value, target, version, actor)
                audit_id = audit.add(
                    conn, actor=actor, action=AuditAction.UPDATE if old else AuditAction.CREATE, source=source,
                    field=field, local_value=old_row["local_value"] if old_row else local_value, old=old,
                    new=target, version=version,
                )
            unmapped_id, held = unmapped.held_by(conn, source, field, local_value)
            if unmapped_id is not None:
                unmapped.resolve(conn, [unmapped_id])
        released = self.release(held)
        if audit_id is not None and released:
            with self.db.begin() as conn:
                audit.set_released(conn, audit_id, released)
        released += self.release_stale()
        return {"action": action, "source": source, "field": field, "local_value": local_value,
                "target": target.as_dict(), "version": version, "released": released,
                "warnings": [i.as_dict() for i in issues]}

    def _check_version(self, conn: Connection, source: str, field: str, expected: int | None) -> int:
        stamp = entries.table_stamp(conn, source, field)
        current = stamp[1] if stamp else 0
        if expected is not None and expected != current:
            raise MappingConflict(
                f"table {source}/{field} is at version {current}, not {expected}; reload and retry", VERSION_CONFLICT
            )
        return current

    def delete(self, source: str, field: str, local_value: str, actor: str,
               expected_version: int | None = None) -> dict[str, Any]:
        with self.db.begin() as conn:
            self._check_version(conn, source, field, expected_version)
            old_row = entries.get_entry(conn, source, field, local_value)
            if old_row is None:
                raise MappingNotFound(f"no mapping for {local_value!r} in {source}/{field}", ENTRY_NOT_FOUND)
            version = entries.bump_version(conn, source, field, actor)
            entries.delete_entry(conn, source, field, local_value)
            audit.add(conn, actor=actor, action=AuditAction.DELETE, source=source, field=field,
                      local_value=old_row["local_value"], old=_target_of(old_row), version=version)
        return {"deleted": True, "source": source, "field": field, "local_value": old_row["local_value"],
                "version": version}

    # --- tables -------------------------------------------------------------------------------

    def list_tables(self) -> list[dict[str, Any]]:
        with self.db.connect() as conn:
            return entries.list_tables(conn)

    def table(self, source: str, field: str, offset: int = 0, count: int = 50,
              filter: str | None = None) -> dict[str, Any]:
        check_page(offset, count)
        with self.db.connect() as conn:
            row = entries.get_table(conn, source, field)
            if row is None:
                from aiguillage.mappings.errors import TABLE_NOT_FOUND

                raise MappingNotFound(f"no mapping table {source}/{field}", TABLE_NOT_FOUND)
            total, items = entries.list_entries(conn, source, field, offset, count, filter)
        return {"source": source, "field": field, "target_system": row["target_system"] or None,
                "version": row["version"], "total": total, "offset": offset, "count": len(items), "entries": items}

    def set_settings(self, source: str, field: str, target_system: str, actor: str) -> dict[str, Any]:
        issues = check_fields({"source": source, "field": field, "target_system": target_system},
                              ("source", "field", "target_system"))
        url, sys_issues = check_system(self.registry, target_system)
        issues += sys_issues
        if issues or url is None:
            raise MappingInputError(f"invalid settings for {source}/{field}", INVALID_MAPPING, issues)
        with self.db.begin() as conn:
            before = entries.get_table(conn, source, field)
            old_system = before["target_system"] if before else ""
            version = entries.set_target_system(conn, source, field, url, actor)
            audit.add(conn, actor=actor, action=AuditAction.SETTINGS, source=source, field=field,
                      old=Target(old_system, "", "") if old_system else None, new=Target(url, "", ""),
                      version=version)
        return {"source": source, "field": field, "target_system": url, "version": version}

    # --- unmapped queue -----------------------------------------------------------------------

    def unmapped_queue(self, source: str | None = None, field: str | None = None, offset: int = 0,
                       count: int = 50, suggestions: int = 5) -> dict[str, Any]:
        check_page(offset, count)
        self.release_stale()
        with self.db.connect() as conn:
            total, rows = unmapped.queue(conn, source, field, offset, count)
            systems = {(t["source"], t["field"]): t["target_system"] for t in entries.list_tables(conn)}
        registry = self.registry
        items = []
        for r in rows:
            system = systems.get((r["source"], r["field"]))
            try:
                found = suggest(registry, system, r["value"], suggestions) if system else []
            except NomenclatureNotFound:
                found = []
            items.append({
                "id": r["id"], "source": r["source"], "field": r["field"], "value": r["value"],
                "count": r["count"], "held": r["held"], "first_seen": r["first_seen"], "last_seen": r["last_seen"],
                "example_message_id": r["example_message_id"] or None, "target_system": system,
                "suggestions": [s.as_dict() for s in found],
            })
        return {"total": total, "offset": offset, "count": len(items), "items": items}

    def history(self, source: str | None = None, field: str | None = None, local_value: str | None = None,
                limit: int = 100, before: int | None = None) -> dict[str, Any]:
        check_page(0, limit)
        with self.db.connect() as conn:
            total, items = audit.history(conn, source, field, local_value, limit, before)
        return {"total": total, "count": len(items), "items": items}

    # --- CSV ----------------------------------------------------------------------------------

    def export_csv(self, source: str | None = None) -> str:
        with self.db.connect() as conn:
            return csvio.write(entries.all_entries(conn, source))

    def import_csv(self, data: bytes | str, actor: str, partial: bool = False) -> dict[str, Any]:
        """Validate every line; import nothing if any error unless ``partial`` (then the valid lines)."""
        rows, issues = csvio.read(data)
        registry = self.registry
        valid: dict[tuple[str, str, str], tuple[int, str, Target]] = {}
        bad_lines = {i.location for i in issues}
        for row in rows:
            where = f"line {row.line}: "
            v = row.values
            line_issues = check_fields(v, ("source", "field", "local_value", "target_system", "target_code"), where)
            target, t_issues = check_target(registry, v["target_system"], v["target_code"],
                                            v["target_display"] or None, where)
            line_issues += t_issues
            vkey = (v["source"], v["field"], normalize_key(v["local_value"]))
            if target is not None and vkey in valid and valid[vkey][2] != target:
                msg = f"{v['local_value']!r} already mapped on line {valid[vkey][0]} to another target"
                line_issues.append(Issue("error", DUPLICATE_LINE, msg, f"{where}local_value"))
            issues += line_issues
            if target is not None and not any(_is_error(i) for i in line_issues):
                valid.setdefault(vkey, (row.line, v["local_value"], target))
            else:
                bad_lines.add(f"line {row.line}")
        errors = [i for i in issues if _is_error(i)]
        if errors and not partial:
            raise MappingInputError(
                f"{len(errors)} error(s) in the CSV file; nothing imported (use partial to import the valid lines)",
                CSV_ERRORS, issues,
            )
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        held: list[str] = []
        with self.db.begin() as conn:
            existing = {(e["source"], e["field"], e["local_key"]): e for e in entries.all_entries(conn)}
            versions: dict[tuple[str, str], int] = {}
            resolved: list[str] = []
            for (source, field, key), (_, local_value, target) in valid.items():
                old_row = existing.get((source, field, key))
                old = _target_of(old_row)
                if old == target:
                    counts["unchanged"] += 1
                else:
                    if (source, field) not in versions:
                        versions[(source, field)] = entries.bump_version(conn, source, field, actor)
                    version = versions[(source, field)]
                    entries.upsert_entry(conn, source, field, local_value, target, version, actor)
                    audit.add(conn, actor=actor, action=AuditAction.UPDATE if old else AuditAction.CREATE,
                              source=source, field=field,
                              local_value=old_row["local_value"] if old_row else local_value,
                              old=old, new=target, version=version)
                    counts["updated" if old else "created"] += 1
                unmapped_id, ids = unmapped.held_by(conn, source, field, local_value)
                if unmapped_id is not None:
                    resolved.append(unmapped_id)
                    held.extend(ids)
            unmapped.resolve(conn, resolved)
        released = self.release(held) + self.release_stale()
        return {"lines": len(rows), **counts, "rejected": len(bad_lines), "released": released,
                "issues": [i.as_dict() for i in issues]}


def _target_of(row: dict[str, Any] | None) -> Target | None:
    if row is None:
        return None
    return Target(row["target_system"], row["target_code"], row["target_display"])
