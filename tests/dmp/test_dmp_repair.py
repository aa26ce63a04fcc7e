from __future__ import annotations

from datetime import datetime

from aiguillage.dmp import repair


def test_mojibake_folded_and_double_encoded() -> None:
    assert repair.fix_mojibake("PrA@sent") == "Présent"
    assert repair.fix_mojibake("PrÃ©sent") == "Présent"
    assert repair.fix_mojibake("CR opÃ©ratoire") == "CR opératoire"
    assert repair.fix_mojibake("Absent") == "Absent"
    assert repair.fix_mojibake("IPP A@B") == "IPP A@B"  # not inside a lower-case word: untouched


def test_scientific_notation_id_is_an_interval() -> None:
    m = repair.parse_mangled("8,1E+11")
    assert m is not None and m.digits == 12
    assert m.admits("810012345678") and m.admits("805000000000")
    assert not m.admits("815000000000") and not m.admits("81001234567")
    assert repair.rematch_mangled(m, ["100", "810012345678", "999999999999"]) == "810012345678"
    assert repair.rematch_mangled(m, ["810012345678", "809999999999"]) is None  # two fit: refuse


def test_overflow_and_prefix_completion() -> None:
    assert repair.is_overflow("#####") and not repair.is_overflow("#1")
    words = ["ERREUR_VERIFICATION", "ERREUR_DMP_CLOS", "ERREUR"]
    assert repair.complete_prefix("ERREUR_VERIFICATI", words) == "ERREUR_VERIFICATION"
    assert repair.complete_prefix("ERREUR_", words) is None  # ambiguous


def test_dates_in_the_shapes_seen() -> None:
    assert repair.parse_datetime("10/03/2025 11:54") == datetime(2025, 3, 10, 11, 54)
    assert repair.parse_datetime("2025-03-10T11:54:00") == datetime(2025, 3, 10, 11, 54)
    assert repair.parse_date("45658").isoformat() == "2025-01-01"  # Excel serial


def test_truncated_uuid_shapes() -> None:
    assert repair.looks_truncated_uuid("3e86a1c-01b0-410f-80db-a5eb2ad")
    assert repair.looks_truncated_uuid("a785cd7-eci")
    assert not repair.looks_truncated_uuid("D-S01-LDL")
    assert not repair.looks_truncated_uuid("3e86a1c0-01b0-410f-80db-a5eb2ad01234")
    assert repair.uuid_core("3e86a1c-01b0-410f-80db-a5eb2ad") == "01b0-410f-80db"
