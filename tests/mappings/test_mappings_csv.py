"""CSV import/export: every error with line and field, nothing imported on error, partial, round trip, CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiguillage.cli import main
from aiguillage.engine import Engine
from aiguillage.mappings.csvio import read
from aiguillage.mappings.errors import MappingInputError
from aiguillage.mappings.install import get_service

HEADER = "source,field,local_value,target_system,target_code,target_display\n"
GOOD = (
    HEADER
    + "CHU-X,document-type,84,LOINC,11490-0,\n"
    + 'CHU-X,document-type,"CR op, bloc",http://loinc.org,34874-8,CR opératoire\n'
    + "ROR-PACA,activite,Hygiène hospitalière,TRE_R211,064,Hygiène hospitalière\n"
    + "ROR-PACA,activite,Hyg. hosp.,1.2.250.1.213.3.3.12,064,\n"
)


def test_read_reports_structure_problems_with_line_numbers() -> None:
    rows, issues = read(("\ufeff" + HEADER + "a,b,c,d,e,f\n\nshort,line\n" + '"multi\nline",b,c,d,e,f\n').encode())
    assert [r.line for r in rows] == [2, 5] and rows[1].values["source"] == "multi\nline"
    assert [(i.code, i.location) for i in issues] == [("MAP-0104", "line 4")]
    assert read(b"a;b\n")[1][0].code == "MAP-0104"
    rows, issues = read(HEADER.replace(",", ";") + "S;F;v;LOINC;1;\n")
    assert not issues and rows[0].values["field"] == "F"
    assert read(b"\xff\xfe")[1][0].message.startswith("not UTF-8")


async def test_import_reports_all_errors_and_imports_nothing(engine: Engine) -> None:
    svc = get_service(engine)
    bad = (
        GOOD
        + "CHU-X,UF,3030,NOPE,1,\n"  # line 6: unknown system
        + "CHU-X,UF,3031,TRE_R211,999,\n"  # line 7: code not in system
        + ",UF,,TRE_R211,064,\n"  # line 8: two missing fields
        + "too,few\n"  # line 9: malformed
        + "CHU-X,document-type,84,LOINC,34874-8,\n"  # line 10: duplicate with another target
    )
    with pytest.raises(MappingInputError) as err:
        svc.import_csv(bad, "tester")
    assert err.value.code == "MAP-0103"
    found = sorted((i.location or "", i.code) for i in err.value.issues if i.severity == "error")
    assert found == [
        ("line 10: local_value", "MAP-0107"),
        ("line 6: target_system", "NOM-0001"),
        ("line 7: target_code", "NOM-0002"),
        ("line 8: local_value", "MAP-0102"),
        ("line 8: source", "MAP-0102"),
        ("line 9", "MAP-0104"),
    ]
    assert svc.export_csv() == HEADER  # nothing imported
    report = svc.import_csv(bad, "tester", partial=True)
    assert (report["created"], report["rejected"]) == (4, 5)
    assert len(svc.export_csv().splitlines()) == 5


async def test_round_trip_export_import_export_is_identical(engine: Engine, tmp_path: Path) -> None:
    svc = get_service(engine)
    report = svc.import_csv(GOOD.encode(), "tester")
    assert (report["created"], report["updated"], report["rejected"]) == (4, 0, 0)
    first = svc.export_csv()
    again = svc.import_csv(first, "tester")
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 4)
    assert svc.export_csv() == first
    assert "CHU-X,document-type,\"CR op, bloc\",http://loinc.org,34874-8,CR opératoire" in first
    assert svc.export_csv("ROR-PACA").count("\n") == 3
    tables = {(t["source"], t["field"]): t["version"] for t in svc.list_tables()}
    assert tables == {("CHU-X", "document-type"): 1, ("ROR-PACA", "activite"): 1}


def test_cli_import_export_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = tmp_path / "data"
    src = tmp_path / "in.csv"
    src.write_text(GOOD, encoding="utf-8")
    assert main(["--data-dir", str(data_dir), "mappings", "import", str(src)]) == 0
    assert "4 created" in capsys.readouterr().out
    out1 = tmp_path / "out1.csv"
    assert main(["--data-dir", str(data_dir), "mappings", "export", "-o", str(out1)]) == 0
    assert main(["--data-dir", str(data_dir), "mappings", "import", str(out1)]) == 0
    assert "4 unchanged" in capsys.readouterr().out
    assert main(["--data-dir", str(data_dir), "mappings", "export"]) == 0
    assert capsys.readouterr().out == out1.read_text(encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "CHU-X,UF,1,NOPE,1,\n", encoding="utf-8")
    assert main(["--data-dir", str(data_dir), "mappings", "import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "NOM-0001 line 2: target_system" in err
    assert main(["--data-dir", str(data_dir), "mappings", "tables"]) == 0
    assert "CHU-X\tdocument-type\tv1\t2 entries" in capsys.readouterr().out
