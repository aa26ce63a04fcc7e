"""Opt-in hl7apy structure validation: only on the channels that ask for it."""

from __future__ import annotations

from pathlib import Path

from aiguillage.engine import Engine
from aiguillage.hl7v2 import parse
from aiguillage.hl7v2.structure import validate_structure
from aiguillage.router.hl7_intake import receive_hl7
from aiguillage.store import messages as msgs

DATA = Path(__file__).resolve().parents[1] / "data" / "hl7v2"


def test_standard_segments_are_checked_and_z_segments_left_to_our_model() -> None:
    good = parse((DATA / "adt_a01_admit.hl7").read_bytes())
    assert validate_structure(good) == []  # ZBE/ZFA/ZFD/ZFM would make hl7apy fail: they are not shown to it
    bad = parse((DATA / "adt_a01_admit.hl7").read_bytes().replace(b"|19800115|", b"|1980-01-15|"))
    issues = validate_structure(bad)
    assert len(issues) == 1 and issues[0].code == "HL7-0150" and "1980-01-15" in issues[0].message


async def test_strict_channel_rejects_what_a_normal_channel_accepts(engine: Engine) -> None:
    engine.settings.hl7_structure_channels = ["strict-gam"]
    raw = (DATA / "adt_a01_admit.hl7").read_bytes().replace(b"|19800115|", b"|1980-01-15|")
    normal = await receive_hl7(engine, raw, channel="mllp")
    strict = await receive_hl7(engine, raw, channel="strict-gam")
    assert normal.code == "AA"
    assert strict.code == "AE"
    err = [s for s in strict.ack.split(b"\r") if s.startswith(b"ERR")]
    assert err and b"102^" in err[0] and b"HL7-0150" in err[0]
    row = msgs.get(engine.db, strict.message_id or "")
    assert row["status"] == "REJECTED" and row["error_codes"] == "HL7-0150"


async def test_enhanced_mode_follows_msh15(engine: Engine) -> None:
    raw = (DATA / "adt_a01_admit.hl7").read_bytes()
    fields = raw.split(b"\r", 1)[0].split(b"|")
    fields[14] = b"AL"  # MSH-15 accept acknowledgement: always
    enhanced = b"|".join(fields).replace(b"|CTL-A01|", b"|CTL-ENH|") + b"\r" + raw.split(b"\r", 1)[1]
    result = await receive_hl7(engine, enhanced, channel="mllp")
    assert result.code == "CA" and b"MSA|CA|CTL-ENH" in result.ack
    bad = enhanced.replace(b"|CTL-ENH|", b"|CTL-ENH2|").replace(b"2.5^FRA^2.11", b"2.3")
    rejected = await receive_hl7(engine, bad, channel="mllp")
    assert b"MSA|CR|CTL-ENH2" in rejected.ack
