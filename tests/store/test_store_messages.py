"""The messages store and group commit, on SQLite and on the machine's PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from aiguillage.router.topics import Topic
from aiguillage.store import db, outbox
from aiguillage.store import messages as msgs
from aiguillage.store.groupcommit import GroupCommitter
from aiguillage.store.messages import Envelope, MessageFilter, MessageStatus


def _env(i: int, **kw: object) -> Envelope:
    base: dict[str, object] = {
        "channel": "test", "content_type": "application/x-test", "raw": f"payload {i}".encode(),
        "source": "unit", "control_id": f"C{i}", "dedupe_key": f"unit|C{i}", "correlation_key": f"P{i % 3}",
    }
    base.update(kw)
    return Envelope(**base)  # type: ignore[arg-type]


async def test_migrate_is_idempotent_and_group_commit_batches(db_url: str) -> None:
    eng = db.make_engine(db_url)
    db.migrate(eng)
    db.migrate(eng)  # a second run changes nothing and does not fail
    gc = GroupCommitter(eng, max_batch=64, max_wait_ms=5)
    await gc.start()
    try:
        results = await asyncio.gather(*(gc.submit(_env(i)) for i in range(300)))
    finally:
        await gc.stop()
    assert len({r.id for r in results}) == 300
    assert all(not r.duplicate and r.status is MessageStatus.RECEIVED for r in results)
    assert gc.rows == 300
    assert gc.batches < 300 / 4, f"expected grouped commits, got {gc.batches} batches for 300 rows"
    with eng.connect() as conn:
        n = conn.execute(select(func.count()).select_from(msgs.TABLE)).scalar_one()
        ob = conn.execute(select(outbox.TABLE.c.topic, outbox.TABLE.c.key)).all()
    assert n == 300
    assert len(ob) == 300 and {t for t, _ in ob} == {Topic.INBOUND.value}
    assert {k for _, k in ob} == {"P0", "P1", "P2"}
    row = msgs.get(eng, results[7].id)
    assert row["raw"] == b"payload 7" and row["status"] == "RECEIVED"
    eng.dispose()


async def test_dedupe_same_sender_same_control_id(db_url: str) -> None:
    eng = db.make_engine(db_url)
    db.migrate(eng)
    gc = GroupCommitter(eng, max_batch=16, max_wait_ms=5)
    await gc.start()
    try:
        first = await gc.submit(_env(1))
        # same key twice in one batch, and once again later
        a, b = await asyncio.gather(gc.submit(_env(1)), gc.submit(_env(2)))
        c, d = await asyncio.gather(gc.submit(_env(3)), gc.submit(_env(3)))
        other_channel = await gc.submit(_env(1, channel="other"))
    finally:
        await gc.stop()
    assert a.duplicate and a.id == first.id
    assert not b.duplicate
    assert not c.duplicate and d.duplicate and d.id == c.id
    assert not other_channel.duplicate
    with eng.connect() as conn:
        assert conn.execute(select(func.count()).select_from(msgs.TABLE)).scalar_one() == 4
        assert conn.execute(select(func.count()).select_from(outbox.TABLE)).scalar_one() == 4
    eng.dispose()


async def test_rejected_messages_are_kept_but_not_announced(db_url: str) -> None:
    eng = db.make_engine(db_url)
    db.migrate(eng)
    gc = GroupCommitter(eng)
    await gc.start()
    try:
        r = await gc.submit(_env(9, status=MessageStatus.REJECTED, error_codes=("HL7-0101",),
                                 error_text="no MSH", response=b"MSA|AR"))
    finally:
        await gc.stop()
    row = msgs.get(eng, r.id)
    assert row["status"] == "REJECTED" and row["error_codes"] == "HL7-0101" and row["response"] == b"MSA|AR"
    assert outbox.count(eng) == 0
    eng.dispose()


def test_list_filter_page_reprocess_and_purge(db_url: str) -> None:
    eng = db.make_engine(db_url)
    db.migrate(eng)
    gc = GroupCommitter(eng)
    ids = [s.id for s in gc.write([_env(i) for i in range(10)])]
    gc.write([_env(100, channel="mllp")])
    with eng.begin() as conn:
        msgs.set_outcome(conn, ids[0], MessageStatus.HELD, error_codes=["MAP-0001"])
        msgs.set_outcome(conn, ids[1], MessageStatus.PROCESSED)
    held = msgs.list_messages(eng, MessageFilter(status=["HELD"]))
    assert [r["id"] for r in held] == [ids[0]] and held[0]["error_codes"] == "MAP-0001"
    assert len(msgs.list_messages(eng, MessageFilter(channel="mllp"))) == 1
    page1 = msgs.list_messages(eng, MessageFilter(channel="test"), limit=4)
    page2 = msgs.list_messages(eng, MessageFilter(channel="test"), limit=4, before_id=page1[-1]["id"])
    assert len(page1) == 4 and len(page2) == 4 and not {r["id"] for r in page1} & {r["id"] for r in page2}
    assert [r["id"] for r in page1] == sorted((r["id"] for r in page1), reverse=True)
    with eng.begin() as conn:
        assert msgs.mark_for_reprocess(conn, [ids[0], ids[1]], strict=False) == [ids[0]]
        assert msgs.mark_for_reprocess(conn, [ids[1]], force=True) == [ids[1]]
    assert msgs.get(eng, ids[0])["status"] == "RECEIVED"
    # nothing is old enough yet; purge keeps everything
    assert msgs.purge_older_than(eng, 1) == 0
    assert msgs.count_by_status(eng)[("test", "RECEIVED")] == 10
    eng.dispose()


def test_messages_keep_only_the_indexes_something_filters_on(db_url: str) -> None:
    from sqlalchemy import inspect

    eng = db.make_engine(db_url)
    db.migrate(eng)
    names = {ix["name"] for ix in inspect(eng).get_indexes("messages")}
    # the bus key is only read back with its row: its index (one random B-tree page per intake commit) is gone
    assert "ix_messages_correlation_key" not in names
    assert {"ix_messages_status_received", "ix_messages_channel_received"} <= names
    assert not [ix for ix in msgs.TABLE.indexes if "correlation_key" in ix.columns]
    eng.dispose()
