"""Run the sandbox: open (and seed) its SQLite file, start the webhook dispatcher, serve HTTP."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from werkzeug.serving import make_server

from apps.sandbox.api import SandboxApp
from apps.sandbox.budget import Budget, Faults
from apps.sandbox.seeds import load_seed
from apps.sandbox.store import Store
from apps.sandbox.webhooks import Dispatcher

log = logging.getLogger(__name__)


@dataclass
class SandboxOptions:
    host: str = "127.0.0.1"
    port: int = 8001
    seed: str = "demo"
    data: Path | None = None
    reset: bool = False
    system_id: str = "12345"
    api_key: str = "sandbox-api-key"  # the sandbox's own public credential
    rate_limit: int = 180
    rate_window: float = 60.0
    latency: float = 0.0
    error_rate: float = 0.0
    webhook_time_scale: float = 1.0
    log_requests: bool = False


def open_store(options: SandboxOptions) -> Store:
    """The sandbox's data file, seeded when it is new (or when a reset was asked for)."""
    path = options.data or Path(".run") / f"sandbox-{options.seed}.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    if options.reset:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = Store(path)
    if not store.is_seeded():
        log.info("seeding %s with the %s seed", path, options.seed)
        load_seed(store, options.seed)
    return store


def build_app(options: SandboxOptions) -> tuple[SandboxApp, Dispatcher]:
    store = open_store(options)
    budget = Budget(
        limit=options.rate_limit,
        window=options.rate_window,
        faults=Faults(latency=options.latency, error_rate=options.error_rate),
    )
    dispatcher = Dispatcher(store, time_scale=options.webhook_time_scale)
    app = SandboxApp(
        store,
        system_id=options.system_id,
        api_key=options.api_key,
        budget=budget,
        dispatcher=dispatcher,
        seed=store.get_meta("seed"),
    )
    return app, dispatcher


def serve(options: SandboxOptions) -> None:
    """Serve until interrupted."""
    if not options.log_requests:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app, dispatcher = build_app(options)
    server = make_server(options.host, options.port, app, threaded=True)
    dispatcher.start()
    try:
        server.serve_forever()
    finally:
        server.server_close()
        dispatcher.stop()
        app.store.close()
