"""Shared fixtures for the CDA tests: corpus paths (skip when absent) and a built N1 document."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from aiguillage.cda.build import N1Params, Organization, Person
from aiguillage.cda.header import InstanceId

PROJECT = Path(__file__).resolve().parents[2]
CORPUS = PROJECT / ".." / "shared" / "corpus" / "cda"
EXAMPLES = CORPUS / "examples"
NORMATIVE_XSD = CORPUS / "xsd" / "hl7-cda-r2-normative" / "infrastructure" / "cda" / "CDA.xsd"
EXTENDED_XSD = CORPUS / "xsd" / "ans-cisis-extended" / "infrastructure" / "cda" / "CDA_extended.xsd"
DATA = PROJECT / "tests" / "data" / "cda"

# CR-BIO (lab: namespace) and CR-IMG (DICOM ps3-20 accessionNumber) need the ANS extended schema
EXTENDED_ONLY = ("BIO-", "IMG_")

# a tiny but real PDF header/trailer; the validator only checks the %PDF- magic
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def schema_for(name: str) -> Path:
    return EXTENDED_XSD if name.startswith(EXTENDED_ONLY) else NORMATIVE_XSD


def require_corpus() -> None:
    for p in (EXAMPLES, NORMATIVE_XSD, EXTENDED_XSD):
        if not p.exists():
            pytest.skip(f"corpus absent: {p}")


@pytest.fixture
def corpus() -> Path:
    require_corpus()
    return EXAMPLES


@pytest.fixture
def normative_xsd() -> Path:
    require_corpus()
    return NORMATIVE_XSD


@pytest.fixture(autouse=True)
def _no_env_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    # tests say which schema they use; the developer's environment must not leak in
    monkeypatch.delenv("AIGUILLAGE_CDA_XSD", raising=False)
    monkeypatch.delenv("AIGUILLAGE_CDA_MAX_BYTES", raising=False)


def n1_params(**overrides: object) -> N1Params:
    values: dict[str, object] = {
        "type_code": "11490-0",
        "type_display": "Lettre de liaison à la sortie d'un établissement de soins",
        "title": "Lettre de liaison de sortie",
        "effective_time": datetime(2025, 3, 11, 9, 11, 0, tzinfo=timezone(timedelta(hours=1))),
        "patient_ins": "279035121518989",
        "ins_oid": "1.2.250.1.213.1.4.10",  # INS-NIR de test
        "patient_birth_family": "PAT-TEST",
        "patient_birth_given": "CAMILLE",
        "patient_birth_date": date(1979, 3, 28),
        "patient_gender": "F",
        "author": Person("801234567897", "MEDECIN-TEST", "Alex"),
        "organization": Organization("1750803447", "Hôpital de test <A&B>"),
        "patient_ipp": InstanceId("1.2.3.4.567.8.9.10", "IPP0001"),
        "stay_id": InstanceId("1.2.3.4.567.8.9.11", "SEJ0001"),
        "document_id": InstanceId("1.2.3.4.567.8.9.12.1", "DOC0001"),
        "set_id": InstanceId("1.2.3.4.567.8.9.12.2", "SET0001"),
    }
    values.update(overrides)
    return N1Params(**values)  # type: ignore[arg-type]
