"""CLI commands and configuration validation, as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from aiguillage.cli import main
from aiguillage.config import load_settings
from aiguillage.errors import ConfigError
from aiguillage.store import clients, db
from tests.conftest import free_port


def test_clients_add_prints_token_as_last_word(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data-dir", str(tmp_path), "clients", "add", "gam-chu", "--scopes", "intake,ror:read"]) == 0
    token = capsys.readouterr().out.split()[-1]
    assert token.startswith("agl_") and len(token) > 40
    eng = db.make_engine(f"sqlite:///{tmp_path / 'aiguillage.db'}")
    who = clients.authenticate(eng, token)
    assert who is not None and who.name == "gam-chu" and who.scopes == frozenset({"intake", "ror:read"})
    # stored hashed: the token itself is nowhere in the database file
    assert token.encode() not in (tmp_path / "aiguillage.db").read_bytes()
    assert main(["--data-dir", str(tmp_path), "clients", "add", "gam-chu", "--scopes", "intake"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["--data-dir", str(tmp_path), "clients", "add", "x", "--scopes", "intake,superuser"]) == 2
    assert "superuser" in capsys.readouterr().err
    assert main(["--data-dir", str(tmp_path), "clients", "disable", "gam-chu"]) == 0
    assert clients.authenticate(eng, token) is None
    eng.dispose()


def test_config_errors_list_every_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGUILLAGE_HTTP_PORT", "99999")
    monkeypatch.setenv("AIGUILLAGE_BUS", "rabbit")
    with pytest.raises(ConfigError) as err:
        load_settings()
    locs = {i.location for i in err.value.issues}
    assert {"AIGUILLAGE_HTTP_PORT", "AIGUILLAGE_BUS"} <= locs
    monkeypatch.delenv("AIGUILLAGE_BUS")
    monkeypatch.setenv("AIGUILLAGE_HTTP_PORT", "8123")
    cfg = tmp_path / "aiguillage.toml"
    cfg.write_text('http_port = 9000\nmllp_port = 2600\ndatabase_url = "postgresql://u@h/d"\n')
    s = load_settings(cfg)
    assert s.http_port == 8123  # the environment wins over the file
    assert s.mllp_port == 2600
    assert s.effective_database_url == "postgresql+psycopg://u@h/d"
    cfg.write_text("http_port = [")
    with pytest.raises(ConfigError) as err2:
        load_settings(cfg)
    assert err2.value.code == "CFG-0003"
    with pytest.raises(ConfigError) as err3:
        load_settings(tmp_path / "missing.toml")
    assert err3.value.code == "CFG-0002"


def test_serve_starts_fast_answers_health_and_stops(tmp_path: Path) -> None:
    http, mllp = free_port(), free_port()
    env = {**os.environ, "AIGUILLAGE_DATA_DIR": str(tmp_path)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiguillage.cli", "serve", "--http-port", str(http), "--mllp-port", str(mllp)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        ready = None
        while time.perf_counter() - t0 < 15:
            try:
                if httpx.get(f"http://127.0.0.1:{http}/health", timeout=0.5).status_code == 200:
                    ready = time.perf_counter() - t0
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        assert ready is not None, "serve did not answer /health"
        print(f"serve answered /health after {ready:.2f}s")
        assert ready < 6.0  # issue target is 3 s on an idle machine; CI shares 2 cores with tests
        assert (tmp_path / "aiguillage.db").exists()
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0, out.decode(errors="replace")[-2000:]
    assert b"ready in" in out


def test_bad_config_fails_at_start_with_a_readable_error(tmp_path: Path) -> None:
    env = {**os.environ, "AIGUILLAGE_DATA_DIR": str(tmp_path), "AIGUILLAGE_GROUP_COMMIT_MAX_BATCH": "0"}
    r = subprocess.run([sys.executable, "-m", "aiguillage.cli", "serve"], env=env, capture_output=True,
                       timeout=30)
    assert r.returncode == 2
    assert b"group_commit_max_batch" in r.stderr and b"Traceback" not in r.stderr
