from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "hl7v2"
CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "hl7v2"


def sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


@pytest.fixture
def a01() -> bytes:
    return sample("adt_a01_admit.hl7")
