"""Group commit under failure: a failing store, a failing hand-over, a stop with work queued.

On SQLite and on the machine's PostgreSQL. The failing store is real: the messages table is renamed
away under the running writer, so its INSERT fails in the database, then renamed back.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, text

from aiguillage.errors import StoreError
from aiguillage.store import db, outbox
from aiguillage.store import messages as msgs
from aiguillage.store.groupcommit import GroupCommitter
from aiguillage.store.messages import Envelope


def _env(i: int) -> Envelope:
    return Envelope(channel="gc", content_type="application/x-test", raw=f"payload {i}".encode(),
                    source="unit", control_id=f"C{i}", dedupe_key=f"unit|C{i}", correlation_key=f"P{i % 2}")


def _count(eng: object) -> int:
    with eng.connect() as conn:  # type: ignore[attr-defined]
        return int(conn.execute(select(func.count()).select_from(msgs.TABLE)).scalar_one())


async def test_a_failing_store_fails_every_submitter_then_the_writer_recovers(db_url: str) -> None:
    eng = db.make_engine(db_url)
    db.migrate(eng)
    gc = GroupCommitter(eng, max_batch=32)
    await gc.start()
    try:
        first = await gc.submit(_env(0))  # the writer's connection is open and used
        with eng.begin() as conn:
            conn.execute(text("ALTER TABLE messages RENAME TO messages_away"))
        outcomes = await asyncio.gather(*(gc.submit(_env(i)) for i in range(1, 6)), return_exceptions=True)
        assert all(isinstance(o, StoreError) and o.code == "STO-0004" for o in outcomes), outcomes
        with eng.begin() as conn:
            conn.execute(text("ALTER TABLE messages_away RENAME TO messages"))
        # nothing was half-written, and the same messages go through once the store is back
        assert _count(eng) == 1
        again = await asyncio.gather(*(gc.submit(_env(i)) for i in range(1, 6)))
        assert [r.duplicate for r in again] == [False] * 5
        assert len({first.id, *(r.id for r in again)}) == 6
    finally:
        await gc.stop()
    assert _count(eng) == 6 and outbox.count(eng) == 6
    eng.dispose()


async def test_a_failing_hand_over_still_answers_and_leaves_rows_for_the_scan(db_url: str) -> None:
    eng = db.make_engine(db_url)
    db.migrate(eng)

    def broken(_pairs: object) -> None:
        raise RuntimeError("relay gone")

    gc = GroupCommitter(eng, on_commit=broken)
    await gc.start()
    try:
        results = await asyncio.wait_for(asyncio.gather(*(gc.submit(_env(i)) for i in range(10))), 10)
    finally:
        await gc.stop()
    assert len({r.id for r in results}) == 10
    assert outbox.count(eng) == 10  # committed; the relay's scan publishes them
    eng.dispose()


async def test_stop_answers_every_queued_submitter(db_url: str) -> None:
    eng = db.make_engine(db_url)
    db.migrate(eng)
    gc = GroupCommitter(eng, max_batch=8)
    await gc.start()
    tasks = [asyncio.ensure_future(gc.submit(_env(i))) for i in range(40)]
    await asyncio.sleep(0)  # all queued
    await gc.stop()
    done = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)
    stored = [d for d in done if not isinstance(d, BaseException)]
    refused = [d for d in done if isinstance(d, BaseException)]
    assert all(isinstance(e, StoreError) and e.code == "STO-0005" for e in refused)
    assert _count(eng) == len(stored)  # every answered submitter's row is there, no other
    with pytest.raises(StoreError) as exc:
        await gc.submit(_env(99))
    assert exc.value.code == "STO-0003"
    eng.dispose()


def test_intake_sql_row_matches_the_table_and_reads_back_through_sqlalchemy(tmp_path: object) -> None:
    """The hand-ordered row and the hand-formatted time must be what the table and SQLAlchemy expect."""
    from aiguillage.store.intake_sql import IntakeSQL

    assert set(IntakeSQL.MESSAGE_COLUMNS) == {c.name for c in msgs.TABLE.columns}
    assert len(IntakeSQL.MESSAGE_COLUMNS) == len(msgs.TABLE.columns)
    eng = db.make_engine(f"sqlite:///{tmp_path}/t.db")
    db.migrate(eng)
    gc = GroupCommitter(eng)
    env = Envelope(channel="gc", content_type="application/x-test", raw=b"\x00raw", source="s",
                   message_type="ADT^A01", control_id="C1", dedupe_key="s|C1", correlation_key="P1",
                   meta={"trigger": "A01"})
    [stored] = gc.write([env])
    row = msgs.get(eng, stored.id)
    assert row["raw"] == b"\x00raw" and row["channel"] == "gc" and row["source"] == "s"
    assert row["message_type"] == "ADT^A01" and row["control_id"] == "C1" and row["dedupe_key"] == "s|C1"
    assert row["correlation_key"] == "P1" and row["meta"] == '{"trigger":"A01"}' and row["status"] == "RECEIVED"
    from aiguillage.store.base import utcnow

    age = (utcnow() - row["received_at"]).total_seconds()  # read back as a datetime, in UTC
    assert 0 <= age < 5 and row["updated_at"] == row["received_at"]
    eng.dispose()
