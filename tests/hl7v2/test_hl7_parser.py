from __future__ import annotations

import pytest

from aiguillage.hl7v2 import NULL, HL7ParseError, parse, parse_batch
from aiguillage.hl7v2.errors import hl7_condition
from aiguillage.hl7v2.message import parse_path
from tests.hl7v2.conftest import sample


def test_header_accessors(a01: bytes) -> None:
    msg = parse(a01)
    assert msg.message_type == ("ADT", "A01", "ADT_A01")
    assert msg.control_id == "CTL-A01"
    assert msg.version == "2.5"
    assert msg.sending_app == "GAM_TEST"
    assert msg.sending_facility == "HOPITAL-FICTIF"
    assert msg.charset == "UNICODE UTF-8"
    assert msg.normalised is None
    assert msg.get("MSH-1") == "|"
    assert msg.get("MSH-2") == "^~\\&"
    assert msg.get("MSH-12.2") == "FRA"


def test_segment_access_and_paths(a01: bytes) -> None:
    msg = parse(a01)
    assert msg["PID"].name == "PID"
    assert msg.segment("PID") is msg["PID"]
    assert msg.segment("OBX") is None
    assert msg.segments("ZBE") == [msg["ZBE"]]
    assert [s.name for s in msg.segments()] == ["MSH", "EVN", "PID", "PV1", "ZBE", "ZFA", "ZFD", "ZFM"]
    assert msg.get("PID-3") == "IPP0042"  # first repetition, first component
    assert msg.get("PID-3[2].1") == "180017512345678"
    assert msg.get("PID-3[2].4.2") == "1.2.250.1.213.1.4.10"
    assert msg.get("PID-3[2].5") == "INS"
    assert msg.get("PID-3[3].1") == ""
    assert msg.get("PID-5[2].1") == "FICTIF-USAGE"
    assert msg.get("ZBE-8.10") == "UF101"
    assert msg.get("PV1-99") == ""
    assert msg.get("OBX[2]-5") == ""
    with pytest.raises(KeyError):
        msg["OBX"]
    with pytest.raises(HL7ParseError) as exc:
        msg.get("pid-3")
    assert exc.value.code == "HL7-0120"
    assert parse_path("OBX[2]-5[3].4.1") == ("OBX", 2, 5, 3, 4, 1)


def test_z_segments_kept_and_repr_has_no_values(a01: bytes) -> None:
    msg = parse(a01)
    assert {"ZBE", "ZFA", "ZFD", "ZFM"} <= {s.name for s in msg}
    assert "FICTIF" not in repr(msg) and "FICTIF" not in repr(msg["PID"])


def test_custom_encoding_characters_read_from_msh() -> None:
    raw = b"MSH#$*@%#APP#FAC#R#F#20250101##ADT$A28#X1#P#2.5\rPID#1##ID1$$$AUTH%1.2.3$PI*ID2$$$X$INS##A@T@B$C\r"
    msg = parse(raw)
    assert msg.d.fs == "#" and msg.d.cs == "$" and msg.d.rs == "*" and msg.d.ec == "@" and msg.d.ss == "%"
    assert msg.message_type.trigger == "A28"
    assert msg.get("PID-3[1].4.2") == "1.2.3"
    assert msg.get("PID-3[2].5") == "INS"
    assert msg.get("PID-5.1") == "A%B"  # @T@ is the escaped sub-component separator
    assert msg.get("PID-5.2") == "C"
    assert msg.encode().encode() == raw


def test_null_vs_empty_and_escapes() -> None:
    msg = parse(sample("edge_escapes_nulls.hl7"))
    pid = msg["PID"]
    assert pid.get(8) is NULL
    assert pid.is_null(8)
    assert not pid.is_null(9) and pid.get(9) == ""
    street = pid.get(11)
    assert street == "1 rue A&B | ^ ~ \\ é \n \\H\\x\\N\\"


def test_latin1_bytes_decoded_from_msh18() -> None:
    raw = sample("edge_latin1.hl7")
    msg = parse(raw)
    assert msg.charset == "8859/1" and msg.codec == "latin-1"
    assert msg.get("PID-5.2") == "HÉLÈNE"
    assert msg.to_bytes() == raw


def test_hex_escape_decoded_in_message_charset() -> None:
    base = "MSH|^~\\&|A|B|C|D|20250101||ADT^A28|X|P|2.5|||||FRA|{cs}\rPID|1||1^^^A^PI||{name}\r"
    assert parse(base.format(cs="UNICODE UTF-8", name="\\XC3A9\\").encode()).get("PID-5") == "é"
    assert parse(base.format(cs="8859/1", name="\\XE9\\").encode()).get("PID-5") == "é"
    assert parse(base.format(cs="8859/1", name="\\XZZ\\").encode()).get("PID-5") == "\\XZZ\\"


