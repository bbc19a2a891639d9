"""Helpers of the webhook tests: handlers, MiniCRM-shaped messages, deliveries with HTTP Basic
credentials, and a tiny external HTTP server for the forward action."""

from __future__ import annotations

import base64
import functools
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from django.contrib.auth.hashers import make_password
from django.test import Client

from apps.webhooks.models import Action, Handler
from tests.conftest import REPO_ROOT

RECORDER = "tests.webhooks.automations.remember"
# What WEBHOOK_PYTHON_FUNCTIONS allows in these tests (see conftest.py).
PYTHON_FUNCTIONS = [
    RECORDER,
    "tests.webhooks.automations.sync_to_erp",
    "tests.webhooks.automations.stamp_reference",
    "tests.webhooks.automations.sync_binary",
]
PASSWORD = "test-handler-password-0123456789abcdef"


@functools.cache
def _password_hash() -> str:
    """PASSWORD hashed once for the session (the hasher is slow on purpose)."""
    return make_password(PASSWORD)


def make_handler(
    *,
    name: str = "Status changes",
    slug: str = "status",
    type: str = "Project",
    category_id: int | None = 10,
    fields: Iterable[str] = ("StatusId",),
    actions: Iterable[tuple[str, dict[str, Any]]] = (("python", {"path": RECORDER}),),
    enabled: bool = True,
) -> Handler:
    """A handler whose password is PASSWORD."""
    handler = Handler.objects.create(
        name=name,
        slug=slug,
        type=type,
        category_id=category_id,
        fields=list(fields),
        enabled=enabled,
        password_hash=_password_hash(),
    )
    for position, (kind, config) in enumerate(actions):
        Action.objects.create(handler=handler, position=position, kind=kind, config=config)
    return handler


def card_message(
    card_id: int = 2056,
    *,
    changed: Iterable[str] = ("StatusId",),
    category_id: int = 10,
    updated_at: str = "2026-11-29 10:00:00",
    **data: str,
) -> dict[str, Any]:
    """A card change as MiniCRM sends it (values as strings, UpdatedAt always changed)."""
    return {
        "Id": str(card_id),
        "Type": "Project",
        "Data": {
            "CategoryId": str(category_id),
            "ContactId": "7506",
            "StatusId": "2623",
            "UserId": "22404",
            "Name": "MiniCRM Zrt. (Leskó Norbert)",
            "UpdatedAt": updated_at,
            **data,
        },
        "Changed": [*changed, "UpdatedAt"],
    }


def contact_message(
    contact_id: int = 7506, *, changed: Iterable[str] = ("Email",), **data: str
) -> dict[str, Any]:
    return {
        "Id": str(contact_id),
        "Type": "Contact",
        "Data": {"Type": "Person", "Name": "Leskó Norbert", "UpdatedAt": "2026-11-29 10:00:00"}
        | data,
        "Changed": [*changed, "UpdatedAt"],
    }


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def deliver(
    client: Client,
    handler: Handler,
    body: dict[str, Any] | str | bytes,
    *,
    authorization: str | None = "handler's",
    method: str = "post",
    **headers: Any,
) -> Any:
    """What MiniCRM does: POST the message to the handler's address with its credentials."""
    if authorization == "handler's":
        authorization = basic(handler.username, PASSWORD)
    if authorization is not None:
        headers["HTTP_AUTHORIZATION"] = authorization
    payload = json.dumps(body) if isinstance(body, dict) else body
    return client.generic(
        method.upper(),
        f"/hooks/{handler.slug}/",
        data=payload,
        content_type="application/json",
        **headers,
    )


@dataclass
class ExternalServer:
    """An external system on 127.0.0.1 that records each POST and answers the next status."""

    statuses: list[int] = field(default_factory=list)
    received: list[tuple[float, bytes, dict[str, str]]] = field(default_factory=list)
    server: http.server.ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/minicrm-sync"

    def start(self) -> None:
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.received.append((time.time(), body, dict(self.headers)))
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def eventually(check: Callable[[], Any], timeout: float = 30.0, interval: float = 0.2) -> Any:
    """Call `check` until it returns something truthy; fail with its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer or time.monotonic() > deadline:
            assert answer, f"still {answer!r} after {timeout} s"
            return answer
        time.sleep(interval)


@dataclass
class Gunicorn:
    """The console under gunicorn (as the Dockerfile runs it), with the given environment."""

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
