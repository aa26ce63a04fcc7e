from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "dmp"
CORPUS = ROOT / ".." / "shared" / "corpus" / "hopen"


def corpus_file(name: str) -> Path:
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"corpus absent: {path}")
    return path


@pytest.fixture
def data_dir() -> Path:
    return DATA
