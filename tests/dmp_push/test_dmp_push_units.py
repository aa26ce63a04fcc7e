"""Simulator rules, push retry policy and the ADT stay source, without HTTP."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import insert

from aiguillage.dmp.adtstays import adt_stay_source
from aiguillage.dmp.push import PushItem, PushPolicy, push
from aiguillage.dmp.records import Action, DmpStatus, StayKind
from aiguillage.dmp.simulator import DmpSimulator, ins_key_ok
from aiguillage.dmp.wire import DmpReply, DmpRequest, DmpTransportError
from aiguillage.engine import Engine

from .conftest import INS, INS_TEST_OID

CDA = b"<ClinicalDocument xmlns='urn:hl7-org:v3'/>"


def req(action: Action = Action.CREATION, doc: str = "D1", set_id: str = "S1", version: int = 1,
        ins: str = INS, root: str = INS_TEST_OID) -> DmpRequest:
    return DmpRequest(action, root, ins, doc, set_id, version, "11490-0", document=CDA)


def test_ins_key() -> None:
    assert ins_key_ok(INS)
    assert not ins_key_ok(INS[:-2] + "00") and not ins_key_ok("27903512151") and not ins_key_ok("X" * 15)
    body = "2A0351215189".ljust(13, "0")
    key = 97 - int(body.replace("2A", "19")) % 97
    assert ins_key_ok(f"{body}{key:02d}")


def test_simulator_rules() -> None:
    sim = DmpSimulator()
    first = sim.answer(req())
    assert first.status is DmpStatus.SUCCESS and first.share_id
    replay = sim.answer(req())
    assert replay.status is DmpStatus.SUCCESS and replay.share_id == first.share_id  # idempotent replay
    assert sim.answer(req(doc="D2")).status is DmpStatus.ERREUR_VERIFICATION  # setId already shared
    assert sim.answer(req(Action.MODIFICATION, doc="D3", set_id="S9", version=2)).status \
        is DmpStatus.ERREUR_VERIFICATION  # nothing to replace
    assert sim.answer(req(Action.MODIFICATION, doc="D2", version=2)).status is DmpStatus.SUCCESS
    assert sim.answer(req(root="1.2.3")).status is DmpStatus.ERREUR_VERIFICATION
    sim.script.invalid.add(INS)
    assert sim.answer(req(doc="D4", set_id="S4")).status is DmpStatus.ERREUR_VERIFICATION
    round_trip = DmpRequest.from_json(req().to_json())
    assert round_trip == req()
    reply = DmpReply.from_json(first.to_json())
    assert reply.status is DmpStatus.SUCCESS and reply.share_id == first.share_id
    with pytest.raises(ValueError):
        DmpReply.from_json({"statut": "INCONNU"})


class _Failing:
    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.calls = 0

    async def submit(self, request: DmpRequest) -> DmpReply:
        self.calls += 1
        raise DmpTransportError("down", self.reason)


async def test_push_retries_transient_errors_only() -> None:
    item = PushItem("m1", "D1", "S1", 1, "11490-0", "IPP1", None, INS_TEST_OID, INS, content=CDA)
    rows: list[dict[str, Any]] = []
    waits: list[float] = []

    async def sink(row: dict[str, Any]) -> None:
        rows.append(row)

    async def sleep(s: float) -> None:
        waits.append(s)

    policy = PushPolicy(max_attempts=4, backoff_s=1.0, max_backoff_s=3.0)
    client = _Failing("http-503")
    result = await push(item, Action.CREATION, client, policy, sink, sleep=sleep)
    assert result.state == "FAILED" and client.calls == 4 and waits == [1.0, 2.0, 3.0]
    assert [r["attempt"] for r in rows] == [1, 2, 3, 4]
    rows.clear()
    client = _Failing("http-400")  # a client error is not retried
    result = await push(item, Action.CREATION, client, policy, sink, sleep=sleep)
    assert result.state == "FAILED" and client.calls == 1 and len(rows) == 1


async def test_adt_stay_source_reads_the_projection(engine: Engine) -> None:
    adt = pytest.importorskip("aiguillage.store.adt", reason="ADT projection not installed")
    source = adt_stay_source(engine.db)
    assert source is not None
    now = datetime(2025, 3, 20)
    base = {"uf_hebergement": "3030", "uf_medicale": "3030", "uf_soins": "", "current_movement": "",
            "cancelled": False, "ins_trusted": True, "updated_at": now}
    with engine.db.begin() as conn:
        conn.execute(insert(adt.STAYS), [
            {**base, "stay_key": "NDA:H:SEJ1", "patient_key": "IPP:H:IPP1", "visit_number": "SEJ1",
             "patient_class": "I", "admit_at": datetime(2025, 3, 1), "discharge_at": datetime(2025, 3, 5),
             "discharged": True},
            {**base, "stay_key": "NDA:H:SEJ2", "patient_key": "IPP:H:IPP2", "visit_number": "SEJ2",
             "patient_class": "O", "admit_at": datetime(2025, 3, 7), "discharge_at": None, "discharged": False},
            {**base, "stay_key": "NDA:H:SEJ3", "patient_key": "IPP:H:IPP3", "visit_number": "SEJ3",
             "patient_class": "I", "admit_at": datetime(2025, 1, 1), "discharge_at": datetime(2025, 1, 5),
             "discharged": True},
        ])
    stays = {s.id: s for s in source(date(2025, 3, 1), date(2025, 3, 31))}
    assert set(stays) == {"SEJ1", "SEJ2"}
    assert stays["SEJ1"].ipp == "IPP1" and stays["SEJ1"].discharge == date(2025, 3, 5)
    assert stays["SEJ1"].kind is StayKind.MCO and stays["SEJ1"].ins_qualified is True
    assert stays["SEJ2"].kind is StayKind.CONSULTATION and stays["SEJ2"].ace and stays["SEJ2"].discharge is None
