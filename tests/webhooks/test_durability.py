"""The receiver killed while events arrive: the console under gunicorn (sharing the test
database file), a real worker, and four senders that POST 200 distinct messages and, like
MiniCRM, send a message again until it is answered 200. Gunicorn is killed with SIGKILL at a
third and at two thirds of the way, and started again each time. Every message answered 200
is stored exactly once and processed exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from apps.webhooks.models import Event
from tests.conftest import REPO_ROOT, free_port
from tests.webhooks.automations import runs
from tests.webhooks.support import card_message, eventually, make_handler
from tests.writes.conftest import QueueRig

MESSAGES = 200
SENDERS = 4


@dataclass
class Gunicorn:
    port: int
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "crmconsole.wsgi",
                    "-b",
                    f"127.0.0.1:{self.port}",
                    "-w",
                    "2",
                    "--graceful-timeout",
                    "2",
                ],
                cwd=REPO_ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.post(f"{self.url}/hooks/none/", timeout=2).status_code == 401:
                    return
            except requests.RequestException:
                pass
            assert self.proc.poll() is None, self.log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.1)

    def kill(self) -> None:
        """kill -9 of the master and its workers."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def gunicorn(queue_rig: QueueRig) -> Iterator[Gunicorn]:
    queue_rig.env.update(WEBHOOK_SWEEP_SECONDS="1", WEBHOOK_STALE_SECONDS="3")
    server = Gunicorn(free_port(), queue_rig.env, queue_rig.workdir / "gunicorn.log")
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.slow
def test_every_event_answered_200_is_stored_and_processed_once_though_the_receiver_is_killed(
    queue_rig: QueueRig, gunicorn: Gunicorn
) -> None:
    handler = make_handler(fields=[], category_id=None)
    gunicorn.start()
    queue_rig.start_worker()
    url = f"{gunicorn.url}/hooks/{handler.slug}/"
    auth = (handler.username, handler.password)
    answers: dict[int, list[int | str]] = defaultdict(list)
    errors: list[BaseException] = []

    def send(numbers: range) -> None:
        try:
            for n in numbers:
                body = json.dumps(card_message(100000 + n))
                while True:
                    try:
                        answer = requests.post(
                            url,
                            data=body,
                            auth=auth,
                            timeout=10,
                            headers={"Content-Type": "application/json"},
                        )
                        answers[n].append(answer.status_code)
                        if answer.status_code == 200:
                            break
                    except requests.RequestException as error:
                        answers[n].append(type(error).__name__)
                    time.sleep(0.05)  # MiniCRM waits longer; the point is that it tries again
        except BaseException as error:  # reported below
            errors.append(error)

    share = MESSAGES // SENDERS
    senders = [
        threading.Thread(target=send, args=(range(i * share, (i + 1) * share),), daemon=True)
        for i in range(SENDERS)
    ]
    for sender in senders:
        sender.start()
    killed_at = []
    for third in (1, 2):
        eventually(lambda: len(answers) >= MESSAGES * third // 3, timeout=60, interval=0.01)  # noqa: B023
        gunicorn.kill()
        killed_at.append(len(answers))
        time.sleep(0.5)
        gunicorn.start()
    for sender in senders:
        sender.join(timeout=120)
    assert not errors, errors
    assert not any(sender.is_alive() for sender in senders)

    # The kill happened while messages were arriving: some got no answer and were sent again.
    assert killed_at[-1] < MESSAGES
    retried = [n for n, seen in answers.items() if len(seen) > 1]
    assert retried, "no delivery was interrupted by the kill"
    assert all(seen[-1] == 200 for seen in answers.values())
    assert sorted(answers) == list(range(MESSAGES))

    # Stored exactly once each (a retry of a message already stored is a recorded duplicate).
    events = list(Event.objects.filter(handler=handler))
    primary: dict[int | None, list[Event]] = defaultdict(list)
    for event in events:
        if event.status != Event.Status.DUPLICATE:
            primary[event.object_id].append(event)
    assert sorted(n or 0 for n in primary) == [100000 + n for n in range(MESSAGES)]
    assert [n for n, stored in primary.items() if len(stored) != 1] == []

    # Processed exactly once each, by the worker (lost tasks are started again by the sweep).
    def all_processed() -> bool:
        return not Event.objects.filter(status=Event.Status.RECEIVED).exists()

    eventually(all_processed, timeout=90, interval=0.5)
    processed = Event.objects.filter(handler=handler).exclude(status=Event.Status.DUPLICATE)
    assert {e.status for e in processed} == {Event.Status.PROCESSED}
    assert {e.attempts for e in processed} == {1}
    counted = runs()
    assert sorted(counted) == sorted(e.pk for e in processed)
    assert set(counted.values()) == {1}
