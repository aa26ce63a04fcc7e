from __future__ import annotations

from pathlib import Path

import pytest

from aiguillage.hl7v2 import AdtEvent, AdtKind, HL7MappingError, parse, to_adt_event
from tests.hl7v2.conftest import CORPUS, DATA, sample

CASES = [
    ("adt_a01_admit.hl7", "A01", AdtKind.ADMIT, None, None),
    ("adt_a04_outpatient.hl7", "A04", AdtKind.REGISTER_OUTPATIENT, None, None),
    ("adt_a11_cancel_admit.hl7", "A11", AdtKind.CANCEL_ADMIT, "A01", None),
    ("adt_a05_preadmit.hl7", "A05", AdtKind.PRE_ADMIT, None, None),
    ("adt_a38_cancel_preadmit.hl7", "A38", AdtKind.CANCEL_PRE_ADMIT, "A05", None),
    ("adt_a06_outpatient_to_inpatient.hl7", "A06", AdtKind.OUTPATIENT_TO_INPATIENT, None, None),
    ("adt_a07_inpatient_to_outpatient.hl7", "A07", AdtKind.INPATIENT_TO_OUTPATIENT, None, None),
    ("adt_a06_cancel_a07.hl7", "A06", AdtKind.CANCEL_CLASS_CHANGE, "A07", None),
    ("adt_a02_transfer.hl7", "A02", AdtKind.TRANSFER, None, None),
    ("adt_a12_cancel_transfer.hl7", "A12", AdtKind.CANCEL_TRANSFER, "A02", None),
    ("adt_a03_discharge.hl7", "A03", AdtKind.DISCHARGE, None, None),
    ("adt_a13_cancel_discharge.hl7", "A13", AdtKind.CANCEL_DISCHARGE, "A03", None),
    ("adt_a21_leave.hl7", "A21", AdtKind.LEAVE_OF_ABSENCE, None, None),
    ("adt_a52_cancel_leave.hl7", "A52", AdtKind.CANCEL_LEAVE_OF_ABSENCE, "A21", None),
    ("adt_a22_return.hl7", "A22", AdtKind.RETURN_FROM_LEAVE, None, None),
    ("adt_a53_cancel_return.hl7", "A53", AdtKind.CANCEL_RETURN_FROM_LEAVE, "A22", None),
    ("adt_a54_change_doctor.hl7", "A54", AdtKind.CHANGE_ATTENDING_DOCTOR, None, None),
    ("adt_a55_cancel_change_doctor.hl7", "A55", AdtKind.CANCEL_CHANGE_ATTENDING_DOCTOR, "A54", None),
    ("adt_z99_update.hl7", "Z99", AdtKind.UPDATE_MOVEMENT, None, "A02"),
    ("adt_a44_move_account.hl7", "A44", AdtKind.MOVE_ACCOUNT, None, None),
    ("adt_a28_add_person.hl7", "A28", AdtKind.ADD_PERSON, None, None),
    ("adt_a31_update_person.hl7", "A31", AdtKind.UPDATE_PERSON, None, None),
    ("adt_a47_change_id.hl7", "A47", AdtKind.CHANGE_PATIENT_ID, None, None),
    ("adt_a40_merge.hl7", "A40", AdtKind.MERGE_PATIENT, None, None),
]


@pytest.mark.parametrize(("name", "trigger", "kind", "cancels", "corrects"), CASES)
def test_event_table(name: str, trigger: str, kind: AdtKind, cancels: str | None, corrects: str | None) -> None:
    ev = to_adt_event(parse(sample(name)))
    assert (ev.trigger, ev.kind, ev.cancels, ev.corrects) == (trigger, kind, cancels, corrects)
    assert ev.warnings == []
    assert ev.bus_key == "IPP:1.2.250.1.999.1.1:IPP0042"
    assert ev.patient.ins is not None and ev.patient.ins.kind == "NIR_TEST" and ev.patient.ins_trusted
    if ev.movement is not None:
        assert ev.stay is not None and ev.stay.visit_number is not None
        assert ev.stay.visit_number.value == "NDA0007"
        assert ev.movement.action == ("CANCEL" if cancels else "UPDATE" if corrects else "INSERT")
    assert AdtEvent.from_json(ev.to_json()) == ev


def test_a01_details() -> None:
    ev = to_adt_event(parse(sample("adt_a01_admit.hl7")))
    mv, stay = ev.movement, ev.stay
    assert mv is not None and stay is not None
    assert (mv.id, mv.at, mv.historic, mv.nature) == ("M1", "20250102080000", False, "HMS")
    assert (mv.uf_medicale, mv.uf_soins, mv.uf_soins_label) == ("UF100", "UF101", "Medecine A soins")
    assert (stay.patient_class, stay.point_of_care, stay.room, stay.bed) == ("I", "UF100", "CH12", "L1")
    assert stay.admit_at == "20250102080000"
    assert ev.zfa is not None and (ev.zfa.dmp_status, ev.zfa.feeding_opposition, ev.zfa.consultation_consent) == (
        "ACTIF", "INO", "IC")
    assert ev.zfd is not None and ev.zfd.identity_mode == "INSI"
    assert ev.zfm is not None and (ev.zfm.entry_mode, ev.zfm.provenance) == ("8", "7")
    assert ev.patient.identity_status == "VALI"
    text = repr(ev) + repr(ev.patient)
    assert "CAMILLE" not in text and "19800115" not in text and "180017512345678" not in text


