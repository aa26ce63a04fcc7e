from __future__ import annotations

from datetime import datetime

from aiguillage.errors import Issue
from aiguillage.hl7v2 import AckCode, AckError, build_ack, build_nack_for_unparseable, parse, peek_header
from tests.hl7v2.conftest import sample

NOW = datetime(2025, 1, 2, 8, 5, 0)


def test_ack_accept_mirrors_header(a01: bytes) -> None:
    msg = parse(a01)
    ack = parse(build_ack(msg, AckCode.AA, control_id="ACK1", now=NOW))
    assert ack.message_type == ("ACK", "A01", "ACK")
    assert ack.sending_app == "AIGUILLAGE" and ack.receiving_app == "GAM_TEST"
    assert ack.sending_facility == "HOPITAL-FICTIF"
    assert ack.control_id == "ACK1" and ack.version == "2.5" and ack.charset == "UNICODE UTF-8"
    assert ack.get("MSH-7") == "20250102080500"
    assert ack.get("MSA-1") == "AA" and ack.get("MSA-2") == "CTL-A01"
    assert ack.segments("ERR") == []


def test_ack_errors_and_enhanced(a01: bytes) -> None:
    msg = parse(a01)
    errs = [
        AckError("101", "PID-3 missing | really", "PID-3[1].4", "E"),
        AckError.from_issue(Issue("warning", "HL7-0208", "INS not trusted", "PID-32")),
    ]
    ack = parse(build_ack(msg, AckCode.AE, errs, enhanced=True))
    assert ack.get("MSA-1") == "CE"
    e1, e2 = ack.segments("ERR")
    assert e1.raw(2) == "PID^1^3^1^4"
    assert (e1.get(3, 1, 1), e1.get(3, 1, 3), e1.get(4)) == ("101", "HL70357", "E")
    assert e1.get(8) == "PID-3 missing | really"
    assert e2.raw(2) == "PID^1^32^1" and e2.get(3) == "103" and e2.get(4) == "W"
    assert AckCode.CR.original() is AckCode.AR


def test_ack_keeps_custom_delimiters_and_charset() -> None:
    raw = "MSH#$*@%#APP#FAC#R#F#20250101##ADT$A28#X1#P#2.5.1#####FRA#8859/1\rPID#1##I$$$A$PI##É\r"
    msg = parse(raw.encode("latin-1"))
    ack_bytes = build_ack(msg, AckCode.AR, [AckError("207", "échec")])
    ack = parse(ack_bytes)
    assert ack.d == msg.d and ack.charset == "8859/1" and ack.version == "2.5.1"
    assert ack.get("ERR-8") == "échec" and ack.get("MSA-1") == "AR"


def test_nack_for_unparseable_extracts_control_id() -> None:
    raw = b"MSH|^~\\&|APP|FAC|DEST|DFAC|20250101||ADT^A01|CID-9|P|2.5\rP D|bad segment\r"
    ack = parse(build_nack_for_unparseable(raw, AckCode.AR, "bad segment id"))
    assert ack.get("MSA-1") == "AR" and ack.get("MSA-2") == "CID-9"
    assert ack.receiving_app == "APP" and ack.get("ERR-3") == "100" and ack.get("ERR-8") == "bad segment id"


def test_nack_for_garbage_is_still_valid() -> None:
    ack = parse(build_nack_for_unparseable(b"\x00\xffnot hl7 at all", AckCode.AR, "garbage"))
    assert ack.get("MSA-1") == "AR" and ack.get("MSA-2") == "" and ack.version == "2.5"
    ack2 = parse(build_nack_for_unparseable(b"", AckCode.AR, "empty"))
    assert ack2.message_type.code == "ACK"


def test_peek_header(a01: bytes) -> None:
    h = peek_header(a01)
    assert (h.sending_app, h.sending_facility, h.control_id) == ("GAM_TEST", "HOPITAL-FICTIF", "CTL-A01")
    assert (h.message_code, h.trigger, h.structure, h.version) == ("ADT", "A01", "ADT_A01", "2.5")
    assert h.charset == "UNICODE UTF-8" and h.message_type == "ADT_A01"
    assert h.patient_key == "IPP:1.2.250.1.213.1.1:IPP0042".replace("213.1.1", "999.1.1")
    assert h.dedupe_key == "GAM_TEST|HOPITAL-FICTIF|CTL-A01"


def test_peek_header_tolerates_lf_and_garbage() -> None:
    h = peek_header(sample("edge_lf_separators.hl7"))
    assert h.control_id == "CTL-EDGE" and h.patient_key is not None
    assert peek_header(b"rubbish").control_id == ""
    assert peek_header(b"MSH|\r").control_id == ""


def test_ack_control_ids_are_unique_20_hex_and_differ_in_a_forked_child() -> None:
    import os

    from aiguillage.hl7v2.ack import new_control_id

    ids = [new_control_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 20 and int(i, 16) >= 0 for i in ids)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child only writes its next id
        os.write(w, new_control_id().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(r, 64).decode()
    os.close(r)
    os.close(w)
    assert child[:8] != ids[0][:8] and child not in ids
