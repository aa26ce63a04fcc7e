from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from aiguillage.dmp.cli import register

IDS = ["P1.02-LDL", "P1.02-ODS", "P1.03", "P1.04", "P1.05", "P1.06"]


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return int(args.func(args))


def _inputs(data_dir: Path) -> list[str]:
    return [
        "--venues",
        str(data_dir / "venues.tsv"),
        "--documents",
        str(data_dir / "documents.tsv"),
        "--pfi",
        str(data_dir / "pfi.tsv"),
    ]


def test_json_is_one_object_with_the_six_indicators(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["dmp", "reconcile", "--month", "2025-03", "--json", *_inputs(data_dir)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [i["id"] for i in out["indicators"]] == IDS
    ldl = out["indicators"][0]
    assert (ldl["numerator"], ldl["denominator"], ldl["rate"], ldl["met"]) == (6, 9.3, 64.5, True)
    assert ldl["funnel"]["A"]["count"] == 10 and ldl["target"] == 55.0
    assert {m["reason"] for m in ldl["misses"]} >= {"never_sent", "error_status", "not_produced"}
    assert out["import_report"]["counts"]["DMP-0104"]["count"] == 1


def test_table_csv_and_xlsx(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv_out, xlsx_out = tmp_path / "ind.csv", tmp_path / "ind.xlsx"
    rc = _run(
        ["dmp", "reconcile", "--month", "2025-03", *_inputs(data_dir), "--csv", str(csv_out), "--xlsx", str(xlsx_out)]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "P1.02-LDL" in text and "64.5" in text and "ERREUR_DMP_CLOS" in text
    rows = csv_out.read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("indicator;month;A;B;C;D;E") and rows[1].startswith("P1.02-LDL;2025-03;10;8;9;6")
    misses = (tmp_path / "ind_misses.csv").read_text(encoding="utf-8")
    assert "P1.02-LDL;stay;S07;100007;never_sent" in misses
    wb = load_workbook(xlsx_out)
    assert wb.sheetnames == ["Synthèse", *(i.replace(".", "_") for i in IDS)]
    ws = wb["P1_02-LDL"]
    assert (ws["D12"].value, ws["D14"].value, ws["D16"].value, ws["D19"].value, ws["D20"].value) == (
        "2025-03",
        6,
        10,
        9.3,
        64.5,
    )
    bio = wb["P1_05"]
    assert (bio["D16"].value, bio["D17"].value, bio["D19"].value) == (5, 1, 3.7)


def test_bad_month_and_missing_inputs(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["dmp", "reconcile", "--month", "2025-13", "--json", *_inputs(data_dir)]) == 2
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "DMP-0003"
    assert _run(["dmp", "reconcile", "--month", "2025-03"]) == 2
    assert "DMP-0004" in capsys.readouterr().err


def test_unknown_sheet_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "x.tsv"
    bad.write_text("a\tb\n1\t2\n", encoding="utf-8")
    assert _run(["dmp", "reconcile", "--month", "2025-03", "--pfi", str(bad)]) == 2
    assert "DMP-0002" in capsys.readouterr().err
