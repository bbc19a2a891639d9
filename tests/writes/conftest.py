"""Real parts for the write queue's delivery tests: a Redis that can be restarted, and real
Celery workers (with beat) that share the test database file and can be killed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from pytest_django.fixtures import Settings

from apps.writes.models import Write
from crmconsole.celery import app as celery_app
from tests.conftest import REPO_ROOT, Sandbox, SandboxStarter, free_port
from tests.databases import worker_database_url


@dataclass
class RedisServer:
    """A redis-server of one test, with its data on disk so a restart keeps (or loses) it."""

    port: int
    workdir: Path
    persistent: bool = False
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or "redis-server"
        persistence = ["--appendonly", "yes"] if self.persistent else ["--appendonly", "no"]
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.workdir),
                "--save",
                "",
                *persistence,
                "--maxmemory-policy",
                "noeviction",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@dataclass
class Worker:
    """One `celery worker -B` process (its own process group, so kill -9 takes its children)."""

    proc: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class QueueRig:
    """Everything a delivery test runs against, and the knobs to break it."""

    sandbox: Sandbox
    redis: RedisServer
    workdir: Path
    env: dict[str, str]
    workers: list[Worker] = field(default_factory=list)

    def start_worker(self, concurrency: int = 2) -> Worker:
        log = self.workdir / f"worker-{len(self.workers)}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "crmconsole",
                    "worker",
                    "-B",
                    "--concurrency",
                    str(concurrency),
                    "--loglevel",
                    "INFO",
                    "--schedule",
                    str(self.workdir / f"beat-{len(self.workers)}"),
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ],
                cwd=REPO_ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker = Worker(proc, log)
        self.workers.append(worker)
        deadline = time.monotonic() + 60
        while "ready" not in worker.output():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"celery worker did not start:\n{worker.output()[-3000:]}")
            time.sleep(0.1)
        return worker

    def faults(self, **values: float) -> None:
        answer = self.sandbox.post("/_sandbox/faults", json=values)
        assert answer.status_code == 200, answer.text

    def get(self, path: str, params: dict[str, Any] | None = None) -> requests.Response:
        """A GET straight to the sandbox (past the console's budget), waiting out its 429s."""
        deadline = time.monotonic() + 60
        while True:
            answer = self.sandbox.get(path, params=params)
            if answer.status_code != 429 or time.monotonic() > deadline:
                answer.raise_for_status()
                return answer
            time.sleep(float(answer.headers.get("Retry-After") or 1))

    def request_log(self) -> list[dict[str, Any]]:
        """Every API request the sandbox answered: time, method, path, status."""
        answer = self.sandbox.get("/_sandbox/requests")
        answer.raise_for_status()
        return list(answer.json())

    def wait_until_settled(self, timeout: float = 120) -> list[Write]:
        """Wait until no write is queued or sending; return every write."""
        deadline = time.monotonic() + timeout
        while Write.objects.filter(state__in=Write.PENDING_STATES).exists():
            if time.monotonic() > deadline:
                pending = list(Write.objects.filter(state__in=Write.PENDING_STATES))
                logs = "\n".join(w.output()[-2000:] for w in self.workers)
                raise AssertionError(f"writes still pending: {pending}\n{logs}")
            time.sleep(0.2)
        return list(Write.objects.order_by("id"))

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()


def _use_broker(url: str) -> None:
    """Point this process's Celery app at another broker, dropping pooled connections."""
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
        celery_app._pool = None
    celery_app.amqp._producer_pool = None
    # The Django-namespaced CELERY_BROKER_URL wins over broker_url: set the write URL.
    celery_app.conf.update(broker_write_url=url, broker_read_url=url)


@pytest.fixture
def rig_sandbox_options() -> dict[str, Any]:
    """How `queue_rig` starts its sandbox. A test changes it by parametrizing this name, e.g.
    `@pytest.mark.parametrize("rig_sandbox_options", [{"seed": "demo"}])`, or
    `{"rate_limit": 20, "rate_window": 4}` for a MiniCRM with a budget of its own (the
    workers' budget comes from `MINICRM_RATE_*` in `queue_rig.env`)."""
    return {"seed": "doc"}


@pytest.fixture
def queue_rig(
    transactional_db: None,
    settings: Settings,
    sandbox_factory: SandboxStarter,
    rig_sandbox_options: dict[str, Any],
    tmp_path: Path,
) -> Iterator[QueueRig]:
    """A private sandbox (doc seed unless `rig_sandbox_options` says otherwise), a private
    Redis and the settings that join them; start workers with `queue_rig.start_worker()`.
    Tests using it see committed data (transactional_db)."""
    sandbox = sandbox_factory(**{"seed": "doc", **rig_sandbox_options})
    server = RedisServer(free_port(), tmp_path, persistent=False)
    server.start()
    settings.MINICRM_BASE_URL = sandbox.base_url
    settings.MINICRM_SYSTEM_ID = sandbox.system_id
    settings.MINICRM_API_KEY = sandbox.api_key
    settings.REDIS_URL = server.url
    previous_broker = celery_app.conf.broker_write_url
    _use_broker(server.url)
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "REDIS_URL": server.url,
        "MINICRM_BASE_URL": sandbox.base_url,
        "MINICRM_SYSTEM_ID": sandbox.system_id,
        "MINICRM_API_KEY": sandbox.api_key,
        "MINICRM_READ_TIMEOUT": "1",
        "WRITE_QUEUE_STALE_SECONDS": "4",
        "WRITE_QUEUE_SWEEP_SECONDS": "1",
        "WRITE_QUEUE_MAX_BACKOFF": "2",
        "PYTHONUNBUFFERED": "1",
    }
    rig = QueueRig(sandbox, server, tmp_path, env)
    try:
        yield rig
    finally:
        rig.stop()
        server.stop()
        _use_broker(previous_broker)


@pytest.fixture
def sandbox_records(queue_rig: QueueRig) -> Callable[[str, dict[str, object]], list[dict]]:
    """Every search row of the rig's sandbox for a resource and filter (all pages)."""

    def rows(entity: str, params: dict[str, object]) -> list[dict]:
        found: list[dict] = []
        page = 0
        while True:
            data = queue_rig.get(f"/Api/R3/{entity}", params={**params, "Page": page}).json()
            results = data["Results"]
            found += list(results.values()) if isinstance(results, dict) else results
            if (page + 1) * 100 >= int(data["Count"]):
                return found
            page += 1

    return rows
