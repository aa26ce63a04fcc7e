"""HL7 TS parsing, type-code source switch, and header helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from aiguillage.cda import typecodes
from aiguillage.cda.hl7time import format_ts, parse_ts
from aiguillage.cda.oids import actor_id_kind, patient_id_kind


def test_parse_ts_precisions_and_zones() -> None:
    t = parse_ts("20191203133000+0100")
    assert t is not None and t.precision == "second" and t.has_timezone
    assert t.value == datetime(2019, 12, 3, 12, 30, tzinfo=UTC)
    d = parse_ts("20191203")
    assert d is not None and d.precision == "day" and not d.has_timezone and d.value.tzinfo is None
    f = parse_ts("20191203133000.25-0500")
    assert f is not None and f.value.microsecond == 250000 and f.value.utcoffset() == timedelta(hours=-5)
    for bad in ("2019-12-03", "20191332", "201912031360", "20191203+2500", "", "2019120"):
        assert parse_ts(bad) is None, bad


@given(
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)).map(
        lambda d: d.replace(microsecond=0)
    ),
    st.integers(min_value=-12 * 60, max_value=14 * 60),
)
def test_format_then_parse_round_trips(value: datetime, offset_minutes: int) -> None:
    aware = value.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    parsed = parse_ts(format_ts(aware))
    assert parsed is not None and parsed.value == aware and parsed.precision == "second"


def test_id_kinds() -> None:
    assert patient_id_kind("1.2.250.1.213.1.4.8") == "NIR"
    assert patient_id_kind("1.2.250.1.213.1.4.9") == "NIA"
    assert patient_id_kind("1.2.250.1.213.1.4.11") == "NIR_DEMO"
    assert patient_id_kind("1.2.250.1.213.1.4.12") == "INS_UNKNOWN"
    assert patient_id_kind("1.2.250.1.213.1.4.8.1") == "IPP"
    assert actor_id_kind("1.2.250.1.71.4.2.1", "801234567897") == "RPPS"
    assert actor_id_kind("1.2.250.1.71.4.2.1", "0751234567") == "ADELI"
    assert actor_id_kind("1.2.250.1.71.4.2.2", "1750803447") == "FINESS"
    assert actor_id_kind("1.2.3", "x") == "LOCAL"


def test_builtin_jdv_j07_and_registry_switch() -> None:
    builtin = typecodes.builtin_type_codes()
    assert ("11490-0", "2.16.840.1.113883.6.1") in builtin  # LDL de sortie (HOP'EN P1.02)
    assert ("34874-8", "2.16.840.1.113883.6.1") in builtin  # CR opératoire (P1.03)
    assert ("CERT_DECL", "1.2.250.1.213.1.1.4.12") in builtin
    assert len(builtin) == 114
    try:
        typecodes.set_registry_lookup(
            lambda oid: frozenset({("X", "Y")}) if oid == typecodes.JDV_J07_OID else None
        )
        assert typecodes.dmp_type_codes() == frozenset({("X", "Y")})
        typecodes.set_registry_lookup(lambda oid: None)
        assert typecodes.dmp_type_codes() == builtin
    finally:
        typecodes.set_registry_lookup(typecodes.nomenclatures_lookup)
    assert typecodes.dmp_type_codes() == builtin  # the registry's JDV_J07 is a fragment today


def test_nomenclatures_lookup_refuses_fragments_and_unknown() -> None:
    assert typecodes.nomenclatures_lookup("9.9.9.9") is None
    found = typecodes.nomenclatures_lookup(typecodes.JDV_J07_OID)
    # either the registry's list is complete (then it holds the LDL code as a LOINC OID pair) or unused
    assert found is None or ("11490-0", "2.16.840.1.113883.6.1") in found
