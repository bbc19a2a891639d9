"""Start and stop the real parts a benchmark measures: a private Redis and a sandbox."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
SYSTEM_ID = "12345"
API_KEY = "sandbox-api-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def private_redis() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    with tempfile.TemporaryDirectory() as workdir:
        proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                workdir,
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        url = f"redis://127.0.0.1:{port}/0"
        try:
            for _ in range(200):
                try:
                    redis.Redis.from_url(url).ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
            yield url
        finally:
            _stop(proc)


@contextmanager
def sandbox(
    seed: str = "doc",
    *,
    rate_limit: int = 180,
    rate_window: float = 60,
    data: Path | None = None,
) -> Iterator[str]:
    """A sandbox process on a free port with a fresh data file; yields its base URL.

    The data file is temporary unless `data` names one (then it is kept, for reading after
    the sandbox stopped)."""
    port = free_port()
    with tempfile.TemporaryDirectory() as workdir:
        proc = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "minicrm_sandbox",
                "--port",
                str(port),
                "--seed",
                seed,
                "--data",
                str(data or f"{workdir}/sandbox.sqlite3"),
                "--reset",
                "--rate-limit",
                str(rate_limit),
                "--rate-window",
                str(rate_window),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(1200):
                try:
                    if requests.get(f"{base_url}/_sandbox/health", timeout=1).ok:
                        break
                except requests.RequestException:
                    time.sleep(0.1)
            yield base_url
        finally:
            _stop(proc)


def sandbox_log(base_url: str, *, clear: bool = False) -> list[dict[str, float]]:
    auth = (SYSTEM_ID, API_KEY)
    if clear:
        requests.delete(f"{base_url}/_sandbox/requests", auth=auth, timeout=10)
        return []
    return list(requests.get(f"{base_url}/_sandbox/requests", auth=auth, timeout=30).json())
