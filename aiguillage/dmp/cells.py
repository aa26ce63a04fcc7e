"""Per-cell cleaning for one file: every repair or rejection goes to the ImportReport.

Low-cardinality columns (codes, statuses, yes/no) are memoised on the raw value, so a million-row
export costs a dict lookup per cell; the event is still reported for every occurrence.

The ``clean_*`` dictionaries hold only the raw values whose cleaning reports nothing (value as is
or exact vocabulary word): the importer's per-row fast path reads them directly and falls back to
these methods, which report, for any value they do not hold.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date, datetime
from enum import StrEnum
from typing import TypeVar

from . import loinc as loinc_mod
from .records import DmpStatus
from .repair import (
    complete_prefix,
    fix_mojibake,
    fold,
    is_overflow,
    looks_truncated_uuid,
    parse_bool,
    parse_datetime,
    parse_mangled,
    rematch_mangled,
)
from .report import ImportReport

E = TypeVar("E", bound=StrEnum)

_STATUS_ALIASES = {"SUCCES": DmpStatus.SUCCESS, "SUCCÈS": DmpStatus.SUCCESS, "OK": DmpStatus.SUCCESS}
_STATUS_WORDS = [s.value for s in DmpStatus if s is not DmpStatus.UNKNOWN]


class Cells:
    """Cleans the cells of one file; ``columns`` maps field -> header text for the report."""

    def __init__(self, report: ImportReport, file: str, columns: dict[str, str]) -> None:
        self.report = report
        self.file = file
        self.columns = columns
        self._loinc: dict[str, tuple[str | None, str]] = {}
        self._status: dict[str, tuple[DmpStatus, str | None]] = {}
        self._bool: dict[str, tuple[bool | None, bool]] = {}
        self._vocab: dict[tuple[str, str], StrEnum] = {}
        self._no_memo = False
        # raw -> value for raw values that clean without any event (see module docstring)
        self.clean_loinc: dict[str, str] = {}
        self.clean_status: dict[str, DmpStatus] = {}
        self.clean_bool: dict[str, bool] = {}
        self.clean_when: dict[str, datetime] = {}
        self.clean_day: dict[str, date] = {}
        self.clean_vocab: dict[str, dict[str, StrEnum]] = {}

    def col(self, field: str) -> str:
        return self.columns.get(field, field)

    def _overflow(self, line: int, field: str, raw: str) -> bool:
        if raw[:1] == "#" and is_overflow(raw):
            self.report.repair(
                "DMP-0103",
                self.file,
                line,
                self.col(field),
                raw,
                None,
                "value lost (column too narrow when copied): set to empty",
            )
            return True
        return False

    def text(self, line: int, field: str, raw: str) -> str | None:
        if not raw:
            return None
        if self._overflow(line, field, raw):
            return None
        if raw.isascii() and "A" not in raw:
            return raw
        fixed = fix_mojibake(raw)
        if fixed != raw:
            self.report.repair("DMP-0101", self.file, line, self.col(field), raw, fixed)
        return fixed

    def ident(
        self, line: int, field: str, raw: str, known: Collection[str] | None = None, check_uuid: bool = False
    ) -> str | None:
        """An identifier: overflow, spreadsheet scientific notation (re-matched when unique)."""
        if not raw:
            return None
        if self._overflow(line, field, raw):
            return None
        if ("E+" in raw or "e+" in raw) and (mangled := parse_mangled(raw)) is not None:
            found = rematch_mangled(mangled, known) if known else None
            if found is not None:
                self.report.repair(
                    "DMP-0113",
                    self.file,
                    line,
                    self.col(field),
                    raw,
                    found,
                    f"re-matched to the only compatible id {found!r}",
                )
                return found
            self.report.repair(
                "DMP-0102",
                self.file,
                line,
                self.col(field),
                raw,
                None,
                f"cannot be recovered (any {mangled.digits}-digit id in "
                f"[{mangled.low}, {mangled.high})): set to unknown",
            )
            return None
        if check_uuid and looks_truncated_uuid(raw):
            self.report.warn(
                "DMP-0112",
                self.file,
                line,
                self.col(field),
                raw,
                "kept as is (truncated by the export)",
            )
        return raw

    def loinc(self, line: int, field: str, raw: str) -> str | None:
        if not raw:
            return None
        hit = self._loinc.get(raw)
        if hit is None:
            if is_overflow(raw):
                hit = (None, "overflow")
            else:
                rep = loinc_mod.repair(raw, frozenset(loinc_mod.KNOWN))
                hit = (rep.code, rep.how)
            self._loinc[raw] = hit
        code, how = hit
        if how == "valid":
            if code is not None:
                self.clean_loinc[raw] = code
            return code
        if how == "overflow":
            self._overflow(line, field, raw)
        elif code is None:
            self.report.reject(
                "DMP-0105",
                self.file,
                line,
                self.col(field),
                raw,
                "LOINC fails the check digit and has no unique repair: code set to unknown",
            )
        else:
            note = "" if code in loinc_mod.KNOWN or code in loinc_mod.ODS else " (not an indicator type code)"
            self.report.repair(
                "DMP-0104",
                self.file,
                line,
                self.col(field),
                raw,
                code,
                f"replaced by {code!r} ({how}, check digit verified){note}",
            )
        return code

    def boolean(self, line: int, field: str, raw: str) -> bool | None:
        hit = self._bool.get(raw)
        if hit is None:
            fixed = fix_mojibake(raw) if not raw.isascii() or "A" in raw else raw
            hit = (parse_bool(fixed), fixed != raw)
            self._bool[raw] = hit
        value, repaired = hit
        if repaired:
            self.report.repair("DMP-0101", self.file, line, self.col(field), raw, fix_mojibake(raw))
        if value is None and raw:
            if not self._overflow(line, field, raw):
                self.report.warn("DMP-0109", self.file, line, self.col(field), raw, "not a yes/no value: unknown")
        elif not repaired and value is not None:
            self.clean_bool[raw] = value
        return value

    def when(self, line: int, field: str, raw: str) -> datetime | None:
        if not raw:
            return None
        got = self.clean_when.get(raw)
        if got is not None:
            return got
        if self._overflow(line, field, raw):
            return None
        try:
            got = parse_datetime(raw)
        except (ValueError, IndexError):
            self.report.warn("DMP-0110", self.file, line, self.col(field), raw, "date unreadable: set to unknown")
            return None
        if len(self.clean_when) < 200_000:
            self.clean_when[raw] = got
        return got

    def day(self, line: int, field: str, raw: str) -> date | None:
        hit = self.clean_day.get(raw)
        if hit is not None:
            return hit
        got = self.when(line, field, raw)
        if got is None:
            return None
        day = got.date()
        if raw in self.clean_when:
            self.clean_day[raw] = day  # one shared object per distinct date
        return day

    def status(self, line: int, field: str, raw: str) -> DmpStatus:
        hit = self._status.get(raw)
        if hit is None:
            key = raw.strip().upper()
            if key in _STATUS_WORDS:
                hit = (DmpStatus(key), None)
            elif key in _STATUS_ALIASES:
                hit = (_STATUS_ALIASES[key], "DMP-0117")
            elif (full := complete_prefix(key, _STATUS_WORDS)) is not None:
                hit = (DmpStatus(full), "DMP-0108")
            else:
                hit = (DmpStatus.UNKNOWN, "DMP-0109")
            self._status[raw] = hit
            if hit[1] is None or (hit[1] == "DMP-0109" and not raw):
                self.clean_status[raw] = hit[0]
        value, code = hit
        if code == "DMP-0117":
            self.report.add(
                "info",
                code,
                self.file,
                line,
                self.col(field),
                raw,
                f"SARA spelling normalised to {value.value!r}",
                value.value,
            )
        elif code == "DMP-0108":
            self.report.repair(code, self.file, line, self.col(field), raw, value.value)
        elif code == "DMP-0109" and raw:
            self.report.warn(
                code,
                self.file,
                line,
                self.col(field),
                raw,
                "unknown DMP status: kept, never counted as a success",
            )
        return value

    def vocab(
        self,
        line: int,
        field: str,
        raw: str,
        enum: type[E],
        default: E,
        aliases: Callable[[str], E | None] | None = None,
    ) -> E:
        if not raw:
            return default
        hit = self._vocab.get((field, raw))
        if hit is not None:
            return hit  # type: ignore[return-value]
        self._no_memo = False
        found = self._vocab_lookup(line, field, raw, enum, default, aliases)
        if not self._no_memo and len(self._vocab) < 10_000:
            self._vocab[(field, raw)] = found
            self.clean_vocab.setdefault(field, {})[raw] = found
        return found

    def _vocab_lookup(
        self, line: int, field: str, raw: str, enum: type[E], default: E, aliases: Callable[[str], E | None] | None
    ) -> E:
        """Exact or aliased values are memoised; repairs and unknowns are reported each time."""
        key = fold(raw)
        for member in enum:
            if fold(member.value) == key:
                return member
        if aliases is not None and (got := aliases(key)) is not None:
            return got
        full = complete_prefix(key, [fold(m.value) for m in enum], min_len=4)
        if full is not None:
            member = next(m for m in enum if fold(m.value) == full)
            self.report.repair("DMP-0108", self.file, line, self.col(field), raw, member.value)
            self._no_memo = True
            return member
        self.report.warn("DMP-0109", self.file, line, self.col(field), raw, f"unknown value: {default.value!r} used")
        self._no_memo = True  # reported at every occurrence, like a repair
        return default
