"""DMP endpoint SIMULATOR — stands in for the DMP web services, which cannot be reached here.

Not the DMP: a small FastAPI app, served on loopback by the tests (and usable for demos), that
speaks the same protocol as :class:`aiguillage.connectors.dmp.DmpHttpClient` and answers with the
status set a PFI reports (``retourDMP.Statut``), with outcomes scripted per INS or per test.

Wire protocol
-------------
``POST /dmp/documents`` — JSON body (:class:`aiguillage.dmp.wire.DmpRequest`)::

    {"action": "Creation" | "Modification" | "Suppression",
     "patient": {"insRoot": "1.2.250.1.213.1.4.8", "ins": "<15-character matricule INS>"},
     "document": {"id": "...", "setId": "...", "version": 1, "typeCode": "11490-0",
                  "masking": "false,false", "authors": ["8..."], "organization": "1...",
                  "content": "<base64 CDA>" | null}}

Answer ``200`` with (:class:`aiguillage.dmp.wire.DmpReply`)::

    {"statut": "SUCCESS" | "ERREUR_DMP_CLOS" | "ERREUR_VERIFICATION" | "DOCUMENTS_TOUS",
     "decision": "Autorise" | "Filtere", "idPartage": "<share id>" | null,
     "dateReponse": "<ISO datetime>", "message": "<reason, no personal data>"}

``400`` for a body that is not a request; ``503`` during a scripted outage. Rules, in order:
outage -> 503; scripted slowness -> the answer waits ``slow_s``; INS root not an INS OID, bad
matricule (13 digits + key 97 - n mod 97) or scripted invalid INS -> ``ERREUR_VERIFICATION``;
scripted closed DMP -> ``ERREUR_DMP_CLOS``; scripted filtered INS or type code ->
``DOCUMENTS_TOUS`` with decision ``Filtere``; then by action: Creation of a new document id
(content must be a ClinicalDocument) -> SUCCESS (the same id, setId and version again is an
idempotent replay: SUCCESS with the same share id; another content under a known id ->
ERREUR_VERIFICATION); Modification needs a shared setId and a higher version; Suppression needs
a shared, not deleted setId. Everything else -> ``ERREUR_VERIFICATION``.

``GET /_sim/state`` returns counters; ``PUT /_sim/script`` replaces the script (JSON with the
:class:`Script` fields). Tests in the same process may also set ``simulator.script`` directly.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from aiguillage.dmp.records import Action, Decision, DmpStatus
from aiguillage.dmp.wire import DmpReply, DmpRequest

INS_OIDS = frozenset({"1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11"})


def ins_key_ok(matricule: str) -> bool:
    """A NIR/NIA matricule: 13 characters (Corsica 2A/2B allowed) and its 2-digit key."""
    if len(matricule) != 15 or not matricule[13:].isdigit():
        return False
    body = matricule[:13].upper().replace("2A", "19", 1).replace("2B", "18", 1)
    if not body.isdigit():
        return False
    return 97 - int(body) % 97 == int(matricule[13:])


@dataclass
class Script:
    closed: set[str] = field(default_factory=set)  # INS whose DMP is closed
    invalid: set[str] = field(default_factory=set)  # INS the DMP does not know
    filtered: set[str] = field(default_factory=set)  # INS or type codes filtered (decision Filtere)
    outage: int = 0  # the next N requests answer 503
    slow: int = 0  # the next N requests wait slow_s before answering
    slow_s: float = 0.0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Script:
        return cls(set(data.get("closed", ())), set(data.get("invalid", ())), set(data.get("filtered", ())),
                   int(data.get("outage", 0)), int(data.get("slow", 0)), float(data.get("slow_s", 0.0)))


@dataclass
class _Stored:
    document_id: str
    set_id: str
    version: int
    type_code: str
    share_id: str
    deleted: bool = False


class DmpSimulator:
    def __init__(self, script: Script | None = None) -> None:
        self.script = script or Script()
        self.by_set: dict[tuple[str, str], _Stored] = {}  # (ins, setId) -> latest version
        self.by_id: dict[tuple[str, str], _Stored] = {}  # (ins, document id) -> version
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def _count(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1

    def _take(self, name: str) -> bool:
        with self._lock:
            left = int(getattr(self.script, name))
            if left > 0:
                setattr(self.script, name, left - 1)
                return True
            return False

    def answer(self, req: DmpRequest) -> DmpReply:
        """The DMP's decision for one request (pure: no waiting, no outage)."""
        s = self.script
        now = datetime.now(UTC)

        def reply(status: DmpStatus, message: str = "", share: str | None = None,
                  decision: Decision = Decision.AUTHORISED) -> DmpReply:
            self._count(status.value)
            return DmpReply(status, decision, share, now, message)

        if req.ins_root not in INS_OIDS or not ins_key_ok(req.ins) or req.ins in s.invalid:
            return reply(DmpStatus.ERREUR_VERIFICATION, "INS not verified")
        if req.ins in s.closed:
            return reply(DmpStatus.ERREUR_DMP_CLOS, "patient's DMP is closed")
        if req.ins in s.filtered or req.type_code in s.filtered:
            return reply(DmpStatus.DOCUMENTS_TOUS, "filtered", decision=Decision.FILTERED)
        if not req.type_code:
            return reply(DmpStatus.ERREUR_VERIFICATION, "no type code")
        with self._lock:
            known = self.by_id.get((req.ins, req.document_id))
            current = self.by_set.get((req.ins, req.set_id))
            if req.action is Action.SUPPRESSION:
                if current is None or current.deleted:
                    return reply(DmpStatus.ERREUR_VERIFICATION, "no shared document with this setId")
                current.deleted = True
                return reply(DmpStatus.SUCCESS, share=current.share_id)
            if b"ClinicalDocument" not in req.document:
                return reply(DmpStatus.ERREUR_VERIFICATION, "content is not a CDA document")
            if known is not None:
                same = (known.set_id, known.version, known.deleted) == (req.set_id, req.version, False)
                if same:  # a replay (e.g. after a timeout): same answer
                    return reply(DmpStatus.SUCCESS, "replay", known.share_id)
                return reply(DmpStatus.ERREUR_VERIFICATION, "document id already used")
            if req.action is Action.MODIFICATION:
                if current is None or current.deleted or req.version <= current.version:
                    return reply(DmpStatus.ERREUR_VERIFICATION, "no earlier version of this setId to replace")
            elif req.action is Action.CREATION:
                if current is not None and not current.deleted:
                    return reply(DmpStatus.ERREUR_VERIFICATION, "setId already shared: use Modification")
            else:
                return reply(DmpStatus.ERREUR_VERIFICATION, "unknown action")
            doc = _Stored(req.document_id, req.set_id, req.version, req.type_code, uuid.uuid4().hex[:12])
            self.by_id[(req.ins, req.document_id)] = doc
            self.by_set[(req.ins, req.set_id)] = doc
            return reply(DmpStatus.SUCCESS, share=doc.share_id)

    def app(self) -> FastAPI:
        app = FastAPI(title="DMP simulator (not the DMP)", docs_url=None, redoc_url=None)

        @app.post("/dmp/documents")
        async def documents(request: Request) -> JSONResponse:
            if self._take("outage"):
                self._count("http-503")
                return JSONResponse({"message": "service unavailable (simulated outage)"}, status_code=503)
            if self._take("slow"):
                await asyncio.sleep(self.script.slow_s)
            try:
                req = DmpRequest.from_json(await request.json())
            except (ValueError, KeyError, TypeError):
                self._count("http-400")
                return JSONResponse({"message": "not a DMP request"}, status_code=400)
            return JSONResponse(self.answer(req).to_json())

        @app.get("/_sim/state")
        async def state() -> dict[str, Any]:
            return {"counts": dict(self.counts), "documents": len(self.by_id), "script": _script_json(self.script)}

        @app.put("/_sim/script")
        async def put_script(request: Request) -> dict[str, Any]:
            self.script = Script.from_json(await request.json())
            return _script_json(self.script)

        return app


def _script_json(s: Script) -> dict[str, Any]:
    return {k: sorted(v) if isinstance(v, set) else v for k, v in asdict(s).items()}


class SimulatorServer:
    """Serve a :class:`DmpSimulator` with uvicorn on loopback in a background thread.

    ::

        with SimulatorServer(DmpSimulator()) as server:
            use_endpoint(engine, server.base_url)
    """

    def __init__(self, simulator: DmpSimulator, host: str = "127.0.0.1", port: int = 0) -> None:
        import uvicorn

        self.simulator = simulator
        self.host = host
        config = uvicorn.Config(simulator.app(), host=host, port=port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="dmp-simulator", daemon=True)
        self.port = port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = 10.0) -> SimulatorServer:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("DMP simulator did not start")
            time.sleep(0.01)
        sockets = [s for srv in self._server.servers for s in srv.sockets]
        self.port = int(sockets[0].getsockname()[1])
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["DmpSimulator", "Script", "SimulatorServer", "ins_key_ok"]