def test_no_charset_falls_back_to_latin1_when_not_utf8() -> None:
    raw = "MSH|^~\\&|A|B|C|D|20250101||ADT^A28|X|P|2.5\rPID|1||1^^^A^PI||CHLOÉ\r"
    assert parse(raw.encode("utf-8")).codec == "utf-8"
    msg = parse(raw.encode("latin-1"))
    assert msg.charset is None and msg.codec == "latin-1" and msg.get("PID-5") == "CHLOÉ"


def test_lf_separators_normalised_and_recorded_or_refused() -> None:
    raw = sample("edge_lf_separators.hl7")
    msg = parse(raw)
    assert msg.normalised == "LF"
    assert len(msg.segments()) == 5
    crlf = parse(raw.replace(b"\n", b"\r\n"))
    assert crlf.normalised == "CRLF"
    with pytest.raises(HL7ParseError) as exc:
        parse(raw, strict=True)
    assert exc.value.code == "HL7-0104"
    assert "\n" not in msg.encode()


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"", "HL7-0101"),
        (b"  \r\n", "HL7-0101"),
        (b"garbage\rPID|1\r", "HL7-0102"),
        (b"MSH|\r", "HL7-0103"),
        (b"MSH|^~\\&|A\rP D|1\r", "HL7-0108"),
        (b"MSH|^~\\&|A|B|C|D|1||ADT^A01|1|P|2.5|||||FRA|EBCDIC\r", "HL7-0106"),
        (b"MSH|^~\\&|A|B|C|D|1||ADT^A01|1|P|2.5|||||FRA|UNICODE UTF-8\rPID|\xe9\r", "HL7-0105"),
        (b"FHS|^~\\&|A\r", "HL7-0109"),
    ],
)
def test_parse_errors_have_stable_codes(raw: bytes, code: str) -> None:
    with pytest.raises(HL7ParseError) as exc:
        parse(raw)
    assert exc.value.code == code
    assert exc.value.hl7_code == hl7_condition(code)


def test_two_msh_in_one_message_is_segment_sequence_error() -> None:
    with pytest.raises(HL7ParseError) as exc:
        parse(sample("edge_two_msh.hl7"))
    assert exc.value.code == "HL7-0107"
    assert exc.value.hl7_code == "100"
    assert exc.value.location == "MSH[2]"


def test_encode_round_trip_all_samples() -> None:
    from tests.hl7v2.conftest import DATA

    for path in sorted(DATA.glob("adt_*.hl7")):
        raw = path.read_bytes()
        msg = parse(raw)
        assert msg.to_bytes() == raw, path.name
        again = parse(msg.to_bytes())
        assert [s.fields for s in again] == [s.fields for s in msg]


def test_set_values_escapes_and_nulls(a01: bytes) -> None:
    msg = parse(a01)
    msg.set("PID-5.1", "A|B^C")
    assert msg.get("PID-5.1") == "A|B^C"
    assert msg["PID"].raw(5).startswith("A\\F\\B\\S\\C^CAMILLE")
    msg.set("PID-8", NULL)
    assert msg.get("PID-8") is NULL and msg["PID"].raw(8) == '""'
    msg.set("PID-3[2].4.2", "1.2.3")
    assert msg.get("PID-3[2].4.2") == "1.2.3" and msg.get("PID-3[2].4.1") == "ASIP-SANTE-INS-NIR"
    msg.set("ZBE-12", "X")
    assert msg.get("ZBE-12") == "X"
    assert parse(msg.to_bytes()).get("PID-5.1") == "A|B^C"
    with pytest.raises(HL7ParseError):
        msg.set("MSH-2", "x")


def test_batch_split_into_messages() -> None:
    batch = parse_batch(sample("batch_two_messages.hl7"))
    assert [m.control_id for m in batch.messages] == ["B-1", "B-2"]
    assert batch.file_header is not None and batch.control_id == "F-1"
    assert len(batch.batch_headers) == 1 and len(batch.batch_trailers) == 1
    assert batch.file_trailer is not None
    assert batch.issues == []
    assert batch.messages[0].get("PID-3[1].1") == "IPP0042"


def test_batch_count_mismatch_is_reported() -> None:
    raw = sample("batch_two_messages.hl7").replace(b"BTS|2", b"BTS|3")
    batch = parse_batch(raw)
    assert [i.code for i in batch.issues] == ["HL7-0111"]
    assert batch.issues[0].location == "BTS-1"


def test_batch_segment_outside_message_is_error() -> None:
    with pytest.raises(HL7ParseError) as exc:
        parse_batch(b"BHS|^~\\&|A\rPID|1\rBTS|0\r")
    assert exc.value.code == "HL7-0110"
