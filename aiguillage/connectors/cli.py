"""`aiguillage hl7 send FILE…`: an MLLP client for files of ER7 messages (one message, or a batch)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from aiguillage.connectors.mllp_client import MLLPClient


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("hl7", help="HL7 v2 tools")
    hsub = p.add_subparsers(dest="hl7_command", required=True)
    s = hsub.add_parser("send", help="send ER7 files over MLLP and print each ACK's MSA")
    s.add_argument("files", nargs="+", type=Path)
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=2575)
    s.add_argument("--timeout", type=float, default=30.0)
    s.add_argument("--lf", action="store_true", help="convert LF/CRLF line ends to CR before sending")
    s.add_argument("--show-ack", action="store_true", help="print the whole ACK")
    s.set_defaults(func=cmd_send)


def _messages(data: bytes, lf: bool) -> list[bytes]:
    if lf:
        data = data.replace(b"\r\n", b"\r").replace(b"\n", b"\r")
    data = data.strip(b"\r\n\x0b\x1c")
    if data.startswith((b"FHS", b"BHS")):
        return [data]
    out: list[bytes] = []
    for chunk in data.split(b"\rMSH")[1:] if not data.startswith(b"MSH") else (b"\r" + data).split(b"\rMSH")[1:]:
        out.append(b"MSH" + chunk.rstrip(b"\r") + b"\r")
    return out or [data]


def cmd_send(args: argparse.Namespace) -> int:
    return asyncio.run(_send(args))


async def _send(args: argparse.Namespace) -> int:
    failures = 0
    async with MLLPClient(args.host, args.port, timeout=args.timeout) as client:
        for path in args.files:
            for i, payload in enumerate(_messages(path.read_bytes(), args.lf), 1):
                ack = await client.send(payload)
                msa = next((s for s in ack.split(b"\r") if s.startswith(b"MSA")), b"MSA|??")
                code = msa.split(b"|")[1].decode("ascii", "replace") if b"|" in msa else "??"
                if code not in ("AA", "CA"):
                    failures += 1
                print(f"{path.name}#{i}\t{code}\t{msa.decode('latin-1')}")
                if args.show_ack:
                    print(ack.decode("latin-1").replace("\r", "\n"))
    if failures:
        print(f"{failures} message(s) not accepted", file=sys.stderr)
    return 1 if failures else 0
