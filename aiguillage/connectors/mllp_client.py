"""A small MLLP client: send ER7 messages, read their ACKs (used by `aiguillage hl7 send` and tests)."""

from __future__ import annotations

import asyncio
import contextlib
import ssl

from aiguillage.connectors.mllp_framing import Frame, MLLPDecoder, encode_frame
from aiguillage.errors import EngineError


class MLLPClientError(EngineError):
    def __init__(self, message: str, code: str = "MLLP-0100") -> None:
        super().__init__(message, code, 502, True, [])


class MLLPClient:
    def __init__(self, host: str, port: int, *, timeout: float = 30.0, ssl_context: ssl.SSLContext | None = None):
        self.host = host
        self.port = port
        self.timeout = timeout
        self.ssl_context = ssl_context
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._decoder = MLLPDecoder(16 * 1024 * 1024)
        self._frames: list[bytes] = []

    async def __aenter__(self) -> MLLPClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        try:
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port, ssl=self.ssl_context), self.timeout
            )
        except (OSError, TimeoutError) as exc:
            raise MLLPClientError(f"cannot connect to {self.host}:{self.port}: {exc.__class__.__name__}") from exc

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await self._writer.wait_closed()
            self._writer = None

    async def send(self, payload: bytes) -> bytes:
        """Send one message and wait for its ACK."""
        await self.send_raw(encode_frame(payload))
        return await self.read_ack()

    async def send_raw(self, data: bytes) -> None:
        if self._writer is None:
            raise MLLPClientError("not connected", "MLLP-0101")
        self._writer.write(data)
        await self._writer.drain()

    async def read_ack(self) -> bytes:
        assert self._reader is not None
        while not self._frames:
            try:
                data = await asyncio.wait_for(self._reader.read(65536), self.timeout)
            except TimeoutError as exc:
                raise MLLPClientError("no ACK before the timeout", "MLLP-0102") from exc
            if not data:
                raise MLLPClientError("connection closed before the ACK", "MLLP-0103")
            self._frames.extend(i.payload for i in self._decoder.feed(data) if isinstance(i, Frame))
        return self._frames.pop(0)
