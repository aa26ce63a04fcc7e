"""`cda validate FILE... [--json] [--xsd PATH]`, called through argparse as the main CLI will."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from aiguillage.cda import codes
from aiguillage.cda.build import wrap_pdf_n1
from aiguillage.cda.cli import register, run_validate
from tests.cda.conftest import DATA, EXTENDED_XSD, PDF, n1_params, require_corpus


def _main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="aiguillage")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    rc = args.func(args)
    return rc, capsys.readouterr().out


@pytest.fixture
def good_file(tmp_path: Path) -> Path:
    path = tmp_path / "n1.xml"
    path.write_bytes(wrap_pdf_n1(PDF, n1_params()))
    return path


def test_one_file_json(good_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = _main(["cda", "validate", str(good_file), "--json"], capsys)
    payload = json.loads(out)
    assert rc == 0
    assert payload["file"] == str(good_file) and payload["valid"] is True
    assert [i["code"] for i in payload["issues"]] == [codes.XSD_SKIPPED]
    assert payload["header"]["level"] == "N1"


def test_several_files_json_list_and_exit_1(good_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = DATA / "billion_laughs.xml"
    rc, out = _main(["cda", "validate", str(good_file), str(bad), "--json"], capsys)
    payload = json.loads(out)
    assert rc == 1
    assert isinstance(payload, list) and [p["valid"] for p in payload] == [True, False]
    assert payload[1]["issues"][0]["code"] == codes.DOCTYPE_FORBIDDEN


def test_xsd_option_and_text_output(good_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_corpus()
    rc, out = _main(["cda", "validate", str(good_file), "--xsd", str(EXTENDED_XSD)], capsys)
    assert rc == 0 and out.startswith(f"{good_file}: VALID (0 errors, 0 warnings)")


def test_missing_file_is_invalid(tmp_path: Path) -> None:
    buf = io.StringIO()
    rc = run_validate([tmp_path / "absent.xml"], as_json=True, out=buf)
    assert rc == 1
    assert json.loads(buf.getvalue())["issues"][0]["code"] == codes.FILE_UNREADABLE


def test_require_ins_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "no_ins.xml"
    path.write_bytes(wrap_pdf_n1(PDF, n1_params(ins_oid="1.2.3.4.567.8.9.10")))
    assert _main(["cda", "validate", str(path)], capsys)[0] == 0
    rc, out = _main(["cda", "validate", str(path), "--require-ins"], capsys)
    assert rc == 1 and codes.INS_MISSING in out
