from __future__ import annotations

from aiguillage.hl7v2 import mask, parse, to_view
from tests.hl7v2.conftest import sample

PERSONAL = ["CAMILLE", "FICTIF-USAGE", "FICTIF^", "19800115", "180017512345678", "rue de l", "0100000000", "DOMINIQUE"]


def test_mask_removes_personal_data_keeps_structure() -> None:
    msg = parse(sample("adt_a01_bench.hl7"))
    before = msg.encode()
    text = mask(msg)
    for word in PERSONAL:
        assert word in before
        assert word not in text, word
    assert msg.encode() == before  # original untouched
    masked = parse(text.encode())
    assert masked.get("PID-3[1].1") == "IPP0042"  # IPP kept (internal id)
    assert masked.get("PID-3[2].1") == "***" and masked.get("PID-3[2].5") == "INS"
    assert masked.get("PID-5.1") == "***" and masked.get("PID-5.7") == "***"
    assert masked.get("PID-8") == "F" and masked.get("ZBE-1") == "M1"
    assert len(masked.segments()) == len(msg.segments())


def test_to_view_masks_by_default() -> None:
    msg = parse(sample("adt_a01_admit.hl7"))
    view = to_view(msg)
    assert view["message_type"] == "ADT^A01^ADT_A01" and view["control_id"] == "CTL-A01"
    assert view["masked"] is True
    names = [s["name"] for s in view["segments"]]
    assert names[:3] == ["MSH", "EVN", "PID"]
    pid = view["segments"][2]["fields"]
    assert pid["PID-7"] == "***" and "PID-2" not in pid
    assert "CAMILLE" not in str(view)
    raw_view = to_view(msg, masked=False)
    assert raw_view["segments"][2]["fields"]["PID-7"] == "19800115"
