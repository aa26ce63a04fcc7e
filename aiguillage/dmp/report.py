"""ImportReport: every repair and every rejection, with file, line, column, original value, action."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiguillage.errors import Issue

from .errors import CODES


@dataclass(frozen=True, slots=True)
class ImportEvent:
    kind: str  # "repair" | "rejection" | "warning" | "info"
    code: str  # DMP-01xx, see errors.CODES
    file: str
    line: int | None  # 1-based physical line (header is line 1); None for file-level events
    column: str | None
    original: str | None
    action: str  # what was done: "replaced by 'Présent'", "row rejected", "kept as is"…
    new_value: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "code": self.code,
            "defect": CODES.get(self.code, ""),
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "original": self.original,
            "new_value": self.new_value,
            "action": self.action,
        }

    def as_issue(self) -> Issue:
        severity = {"rejection": "error", "repair": "warning", "warning": "warning"}.get(self.kind, "information")
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        if self.column:
            where += f" [{self.column}]"
        return Issue(severity, self.code, f"{CODES.get(self.code, '')}: {self.action}", where)


@dataclass
class ImportReport:
    """Events are kept in full up to ``max_events``; counts are always exact."""

    max_events: int = 10_000
    events: list[ImportEvent] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    rows_read: Counter[str] = field(default_factory=Counter)  # file -> data rows
    rows_kept: Counter[str] = field(default_factory=Counter)
    encodings: dict[str, str] = field(default_factory=dict)

    def add(
        self,
        kind: str,
        code: str,
        file: str,
        line: int | None,
        column: str | None,
        original: str | None,
        action: str,
        new_value: str | None = None,
    ) -> None:
        self.counts[code] += 1
        if len(self.events) < self.max_events:
            self.events.append(ImportEvent(kind, code, file, line, column, original, action, new_value))

    def repair(
        self,
        code: str,
        file: str,
        line: int | None,
        column: str | None,
        original: str | None,
        new_value: str | None,
        action: str | None = None,
    ) -> None:
        self.add("repair", code, file, line, column, original, action or f"replaced by {new_value!r}", new_value)

    def reject(
        self,
        code: str,
        file: str,
        line: int | None,
        column: str | None,
        original: str | None,
        action: str = "row rejected",
    ) -> None:
        self.add("rejection", code, file, line, column, original, action)

    def warn(
        self, code: str, file: str, line: int | None, column: str | None, original: str | None, action: str
    ) -> None:
        self.add("warning", code, file, line, column, original, action)

    def by_code(self, code: str) -> list[ImportEvent]:
        return [e for e in self.events if e.code == code]

    @property
    def rejections(self) -> list[ImportEvent]:
        return [e for e in self.events if e.kind == "rejection"]

    def as_json(self) -> dict[str, Any]:
        return {
            "rows_read": dict(self.rows_read),
            "rows_kept": dict(self.rows_kept),
            "encodings": dict(self.encodings),
            "counts": {code: {"defect": CODES.get(code, ""), "count": n} for code, n in sorted(self.counts.items())},
            "events": [e.as_dict() for e in self.events],
            "events_truncated": sum(self.counts.values()) > len(self.events),
        }
