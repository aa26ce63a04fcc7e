"""Mutations of CI-SIS examples: each broken rule yields its stable code, located by XPath."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from lxml import etree

from aiguillage.cda import codes
from aiguillage.cda.parse import parse_cda
from aiguillage.cda.validate import ValidationReport, validate
from tests.cda.conftest import EXAMPLES, require_corpus, schema_for

N = {"h": "urn:hl7-org:v3"}
N3 = "LDL-SES_2022.01.xml"
N1 = "DOC_NON_STRUCTURE_CDA-R2-N1.xml"

Mutation = Callable[[etree._Element], None]


def _one(root: etree._Element, path: str) -> etree._Element:
    found = root.find(path, N)
    assert found is not None, path
    return found


def _remove(path: str) -> Mutation:
    def apply(root: etree._Element) -> None:
        for el in root.findall(path, N):
            el.getparent().remove(el)

    return apply


def _set(path: str, attr: str, value: str) -> Mutation:
    return lambda root: _one(root, path).set(attr, value)


def _set_text(path: str, text: str) -> Mutation:
    def apply(root: etree._Element) -> None:
        _one(root, path).text = text

    return apply


def run(name: str, mutation: Mutation, schema: bool = True, **kw: bool) -> ValidationReport:
    require_corpus()
    root = parse_cda((EXAMPLES / name).read_bytes()).getroot()
    mutation(root)
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return validate(data, schema_for(name) if schema else None, **kw)


def codes_of(report: ValidationReport, severity: str = "error") -> set[str]:
    return {i.code for i in report.issues if i.severity == severity}


NOT_PDF = base64.b64encode(b"<html>not a pdf</html>").decode()

CASES: list[tuple[str, str, Mutation, str, str]] = [
    ("no realmCode", N3, _remove("h:realmCode"), codes.REALM_CODE, "/ClinicalDocument/realmCode"),
    ("realm DE", N3, _set("h:realmCode", "code", "DE"), codes.REALM_CODE, "/ClinicalDocument/realmCode"),
    ("typeId ext", N3, _set("h:typeId", "extension", "X"), codes.TYPE_ID, "/ClinicalDocument/typeId"),
    ("no CI-SIS tpl", N3, _remove("h:templateId[@root='1.2.250.1.213.1.1.1.1']"), codes.TEMPLATE_CISIS, ""),
    (
        "bad INS OID",
        N3,
        _set("h:recordTarget/h:patientRole/h:id", "root", "1.2.250.1.213.1.4.99"),
        codes.INS_OID_UNKNOWN,
        "/ClinicalDocument/recordTarget/patientRole/id[1]",
    ),
    (
        "short INS",
        N3,
        _set("h:recordTarget/h:patientRole/h:id", "extension", "2790351"),
        codes.INS_FORMAT,
        "/ClinicalDocument/recordTarget/patientRole/id[1]",
    ),
    (
        "INS without traits",
        N3,
        _remove("h:recordTarget/h:patientRole/h:patient/h:birthTime"),
        codes.INS_TRAITS,
        "/ClinicalDocument/recordTarget/patientRole/patient",
    ),
    (
        "unknown type code",
        N3,
        _set("h:code", "code", "99999-9"),
        codes.TYPE_CODE_UNKNOWN,
        "/ClinicalDocument/code",
    ),
    ("no type code", N3, _remove("h:code"), codes.TYPE_CODE_MISSING, "/ClinicalDocument/code"),
    (
        "bad time",
        N3,
        _set("h:effectiveTime", "value", "2019-12-03"),
        codes.EFFECTIVE_TIME,
        "/ClinicalDocument/effectiveTime",
    ),
    (
        "bad conf",
        N3,
        _set("h:confidentialityCode", "code", "X"),
        codes.CONFIDENTIALITY,
        "/ClinicalDocument/confidentialityCode",
    ),
    ("no author", N3, _remove("h:author"), codes.AUTHOR_MISSING, "/ClinicalDocument/author"),
    (
        "author no id",
        N3,
        _remove("h:author/h:assignedAuthor/h:id"),
        codes.AUTHOR_ID,
        "/ClinicalDocument/author/assignedAuthor",
    ),
    ("no custodian", N3, _remove("h:custodian"), codes.CUSTODIAN, "/ClinicalDocument/custodian"),
    (
        "no legal auth",
        N3,
        _remove("h:legalAuthenticator"),
        codes.LEGAL_AUTHENTICATOR,
        "/ClinicalDocument/legalAuthenticator",
    ),
    ("no componentOf", N3, _remove("h:componentOf"), codes.COMPONENT_OF, "/ClinicalDocument/componentOf"),
    (
        "setId = id",
        N3,
        _set("h:setId", "root", "1.2.250.1.213.1.1.1.29.2022.1.1"),
        codes.SET_ID,
        "/ClinicalDocument/setId",
    ),
    (
        "version 0",
        N3,
        _set("h:versionNumber", "value", "0"),
        codes.VERSION_NUMBER,
        "/ClinicalDocument/versionNumber",
    ),
    (
        "no versionNumber",
        N3,
        _remove("h:versionNumber"),
        codes.VERSION_NUMBER,
        "/ClinicalDocument/versionNumber",
    ),
    ("no title", N3, _remove("h:title"), codes.TITLE, "/ClinicalDocument/title"),
    ("bad doc id", N3, _set("h:id", "root", "not-an-oid"), codes.OID_SYNTAX, "/ClinicalDocument/id"),
    (
        "broken base64",
        N1,
        _set_text("h:component/h:nonXMLBody/h:text", "JVBERi0x!!!not*base64"),
        codes.N1_BASE64,
        "/ClinicalDocument/component/nonXMLBody/text",
    ),
    (
        "non-PDF",
        N1,
        _set_text("h:component/h:nonXMLBody/h:text", NOT_PDF),
        codes.N1_NOT_PDF,
        "/ClinicalDocument/component/nonXMLBody/text",
    ),
    (
        "bad media type",
        N1,
        _set("h:component/h:nonXMLBody/h:text", "mediaType", "application/zip"),
        codes.N1_MEDIA_TYPE,
        "/ClinicalDocument/component/nonXMLBody/text",
    ),
    (
        "not B64",
        N1,
        _set("h:component/h:nonXMLBody/h:text", "representation", "TXT"),
        codes.N1_REPRESENTATION,
        "/ClinicalDocument/component/nonXMLBody/text",
    ),
    ("N1 tpl", N1, _set("h:templateId[3]", "root", "1.2.250.1.213.1.1.1.29"), codes.N1_TEMPLATES, ""),
]


@pytest.mark.parametrize(("label", "name", "mutation", "code", "location"), CASES, ids=[c[0] for c in CASES])
def test_mutation_yields_its_code(
    label: str, name: str, mutation: Mutation, code: str, location: str
) -> None:
    # the rules run without the XSD (so the issue comes from the CI-SIS rule itself)
    report = run(name, mutation, schema=False)
    assert not report.valid, label
    matching = [i for i in report.issues if i.code == code and i.severity == "error"]
    assert matching, [i.as_dict() for i in report.issues]
    assert all(i.location and i.location.startswith("/") for i in report.issues)
    if location:
        assert location in {i.location for i in matching}


def test_every_issue_is_reported_not_just_the_first() -> None:
    def many(root: etree._Element) -> None:
        for m in (_remove("h:realmCode"), _remove("h:author"), _set("h:code", "code", "99999-9")):
            m(root)

    report = run(N3, many)
    assert {codes.REALM_CODE, codes.AUTHOR_MISSING, codes.TYPE_CODE_UNKNOWN} <= codes_of(report)
    assert codes.XSD_INVALID in codes_of(report)  # author is mandatory in the CDA schema too


def test_missing_ins_is_a_warning_unless_required() -> None:
    drop_ins = _remove("h:recordTarget/h:patientRole/h:id[@root='1.2.250.1.213.1.4.10']")
    lenient = run(N3, drop_ins)
    assert lenient.valid and codes_of(lenient, "warning") == {codes.INS_MISSING}
    strict = run(N3, drop_ins, require_ins=True)
    assert not strict.valid and codes_of(strict) == {codes.INS_MISSING}


def test_ans_confidentiality_code_is_a_warning() -> None:
    def masked(root: etree._Element) -> None:
        conf = _one(root, "h:confidentialityCode")
        conf.set("code", "MASQUE_PS")
        conf.set("codeSystem", "1.2.250.1.213.1.1.4.13")

    report = run(N3, masked, schema=False)
    assert report.valid
    assert codes.CONFIDENTIALITY_XDS_ONLY in codes_of(report, "warning")


def test_time_without_zone_is_a_warning() -> None:
    report = run(N3, _set("h:effectiveTime", "value", "20191203"))
    assert report.valid and codes.EFFECTIVE_TIME_PRECISION in codes_of(report, "warning")


def test_version_two_without_rplc_is_a_warning() -> None:
    report = run(N3, _set("h:versionNumber", "value", "2"))
    assert report.valid and codes_of(report, "warning") == {codes.RELATED_DOCUMENT}


def test_xsd_error_is_located() -> None:
    def bad_child(root: etree._Element) -> None:
        etree.SubElement(_one(root, "h:recordTarget"), "{urn:hl7-org:v3}bogus")

    report = run(N3, bad_child)
    xsd = [i for i in report.issues if i.code == codes.XSD_INVALID]
    assert xsd and xsd[0].location == "/ClinicalDocument/recordTarget/bogus"
