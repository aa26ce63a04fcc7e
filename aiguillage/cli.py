"""`aiguillage …` command line: serve, migrate, clients, and the commands each package registers."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from aiguillage import heap
from aiguillage.config import Settings, load_settings
from aiguillage.errors import EngineError

log = logging.getLogger("aiguillage")

# Packages that contribute sub-commands: module path -> attribute `register(subparsers)`.
PLUGINS: tuple[str, ...] = (
    "aiguillage.connectors.cli",
    "aiguillage.nomenclatures.cli",
    "aiguillage.mappings.cli",
    "aiguillage.cda.cli",
    "aiguillage.dmp.cli",
)


def _settings(args: argparse.Namespace, **overrides: object) -> Settings:
    return load_settings(getattr(args, "config", None), data_dir=getattr(args, "data_dir", None), **overrides)


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)


# -- serve ------------------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args, http_port=args.http_port, mllp_port=args.mllp_port, http_host=args.host,
                         mllp_host=args.host)
    _setup_logging(settings.log_level)
    # The event loop hands work to the committer/worker threads and back for every ACK; with the
    # default 5 ms GIL switch interval a busy worker thread would add up to 5 ms per hand-off.
    sys.setswitchinterval(0.0005)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(_serve(settings, started_at=args._t0))
    return 0


async def _serve(settings: Settings, started_at: float) -> None:
    import uvicorn

    from aiguillage.api.app import create_app
    from aiguillage.engine import Engine

    _Server = _server_class()
    engine = Engine(settings)
    await engine.start()
    servers: list[object] = []
    mllp = None
    try:
        if settings.role in ("all", "mllp"):
            from aiguillage.connectors.mllp import start_mllp_server

            mllp = await start_mllp_server(engine)
            servers.append(mllp)
        if settings.role in ("all", "api"):
            app = create_app(engine)
            config = uvicorn.Config(app, host=settings.http_host, port=settings.http_port,
                                    log_level="warning", lifespan="on", access_log=False)
            server = _Server(config)
            heap.settle()
            log.info("aiguillage ready in %.2fs: http://%s:%d, mllp %s:%d", time.perf_counter() - started_at,
                     settings.http_host, settings.http_port, settings.mllp_host, settings.mllp_port)
            await server.serve()
        else:
            heap.settle()
            log.info("aiguillage %s ready in %.2fs", settings.role, time.perf_counter() - started_at)
            await _wait_for_signal()
    finally:
        if mllp is not None:
            await mllp.close()
        await engine.stop()


def _server_class() -> type:
    import contextlib
    import signal

    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server without re-raising the signal after shutdown, so the engine stops cleanly."""

        @contextlib.contextmanager
        def capture_signals(self):  # type: ignore[no-untyped-def]
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return Server


async def _wait_for_signal() -> None:
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


# -- migrate / clients -------------------------------------------------------------------------------


def cmd_migrate(args: argparse.Namespace) -> int:
    from aiguillage.store import db

    settings = _settings(args)
    engine = db.make_engine(settings.effective_database_url)
    db.migrate(engine)
    print(f"database at {engine.url.render_as_string(hide_password=True)} is up to date")
    return 0


def _db(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from aiguillage.store import db

    settings = _settings(args)
    engine = db.make_engine(settings.effective_database_url)
    db.migrate(engine)
    return engine


def cmd_clients_add(args: argparse.Namespace) -> int:
    from aiguillage.store import clients

    scopes = clients.parse_scopes(args.scopes)
    token = clients.add_client(_db(args), args.name, scopes)
    print(f"client {args.name} created with scopes {','.join(sorted(scopes))}; token (shown once): {token}")
    return 0


def cmd_clients_list(args: argparse.Namespace) -> int:
    from aiguillage.store import clients

    for c in clients.list_clients(_db(args)):
        state = "disabled" if c["disabled"] else "active"
        print(f"{c['name']}\t{c['scopes']}\t{state}\t{c['created_at']:%Y-%m-%d %H:%M}")
    return 0


def cmd_clients_disable(args: argparse.Namespace) -> int:
    from aiguillage.store import clients

    clients.disable_client(_db(args), args.name)
    print(f"client {args.name} disabled")
    return 0


# -- parser ------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="aiguillage", description="Interoperability integration engine")
    p.add_argument("--config", type=Path, help="TOML config file (else AIGUILLAGE_CONFIG)")
    p.add_argument("--data-dir", type=Path, help="data directory (else AIGUILLAGE_DATA_DIR, ./data)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the engine (HTTP API, MLLP listener, workers)")
    s.add_argument("--http-port", type=int)
    s.add_argument("--mllp-port", type=int)
    s.add_argument("--host", help="bind address for HTTP and MLLP (default 127.0.0.1)")
    s.set_defaults(func=cmd_serve)

    m = sub.add_parser("migrate", help="create or upgrade the database schema")
    m.set_defaults(func=cmd_migrate)

    c = sub.add_parser("clients", help="API clients and their tokens")
    csub = c.add_subparsers(dest="clients_command", required=True)
    ca = csub.add_parser("add", help="create a client; prints its token as the last word")
    ca.add_argument("name")
    ca.add_argument("--scopes", required=True, help="comma-separated: intake,ror:read,…,admin")
    ca.set_defaults(func=cmd_clients_add)
    cl = csub.add_parser("list", help="list clients")
    cl.set_defaults(func=cmd_clients_list)
    cd = csub.add_parser("disable", help="disable a client's token")
    cd.add_argument("name")
    cd.set_defaults(func=cmd_clients_disable)

    for module in PLUGINS:
        register = _plugin(module)
        if register is not None:
            register(sub)
    return p


def _plugin(module: str) -> Callable[[argparse._SubParsersAction], None] | None:
    import importlib

    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return None
        raise
    register: Callable[[argparse._SubParsersAction], None] = mod.register
    return register


def main(argv: Sequence[str] | None = None) -> int:
    t0 = time.perf_counter()
    parser = build_parser()
    args = parser.parse_args(argv)
    args._t0 = t0
    if args.data_dir is None:
        args.data_dir = Path(os.environ.get("AIGUILLAGE_DATA_DIR") or "./data")
    try:
        rc: int = args.func(args)
        return rc
    except EngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        for issue in exc.issues:
            where = f" ({issue.location})" if issue.location else ""
            print(f"  - {issue.message}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
