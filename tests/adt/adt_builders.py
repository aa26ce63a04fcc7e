"""Builds ADT messages for the projection tests from the samples of tests/data/hl7v2/ (fictional data)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from aiguillage.router.handlers import ContentType, InboundMessage
from aiguillage.store import adt

DATA = Path(__file__).resolve().parents[1] / "data" / "hl7v2"
AUTH = "1.2.250.1.999.1.1"
P42 = f"IPP:{AUTH}:IPP0042"


def pkey(ipp: str) -> str:
    return f"IPP:{AUTH}:{ipp}"


def skey(nda: str) -> str:
    return f"NDA:{AUTH}:{nda}"


def sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def build(name: str, **fields: str) -> bytes:
    """A sample with fields replaced: ``build("adt_a01_admit.hl7", ZBE_2="2025...", PV1_3_1="UF200")``.

    Keys are ``SEG_field`` or ``SEG_field_component`` (1-based, HL7 numbering: MSH_10 is MSH-10).
    """
    segments = sample(name).decode("utf-8").split("\r")
    for spec, value in fields.items():
        parts = spec.split("_")
        seg, num = parts[0], int(parts[1])
        for i, line in enumerate(segments):
            if not line.startswith(seg + "|"):
                continue
            f = line.split("|")
            idx = num - 1 if seg == "MSH" else num
            f += [""] * (idx + 1 - len(f))
            if len(parts) == 3:
                comps = f[idx].split("^")
                c = int(parts[2]) - 1
                comps += [""] * (c + 1 - len(comps))
                comps[c] = value
                f[idx] = "^".join(comps)
            else:
                f[idx] = value
            segments[i] = "|".join(f)
            break
        else:
            raise AssertionError(f"segment {seg} not in {name}")
    return "\r".join(segments).encode("utf-8")


def movement(name: str, ctl: str, mid: str, at: str, recorded: str, *, uf: str = "", nda: str = "",
             ipp: str = "", **more: str) -> bytes:
    """A movement message: MSH-10, ZBE-1.1, ZBE-2, EVN-2, optional UF (PV1-3.1, ZBE-7.10, ZBE-8.10)."""
    f: dict[str, str] = {"MSH_10": ctl, "ZBE_1_1": mid, "ZBE_2": at, "EVN_2": recorded, "EVN_6": recorded}
    if uf:
        f.update(PV1_3_1=uf, ZBE_7_10=uf, ZBE_8_10=uf + "S")
    if nda:
        f["PV1_19_1"] = nda
    if ipp:
        f["PID_3_1"] = ipp
    f.update(more)
    return build(name, **f)


def inbound(raw: bytes, mid: str, channel: str = "test") -> InboundMessage:
    return InboundMessage(id=mid, channel=channel, source="GAM_TEST|HOPITAL-FICTIF",
                          content_type=ContentType.HL7V2.value, raw=raw, message_type="ADT", control_id=mid,
                          correlation_key=None, attempts=0, meta={})


def snapshot(conn: Connection, *, with_times: bool = False) -> dict[str, Any]:
    """Every ADT row, comparable across arrival orders: without updated_at and version (a write count)
    unless ``with_times``."""
    drop = set() if with_times else {"updated_at", "version"}
    out: dict[str, Any] = {}
    for name, table, order in (("patients", adt.PATIENTS, ["patient_key"]), ("stays", adt.STAYS, ["stay_key"]),
                               ("movements", adt.MOVEMENTS, ["stay_key", "movement_id"])):
        rows = conn.execute(select(table).order_by(*[table.c[c] for c in order])).mappings()
        out[name] = [{k: v for k, v in r.items() if k not in drop} for r in rows]
    return out


def scenario() -> list[bytes]:
    """In-order messages (EVN-2 increasing): two stays, transfers, cancels, a late historic movement and
    its Z99 correction, a discharge undone, an identity update, an A40 merge and an A44 account move."""
    a01, a02, a03 = "adt_a01_admit.hl7", "adt_a02_transfer.hl7", "adt_a03_discharge.hl7"
    return [
        movement(a01, "S01", "M30", "202501010800", "202501010800", uf="UF100", nda="NDA0001", ipp="IPP0041"),
        movement(a01, "S02", "M1", "202501020800", "202501020800", uf="UF100"),
        movement(a01, "S03", "M40", "202501020900", "202501020900", uf="UF500", nda="NDA0006", ipp="IPP0043"),
        movement(a02, "S04", "M4", "202501031000", "202501031000", uf="UF200"),
        movement(a02, "S05", "M31", "202501031100", "202501031100", uf="UF110", nda="NDA0001", ipp="IPP0041"),
        movement("adt_a12_cancel_transfer.hl7", "S06", "M4", "202501031000", "202501031200", uf="UF200"),
        movement(a02, "S07", "M6", "202501041000", "202501041000", uf="UF210"),
        build("adt_a40_merge.hl7", MSH_10="S08", EVN_2="202501041100"),
        movement(a02, "S09", "M32", "202501041200", "202501041200", uf="UF120", nda="NDA0001", ipp="IPP0041"),
        build("adt_a44_move_account.hl7", MSH_10="S10", EVN_2="202501041300", MRG_1_1="IPP0043"),
        movement(a02, "S11", "M41", "202501041400", "202501041400", uf="UF510", nda="NDA0006", ipp="IPP0043"),
        movement(a03, "S12", "M5", "202501051200", "202501051200", uf="UF210"),
        movement(a02, "S13", "M9", "202501031500", "202501060800", uf="UF300", ZBE_5="Y"),  # historic, late
        movement("adt_a13_cancel_discharge.hl7", "S14", "M5", "202501051200", "202501060900", uf="UF210"),
        movement("adt_z99_update.hl7", "S15", "M9", "202501031500", "202501061000", uf="UF350"),
        build("adt_a31_update_person.hl7", MSH_10="S16", EVN_2="202501061100", PID_32="PROV"),
    ]


async def wait_for(pred: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")


def rows_of(db: Engine) -> dict[str, Any]:
    with db.connect() as conn:
        return snapshot(conn)
