"""CLI subcommands (called through argparse), service functions and FHIR operations."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiguillage.errors import EngineError
from aiguillage.nomenclatures import cli, fhir_ops, service, storage, systems
from aiguillage.nomenclatures.model import CodeSystemVersion, Concept, ConceptStatus, derive_status
from aiguillage.nomenclatures.registry import Registry

from .conftest import SAMPLES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aiguillage")
    parser.add_argument("--data-dir", type=Path, dest="data_dir", required=True)
    sub = parser.add_subparsers(dest="command", required=True)
    cli.register(sub)
    return parser


def _run(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    return int(args.func(args))


def test_cli_import_list_lookup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = ["--data-dir", str(tmp_path)]
    assert _run([*data, "nomenclatures", "import", str(SAMPLES / "TRE_R227-ChampActivite-sample.tabs")]) == 0
    out, err = capsys.readouterr()
    assert "updated" in out and "TRE_R227-ChampActivite 20990101120000" in out and "6 concepts" in out
    assert "1/1" in err and "[" in err  # progress bar on stderr
    assert list((tmp_path / "nomenclatures").glob("TRE_R227*.json"))
    assert _run([*data, "nomenclatures", "list"]) == 0
    out, _ = capsys.readouterr()
    line = next(ln for ln in out.splitlines() if "TRE_R227" in ln)
    assert "20990101120000" in line and "imported" in line
    assert _run([*data, "nomenclatures", "lookup", "1.2.250.1.213.3.3.17", "04"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("04\tMédico-social (MS)\tinactive") and "NOM-0003" in err
    assert _run([*data, "nomenclatures", "lookup", "TRE_R211", "063"]) == 0
    assert "Hygiène, prévention" in capsys.readouterr().out
    assert _run([*data, "nomenclatures", "lookup", "TRE_R211", "999"]) == 1
    assert "NOM" not in capsys.readouterr().out
    assert (
        _run(
            [
                *data,
                "nomenclatures",
                "import",
                "--quiet",
                str(SAMPLES / "TRE_R227-ChampActivite-broken.tabs"),
                str(tmp_path / "absent.json"),
            ]
        )
        == 1
    )
    _, err = capsys.readouterr()
    assert "NOM-0104" in err and ":4 <Date valid>" in err and "absent.json" in err


def test_list_systems_and_concepts(builtin: Registry) -> None:
    listed = service.list_systems(builtin)
    r211 = next(s for s in listed if s["short_id"] == "TRE_R211")
    assert r211["url"] == systems.TRE_R211_URL and r211["content"] == "fragment"
    page = service.concepts(builtin, "TRE_R251", None, offset=20, count=10)
    assert page["total"] == 24 and page["count"] == 4 and page["concepts"][0]["code"] == "23"
    page = service.concepts(builtin, systems.TRE_R211_OID, "hygiene", 0, 10)
    assert {c["code"] for c in page["concepts"]} == {"063", "064"}
    assert page["concepts"][0]["valid_from"] == "2015-04-08"
    with pytest.raises(EngineError) as exc:
        service.concepts(builtin, "TRE_R211", None, -1, 10)
    assert exc.value.http_status == 400
    with pytest.raises(EngineError) as exc:
        service.concepts(builtin, "TRE_R000", None, 0, 10)
    assert exc.value.code == "NOM-0001"


def _params(p: dict[str, object]) -> dict[str, object]:
    assert p["resourceType"] == "Parameters"
    out: dict[str, object] = {}
    for item in p["parameter"]:  # type: ignore[attr-defined]
        value = next(
            (v for k, v in item.items() if k.startswith("value")), item.get("part", item.get("resource"))
        )
        out.setdefault(item["name"], value)
    return out


def test_fhir_lookup(builtin: Registry) -> None:
    p = _params(fhir_ops.lookup(builtin, systems.TRE_R211_URL, "063"))
    assert p["display"] == "Hygiène, prévention, contrôle des infections associées aux soins"
    assert p["version"] == "20230802150000" and p["name"] == "Activite Operationnelle"
    raw = fhir_ops.lookup(builtin, "TRE_R211", "063")["parameter"]
    props = {}
    for item in raw:
        if item["name"] == "property":
            code_part, value_part = item["part"]
            props[code_part["valueCode"]] = next(v for k, v in value_part.items() if k.startswith("value"))
    assert props["inactive"] is False and props["dateValid"] == "2015-04-08"
    with pytest.raises(EngineError) as exc:
        fhir_ops.lookup(builtin, "TRE_R211", "999")
    assert exc.value.code == "NOM-0002" and exc.value.http_status == 404
    with pytest.raises(EngineError) as exc:
        fhir_ops.lookup(builtin, "urn:oid:9.9", "1")
    assert exc.value.code == "NOM-0001"
    with pytest.raises(EngineError):
        fhir_ops.lookup(builtin, None, "1")


def test_fhir_validate_code(builtin: Registry) -> None:
    p = _params(fhir_ops.validate_code(builtin, systems.TRE_R210_URL, "0909"))
    assert p == {"result": True, "display": "Prévention et gestion des maladies infectieuses transmissibles"}
    p = _params(fhir_ops.validate_code(builtin, "TRE_R227", "42"))
    assert p["result"] is False and "42" in str(p["message"])
    outcome = p["issues"]
    assert outcome["issue"][0]["details"]["coding"][0]["code"] == "NOM-0002"  # type: ignore[index]
    p = _params(fhir_ops.validate_code(builtin, systems.JDV_J07_URL, "34794-8", system=systems.LOINC_URL))
    assert p["result"] is True
    p = _params(fhir_ops.validate_code(builtin, systems.JDV_J07_URL, "34794-8", system=systems.TRE_R211_URL))
    assert p["result"] is False
    p = _params(fhir_ops.validate_code(builtin, None, "07", system="TRE_R287", display="Secretariat"))
    assert p["result"] is True and "message" not in p
    p = _params(fhir_ops.validate_code(builtin, "urn:oid:9.9", "1"))
    assert p["result"] is False and "unknown" in str(p["message"])


concept_st = st.builds(
    lambda code, disp, to, dep: Concept(
        code, disp, derive_status(to, ConceptStatus.DEPRECATED if dep else None), None, to, None, dep
    ),
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=30),
    st.one_of(st.none(), st.dates().map(lambda d: d.isoformat())),
    st.booleans(),
)


@settings(max_examples=50, deadline=None)
@given(st.lists(concept_st, max_size=20, unique_by=lambda c: c.code))
def test_storage_round_trip(concepts: list[Concept]) -> None:
    cs = CodeSystemVersion(
        url="urn:t", id="T", version="1", concepts={c.code: c for c in concepts}, oid="1.2.3"
    )
    back = storage.from_compact(storage.to_compact(cs))
    assert isinstance(back, CodeSystemVersion)
    assert back.concepts == cs.concepts and (back.url, back.oid, back.version) == ("urn:t", "1.2.3", "1")
