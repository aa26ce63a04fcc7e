"""wrap_pdf_n1 builds an N1 document that our own validator (and both XSDs) accept."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiguillage.cda import codes
from aiguillage.cda.build import wrap_pdf_n1
from aiguillage.cda.header import InstanceId, extract_header
from aiguillage.cda.parse import parse_cda
from aiguillage.cda.validate import validate
from aiguillage.errors import InputError
from tests.cda.conftest import EXTENDED_XSD, PDF, n1_params, require_corpus


def test_built_n1_validates_clean_without_schema() -> None:
    report = validate(wrap_pdf_n1(PDF, n1_params()), None, require_ins=True)
    assert report.valid
    assert report.codes() == [codes.XSD_SKIPPED]


@pytest.mark.parametrize("which", ["normative", "extended"])
def test_built_n1_validates_against_both_schemas(which: str, normative_xsd: Path) -> None:
    require_corpus()
    xsd = normative_xsd if which == "normative" else EXTENDED_XSD
    report = validate(wrap_pdf_n1(PDF, n1_params()), xsd, require_ins=True)
    assert report.issues == [], [i.as_dict() for i in report.issues]


def test_built_header_round_trips() -> None:
    data = wrap_pdf_n1(PDF, n1_params())
    header = extract_header(parse_cda(data))
    assert header.level == "N1"
    assert header.n1_body is not None and header.n1_body.decoded() == PDF
    assert header.type_code is not None and header.type_code.code == "11490-0"
    assert header.ins is not None and header.ins.kind == "NIR_TEST"
    assert header.stay_id == InstanceId("1.2.3.4.567.8.9.11", "SEJ0001")
    assert header.custodian is not None and header.custodian.name == "Hôpital de test <A&B>"
    assert (
        header.effective_time is not None and header.effective_time.isoformat() == "2025-03-11T09:11:00+01:00"
    )
    assert b"&lt;A&amp;B&gt;" in data  # values are escaped, never spliced


def test_replacing_version_carries_rplc() -> None:
    params = n1_params(version_number=2, replaces=InstanceId("1.2.3.4.567.8.9.12.1", "DOC0000"))
    data = wrap_pdf_n1(PDF, params)
    report = validate(data, None)
    assert report.valid and codes.RELATED_DOCUMENT not in report.codes()
    header = extract_header(parse_cda(data))
    assert header.replaces == InstanceId("1.2.3.4.567.8.9.12.1", "DOC0000")


def test_default_ids_are_distinct_uuids() -> None:
    params = n1_params()
    del_ids = {k: v for k, v in params.__dict__.items() if k not in ("document_id", "set_id")}
    from aiguillage.cda.build import N1Params

    fresh = N1Params(**del_ids)
    assert fresh.document_id != fresh.set_id
    assert validate(wrap_pdf_n1(PDF, fresh), None).valid


def test_non_pdf_is_refused() -> None:
    with pytest.raises(InputError) as info:
        wrap_pdf_n1(b"<html/>", n1_params())
    assert info.value.code == codes.BUILD_NOT_PDF


def test_naive_time_and_orphan_version_refused() -> None:
    from datetime import datetime

    with pytest.raises(InputError) as info:
        wrap_pdf_n1(PDF, n1_params(effective_time=datetime(2025, 1, 1, 10, 0, 0)))
    assert info.value.code == codes.BUILD_BAD_PARAMS
    with pytest.raises(InputError):
        wrap_pdf_n1(PDF, n1_params(version_number=2))