def test_merge_and_account_move_details() -> None:
    a40 = to_adt_event(parse(sample("adt_a40_merge.hl7")))
    assert a40.merge is not None and a40.merge.prior_key == "IPP:1.2.250.1.999.1.1:IPP0041"
    a44 = to_adt_event(parse(sample("adt_a44_move_account.hl7")))
    assert a44.merge is not None and a44.merge.prior_visit_number is not None
    assert a44.merge.prior_visit_number.value == "NDA0006"


def test_ins_untrusted_when_not_vali() -> None:
    raw = sample("adt_a01_admit.hl7").replace(b"||VALI", b"||PROV")
    ev = to_adt_event(parse(raw))
    assert ev.patient.ins is not None and not ev.patient.ins_trusted
    assert ev.bus_key.startswith("IPP:")
    assert [w.code for w in ev.warnings] == ["HL7-0208"]


def test_a08_warns_by_default_and_fails_in_strict() -> None:
    msg = parse(sample("adt_a08_update_not_pamfr.hl7"))
    ev = to_adt_event(msg)
    assert ev.kind is AdtKind.UPDATE_PATIENT and [w.code for w in ev.warnings] == ["HL7-0207"]
    with pytest.raises(HL7MappingError) as exc:
        to_adt_event(msg, strict=True)
    assert exc.value.issues[0].code == "HL7-0207" and exc.value.hl7_code == "201"


def test_missing_msh10_wrong_version_are_errors() -> None:
    with pytest.raises(HL7MappingError) as exc:
        to_adt_event(parse(sample("edge_missing_msh10.hl7")))
    assert [(i.code, i.location) for i in exc.value.issues] == [("HL7-0201", "MSH-10")]
    with pytest.raises(HL7MappingError) as exc:
        to_adt_event(parse(sample("edge_wrong_version.hl7")))
    assert exc.value.code == "HL7-0203" and exc.value.hl7_code == "203"


def test_every_issue_is_reported() -> None:
    raw = (b"MSH|^~\\&|A|B|C|D|20250101||ADT^A02^ADT_A02||X|2.4\rEVN||20250101\r"
           b"PID|1||123^^^A^NH\r")
    with pytest.raises(HL7MappingError) as exc:
        to_adt_event(parse(raw))
    got = {(i.code, i.location) for i in exc.value.issues}
    assert got == {("HL7-0201", "MSH-10"), ("HL7-0203", "MSH-12"), ("HL7-0211", "MSH-11"),
                   ("HL7-0201", "PID-3"), ("HL7-0206", "PV1"), ("HL7-0206", "ZBE")}


def test_unknown_event_and_type() -> None:
    raw = sample("adt_a01_admit.hl7")
    with pytest.raises(HL7MappingError) as exc:
        to_adt_event(parse(raw.replace(b"ADT^A01^ADT_A01", b"ADT^A99^ADT_A01")))
    assert exc.value.code == "HL7-0202" and exc.value.hl7_code == "201"
    with pytest.raises(HL7MappingError) as exc:
        to_adt_event(parse(raw.replace(b"ADT^A01^ADT_A01", b"ORU^A01^ORU_R01")))
    assert exc.value.issues[0].code == "HL7-0204"


def test_zbe_checks() -> None:
    raw = sample("adt_a12_cancel_transfer.hl7")
    with pytest.raises(HL7MappingError) as exc:
        to_adt_event(parse(raw.replace(b"|CANCEL|N|A02|", b"|CANCEL|N|A03|")))
    assert exc.value.issues[0].code == "HL7-0210"
    with pytest.raises(HL7MappingError) as exc:
        to_adt_event(parse(raw.replace(b"|CANCEL|N|A02|", b"|INSERT|N||")))
    assert exc.value.issues[0].code == "HL7-0210"
    ev = to_adt_event(parse(raw.replace(b"|CANCEL|N|A02|", b"||N||")))
    assert ev.cancels == "A02" and ev.movement is not None and ev.movement.action == "CANCEL"
    assert {w.code for w in ev.warnings} == {"HL7-0209", "HL7-0201"}
    with pytest.raises(HL7MappingError):
        to_adt_event(parse(raw.replace(b"|CANCEL|N|A02|", b"||N||")), strict=True)


def _corpus_files() -> list[Path]:
    return sorted((CORPUS / "pam-fr").rglob("*.er7"))


def test_corpus_pam_fr_messages_map_to_events() -> None:
    files = _corpus_files()
    if not files:
        pytest.skip(f"corpus absent: {CORPUS / 'pam-fr'}")
    for path in files:
        msg = parse(path.read_bytes())
        assert msg.normalised in (None, "LF", "CRLF")
        ev = to_adt_event(msg)
        assert ev.trigger in ("A01", "A03"), path.name
        assert ev.bus_key == "IPP:000897406:000003"
        assert ev.movement is not None and ev.movement.id
        assert AdtEvent.from_json(ev.to_json()) == ev
        if ev.trigger == "A01":
            assert ev.zfa is not None and ev.zfa.dmp_status == "ACTIF"
            assert ev.warnings == []


def test_corpus_non_adt_messages_parse() -> None:
    root = CORPUS / "oru-mdm-transmission"
    files = sorted(p for p in root.rglob("*") if p.suffix in (".hl7", ".er7"))
    if not files:
        pytest.skip(f"corpus absent: {root}")
    for path in files:
        msg = parse(path.read_bytes())
        assert msg.message_type.code in ("ORU", "MDM", "ACK"), path.name
        assert msg.control_id


def test_samples_readme_lists_every_file() -> None:
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for path in DATA.glob("*.hl7"):
        assert path.name in readme, path.name
