"""The MLLP listener against real sockets: ACK after commit, duplicates, every kind of bad input,
slow clients, TLS with client certificates. The listener must keep serving through all of it."""

from __future__ import annotations

import asyncio
import logging
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aiguillage.connectors.mllp import MLLPServer, start_mllp_server, tls_context
from aiguillage.connectors.mllp_client import MLLPClient
from aiguillage.engine import Engine
from aiguillage.router.hl7_intake import receive_hl7
from aiguillage.store import messages as msgs
from aiguillage.store.messages import MessageFilter

DATA = Path(__file__).resolve().parents[1] / "data" / "hl7v2"


def sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def msa(ack: bytes) -> list[str]:
    seg = next(s for s in ack.split(b"\r") if s.startswith(b"MSA"))
    return seg.decode("latin-1").split("|")


def errs(ack: bytes) -> list[list[str]]:
    return [s.decode("latin-1").split("|") for s in ack.split(b"\r") if s.startswith(b"ERR")]


@pytest.fixture
async def mllp(engine: Engine) -> AsyncIterator[MLLPServer]:
    async def on_message(payload: bytes, peer: str) -> bytes:
        return (await receive_hl7(engine, payload, channel="mllp")).ack

    server = MLLPServer(on_message, host="127.0.0.1", port=0, max_frame_bytes=64 * 1024,
                        idle_timeout_s=5, partial_timeout_s=0.5)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


async def test_valid_message_gets_aa_after_commit_and_duplicate_same_answer(engine: Engine, mllp: MLLPServer) -> None:
    raw = sample("adt_a01_admit.hl7")
    async with MLLPClient("127.0.0.1", mllp.port, timeout=5) as c:
        ack = await c.send(raw)
        again = await c.send(raw)
    assert msa(ack)[1:3] == ["AA", "CTL-A01"]
    assert msa(again)[1:3] == ["AA", "CTL-A01"]
    rows = msgs.list_messages(engine.db, MessageFilter(channel="mllp"))
    assert len(rows) == 1, "the same MSH-10 from the same sender is stored once"
    row = msgs.get(engine.db, rows[0]["id"])
    assert row["raw"] == raw and row["message_type"] == "ADT^A01" and row["control_id"] == "CTL-A01"
    assert row["correlation_key"] and row["correlation_key"].startswith("IPP:")


@pytest.mark.parametrize(
    ("name", "code", "hl7_err"),
    [
        ("edge_missing_msh10.hl7", "AE", "101"),
        ("edge_wrong_version.hl7", "AR", "203"),
        ("edge_two_msh.hl7", "AR", "100"),
    ],
)
async def test_bad_messages_get_a_nack_with_err_and_are_kept(
    engine: Engine, mllp: MLLPServer, name: str, code: str, hl7_err: str
) -> None:
    raw = sample(name)
    async with MLLPClient("127.0.0.1", mllp.port, timeout=5) as c:
        ack = await c.send(raw)
    assert msa(ack)[1] == code, ack
    codes = [e[3].split("^")[0] for e in errs(ack)]
    assert hl7_err in codes, errs(ack)
    assert all(len(e) >= 5 and e[4] in ("E", "W", "I") for e in errs(ack))
    rejected = msgs.list_messages(engine.db, MessageFilter(status=["REJECTED"]))
    assert len(rejected) == 1
    stored = msgs.get(engine.db, rejected[0]["id"])
    assert stored["raw"] == raw and stored["response"] == ack and stored["error_codes"]


async def test_unknown_event_and_empty_and_garbage(engine: Engine, mllp: MLLPServer) -> None:
    unknown = sample("adt_a01_admit.hl7").replace(b"ADT^A01^ADT_A01|CTL-A01", b"ADT^A99^ADT_A01|CTL-A99")
    async with MLLPClient("127.0.0.1", mllp.port, timeout=5) as c:
        ack = await c.send(unknown)
        assert msa(ack)[1:3] == ["AR", "CTL-A99"]
        assert "201" in [e[3].split("^")[0] for e in errs(ack)]
        empty = await c.send(b"")
        assert msa(empty)[1] == "AR"
        garbage = await c.send(b"\x00\xff\xfe not hl7 at all")
        assert msa(garbage)[1] == "AR"
        # bytes outside any frame are skipped; the connection keeps working
        await c.send_raw(b"noise before a frame")
        ok = await c.send(sample("adt_a01_admit.hl7"))
        assert msa(ok)[1] == "AA"
    rejected = msgs.list_messages(engine.db, MessageFilter(status=["REJECTED"]))
    assert len(rejected) == 3  # unknown event, empty, garbage: all kept with their bytes
    assert {msgs.get(engine.db, r["id"])["raw"] for r in rejected} >= {b"", b"\x00\xff\xfe not hl7 at all"}


