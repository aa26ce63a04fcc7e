from __future__ import annotations

from aiguillage.hl7v2 import AdtEvent, parse, to_adt_event
from aiguillage.hl7v2.projection import project
from tests.hl7v2.conftest import sample

KEY = "IPP:1.2.250.1.999.1.1:IPP0042"


def ev(name: str, **replace: bytes) -> AdtEvent:
    raw = sample(name)
    for old, new in replace.items():
        raw = raw.replace(old.encode(), new)
    return to_adt_event(parse(raw))


def test_admit_transfer_cancel_and_repeat_idempotent() -> None:
    a01, a02, a12 = ev("adt_a01_admit.hl7"), ev("adt_a02_transfer.hl7"), ev("adt_a12_cancel_transfer.hl7")
    p = project([a01, a02, a02, a12, a12])
    st = p.patients[KEY].stays["NDA0007"]
    assert set(st.movements) == {"M1", "M4"}
    assert st.movements["M4"].cancelled and st.current is not None and st.current.movement.id == "M1"
    assert project([a01, a02, a12]).patients[KEY].stays["NDA0007"].current.movement.id == "M1"  # type: ignore[union-attr]


def test_late_insert_after_cancel_stays_cancelled() -> None:
    p = project([ev("adt_a01_admit.hl7"), ev("adt_a12_cancel_transfer.hl7"), ev("adt_a02_transfer.hl7")])
    st = p.patients[KEY].stays["NDA0007"]
    assert st.movements["M4"].cancelled and st.movements["M4"].trigger == "A02"
    assert st.current is not None and st.current.movement.id == "M1"


def test_historic_order_by_zbe2_and_z99_correction() -> None:
    a01 = ev("adt_a01_admit.hl7")
    a02 = ev("adt_a02_transfer.hl7", **{"|M4^HOPITAL-FICTIF|20250102080000|": b"|M4^HOPITAL-FICTIF|20250101080000|"})
    p = project([a01, a02])
    st = p.patients[KEY].stays["NDA0007"]
    assert st.current is not None and st.current.movement.id == "M1"  # M4 is older by ZBE-2
    z99 = ev("adt_z99_update.hl7", **{"|M4^HOPITAL-FICTIF|20250102080000|": b"|M4^HOPITAL-FICTIF|20250103080000|"})
    p.apply(z99)
    assert st.movements["M4"].trigger == "A02" and st.movements["M4"].movement.action == "UPDATE"
    assert st.current is not None and st.current.movement.id == "M4"


def test_discharge_and_cancel_discharge() -> None:
    p = project([ev("adt_a01_admit.hl7"), ev("adt_a03_discharge.hl7")])
    st = p.patients[KEY].stays["NDA0007"]
    assert st.discharged
    p.apply(ev("adt_a13_cancel_discharge.hl7"))
    assert not st.discharged


def test_a40_merge_moves_stays_to_survivor() -> None:
    old_admit = ev("adt_a01_admit.hl7", **{"IPP0042^": b"IPP0041^", "NDA0007^": b"NDA0001^"})
    old_key = old_admit.bus_key
    p = project([old_admit, ev("adt_a01_admit.hl7"), ev("adt_a40_merge.hl7")])
    assert old_key not in p.patients
    assert set(p.patients[KEY].stays) == {"NDA0001", "NDA0007"}
    assert p.resolve(old_key) == KEY
    late = ev("adt_a02_transfer.hl7", **{"IPP0042^": b"IPP0041^", "NDA0007^": b"NDA0001^"})
    p.apply(late)
    assert "M4" in p.patients[KEY].stays["NDA0001"].movements
