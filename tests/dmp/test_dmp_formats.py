"""Same results whatever the container: Windows-1252 text, CSV with ';', XLSX; records in memory."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook

from aiguillage.dmp.importer import read_venues
from aiguillage.dmp.indicators import compute_indicators
from aiguillage.dmp.pipeline import reconcile_files
from aiguillage.dmp.records import DmpStatus, Document, Stay, StayKind, Trace
from aiguillage.dmp.report import ImportReport
from aiguillage.dmp.results import IndicatorReport


def _rates(rep: IndicatorReport) -> list[float | None]:
    return [i.rate for i in rep.indicators]


def test_cp1252_csv_and_xlsx_give_the_same_indicators(data_dir: Path, tmp_path: Path) -> None:
    ref = reconcile_files(
        "2025-03", venues=data_dir / "venues.tsv", documents=data_dir / "documents.tsv", pfi=data_dir / "pfi.tsv"
    )
    venues_cp = tmp_path / "venues.csv"
    venues_cp.write_bytes((data_dir / "venues.tsv").read_text(encoding="utf-8").replace("\t", ";").encode("cp1252"))
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for line in (data_dir / "documents.tsv").read_text(encoding="utf-8").splitlines():
        ws.append(line.split("\t"))
    docs_x = tmp_path / "documents.xlsx"
    wb.save(docs_x)
    rep = ImportReport()
    got = reconcile_files("2025-03", venues=venues_cp, documents=docs_x, pfi=data_dir / "pfi.tsv", report=rep)
    assert _rates(got) == _rates(ref)
    assert rep.encodings == {"venues.csv": "cp1252", "documents.xlsx": "xlsx", "pfi.tsv": "utf-8-sig"}


def test_headers_with_mojibake_are_understood(tmp_path: Path) -> None:
    p = tmp_path / "v.tsv"
    p.write_text("IPP Patient\tNÂ° venue\tDate EntrÃ©e\tDate Sortie\n1\tV1\t01/03/2025\t02/03/2025\n", encoding="utf-8")
    (s,) = read_venues(p, ImportReport())
    assert (s.id, s.admission is not None) == ("V1", True)


def test_compute_indicators_from_records_in_memory() -> None:
    stays = [
        Stay("s1", "I1", StayKind.MCO, None, None, discharged_in_month=True, ins_qualified=True),
        Stay("s2", "I2", StayKind.MCO, None, None, discharged_in_month=True),
    ]
    docs = [Document("d1", "11490-0", "I1", "s1"), Document("d2", "11490-0", "I2", "s2")]
    traces = iter(
        [
            Trace("d1", "11490-0", DmpStatus.SUCCESS, "SUCCESS", ipp="I1"),
            Trace("d2", "11490-0", DmpStatus.ERREUR_DMP_CLOS, "ERREUR_DMP_CLOS", ipp="I2"),
        ]
    )
    rep = compute_indicators("2025-03", stays, docs, traces)
    ldl = rep.get("P1.02-LDL")
    assert (ldl.numerator, ldl.base_count, ldl.rate) == (1, 2, 53.8)
    js = rep.as_json()
    assert js["indicators"][0]["misses"][0]["status"] == "ERREUR_DMP_CLOS"
    assert js["import_report"] is None


def test_pfi_only_links_traces_to_stays_by_patient_and_date() -> None:
    stays = [
        Stay("s1", "163463", StayKind.MCO, date(2025, 3, 1), date(2025, 3, 9), ins_qualified=True),
        Stay("s2", "163463", StayKind.MCO, date(2025, 1, 2), date(2025, 1, 5)),
    ]
    ok = Trace("x", "11490-0", DmpStatus.SUCCESS, "SUCCESS", ipp="163463", requested_at=datetime(2025, 3, 10, 11))
    late = Trace("y", "34874-8", DmpStatus.SUCCESS, "SUCCESS", ipp="163463", requested_at=datetime(2025, 6, 1, 11))
    got = compute_indicators("2025-03", stays, [], [ok, late])
    assert got.get("P1.02-LDL").numerator == 1 and got.get("P1.02-LDL").base_count == 1
    assert got.get("P1.03").notes == [
        "1 trace(s) of this type linked to no unit of the month",
        "empty denominator: indicator not computable for this month",
    ]
