"""A real Celery worker's log never shows the MiniCRM API key: the redaction filter of Django's
LOGGING applies in worker processes too, whatever way a task writes to the log."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import Celery

from crmconsole.log_filters import REDACTED
from tests.conftest import REPO_ROOT

API_KEY = "worker-api-key-Qm48zt7"
MARKERS = ["module logger: ", "task logger: ", "printed: ", "raised: "]


def _worker(workdir: Path, redis_url: str) -> tuple[subprocess.Popen[bytes], Path]:
    log = workdir / "worker.log"
    env = {
        **os.environ,
        "MINICRM_API_KEY": API_KEY,
        "REDIS_URL": redis_url,
        "DATABASE_URL": f"sqlite:///{workdir / 'worker.sqlite3'}",
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tests.core.worker_app",
                "worker",
                "--concurrency",
                "1",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return proc, log


def _wait_for(log: Path, proc: subprocess.Popen[bytes], text: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while True:
        output = log.read_text(errors="replace")
        if text in output:
            return output
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"worker log never showed {text!r}:\n{output[-3000:]}")
        time.sleep(0.1)


def test_a_worker_redacts_the_api_key_in_every_log_line(tmp_path, redis_url):
    proc, log = _worker(tmp_path, redis_url)
    try:
        _wait_for(log, proc, "ready")
        sender = Celery(broker=redis_url, set_as_current=False)
        sender.send_task("tests.log_the_api_key", ignore_result=True)
        sender.close()
        output = _wait_for(log, proc, "raised unexpected")
        # The traceback follows its first line; wait until the worker wrote all of it.
        output = _wait_for(log, proc, "RuntimeError: raised: ")
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    assert API_KEY not in output
    for marker in MARKERS:
        assert marker + REDACTED in output, marker
