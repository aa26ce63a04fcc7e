"""Results of a month's computation: per indicator funnel, rate, target, and the misses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .report import ImportReport

# Why a stay/consultation/document has no SUCCESS in the DMP.
NOT_PRODUCED = "not_produced"
NEVER_SENT = "never_sent"
NO_QUALIFIED_INS = "no_qualified_ins"
FILTERED = "filtered_by_pfi"
ERROR_STATUS = "error_status"
DELETED = "deleted_from_dmp"


@dataclass(frozen=True, slots=True)
class Miss:
    unit_id: str
    ipp: str | None
    reason: str
    status: str | None = None  # last DMP status seen, when sent
    document_ids: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.unit_id,
            "ipp": self.ipp,
            "reason": self.reason,
            "status": self.status,
            "document_ids": list(self.document_ids),
        }


@dataclass
class IndicatorResult:
    id: str
    label: str
    unit: str
    codes: list[str]
    funnel: list[tuple[str, str, int]]  # letter, label, count
    base_letter: str
    numerator_letter: str
    base_count: int  # count before x national rate (A, C, or A - C)
    numerator: int
    denominator_exact: float
    rate: float | None  # percent, one decimal
    target: float
    met: bool | None
    excluded: int = 0
    misses: list[Miss] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def denominator(self) -> float:
        """As the ARS matrices show it ("Valeur du dénominateur"): one decimal."""
        return round(self.denominator_exact, 1)

    def count(self, letter: str) -> int:
        return next(c for ltr, _, c in self.funnel if ltr == letter)

    def as_json(self, max_misses: int | None = None) -> dict[str, Any]:
        misses = self.misses if max_misses is None else self.misses[:max_misses]
        return {
            "id": self.id,
            "label": self.label,
            "unit": self.unit,
            "codes": self.codes,
            "funnel": {ltr: {"label": lab, "count": c} for ltr, lab, c in self.funnel},
            "base": self.base_letter,
            "base_count": self.base_count,
            "numerator": self.numerator,
            "numerator_letter": self.numerator_letter,
            "denominator": self.denominator,
            "denominator_exact": round(self.denominator_exact, 4),
            "rate": self.rate,
            "target": self.target,
            "met": self.met,
            "excluded": self.excluded,
            "misses_total": len(self.misses),
            "misses": [m.as_dict() for m in misses],
            "notes": self.notes,
        }


@dataclass
class IndicatorReport:
    month: str
    sunes_certified: bool
    national_rate: float
    indicators: list[IndicatorResult]
    import_report: ImportReport | None = None
    sejour_notes: list[str] = field(default_factory=list)

    def get(self, indicator_id: str) -> IndicatorResult:
        return next(i for i in self.indicators if i.id == indicator_id)

    def as_json(self, max_misses: int | None = None) -> dict[str, Any]:
        return {
            "month": self.month,
            "sunes_certified": self.sunes_certified,
            "national_rate": self.national_rate,
            "indicators": [i.as_json(max_misses) for i in self.indicators],
            "sejours": self.sejour_notes,
            "import_report": self.import_report.as_json() if self.import_report is not None else None,
        }
