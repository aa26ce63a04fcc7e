"""Fixtures for the DMP push tests: a CDA builder, the DMP simulator on loopback, an API client."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from aiguillage.api.app import create_app
from aiguillage.cda.build import N1Params, Organization, Person, wrap_pdf_n1
from aiguillage.cda.header import InstanceId
from aiguillage.dmp import tracestore as ts
from aiguillage.dmp.install import use_endpoint
from aiguillage.dmp.simulator import DmpSimulator, SimulatorServer
from aiguillage.engine import Engine
from aiguillage.store import clients
from aiguillage.store import messages as msgs

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
INS = "279035121518989"  # INS-NIR de test, valid key (97 - 2790351215189 mod 97 = 89)
INS_TEST_OID = "1.2.250.1.213.1.4.10"


def make_cda(**overrides: Any) -> bytes:
    """An N1 LDL (11490-0) for a test INS, stay SEJ0001 and IPP IPP0001; overrides go to N1Params."""
    tag = uuid.uuid4().hex[:8].upper()
    values: dict[str, Any] = {
        "type_code": "11490-0",
        "type_display": "Lettre de liaison à la sortie d'un établissement de soins",
        "title": "Lettre de liaison de sortie",
        "effective_time": datetime(2025, 3, 11, 9, 11, 0, tzinfo=timezone(timedelta(hours=1))),
        "patient_ins": INS,
        "ins_oid": INS_TEST_OID,
        "patient_birth_family": "PAT-TEST",
        "patient_birth_given": "CAMILLE",
        "patient_birth_date": date(1979, 3, 28),
        "patient_gender": "F",
        "author": Person("801234567897", "MEDECIN-TEST", "Alex"),
        "organization": Organization("1750803447", "Hôpital de test"),
        "patient_ipp": InstanceId("1.2.3.4.567.8.9.10", "IPP0001"),
        "stay_id": InstanceId("1.2.3.4.567.8.9.11", "SEJ0001"),
        "document_id": InstanceId("1.2.3.4.567.8.9.12.1", f"DOC{tag}"),
        "set_id": InstanceId("1.2.3.4.567.8.9.12.2", f"SET{tag}"),
    }
    values.update(overrides)
    return wrap_pdf_n1(PDF, N1Params(**values))


@dataclass
class DmpHarness:
    client: httpx.AsyncClient
    token: str
    engine: Engine
    sim: DmpSimulator

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def post_cda(self, body: bytes) -> str:
        r = await self.client.post("/cda", content=body, headers=self.auth)
        assert r.status_code == 200, r.text
        return str(r.json()["messageId"])

    async def pushed(self, message_id: str, timeout_s: float = 15.0) -> dict[str, Any]:
        """Wait until the document of ``message_id`` left PENDING; its dmp_documents row."""
        async def done() -> dict[str, Any] | None:
            doc = await asyncio.to_thread(ts.get_document, self.engine.db, message_id)
            return doc if doc is not None and doc["push_state"] != "PENDING" else None
        return await wait_for(done, timeout_s, f"push of {message_id}")

    async def traces(self, message_id: str) -> list[dict[str, Any]]:
        r = await self.client.get("/dmp/traces", params={"message_id": message_id}, headers=self.auth)
        assert r.status_code == 200, r.text
        return list(r.json()["items"])


async def wait_for(probe: Callable[[], Awaitable[Any]], timeout_s: float, what: str) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        got = await probe()
        if got:
            return got
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def message_status(engine: Engine, message_id: str, timeout_s: float = 15.0) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        row = await asyncio.to_thread(msgs.get, engine.db, message_id)
        return row if row["status"] != "RECEIVED" else None
    return await wait_for(probe, timeout_s, f"processing of {message_id}")


@pytest.fixture
def simulator() -> Iterator[tuple[DmpSimulator, SimulatorServer]]:
    sim = DmpSimulator()
    with SimulatorServer(sim) as server:
        yield sim, server


@pytest.fixture
async def dmp(engine: Engine, simulator: tuple[DmpSimulator, SimulatorServer]) -> AsyncIterator[DmpHarness]:
    sim, server = simulator
    use_endpoint(engine, server.base_url, timeout_s=0.5, max_attempts=3, backoff_s=0.02)
    token = clients.add_client(engine.db, "dmp-feeder", frozenset({"dmp"}))
    transport = httpx.ASGITransport(app=create_app(engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield DmpHarness(c, token, engine, sim)
