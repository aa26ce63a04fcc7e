"""MLLP listener (asyncio; TLS with optional client certificates).

Bytes in, bytes out: frames are decoded by :mod:`mllp_framing` and handed to the HL7 intake, whose
ACK goes back on the same connection, in order. A connection's failure never stops the listener:
bad framing is logged (and answered with a NACK where a reply makes sense), an idle or slow client
is disconnected after its timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable

from aiguillage.connectors.mllp_framing import OVERSIZED, Frame, MLLPDecoder, encode_frame
from aiguillage.engine import Engine
from aiguillage.hl7v2.ack import AckCode, build_nack_for_unparseable

log = logging.getLogger(__name__)

OnMessage = Callable[[bytes, str], Awaitable[bytes]]


class MLLPServer:
    def __init__(
        self, on_message: OnMessage, *, host: str, port: int, max_frame_bytes: int,
        idle_timeout_s: float = 300.0, partial_timeout_s: float = 30.0, ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.on_message = on_message
        self.host = host
        self.port = port
        self.max_frame_bytes = max_frame_bytes
        self.idle_timeout_s = idle_timeout_s
        self.partial_timeout_s = partial_timeout_s
        self.ssl_context = ssl_context
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.Task[None]] = set()
        self.connections = 0
        self.frames = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, self.host, self.port, ssl=self.ssl_context, limit=2**20, reuse_address=True
        )
        sock = self._server.sockets[0]
        self.port = int(sock.getsockname()[1])
        log.info("MLLP listening on %s:%d%s", self.host, self.port, " (TLS)" if self.ssl_context else "")

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for t in list(self._conns):
                t.cancel()
            for t in list(self._conns):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._conns.add(task)
        peer = _peer(writer)
        self.connections += 1
        decoder = MLLPDecoder(self.max_frame_bytes)
        loop = asyncio.get_running_loop()
        try:
            # one deadline per connection, moved before each read (cheaper than wait_for's task per read)
            timeout = self.idle_timeout_s
            async with asyncio.timeout(None) as deadline:
                while True:
                    timeout = self.partial_timeout_s if decoder.pending() else self.idle_timeout_s
                    deadline.reschedule(loop.time() + timeout)
                    data = await reader.read(65536)
                    deadline.reschedule(None)  # processing and writing are not bounded by the read timeout
                    if not data:
                        if decoder.pending():
                            log.info("MLLP %s: connection closed inside an unterminated frame", _anon(peer))
                        break
                    for item in decoder.feed(data):
                        if isinstance(item, Frame):
                            self.frames += 1
                            ack = await self.on_message(item.payload, peer)
                        else:
                            log.info("MLLP %s: framing error %s (%d bytes skipped)", _anon(peer), item.code,
                                     item.skipped_bytes)
                            if item.code != OVERSIZED:
                                continue
                            ack = build_nack_for_unparseable(
                                b"", AckCode.AR, f"{item.code} frame larger than {self.max_frame_bytes} bytes",
                            )
                        writer.write(encode_frame(ack))
                    await writer.drain()
        except TimeoutError:  # the read deadline passed (the only deadline in this handler)
            state = "a partial frame" if decoder.pending() else "no traffic"
            log.info("MLLP %s: closing after %.0fs with %s", _anon(peer), timeout, state)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError) as exc:
            log.info("MLLP %s: connection error %s", _anon(peer), exc.__class__.__name__)
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("MLLP %s: connection handler failed; connection closed", _anon(peer))
        finally:
            with contextlib.suppress(Exception):
                writer.close()
            if task is not None:
                self._conns.discard(task)


def _peer(writer: asyncio.StreamWriter) -> str:
    cert = writer.get_extra_info("peercert")
    if cert:
        for rdn in cert.get("subject", ()):
            for k, v in rdn:
                if k == "commonName":
                    return f"cn={v}"
    addr = writer.get_extra_info("peername")
    return f"{addr[0]}:{addr[1]}" if isinstance(addr, tuple) else "unknown"


def _anon(peer: str) -> str:
    return peer  # an address or certificate CN: system identity, not personal data


def tls_context(cert: str, key: str, client_ca: str | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    if client_ca:
        ctx.load_verify_locations(client_ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


async def start_mllp_server(engine: Engine) -> MLLPServer:
    from aiguillage.router.hl7_intake import receive_hl7

    s = engine.settings

    async def on_message(payload: bytes, peer: str) -> bytes:
        result = await receive_hl7(engine, payload, channel="mllp", source="")
        return result.ack

    ctx = None
    if s.mllp_tls_cert and s.mllp_tls_key:
        ctx = tls_context(str(s.mllp_tls_cert), str(s.mllp_tls_key),
                          str(s.mllp_tls_client_ca) if s.mllp_tls_client_ca else None)
    server = MLLPServer(on_message, host=s.mllp_host, port=s.mllp_port, max_frame_bytes=s.mllp_max_frame_bytes,
                        idle_timeout_s=s.mllp_idle_timeout_s, ssl_context=ctx)
    await server.start()
    return server
