"""`manage.py minicrm_sandbox`: run the MiniCRM-compatible sandbox server in this process."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.sandbox.server import SandboxOptions, serve

DEFAULTS = SandboxOptions()


class Command(BaseCommand):
    help = "Run the MiniCRM-compatible sandbox API server (its own SQLite file, its own process)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=DEFAULTS.host)
        parser.add_argument("--port", type=int, default=DEFAULTS.port)
        parser.add_argument(
            "--seed",
            choices=["demo", "doc", "empty"],
            default=DEFAULTS.seed,
            help="data loaded when the data file is new (default: demo)",
        )
        parser.add_argument(
            "--data",
            type=Path,
            default=None,
            help="the sandbox's SQLite file (default: .run/sandbox-<seed>.sqlite3)",
        )
        parser.add_argument(
            "--reset", action="store_true", help="drop the data file and seed it again"
        )
        parser.add_argument("--system-id", default=DEFAULTS.system_id)
        parser.add_argument("--api-key", default=DEFAULTS.api_key)
        parser.add_argument(
            "--rate-limit",
            type=int,
            default=DEFAULTS.rate_limit,
            help="requests allowed per sliding window (default: 180)",
        )
        parser.add_argument(
            "--rate-window",
            type=float,
            default=DEFAULTS.rate_window,
            help="the sliding window in seconds (default: 60)",
        )
        parser.add_argument(
            "--latency", type=float, default=0.0, help="seconds added to every API answer"
        )
        parser.add_argument(
            "--error-rate",
            type=float,
            default=0.0,
            help="share of API requests answered with a 500 (0..1)",
        )
        parser.add_argument(
            "--webhook-time-scale",
            type=float,
            default=1.0,
            help="factor applied to the webhook retry schedule",
        )
        parser.add_argument("--log-requests", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
        options = SandboxOptions(
            host=opts["host"],
            port=opts["port"],
            seed=opts["seed"],
            data=opts["data"],
            reset=opts["reset"],
            system_id=opts["system_id"],
            api_key=opts["api_key"],
            rate_limit=opts["rate_limit"],
            rate_window=opts["rate_window"],
            latency=opts["latency"],
            error_rate=opts["error_rate"],
            webhook_time_scale=opts["webhook_time_scale"],
            log_requests=opts["log_requests"],
        )
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        self.stdout.write(
            f"MiniCRM sandbox on http://{options.host}:{options.port} "
            f"(SystemId {options.system_id}, seed {options.seed}, "
            f"budget {options.rate_limit} per {options.rate_window:g} s)"
        )
        self.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            serve(options)
