"""Store benchmark: group-commit insert rate of inbound messages, SQLite and PostgreSQL, and start-up time.

Prints, in the same run, the baselines it is compared with: one commit per row and 100 rows per
commit with SQLAlchemy Core on the same table. Not a test.

    python bench/store.py [--rows 20000] [--concurrency 64] [--no-pg]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pgtemp  # noqa: E402  (bench/ is on sys.path when run as a script)

from aiguillage.store import db  # noqa: E402
from aiguillage.store import messages as msgs  # noqa: E402
from aiguillage.store.base import new_id, utcnow  # noqa: E402
from aiguillage.store.groupcommit import GroupCommitter  # noqa: E402
from aiguillage.store.messages import Envelope  # noqa: E402

PAYLOAD = (ROOT / "tests" / "data" / "hl7v2" / "adt_a01_bench.hl7").read_bytes()


def env(i: int) -> Envelope:
    return Envelope(channel="bench", content_type="application/hl7-v2", raw=PAYLOAD, source="bench",
                    control_id=f"B{i}", dedupe_key=f"bench|B{i}", correlation_key=f"IPP:bench:{i % 500}")


async def group_commit_rate(url: str, rows: int, concurrency: int) -> tuple[float, float]:
    eng = db.make_engine(url)
    db.migrate(eng)
    gc = GroupCommitter(eng, max_batch=256, max_wait_ms=2)
    await gc.start()
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with sem:
            await gc.submit(env(i))

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(rows)))
    dt = time.perf_counter() - t0
    batches = gc.batches
    await gc.stop()
    eng.dispose()
    return rows / dt, rows / max(batches, 1)


def baseline_rate(url: str, rows: int, per_commit: int) -> float:
    eng = db.make_engine(url)
    db.migrate(eng)
    now = utcnow()
    t0 = time.perf_counter()
    for start in range(0, rows, per_commit):
        with eng.begin() as conn:
            conn.execute(insert(msgs.TABLE), [
                env(i).row(now) | {"id": new_id(), "dedupe_key": f"base{per_commit}|{i}"}
                for i in range(start, min(rows, start + per_commit))
            ])
    dt = time.perf_counter() - t0
    eng.dispose()
    return rows / dt


def startup_time() -> float:
    """Seconds from `aiguillage serve` exec to the first 200 on /health."""
    import socket

    import httpx

    def port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])

    http, mllp = port(), port()
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        p = subprocess.Popen([sys.executable, "-m", "aiguillage.cli", "serve", "--http-port", str(http),
                              "--mllp-port", str(mllp)], env={**os.environ, "AIGUILLAGE_DATA_DIR": d},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while time.perf_counter() - t0 < 30:
                try:
                    if httpx.get(f"http://127.0.0.1:{http}/health", timeout=0.2).status_code == 200:
                        return time.perf_counter() - t0
                except httpx.HTTPError:
                    time.sleep(0.01)
            return float("nan")
        finally:
            p.terminate()
            p.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--no-pg", action="store_true")
    a = ap.parse_args()
    print(f"aiguillage store benchmark: {a.rows} rows of {len(PAYLOAD)} B, {a.concurrency} concurrent submitters")
    print(f"start-up: `aiguillage serve` answers /health after {startup_time():.2f} s")
    targets: list[tuple[str, str]] = []
    tmp = tempfile.TemporaryDirectory()
    targets.append(("SQLite (WAL, synchronous=FULL)", f"sqlite:///{tmp.name}/bench.db"))
    pg = None if a.no_pg else pgtemp.create()
    if pg:
        targets.append(("PostgreSQL 127.0.0.1", pg))
    try:
        for label, url in targets:
            rate, per_batch = asyncio.run(group_commit_rate(url, a.rows, a.concurrency))
            one = baseline_rate(url, min(a.rows, 2000), 1)
            hundred = baseline_rate(url, a.rows, 100)
            print(f"\n{label}")
            print(f"  group commit (ACK-able rows)   {rate:10,.0f} rows/s  ({per_batch:.0f} rows per commit)")
            print(f"  baseline: 1 row per commit     {one:10,.0f} rows/s  -> group commit x{rate / one:.1f}")
            print(f"  baseline: 100 rows per commit  {hundred:10,.0f} rows/s  -> group commit x{rate / hundred:.2f}")
    finally:
        if pg:
            pgtemp.drop(pg)
        tmp.cleanup()


if __name__ == "__main__":
    main()
