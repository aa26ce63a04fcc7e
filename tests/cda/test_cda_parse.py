"""Safe parsing: hostile XML is rejected with stable CDA-00xx codes, never expanded."""

from __future__ import annotations

import pytest
from lxml import etree

from aiguillage.cda import codes
from aiguillage.cda.errors import CDAParseError
from aiguillage.cda.parse import DEFAULT_MAX_BYTES, default_max_bytes, element_path, parse_cda
from aiguillage.cda.validate import validate
from aiguillage.errors import EngineError
from tests.cda.conftest import DATA

MINI = b'<ClinicalDocument xmlns="urn:hl7-org:v3"><realmCode code="FR"/></ClinicalDocument>'


def _code(data: bytes, **kw: int) -> str:
    with pytest.raises(CDAParseError) as info:
        parse_cda(data, **kw)
    assert isinstance(info.value, EngineError)
    assert info.value.issues and info.value.issues[0].severity == "fatal"
    return info.value.code


def test_minimal_document_parses() -> None:
    tree = parse_cda(MINI)
    assert etree.QName(tree.getroot()).localname == "ClinicalDocument"


def test_doctype_with_external_entity_rejected() -> None:
    assert _code((DATA / "doctype_xxe.xml").read_bytes()) == codes.DOCTYPE_FORBIDDEN


def test_billion_laughs_rejected() -> None:
    assert _code((DATA / "billion_laughs.xml").read_bytes()) == codes.DOCTYPE_FORBIDDEN


def test_doctype_after_comments_and_pis_rejected() -> None:
    data = b'<?xml version="1.0"?><!-- c --><?pi x?>\n<!doctype ClinicalDocument>' + MINI
    assert _code(data) == codes.DOCTYPE_FORBIDDEN


def test_utf16_doctype_rejected() -> None:
    text = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY e "x">]>' + MINI.decode()
    assert _code(text.encode("utf-16")) == codes.DOCTYPE_FORBIDDEN


def test_doctype_text_inside_cdata_is_not_a_doctype() -> None:
    data = MINI.replace(b"</ClinicalDocument>", b"<title><![CDATA[<!DOCTYPE x>]]></title></ClinicalDocument>")
    assert parse_cda(data).getroot() is not None


def test_oversized_rejected_before_parsing() -> None:
    assert _code(MINI, max_bytes=len(MINI) - 1) == codes.TOO_LARGE
    assert parse_cda(MINI, max_bytes=len(MINI)) is not None


def test_size_limit_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_max_bytes() == DEFAULT_MAX_BYTES == 20 * 1024 * 1024
    monkeypatch.setenv("AIGUILLAGE_CDA_MAX_BYTES", str(len(MINI) - 1))
    assert _code(MINI) == codes.TOO_LARGE


def test_not_well_formed_and_empty() -> None:
    assert _code(b"<ClinicalDocument xmlns='urn:hl7-org:v3'>") == codes.NOT_WELL_FORMED
    assert _code(b"  \n") == codes.NOT_WELL_FORMED


def test_undefined_entity_reference_rejected() -> None:
    assert _code(MINI.replace(b"<realmCode", b"<title>&x;</title><realmCode")) == codes.NOT_WELL_FORMED


def test_wrong_root_rejected() -> None:
    assert _code((DATA / "not_cda.xml").read_bytes()) == codes.NOT_CLINICAL_DOCUMENT
    assert _code(b"<ClinicalDocument/>") == codes.NOT_CLINICAL_DOCUMENT


def test_validate_reports_parse_failure_instead_of_raising() -> None:
    report = validate((DATA / "billion_laughs.xml").read_bytes())
    assert report.valid is False and report.header is None
    assert report.codes() == [codes.DOCTYPE_FORBIDDEN]
    assert report.as_json()["header"] is None


def test_element_path_is_readable() -> None:
    root = parse_cda(
        b'<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:lab="urn:x"><id/><id/><lab:s/></ClinicalDocument>'
    ).getroot()
    first, second, ext = list(root)
    assert element_path(second) == "/ClinicalDocument/id[2]"
    assert element_path(first) == "/ClinicalDocument/id[1]"
    assert element_path(ext) == "/ClinicalDocument/lab:s"
