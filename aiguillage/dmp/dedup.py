"""Exact duplicate rows of one file, found with a set of row keys, reported with the first line.

Rows are keyed by ``readers.Table``'s row key (a 64-bit in-process hash of the cells): a million
rows cost a set of ints, never the rows themselves, nor their line numbers. The line of a
duplicate's first occurrence is only needed for the report, so it is found when the file is done:
each duplicate is reported (DMP-0106) as soon as it is seen, and ``finish`` reads the file again,
only when it had duplicates and only up to the last first occurrence it needs, to write that line
into each event.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Iterator

from .errors import DmpInputError
from .report import ImportEvent, ImportReport

log = logging.getLogger(__name__)

_UNRESOLVED = "same row as an earlier line: counted once"


class Dedup:
    __slots__ = ("file", "pending", "reopen", "report", "seen")

    def __init__(
        self, report: ImportReport, file: str, reopen: Callable[[], Iterator[tuple[int, list[str], int]]]
    ) -> None:
        self.seen: set[int] = set()
        self.report = report
        self.file = file
        self.reopen = reopen  # the file's rows again, as (line, cells, key)
        self.pending: list[tuple[int, int, int | None]] = []  # key, line, index of the event (None: not kept)

    def duplicate(self, line: int, row: list[str], key: int) -> bool:
        if key not in self.seen:
            self.seen.add(key)
            return False
        self.reported(line, row, key)
        return True

    def reported(self, line: int, row: list[str], key: int) -> None:
        """Report a duplicate row now; its first line is written in by ``finish``."""
        events = self.report.events
        before = len(events)
        self.report.add("rejection", "DMP-0106", self.file, line, None, "\t".join(row), _UNRESOLVED)
        self.pending.append((key, line, before if len(events) > before else None))

    def finish(self) -> None:
        """Write the line of each duplicate's first occurrence into its event."""
        if not self.pending:
            return
        wanted = {key for key, _, index in self.pending if index is not None}
        first: dict[int, int] = {}
        if wanted:
            try:
                for line, _, key in self.reopen():
                    if key in wanted and key not in first:
                        first[key] = line
                        if len(first) == len(wanted):
                            break
            except (OSError, csv.Error, DmpInputError, ValueError) as exc:
                log.warning("dmp dedup: file not re-read (%s): duplicates kept without first line", type(exc).__name__)
        events = self.report.events
        for key, _line, index in self.pending:
            found = first.get(key)
            if index is None or found is None:
                continue
            e = events[index]
            events[index] = ImportEvent(
                e.kind, e.code, e.file, e.line, e.column, e.original, f"same row as line {found}: counted once"
            )
        self.pending.clear()
