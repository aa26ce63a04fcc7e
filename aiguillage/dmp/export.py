"""Exports: a readable table, CSV (summary + misses), and an XLSX laid out like the ARS matrices.

The XLSX has a summary sheet and one sheet per indicator whose cells follow the matrices of the
seed: D4 cible SUN-ES atteinte, D12 période de mesure, D14 numérateur, D16 the count before the
national rate (A or C), D17 the non-transmission count (P1.05/P1.06), D18 the national rate,
D19 the denominator, D20 the rate; the funnel and the misses follow below.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

from .results import IndicatorReport, IndicatorResult

if TYPE_CHECKING:
    from openpyxl import Workbook

_LETTERS = ("A", "B", "C", "D", "E")
SUMMARY_COLUMNS = (
    "indicator",
    "month",
    *_LETTERS,
    "base",
    "base_count",
    "numerator",
    "denominator",
    "rate",
    "target",
    "met",
    "excluded",
    "misses",
)


def _summary_row(rep: IndicatorReport, i: IndicatorResult) -> list[object]:
    funnel = {ltr: c for ltr, _, c in i.funnel}
    return [
        i.id,
        rep.month,
        *(funnel.get(ltr, "") for ltr in _LETTERS),
        i.base_letter,
        i.base_count,
        i.numerator,
        i.denominator,
        "" if i.rate is None else i.rate,
        i.target,
        "" if i.met is None else ("oui" if i.met else "non"),
        i.excluded,
        len(i.misses),
    ]


def render_table(rep: IndicatorReport, max_misses: int = 10) -> str:
    lines = [
        f"HOP'EN 2 — alimentation du DMP — {rep.month} (taux national {rep.national_rate:.0%}, "
        f"cible {'SUN-ES' if rep.sunes_certified else 'autres établissements'})",
        "",
    ]
    head = (
        f"{'indicateur':<10} {'A':>7} {'B':>7} {'C':>7} {'D':>7} {'E':>7}  {'num.':>7} {'dén.':>9} "
        f"{'taux %':>7} {'cible':>6} {'atteinte':>8}"
    )
    lines += [head, "-" * len(head)]
    for i in rep.indicators:
        f = {ltr: str(c) for ltr, _, c in i.funnel}
        rate = "—" if i.rate is None else f"{i.rate:.1f}"
        met = "—" if i.met is None else ("oui" if i.met else "non")
        lines.append(
            f"{i.id:<10} "
            + " ".join(f"{f.get(ltr, ''):>7}" for ltr in _LETTERS)
            + f"  {i.numerator:>7} {i.denominator:>9.1f} {rate:>7} {i.target:>6.0f} {met:>8}"
        )
    for i in rep.indicators:
        if not i.misses and not i.notes:
            continue
        lines += ["", f"{i.id}: {len(i.misses)} sans SUCCESS"]
        lines += [f"  note: {n}" for n in i.notes]
        for m in i.misses[:max_misses]:
            lines.append(f"  {m.unit_id:<24} {m.reason:<18} {m.status or ''}")
        if len(i.misses) > max_misses:
            lines.append(f"  … {len(i.misses) - max_misses} de plus (--json, --csv ou --xlsx pour la liste)")
    if rep.import_report is not None and rep.import_report.counts:
        lines += ["", "Import: " + ", ".join(f"{k}×{v}" for k, v in sorted(rep.import_report.counts.items()))]
    return "\n".join(lines)


def write_csv(rep: IndicatorReport, path: str | Path) -> list[Path]:
    """Summary at ``path``; the misses next to it as ``<stem>_misses.csv``. Returns both paths."""
    out = Path(path)
    with out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(SUMMARY_COLUMNS)
        for i in rep.indicators:
            w.writerow(_summary_row(rep, i))
    misses = out.with_name(f"{out.stem}_misses.csv")
    with misses.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(("indicator", "unit", "id", "ipp", "reason", "status", "document_ids"))
        for i in rep.indicators:
            for m in i.misses:
                w.writerow((i.id, i.unit, m.unit_id, m.ipp or "", m.reason, m.status or "", " ".join(m.document_ids)))
    return [out, misses]


def write_xlsx(rep: IndicatorReport, path: str | Path, establishment: str = "") -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Synthèse"
    ws.append([f"HOP'EN 2 — P1.02 à P1.06 — {rep.month}"])
    ws.append([])
    ws.append(list(SUMMARY_COLUMNS))
    for cell in ws[3]:
        cell.font = Font(bold=True)
    for i in rep.indicators:
        ws.append(_summary_row(rep, i))
    for i in rep.indicators:
        _matrix_sheet(wb, rep, i, establishment)
    out = Path(path)
    wb.save(out)
    return out


def _matrix_sheet(wb: Workbook, rep: IndicatorReport, i: IndicatorResult, establishment: str) -> None:
    from openpyxl.styles import Font

    ws = wb.create_sheet(i.id.replace(".", "_"))
    bold = Font(bold=True)
    funnel = {ltr: c for ltr, _, c in i.funnel}
    cells: dict[str, object] = {
        "B1": f"Matrice {i.id}",
        "B2": "Nom établissement",
        "D2": establishment,
        "B3": "Finess PMSI",
        "B4": "Cible SUN-ES atteinte",
        "D4": "Oui" if rep.sunes_certified else "Non",
        "B6": "1. IDENTIFICATION",
        "B7": "Libellé de l'indicateur",
        "D7": i.label,
        "B8": "Cibles",
        "D8": f"{i.target:.0f}%",
        "B9": "Types de document (LOINC)",
        "D9": ", ".join(i.codes),
        "B11": "2. CALCUL DE L'INDICATEUR",
        "B12": "Période de mesure",
        "D12": rep.month,
        "B14": f"Numérateur → {i.numerator_letter}",
        "D14": i.numerator,
        "B16": f"Nombre total → {i.base_letter.split(' ')[0]}",
        "D16": funnel.get(i.base_letter[0], 0),
        "B18": "Taux National de MES ouverts",
        "D18": rep.national_rate,
        "B19": "Valeur du dénominateur",
        "D19": i.denominator,
        "B20": "((Numérateur/dénominateur)*100)",
        "D20": i.rate,
        "B21": "Cible atteinte",
        "D21": None if i.met is None else ("Oui" if i.met else "Non"),
    }
    if "-" in i.base_letter:
        cells["B17"] = "Décision de non-transmission → C"
        cells["D17"] = funnel.get("C", 0)
    for ref, value in cells.items():
        ws[ref] = value
    for ref in ("B1", "B6", "B11"):
        ws[ref].font = bold
    row = 23
    ws.cell(row, 2, "Entonnoir").font = bold
    for ltr, label, count in i.funnel:
        row += 1
        ws.cell(row, 2, ltr)
        ws.cell(row, 3, label)
        ws.cell(row, 4, count)
    row += 2
    ws.cell(row, 2, "Sans SUCCESS").font = bold
    row += 1
    for col, title in enumerate(("id", "IPP", "motif", "statut", "documents"), start=2):
        ws.cell(row, col, title).font = bold
    for m in i.misses:
        row += 1
        for col, value in enumerate((m.unit_id, m.ipp, m.reason, m.status, " ".join(m.document_ids)), start=2):
            ws.cell(row, col, value)
    ws.column_dimensions["B"].width = 34
    ws.column_dimensions["C"].width = 48
    ws.column_dimensions["D"].width = 22
