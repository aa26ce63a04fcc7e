from __future__ import annotations

from pathlib import Path

import pytest

from aiguillage.nomenclatures.registry import Registry

ROOT = Path(__file__).resolve().parents[2]
CORPUS_NOS = ROOT / ".." / "shared" / "corpus" / "nos"
SAMPLES = ROOT / "tests" / "data" / "nomenclatures"


@pytest.fixture
def corpus_nos() -> Path:
    if not (CORPUS_NOS / "verified-codes-subset.csv").is_file():
        pytest.skip(f"corpus absent: {CORPUS_NOS}")
    return CORPUS_NOS


@pytest.fixture(scope="session")
def builtin() -> Registry:
    return Registry.builtin()
