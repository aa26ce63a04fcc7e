"""Background WAL checkpoints: they run off the commit path, keep the WAL short and survive failures.

On a real SQLite file in WAL mode (PostgreSQL: the checkpointer stays off).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import text

from aiguillage.store import db
from aiguillage.store.checkpoint import AUTOCHECKPOINT_PAGES, Checkpointer
from aiguillage.store.groupcommit import GroupCommitter
from aiguillage.store.messages import Envelope


def _env(i: int) -> Envelope:
    return Envelope(channel="ck", content_type="application/x-test", raw=b"x" * 3000 + str(i).encode(),
                    source="unit", control_id=f"C{i}", dedupe_key=f"unit|C{i}")


def test_the_commit_path_no_longer_checkpoints_at_1000_pages(tmp_path: Path) -> None:
    eng = db.make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with eng.connect() as conn:
        assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar_one() == AUTOCHECKPOINT_PAGES
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar_one() == 2  # FULL: commits stay durable
    eng.dispose()


async def test_the_checkpointer_copies_committed_pages_back_while_writes_go_on(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    eng = db.make_engine(f"sqlite:///{path}")
    db.migrate(eng)
    ck = Checkpointer(eng, interval_s=0.02)
    gc = GroupCommitter(eng)
    await gc.start()
    try:
        for i in range(300):  # ~300 pages of WAL: under the safety net, so SQLite alone would not copy them
            await gc.submit(_env(i))
        size_before = path.stat().st_size
        wal = path.with_name(path.name + "-wal").stat().st_size
        assert wal > 300 * 3000 and size_before < 300 * 3000  # the rows are still only in the WAL
        ck.start()
        deadline = time.monotonic() + 10
        while ck.runs < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        for i in range(300, 320):  # writers are not blocked while it runs
            await gc.submit(_env(i))
        while ck.runs < 6 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ck.runs >= 6 and ck.failures == 0
        busy, frames, copied = ck.last
        assert busy == 0 and frames == copied  # everything committed so far is in the database file
        assert path.stat().st_size > size_before + 300 * 3000  # the rows' pages really moved there
    finally:
        ck.stop()
        await gc.stop()
    assert ck._thread is None
    eng.dispose()


def test_a_failing_checkpoint_is_logged_and_retried(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    eng = db.make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    db.migrate(eng)
    ck = Checkpointer(eng, interval_s=0.01)
    calls = {"n": 0}
    real = ck.checkpoint

    def flaky(conn: object) -> tuple[int, int, int]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("disk I/O error")
        return real(conn)

    ck.checkpoint = flaky  # type: ignore[method-assign]
    ck.start()
    deadline = time.monotonic() + 10
    while ck.runs < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    ck.stop()
    assert ck.failures == 1 and ck.runs >= 2
    assert "WAL checkpoint failed (OSError); retrying" in caplog.text
    eng.dispose()


def test_the_checkpointer_stays_off_where_there_is_no_wal(tmp_path: Path) -> None:
    for url in ("sqlite://", "postgresql+psycopg://postgres@127.0.0.1:5432/test"):
        eng = db.make_engine(url)  # nothing connects: the checkpointer never starts a thread
        ck = Checkpointer(eng)
        assert not ck.enabled
        ck.start()
        assert ck._thread is None
        eng.dispose()
