"""Shared fixtures: MiniCRM sandbox processes started over real HTTP for the black-box tests.

Each sandbox is its own `manage.py minicrm_sandbox` process on a free port with its own SQLite
file, so every xdist worker gets its own processes. `sandbox_doc` and `sandbox_demo` are shared
by a whole worker session: tests may add records to them but must not change seeded records
(tests that do start their own sandbox with `sandbox_factory` or `module_sandbox_factory`).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest
import redis
import requests
from pytest_django.fixtures import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
SYSTEM_ID = "12345"
API_KEY = "sandbox-api-key"
BIG_RATE_LIMIT = 100000
START_TIMEOUT = 60.0
DEMO_START_TIMEOUT = 180.0


def free_port() -> int:
    """A port nobody listens on right now (bound to 127.0.0.1:0 and released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Sandbox:
    """One running sandbox process and a `requests.Session` holding its Basic credentials."""

    base_url: str
    seed: str
    data_file: Path
    proc: subprocess.Popen[bytes]
    log_file: Path
    system_id: str = SYSTEM_ID
    api_key: str = API_KEY
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.session.auth = (self.system_id, self.api_key)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def url(self, path: str) -> str:
        return self.base_url + path

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, self.url(path), **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def curl(self, method: str, path: str, body: str) -> requests.Response:
        """Send a body the way the document's `curl -d '...'` does (form content type, raw JSON)."""
        return self.request(
            method,
            path,
            data=body.encode("utf-8"),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    def log_tail(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.session.close()


class SandboxStarter(Protocol):
    def __call__(
        self,
        seed: str = "doc",
        *,
        rate_limit: int = BIG_RATE_LIMIT,
        rate_window: float = 60,
        webhook_time_scale: float = 0.01,
        extra_args: tuple[str, ...] = (),
        data_file: Path | None = None,
    ) -> Sandbox: ...


def _wait_healthy(sandbox: Sandbox, timeout: float) -> bool:
    """Poll /_sandbox/health until it answers 200; False if the process exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sandbox.proc.poll() is not None:
            return False
        try:
            answer = requests.get(sandbox.url("/_sandbox/health"), timeout=2)
            if answer.status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.1)
    sandbox.stop()
    pytest.fail(
        f"sandbox ({sandbox.seed}) not healthy within {timeout} s; log:\n{sandbox.log_tail()}"
    )


def start_sandbox(
    workdir: Path,
    seed: str = "doc",
    *,
    rate_limit: int = BIG_RATE_LIMIT,
    rate_window: float = 60,
    webhook_time_scale: float = 0.01,
    extra_args: tuple[str, ...] = (),
    data_file: Path | None = None,
) -> Sandbox:
    """Start `manage.py minicrm_sandbox` on a free port and wait until it is healthy."""
    workdir.mkdir(parents=True, exist_ok=True)
    timeout = DEMO_START_TIMEOUT if seed == "demo" else START_TIMEOUT
    for attempt in range(3):
        port = free_port()
        data = data_file or workdir / f"sandbox-{seed}-{port}.sqlite3"
        log_file = workdir / f"sandbox-{seed}-{port}.log"
        command = [
            sys.executable,
            "manage.py",
            "minicrm_sandbox",
            "--port",
            str(port),
            "--seed",
            seed,
            "--data",
            str(data),
            "--reset",
            "--rate-limit",
            str(rate_limit),
            "--rate-window",
            str(rate_window),
            "--webhook-time-scale",
            str(webhook_time_scale),
            *extra_args,
        ]
        with log_file.open("wb") as log:
            proc = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                start_new_session=True,
            )
        sandbox = Sandbox(
            base_url=f"http://127.0.0.1:{port}",
            seed=seed,
            data_file=data,
            proc=proc,
            log_file=log_file,
        )
        if _wait_healthy(sandbox, timeout):
            return sandbox
        # The process exited: a port taken in between is worth another try, anything else not.
        output = sandbox.log_tail()
        sandbox.stop()
        if "in use" not in output.lower() or attempt == 2:
            pytest.fail(
                f"sandbox ({seed}) exited with {proc.returncode} before it was healthy:\n{output}"
            )
    raise AssertionError("unreachable")


class _Launcher:
    """Starts sandboxes for one fixture scope and stops every one of them at teardown."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.sandboxes: list[Sandbox] = []

    def __call__(self, seed: str = "doc", **options: Any) -> Sandbox:
        sandbox = start_sandbox(self.workdir, seed, **options)
        self.sandboxes.append(sandbox)
        return sandbox

    def close(self) -> None:
        for sandbox in self.sandboxes:
            sandbox.stop()


@pytest.fixture(scope="session")
def sandbox_doc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """The doc seed, shared by the session: add records freely, leave seeded ones as they are."""
    launcher = _Launcher(tmp_path_factory.mktemp("sandbox-doc"))
    try:
        yield launcher("doc")
    finally:
        launcher.close()


@pytest.fixture(scope="session")
def sandbox_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """The demo seed, shared by the session and treated as read-only."""
    launcher = _Launcher(tmp_path_factory.mktemp("sandbox-demo"))
    try:
        yield launcher("demo")
    finally:
        launcher.close()


@pytest.fixture
def sandbox_factory(tmp_path: Path) -> Iterator[SandboxStarter]:
    """Start private sandboxes for one test (own budget, faults or seeded records to change)."""
    launcher = _Launcher(tmp_path / "sandboxes")
    try:
        yield launcher
    finally:
        launcher.close()


@pytest.fixture(scope="module")
def module_sandbox_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxStarter]:
    """Like `sandbox_factory`, for sandboxes shared by the tests of one module."""
    launcher = _Launcher(tmp_path_factory.mktemp("module-sandboxes"))
    try:
        yield launcher
    finally:
        launcher.close()


# -- Redis ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server on a free port for this worker session."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    workdir: Path = tmp_path_factory.mktemp("redis")
    port = free_port()
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(workdir),
            "--save",
            "",
            "--appendonly",
            "no",
            "--maxmemory-policy",
            "noeviction",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    connection = redis.Redis.from_url(url)
    deadline = time.monotonic() + 20
    while True:
        try:
            connection.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    try:
        yield url
    finally:
        connection.close()
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    yield connection
    connection.close()


@pytest.fixture
def minicrm_settings(settings: Settings, sandbox_doc: Sandbox, redis_url: str) -> Sandbox:
    """Point the console's MiniCRM settings at the doc sandbox and the private Redis."""
    settings.MINICRM_BASE_URL = sandbox_doc.base_url
    settings.MINICRM_SYSTEM_ID = sandbox_doc.system_id
    settings.MINICRM_API_KEY = sandbox_doc.api_key
    settings.REDIS_URL = redis_url
    redis.Redis.from_url(redis_url).flushdb()
    return sandbox_doc
