"""Real peers for the federation tests and bench: aiguillage instances as subprocesses on loopback,
and a small threaded HTTP server playing the peers that misbehave (slow, HTTP 500, invalid JSON)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from aiguillage.testing import free_port
from tests.ror.builders import hs, loc, org

ROOT = Path(__file__).resolve().parents[2]
FAKE_TOKEN = "fake-peer-token"


@dataclass
class Instance:
    name: str
    region: str
    http_port: int
    data_dir: Path
    token: str = ""
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def fhir(self) -> str:
        return self.url + "/fhir"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _env(inst: Instance, peers_file: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIGUILLAGE_")}
    env.update(AIGUILLAGE_DATA_DIR=str(inst.data_dir), AIGUILLAGE_LOG_LEVEL="WARNING")
    if peers_file is not None:
        env["AIGUILLAGE_ROR_PEERS"] = str(peers_file)
    return env


def create_token(inst: Instance) -> str:
    inst.data_dir.mkdir(parents=True, exist_ok=True)
    out = subprocess.run([sys.executable, "-m", "aiguillage.cli", "--data-dir", str(inst.data_dir), "clients", "add",
                          "peer", "--scopes", "ror:read,ror:write"], cwd=ROOT, env=_env(inst, None),
                         capture_output=True, text=True, timeout=60, check=True)
    return out.stdout.split()[-1]


def start(inst: Instance, peers_file: Path | None) -> None:
    """Start ``serve`` (the token is created first when the instance has none)."""
    if not inst.token:
        inst.token = create_token(inst)
    inst.log_path = inst.data_dir / "serve.log"
    with inst.log_path.open("wb") as log:
        inst.proc = subprocess.Popen(
            [sys.executable, "-m", "aiguillage.cli", "serve", "--http-port", str(inst.http_port),
             "--mllp-port", str(free_port())], cwd=ROOT, env=_env(inst, peers_file), stdout=log,
            stderr=subprocess.STDOUT)


def wait_ready(instances: Iterable[Instance], timeout_s: float = 45.0) -> None:
    deadline = time.monotonic() + timeout_s
    for inst in instances:
        while True:
            assert inst.proc is not None
            if inst.proc.poll() is not None:
                log = inst.log_path.read_text(errors="replace") if inst.log_path else ""
                raise RuntimeError(f"{inst.name} exited with {inst.proc.returncode}: {log[-2000:]}")
            try:
                if httpx.get(inst.url + "/health", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{inst.name} not ready within {timeout_s} s")
            time.sleep(0.1)


def stop(instances: Iterable[Instance]) -> None:
    for inst in instances:
        if inst.proc is not None and inst.proc.poll() is None:
            inst.proc.terminate()
    for inst in instances:
        if inst.proc is not None:
            try:
                inst.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                inst.proc.kill()
                inst.proc.wait(timeout=5)


def load(inst: Instance, resources: Sequence[dict[str, Any]]) -> None:
    """PUT every resource over the instance's FHIR API (full validation on the peer)."""
    with httpx.Client(base_url=inst.fhir, headers=inst.headers, timeout=30.0) as client:
        for r in resources:
            resp = client.put(f"/{r['resourceType']}/{r['id']}", json=r)
            assert resp.status_code in (200, 201), resp.text


def regional(region: str, prefix: str, n: int, shared: dict[int, str] | None = None) -> list[dict[str, Any]]:
    """One organisation ``org1``, one location ``loc1`` (same ids in every region, on purpose) and ``n``
    offers ``{prefix}-hs{i}`` with identifier ``urn:ror:offre|{region}/{prefix}-hs{i}``, or
    ``shared[i]`` (a value another region also uses)."""
    out = [org("org1", f"CH {region}", region=region),
           loc("loc1", f"Ville {region}", "37000", "37261", 47.39, 0.68, "02", "org1", region=region)]
    for i in range(n):
        r = hs(f"{prefix}-hs{i}", f"Offre {prefix} {i}", "063", "28", "org1", "loc1", region=region)
        if shared and i in shared:
            r["identifier"] = [{"system": "urn:ror:offre", "value": shared[i]}]
        out.append(r)
    return out


# --- misbehaving peers ---------------------------------------------------------------------------


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


@dataclass
class FakePeers:
    """``/slow/fhir`` answers after ``slow_s``; ``/error/fhir`` answers HTTP 500; ``/garbage/fhir`` answers
    200 with invalid JSON; ``/hang/fhir`` accepts and never answers (until stopped)."""

    slow_s: float = 3.0
    port: int = 0
    seen: list[Seen] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def base(self, kind: str) -> str:
        return f"http://127.0.0.1:{self.port}/{kind}/fhir"

    def start(self) -> FakePeers:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                owner.seen.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}))
                kind = self.path.split("/")[1]
                if kind in ("slow", "hang"):
                    owner._stop.wait(owner.slow_s if kind == "slow" else 3600)
                if kind == "error":
                    self._send(500, json.dumps({"resourceType": "OperationOutcome", "issue": []}).encode())
                elif kind == "garbage":
                    self._send(200, b'{"resourceType": "Bundle", "entry": [')
                else:
                    self._send(200, json.dumps({"resourceType": "Bundle", "type": "searchset", "entry": []}).encode())

            def _send(self, status: int, body: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/fhir+json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (timeout): expected for the slow peer

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def peers_file(path: Path, peers: Sequence[dict[str, Any]], **top: Any) -> Path:
    path.write_text(json.dumps({**top, "peers": list(peers)}), encoding="utf-8")
    return path
