"""An acknowledged message survives `kill -9` of the engine right after its ACK (SQLite, WAL, FULL sync)."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

from aiguillage.connectors.mllp_client import MLLPClient
from tests.conftest import free_port

DATA = Path(__file__).resolve().parents[1] / "data" / "hl7v2"


def _wait_health(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=0.5).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise AssertionError("engine did not start")


def test_acknowledged_messages_survive_kill_9(tmp_path: Path) -> None:
    http, mllp = free_port(), free_port()
    env = {**os.environ, "AIGUILLAGE_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiguillage.cli", "serve", "--http-port", str(http), "--mllp-port", str(mllp)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = (DATA / "adt_a01_admit.hl7").read_bytes()
    acked: list[str] = []
    try:
        _wait_health(http)

        async def run() -> None:
            async def conn(k: int) -> None:
                async with MLLPClient("127.0.0.1", mllp, timeout=10) as c:
                    for i in range(40):
                        cid = f"K{k}-{i}"
                        ack = await c.send(base.replace(b"|CTL-A01|", f"|{cid}|".encode()))
                        if b"MSA|AA|" + cid.encode() in ack:
                            acked.append(cid)

            await asyncio.gather(*(conn(k) for k in range(4)))

        asyncio.run(run())
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # right after the last ACK, no clean shutdown
        proc.wait(timeout=10)
    assert len(acked) == 160
    db = sqlite3.connect(tmp_path / "aiguillage.db")
    stored = {r[0] for r in db.execute("SELECT control_id FROM messages")}
    db.close()
    missing = set(acked) - stored
    assert not missing, f"{len(missing)} acknowledged message(s) lost"
