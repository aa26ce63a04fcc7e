"""The persisted ADT projection, driven through the handler inside a transaction (SQLite + PostgreSQL)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy.engine import Engine

from aiguillage.hl7v2 import parse, to_adt_event
from aiguillage.hl7v2.handler import _rebuild, handler, replay
from aiguillage.hl7v2.projection import PatientState, project
from aiguillage.store import adt, db
from tests.adt.adt_builders import P42, build, inbound, pkey, rows_of, scenario, skey, snapshot


@pytest.fixture
def adt_db(db_url: str) -> Iterator[Engine]:
    eng = db.make_engine(db_url)
    db.migrate(eng)
    yield eng
    eng.dispose()


def run(eng: Engine, raws: list[bytes], prefix: str = "m") -> list[dict[str, object]]:
    metas = []
    for i, raw in enumerate(raws):
        with eng.begin() as conn:
            out = handler(inbound(raw, f"{prefix}{i}"), conn)
        assert out.status.value == "PROCESSED"
        assert out.meta is not None
        metas.append(out.meta)
    return metas


def clear(eng: Engine) -> None:
    with eng.begin() as conn:
        for t in (adt.MOVEMENTS, adt.STAYS, adt.EVENTS, adt.PATIENTS):
            conn.execute(delete(t))


def resend(raw: bytes, ctl: str) -> bytes:
    """The same message sent again under a new MSH-10."""
    f = raw.split(b"|")
    f[9] = ctl.encode()
    return b"|".join(f)


def test_in_order_scenario_flat_rows(adt_db: Engine) -> None:
    run(adt_db, scenario())
    stays = {s["stay_key"]: s for s in adt.stays_of(adt_db, P42)}
    assert set(stays) == {skey("NDA0007"), skey("NDA0001"), skey("NDA0006")}  # A40 and A44 moved two stays
    s7 = stays[skey("NDA0007")]
    # M4 (A02) cancelled by A12, M5 (A03) undone by A13: the current movement is M6 in UF210
    assert (s7["current_movement"], s7["uf_hebergement"], s7["uf_medicale"]) == ("M6", "UF210", "UF210")
    assert s7["uf_soins"] == "UF210S" and s7["patient_class"] == "I"
    assert s7["admit_at"] == datetime(2025, 1, 2, 8, 0) and s7["discharge_at"] is None
    assert not s7["discharged"] and not s7["cancelled"]
    assert not s7["ins_trusted"]  # the A31 set PID-32 = PROV
    moves = adt.movements_of(adt_db, skey("NDA0007"))
    assert [m["movement_id"] for m in moves] == ["M1", "M4", "M9", "M6", "M5"]  # ordered by ZBE-2
    m = {x["movement_id"]: x for x in moves}
    assert m["M4"]["cancelled"] and m["M5"]["cancelled"] and not m["M6"]["cancelled"]
    # the historic M9 arrived late, then Z99 corrected it: it keeps its trigger and takes the new UF
    assert (m["M9"]["trigger"], m["M9"]["action"], m["M9"]["historic"]) == ("A02", "UPDATE", True)
    assert (m["M9"]["uf_hebergement"], m["M9"]["uf_medicale"]) == ("UF350", "UF350")
    assert stays[skey("NDA0001")]["current_movement"] == "M32"  # a late message for the merged patient
    assert stays[skey("NDA0006")]["current_movement"] == "M41"  # a message after the account move
    with adt_db.connect() as conn:
        assert adt.load_patient(conn, pkey("IPP0041"))["merged_into"] == P42  # type: ignore[index]
        assert adt.resolve(conn, pkey("IPP0041")) == P42
    assert adt.stays_of(adt_db, pkey("IPP0043")) == []
    merged = adt.get_patient(adt_db, pkey("IPP0041"))
    assert merged is not None and merged["patient_key"] == P42 and merged["merged"]
    assert set(merged["state"]["stays"]) == {"NDA0007", "NDA0001", "NDA0006"}
    assert adt.get_patient(adt_db, pkey("IPP9999")) is None


def test_stays_active_at_uses_the_movement_of_that_time(adt_db: Engine) -> None:
    run(adt_db, scenario())
    at = datetime(2025, 1, 3, 16, 0)
    active = {s["stay_key"]: s for s in adt.stays_active_at(adt_db, at)}
    assert set(active) == {skey("NDA0007"), skey("NDA0001"), skey("NDA0006")}
    assert active[skey("NDA0007")]["at_uf_hebergement"] == "UF350"  # M9 (historic, corrected)
    assert active[skey("NDA0007")]["at_movement"] == "M9"
    assert active[skey("NDA0001")]["at_uf_hebergement"] == "UF110"
    assert [s["stay_key"] for s in adt.stays_active_at(adt_db, at, "UF350")] == [skey("NDA0007")]
    assert [s["stay_key"] for s in adt.stays_active_at(adt_db, at, "UF110S", uf_field="soins")] == [skey("NDA0001")]
    assert adt.stays_active_at(adt_db, datetime(2024, 12, 31)) == []


def test_shuffled_late_and_repeated_messages_give_the_same_rows(adt_db: Engine) -> None:
    msgs = scenario()
    run(adt_db, msgs)
    expected = rows_of(adt_db)
    for seed in (1, 2):
        clear(adt_db)
        shuffled = msgs[::-1] if seed == 1 else random.Random(seed).sample(msgs, len(msgs))
        repeated = [*shuffled, resend(msgs[3], "R1"), msgs[5], resend(msgs[7], "R2")]
        run(adt_db, repeated, prefix=f"s{seed}-")
        assert rows_of(adt_db) == expected


def test_repeating_a_message_changes_nothing(adt_db: Engine) -> None:
    msgs = scenario()
    run(adt_db, msgs)
    with adt_db.connect() as conn:
        before = snapshot(conn, with_times=True)
    metas = run(adt_db, [resend(r, f"again-{i}") for i, r in enumerate(msgs)] + msgs[:3], prefix="again")
    assert all(m["duplicate"] for m in metas)
    with adt_db.connect() as conn:
        assert snapshot(conn, with_times=True) == before


def test_stored_state_equals_a_full_replay_and_round_trips(adt_db: Engine) -> None:
    run(adt_db, scenario())
    with adt_db.connect() as conn:
        row = adt.load_patient(conn, P42)
        assert row is not None
        state, _ = _rebuild(conn, P42)
    assert row["state"] == state
    ps = PatientState.from_dict(state)
    assert ps.to_dict() == {"patient": state["patient"], "stays": state["stays"]}


def test_replay_of_a_single_patient_matches_the_pure_projection() -> None:
    raws = [r for r in scenario() if b"IPP0042^" in r.split(b"\rPID|")[1][:20]]
    events = [to_adt_event(parse(r)) for r in raws]
    expected = project(events).patients[P42]
    state = replay(P42, events)
    assert state["stays"] == expected.to_dict()["stays"]


def test_a11_cancels_the_admission(adt_db: Engine) -> None:
    a01 = build("adt_a01_admit.hl7", MSH_10="C1", PV1_19_1="NDA0099", EVN_2="202502010800")
    a11 = build("adt_a11_cancel_admit.hl7", MSH_10="C2", PV1_19_1="NDA0099", EVN_2="202502010900")
    run(adt_db, [a01])
    s = adt.stays_of(adt_db, P42)[0]
    assert not s["cancelled"] and s["admit_at"] == datetime(2025, 1, 2, 8, 0)
    run(adt_db, [a11], prefix="c")
    s = adt.stays_of(adt_db, P42)[0]
    assert s["cancelled"] and s["current_movement"] == "" and s["admit_at"] is None
    assert adt.stays_active_at(adt_db, datetime(2025, 1, 3)) == []


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(list(range(len(scenario())))), repeats=st.lists(st.integers(0, 15), max_size=4))
def test_any_arrival_order_gives_the_same_rows(tmp_path: Path, order: list[int], repeats: list[int]) -> None:
    eng = _sqlite(tmp_path)
    msgs = scenario()
    clear(eng)
    run(eng, msgs)
    expected = rows_of(eng)
    clear(eng)
    run(eng, [msgs[i] for i in order] + [resend(msgs[i], f"rep{n}") for n, i in enumerate(repeats)], prefix="p")
    assert rows_of(eng) == expected


_ENGINES: dict[Path, Engine] = {}


def _sqlite(tmp_path: Path) -> Engine:
    eng = _ENGINES.get(tmp_path)
    if eng is None:
        eng = _ENGINES[tmp_path] = db.make_engine(f"sqlite:///{tmp_path / 'adt.db'}")
        db.migrate(eng)
    return eng
