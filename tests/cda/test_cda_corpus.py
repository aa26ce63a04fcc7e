"""Every CI-SIS example validates clean against the right schema; headers are summarised right."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiguillage.cda import codes
from aiguillage.cda.header import extract_header
from aiguillage.cda.parse import parse_cda
from aiguillage.cda.validate import check_document, validate
from tests.cda.conftest import EXAMPLES, EXTENDED_XSD, NORMATIVE_XSD, require_corpus, schema_for

NAMES = sorted(p.name for p in EXAMPLES.glob("*.xml")) if EXAMPLES.exists() else ["<corpus absent>"]


@pytest.mark.parametrize("name", NAMES)
def test_example_is_clean_against_its_schema(name: str) -> None:
    require_corpus()
    report = validate((EXAMPLES / name).read_bytes(), schema_for(name))
    assert report.errors == [], [i.as_dict() for i in report.errors]
    assert report.valid
    assert report.header is not None and report.header.level in ("N1", "N3")


def test_corpus_has_the_nine_examples() -> None:
    require_corpus()
    assert len(NAMES) == 9


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith(("BIO-", "IMG_"))])
def test_bio_and_img_need_the_extended_schema(name: str) -> None:
    # documents the schema choice: the lab/DICOM extensions are unknown to the normative XSD
    require_corpus()
    report = validate((EXAMPLES / name).read_bytes(), NORMATIVE_XSD)
    assert not report.valid
    assert {i.code for i in report.errors} == {codes.XSD_INVALID}
    assert all(i.location and ("lab:" in i.location or "ps3-20:" in i.location) for i in report.errors)


@pytest.mark.parametrize("name", [n for n in NAMES if not n.startswith(("BIO-", "IMG_"))])
def test_other_examples_also_pass_the_extended_schema(name: str) -> None:
    require_corpus()
    assert validate((EXAMPLES / name).read_bytes(), EXTENDED_XSD).valid


def test_header_of_generic_n1(corpus: Path) -> None:
    header = extract_header(parse_cda((corpus / "DOC_NON_STRUCTURE_CDA-R2-N1.xml").read_bytes()))
    assert header.level == "N1"
    assert header.n1_body is not None and header.n1_body.media_type == "application/pdf"
    assert header.n1_body.decoded().startswith(b"%PDF-")
    assert header.type_code is not None and header.type_code.code == "11502-2"
    assert header.type_code.code_system == "2.16.840.1.113883.6.1"
    assert header.effective_time is not None and header.effective_time.utcoffset() is not None
    assert header.effective_time.isoformat() == "2021-04-01T13:47:45+01:00"
    assert [p.kind for p in header.patient_ids] == ["NIR_TEST", "IPP"]
    assert header.patient_ids[1].root == "1.2.3.4.567.8.9.10"
    assert header.ins is not None and header.ins.extension == "279035121518989"
    assert header.authors[0].ids[0].kind == "RPPS"
    assert header.custodian is not None and header.custodian.id is not None
    assert header.custodian.id.kind == "FINESS"
    assert header.version_number == 1 and header.set_id is not None
    assert [t.root for t in header.template_ids][-1] == "1.3.6.1.4.1.19376.1.2.20"


def test_header_of_replacing_imaging_report(corpus: Path) -> None:
    header = extract_header(parse_cda((corpus / "IMG_CR_IMG_2024.01.xml").read_bytes()))
    assert header.level == "N3" and header.version_number == 2
    assert header.replaces is not None and header.replaces.root == "90E1C8EC-F951-4B26-A305-A34848818DD6"


def test_header_stay_id_is_the_local_encounter_id(corpus: Path) -> None:
    header = extract_header(parse_cda((corpus / "CANCER-FRCP_2022.01_Appareil.xml").read_bytes()))
    assert len(header.encounter_ids) == 5
    assert header.stay_id is not None
    assert (header.stay_id.root, header.stay_id.extension) == ("1.2.3.4.567.8.9.10", "54678")


def test_log_view_holds_no_identifiers(corpus: Path) -> None:
    header = extract_header(parse_cda((corpus / "LDL-SES_2022.01.xml").read_bytes()))
    text = repr(header.log_view())
    for secret in (
        "279035121518989",
        "1234567890121",
        "801234567897",
        "PAT-TROIS",
        "1.2.250.1.213.1.1.1.29.2022",
    ):
        assert secret not in text
    assert header.log_view()["typeCode"] == "11490-0"
    assert header.log_view()["patientIdKinds"] == ["NIR_TEST", "IPP"]
    full = header.to_dict()
    assert full["patientIds"][0]["extension"] == "279035121518989"


def test_check_document_as_json(corpus: Path) -> None:
    name = "LDL-EES_2022.01.xml"
    out = check_document((corpus / name).read_bytes(), schema_for(name)).as_json()
    assert set(out) == {"valid", "issues", "header"}
    assert out["valid"] is True and out["issues"] == []
    assert out["header"]["typeCode"]["code"] == "18761-7"


def test_schema_from_environment_and_skip_warning(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = (corpus / "IMG_CR_IMG_2024.01.xml").read_bytes()
    skipped = validate(data)
    assert skipped.valid and skipped.codes() == [codes.XSD_SKIPPED]
    assert skipped.issues[0].severity == "warning"
    monkeypatch.setenv("AIGUILLAGE_CDA_XSD", str(NORMATIVE_XSD))
    assert codes.XSD_INVALID in validate(data).codes()
    monkeypatch.setenv("AIGUILLAGE_CDA_XSD", str(EXTENDED_XSD))
    assert validate(data).issues == []