async def test_oversized_frame_unterminated_frame_and_slow_client(
    engine: Engine, mllp: MLLPServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aiguillage.connectors.mllp")
    async with MLLPClient("127.0.0.1", mllp.port, timeout=5) as c:
        big = b"MSH|^~\\&|" + b"X" * (70 * 1024)
        ack = await c.send(big)
        assert msa(ack)[1] == "AR" and b"MLLP-0002" in ack
        ok = await c.send(sample("adt_a01_admit.hl7"))
        assert msa(ok)[1] == "AA"
    # a slow client that never ends its frame is disconnected after the partial-frame timeout
    reader, writer = await asyncio.open_connection("127.0.0.1", mllp.port)
    writer.write(b"\x0bMSH|^~\\&|SLOW")
    await writer.drain()
    data = await asyncio.wait_for(reader.read(100), 3.0)
    assert data == b""  # closed by the server
    writer.close()
    assert any("closing after 0s with a partial frame" in r.getMessage() for r in caplog.records)
    assert not any(r.levelno >= logging.ERROR for r in caplog.records)  # a timeout is not a handler failure
    # the listener still serves new connections
    async with MLLPClient("127.0.0.1", mllp.port, timeout=5) as c:
        again = await c.send(sample("adt_a04_outpatient.hl7"))
    assert msa(again)[1] == "AA"


async def test_many_connections_in_parallel(engine: Engine, mllp: MLLPServer) -> None:
    base = sample("adt_a01_admit.hl7")

    async def one(conn: int) -> list[str]:
        codes = []
        async with MLLPClient("127.0.0.1", mllp.port, timeout=10) as c:
            for i in range(25):
                raw = base.replace(b"|CTL-A01|", f"|C{conn}-{i}|".encode())
                codes.append(msa(await c.send(raw))[1])
        return codes

    results = await asyncio.gather(*(one(k) for k in range(8)))
    assert all(code == "AA" for codes in results for code in codes)
    assert len(msgs.list_messages(engine.db, MessageFilter(channel="mllp"), limit=1000)) == 200


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    p = {k: tmp_path / f"{k}.pem" for k in ("ca", "ca_key", "srv", "srv_key", "cli", "cli_key")}
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
             "-keyout", str(p["ca_key"]), "-out", str(p["ca"]))
    for name, cn in (("srv", "127.0.0.1"), ("cli", "gam-chu-test")):
        csr = tmp_path / f"{name}.csr"
        ext = tmp_path / f"{name}.ext"
        ext.write_text("subjectAltName=IP:127.0.0.1\n" if name == "srv" else "extendedKeyUsage=clientAuth\n")
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={cn}", "-keyout", str(p[f"{name}_key"]),
                 "-out", str(csr))
        _openssl("x509", "-req", "-in", str(csr), "-CA", str(p["ca"]), "-CAkey", str(p["ca_key"]),
                 "-CAcreateserial", "-days", "2", "-out", str(p[name]), "-extfile", str(ext))
    return p


async def test_tls_with_client_certificates(engine: Engine, pki: dict[str, Path]) -> None:
    engine.settings.mllp_tls_cert = pki["srv"]
    engine.settings.mllp_tls_key = pki["srv_key"]
    engine.settings.mllp_tls_client_ca = pki["ca"]
    engine.settings.mllp_host = "127.0.0.1"
    engine.settings.mllp_port = 0
    server = await start_mllp_server(engine)
    try:
        ctx = ssl.create_default_context(cafile=str(pki["ca"]))
        ctx.load_cert_chain(str(pki["cli"]), str(pki["cli_key"]))
        async with MLLPClient("127.0.0.1", server.port, timeout=5, ssl_context=ctx) as c:
            assert msa(await c.send(sample("adt_a01_admit.hl7")))[1] == "AA"
        no_cert = ssl.create_default_context(cafile=str(pki["ca"]))
        with pytest.raises(Exception):  # noqa: B017 - the handshake or first read fails, depending on TLS 1.3 timing
            async with MLLPClient("127.0.0.1", server.port, timeout=3, ssl_context=no_cert) as c:
                await c.send(sample("adt_a04_outpatient.hl7"))
    finally:
        await server.close()
    rows = msgs.list_messages(engine.db, MessageFilter(channel="mllp"))
    assert len(rows) == 1, "only the authenticated client's message was stored"
    assert tls_context(str(pki["srv"]), str(pki["srv_key"]), None).verify_mode == ssl.CERT_NONE
