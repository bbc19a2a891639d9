"""`make run`: prepare the database, then start, watch and stop every process the console needs.

Starts Redis (unless REDIS_URL is set), the MiniCRM sandbox (unless a real MiniCRM is
configured; the mirror's webhooks are subscribed there), a Celery worker, Celery beat (which
starts the mirror's sync) and the Django development server, each in its own process group;
prefixes their output with their names; stops them all on Ctrl-C, SIGTERM or SIGHUP (exit 0)
or as soon as one of them dies (exit 1).
"""

from __future__ import annotations

import contextlib
import faulthandler
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TextIO
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = ROOT / ".run"

MINICRM_VARS = ("MINICRM_BASE_URL", "MINICRM_SYSTEM_ID", "MINICRM_API_KEY")
# The sandbox's own credentials: public, documented, and accepted nowhere else.
SANDBOX_SYSTEM_ID = "12345"
SANDBOX_API_KEY = "sandbox-api-key"
# The to-do types of the sandbox's seeds (MiniCRM's API has no list of them).
SANDBOX_TODO_TYPES = "1566=Telefonhívás,1567=Találkozó,1568=E-mail,1569=Feladat"
PRIVATE_REDIS_PORT = 6380
ADMIN_USERNAME = "admin"

STOP_GRACE_SECONDS = 10.0
READY_TIMEOUT_SECONDS = 90.0

# Loopback probes must not go through an HTTP proxy configured in the environment.
_LOCAL_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

_COLORS = ("36", "33", "35", "32", "34", "31")


class SupervisorError(Exception):
    """Something went wrong that the user must hear about; the run stops with exit code 1."""


class ChildDied(SupervisorError):
    def __init__(self, name: str, returncode: int | None) -> None:
        super().__init__(f"{name} exited with code {returncode}")
        self.name = name
        self.returncode = returncode


class StopRequested(Exception):
    """A signal asked the run to stop; not an error."""


# --- Pure helpers ------------------------------------------------------------------------


@dataclass(frozen=True)
class Backend:
    """The MiniCRM the console's processes talk to."""

    base_url: str
    system_id: str
    api_key: str
    sandbox: bool


def backend_from_env(env: Mapping[str, str], *, sandbox_url: str) -> tuple[Backend, list[str]]:
    """Use the real MiniCRM when all three MINICRM_* variables are set, else the sandbox.

    Also returns the variables that are missing when only some are set, so the caller can
    say why the sandbox is used despite them.
    """
    missing = [name for name in MINICRM_VARS if not env.get(name, "").strip()]
    if not missing:
        return (
            Backend(
                base_url=env["MINICRM_BASE_URL"].strip().rstrip("/"),
                system_id=env["MINICRM_SYSTEM_ID"].strip(),
                api_key=env["MINICRM_API_KEY"].strip(),
                sandbox=False,
            ),
            [],
        )
    sandbox = Backend(
        base_url=sandbox_url, system_id=SANDBOX_SYSTEM_ID, api_key=SANDBOX_API_KEY, sandbox=True
    )
    return sandbox, (missing if len(missing) < len(MINICRM_VARS) else [])


def children_env(env: Mapping[str, str], *, backend: Backend, redis_url: str) -> dict[str, str]:
    """The environment every child process gets."""
    extra = {"MINICRM_TODO_TYPES": SANDBOX_TODO_TYPES} if backend.sandbox else {}
    return {
        **extra,
        **env,
        "DJANGO_SETTINGS_MODULE": env.get("DJANGO_SETTINGS_MODULE", "crmconsole.settings"),
        "PYTHONUNBUFFERED": "1",
        "REDIS_URL": redis_url,
        "MINICRM_BASE_URL": backend.base_url,
        "MINICRM_SYSTEM_ID": backend.system_id,
        "MINICRM_API_KEY": backend.api_key,
    }


def port_from_env(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SupervisorError(f"{name} must be a port number (1-65535), not {raw!r}.")
    return int(raw)


def redis_install_commands(
    *, is_root: bool, has_sudo: bool, has_apt: bool
) -> list[list[str]] | None:
    """How to install redis-server on this machine, or None when we cannot."""
    if not has_apt or not (is_root or has_sudo):
        return None
    prefix = [] if is_root else ["sudo"]
    return [
        [*prefix, "apt-get", "update"],
        [*prefix, "apt-get", "install", "-y", "redis-server"],
    ]


def private_redis_command(redis_server: str, *, port: int, data_dir: Path) -> list[str]:
    return [
        redis_server,
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--dir", str(data_dir),
        "--appendonly", "yes",
        "--maxmemory-policy", "noeviction",
        "--save", "",
    ]  # fmt: skip


def url_without_password(url: str) -> str:
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def prefixed(name: str, line: str, *, width: int, color: str | None = None) -> str:
    label = name.ljust(width)
    if color:
        label = f"\033[{color}m{label}\033[0m"
    return f"{label} | {line}"


# --- Probes ------------------------------------------------------------------------------


def http_ok(url: str) -> bool:
    try:
        # Only loopback URLs built in this module reach here.
        with _LOCAL_OPENER.open(url, timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, http.client.HTTPException):  # URLError is an OSError
        return False


def redis_ping(url: str) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.exceptions.RedisError, OSError, ValueError):
        return False


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


# --- Supervisor --------------------------------------------------------------------------


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    ready_marker: str | None = None
    ready: threading.Event = field(default_factory=threading.Event)
    reader: threading.Thread | None = None


class Supervisor:
    """Runs children in their own process groups, relays their output and stops them all."""

    def __init__(self, out: TextIO, *, color: bool = False, name_width: int = 7) -> None:
        self.out = out
        self.color = color
        self.name_width = name_width
        self.children: list[Child] = []
        self.stop_requested = threading.Event()
        self.force_stop = threading.Event()
        self.output_broken = False
        self._lock = threading.Lock()

    # Output

    def write(self, text: str, *, wait: float = -1) -> None:
        """Write one line. Output that cannot be written (terminal gone) is dropped, so the
        relays keep draining the children's pipes and no child blocks on a full pipe."""
        if not self._lock.acquire(timeout=wait):
            return
        try:
            if not self.output_broken:
                self.out.write(text + "\n")
                self.out.flush()
        except (OSError, ValueError):
            self.output_broken = True
        finally:
            self._lock.release()

    def say(self, text: str) -> None:
        # Never wait long on output: stopping the children must not depend on the terminal.
        self.emit("run", text, wait=2)

    def emit(self, name: str, line: str, *, wait: float = -1) -> None:
        color = None
        if self.color:
            names = [child.name for child in self.children]
            index = names.index(name) if name in names else -1
            color = _COLORS[index % len(_COLORS)] if index >= 0 else "1"
        self.write(prefixed(name, line, width=self.name_width, color=color), wait=wait)

    # Lifecycle

    def request_stop(self) -> None:
        if self.stop_requested.is_set():
            self.force_stop.set()
        self.stop_requested.set()

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path = ROOT,
        ready_marker: str | None = None,
    ) -> Child:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            # Its own session and process group: the terminal's Ctrl-C reaches only us, and
            # stopping a child reaches its own children (runserver's reloader, Celery's pool).
            start_new_session=True,
        )
        child = Child(name=name, process=process, ready_marker=ready_marker)
        child.reader = threading.Thread(target=self._relay, args=(child,), daemon=True)
        self.children.append(child)
        child.reader.start()
        return child

    def _relay(self, child: Child) -> None:
        stream = child.process.stdout
        assert stream is not None
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if child.ready_marker and child.ready_marker in line:
                child.ready.set()
            self.emit(child.name, line)
        stream.close()

    def child(self, name: str) -> Child | None:
        return next((child for child in self.children if child.name == name), None)

    def wait_ready(
        self,
        name: str,
        check: Callable[[], bool],
        *,
        timeout: float = READY_TIMEOUT_SECONDS,
        interval: float = 0.25,
    ) -> None:
        """Block until check() is true; fail if the child dies, time runs out or we stop."""
        child = self.child(name)
        waited = 0.0
        while True:
            if self.stop_requested.is_set():
                raise StopRequested
            if child is not None and child.process.poll() is not None:
                raise ChildDied(name, child.process.returncode)
            if check():
                return
            if waited >= timeout:
                raise SupervisorError(f"{name} was not ready after {timeout:.0f} s")
            self.stop_requested.wait(interval)
            waited += interval

    def watch(self, *, interval: float = 0.25) -> Child | None:
        """Block until a stop is requested (None) or a child exits (that child)."""
        while not self.stop_requested.is_set():
            for child in self.children:
                if child.process.poll() is not None:
                    return child
            self.stop_requested.wait(interval)
        return None

    def stop_all(self, *, grace: float = STOP_GRACE_SECONDS) -> None:
        """Stop children in reverse start order: SIGTERM to the group, then SIGKILL."""
        for child in reversed(self.children):
            self._stop(child, grace=grace)
        for child in self.children:
            if child.reader is not None:
                child.reader.join(timeout=2)

    def _stop(self, child: Child, *, grace: float) -> None:
        group = child.process.pid  # start_new_session: the child leads its own group
        if not _group_alive(group) and child.process.poll() is not None:
            return
        if child.process.poll() is None:
            self.say(f"stopping {child.name}")
        _signal_group(group, signal.SIGTERM)
        waited = 0.0
        while waited < grace and not self.force_stop.is_set():
            if child.process.poll() is not None and not _group_alive(group):
                return
            self.force_stop.wait(0.1)
            waited += 0.1
        if child.process.poll() is None or _group_alive(group):
            self.say(f"{child.name} did not stop in time; killing it")
            _signal_group(group, signal.SIGKILL)
        try:
            child.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.say(f"{child.name} (pid {child.process.pid}) survived SIGKILL")


def _signal_group(group: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signum)


def _group_alive(group: int) -> bool:
    """True while a live (not zombie) process is in the group."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # killpg(0) also succeeds for zombies nobody reaped yet; look closer where /proc exists.
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # After the command: state, ppid, pgrp, ...
        if len(fields) > 2 and int(fields[2]) == group and fields[0] != "Z":
            return True
    return False


# --- The run -----------------------------------------------------------------------------


def prepare_database() -> str | None:
    """Migrate and make sure the admin superuser exists; its new password, if just created."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    from django.db import connections

    from apps.core.services import superuser_ensure

    call_command("migrate", interactive=False, verbosity=1)
    password = superuser_ensure(username=ADMIN_USERNAME)
    connections.close_all()
    return password


# A sync run holds a worker slot for up to MIRROR_RUN_SECONDS: a third keeps two for the write
# queue and webhooks.
WORKER_CONCURRENCY = 3
SUBSCRIBE_TIMEOUT_SECONDS = 60.0


def worker_command(python: str) -> list[str]:
    return [python, "-m", "celery", "-A", "crmconsole", "worker",
            "--concurrency", str(WORKER_CONCURRENCY), "-l", "info"]  # fmt: skip


def mirror_subscribe(supervisor: Supervisor, argv: Sequence[str], env: Mapping[str, str]) -> bool:
    """Subscribe the mirror's webhook handlers in the sandbox (`manage.py mirror_subscribe`,
    idempotent). A failure is reported, not fatal: the mirror's poll still finds every change."""
    try:
        done = subprocess.run(
            list(argv),
            cwd=ROOT,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=SUBSCRIBE_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        supervisor.say(f"could not subscribe the mirror to the sandbox's webhooks: {error}")
        return False
    for line in done.stdout.decode("utf-8", errors="replace").splitlines():
        supervisor.say(f"mirror: {line}")
    if done.returncode != 0:
        problem = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        supervisor.say(
            "could not subscribe the mirror to the sandbox's webhooks"
            + (f" ({problem[-1]})" if problem else "")
            + "; the mirror's poll still finds every change"
        )
        return False
    return True


def find_or_install_redis(supervisor: Supervisor) -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    commands = redis_install_commands(
        is_root=os.geteuid() == 0,
        has_sudo=shutil.which("sudo") is not None,
        has_apt=shutil.which("apt-get") is not None,
    )
    if commands is None:
        raise SupervisorError(
            "redis-server is not installed. Install it (Debian: apt-get install redis-server) "
            "or set REDIS_URL to a running Redis."
        )
    supervisor.say("redis-server is not installed; installing it with apt-get")
    install_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in commands:
        supervisor.say("$ " + " ".join(command))
        if subprocess.run(command, env=install_env, check=False).returncode != 0:
            raise SupervisorError(
                "installing redis-server failed. Install it yourself "
                "(apt-get install redis-server) or set REDIS_URL to a running Redis."
            )
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if not found:
        raise SupervisorError("redis-server is still not on PATH after installing it.")
    return found


def banner(
    *,
    web_url: str,
    password: str | None,
    backend: Backend,
    redis_url: str,
    private_redis: bool,
) -> list[str]:
    lines = [
        "",
        "crmconsole is running.",
        f"  Console   {web_url}",
        f"  Admin     {web_url}admin/",
        f"  Sync      {web_url}sync/  (the mirror of MiniCRM, filling in the background)",
    ]
    if password:
        lines.append(
            f"  Log in    {ADMIN_USERNAME} / {password}   (new user: password shown only now)"
        )
    else:
        lines.append(
            f"  Log in    {ADMIN_USERNAME} (existing user; reset its password with: "
            f"python manage.py changepassword {ADMIN_USERNAME})"
        )
    if backend.sandbox:
        lines += [
            f"  MiniCRM   sandbox at {backend.base_url}  system id {backend.system_id}, "
            f"API key {backend.api_key}",
            f"            curl -u {backend.system_id}:{backend.api_key} "
            f"{backend.base_url}/Api/R3/Category",
        ]
    else:
        lines.append(
            f"  MiniCRM   {backend.base_url}  system id {backend.system_id} "
            "(API key from MINICRM_API_KEY)"
        )
    where = " (private; data in .run/redis)" if private_redis else " (from REDIS_URL)"
    lines += [f"  Redis     {url_without_password(redis_url)}{where}", "Stop with Ctrl-C.", ""]
    return lines


def run(supervisor: Supervisor, env: Mapping[str, str]) -> int:
    python = sys.executable
    manage = str(ROOT / "manage.py")
    web_host = env.get("WEB_HOST", "").strip() or "127.0.0.1"
    web_port = port_from_env(env, "WEB_PORT", 8000)
    sandbox_port = port_from_env(env, "SANDBOX_PORT", 8001)
    probe_host = "127.0.0.1" if web_host in ("0.0.0.0", "localhost") else web_host  # noqa: S104

    backend, missing = backend_from_env(env, sandbox_url=f"http://127.0.0.1:{sandbox_port}")
    if missing:
        supervisor.say(f"{', '.join(missing)} not set: using the sandbox, not a real MiniCRM")
    explicit_redis = env.get("REDIS_URL", "").strip()
    redis_url = explicit_redis or f"redis://127.0.0.1:{PRIVATE_REDIS_PORT}/0"

    wanted_ports = [(web_port, "web", "WEB_PORT")]
    if backend.sandbox:
        wanted_ports.append((sandbox_port, "sandbox", "SANDBOX_PORT"))
    if not explicit_redis:
        wanted_ports.append((PRIVATE_REDIS_PORT, "redis", "REDIS_URL (to use another Redis)"))
    for port, name, knob in wanted_ports:
        if port_in_use(port):
            raise SupervisorError(
                f"port {port} for {name} is already in use (another `make run`, or one left "
                f"over?). Stop that process or set {knob}."
            )

    child_env = children_env(env, backend=backend, redis_url=redis_url)
    # Webhook ApiUrls (and the sandbox's subscriptions) point at this web server.
    child_env.setdefault("CONSOLE_BASE_URL", f"http://{web_host}:{web_port}")
    os.environ.update(child_env)  # prepare_database runs Django in this process
    RUN_DIR.mkdir(exist_ok=True)

    password = prepare_database()
    if password:
        supervisor.say(
            f"created the superuser {ADMIN_USERNAME!r} with password {password} "
            "(shown only this time)"
        )
    else:
        supervisor.say(
            f"the superuser {ADMIN_USERNAME!r} exists; reset its password with: "
            f"python manage.py changepassword {ADMIN_USERNAME}"
        )
    if supervisor.stop_requested.is_set():
        raise StopRequested

    if not explicit_redis:
        redis_server = find_or_install_redis(supervisor)
        data_dir = RUN_DIR / "redis"
        data_dir.mkdir(exist_ok=True)
        supervisor.start(
            "redis",
            private_redis_command(redis_server, port=PRIVATE_REDIS_PORT, data_dir=data_dir),
            env=child_env,
        )
    try:
        supervisor.wait_ready("redis", lambda: redis_ping(redis_url), timeout=30)
    except SupervisorError as error:
        if not explicit_redis or isinstance(error, ChildDied):
            raise
        raise SupervisorError(
            f"no Redis answers PING at REDIS_URL={url_without_password(redis_url)}"
        ) from None

    if backend.sandbox:
        supervisor.start(
            "sandbox",
            [python, manage, "minicrm_sandbox", "--port", str(sandbox_port), "--seed", "demo"],
            env=child_env,
        )
        health = f"http://127.0.0.1:{sandbox_port}/_sandbox/health"
        supervisor.wait_ready("sandbox", lambda: http_ok(health))
        # The mirror hears of changes at once; the worker and beat then fill and follow it.
        mirror_subscribe(supervisor, [python, manage, "mirror_subscribe"], child_env)
        if supervisor.stop_requested.is_set():
            raise StopRequested

    celery = [python, "-m", "celery", "-A", "crmconsole"]
    worker = supervisor.start(
        "worker", worker_command(python), env=child_env, ready_marker=" ready."
    )
    beat = supervisor.start(
        "beat",
        [*celery, "beat", "-l", "info", "-s", str(RUN_DIR / "celerybeat-schedule")],
        env=child_env,
        ready_marker="beat: Starting",
    )
    supervisor.start("web", [python, manage, "runserver", f"{web_host}:{web_port}"], env=child_env)
    login_url = f"http://{probe_host}:{web_port}/accounts/login/"
    supervisor.wait_ready("web", lambda: http_ok(login_url))
    supervisor.wait_ready("worker", worker.ready.is_set)
    supervisor.wait_ready("beat", beat.ready.is_set)

    for line in banner(
        web_url=f"http://{probe_host}:{web_port}/",
        password=password,
        backend=backend,
        redis_url=redis_url,
        private_redis=not explicit_redis,
    ):
        supervisor.write(line)

    dead = supervisor.watch()
    if dead is not None:
        raise ChildDied(dead.name, dead.process.returncode)
    raise StopRequested


def main() -> int:
    supervisor = Supervisor(sys.stdout, color=sys.stdout.isatty() and "NO_COLOR" not in os.environ)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        supervisor.request_stop()

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    # `kill -USR1 <pid>` prints every thread's stack, should the supervisor ever seem stuck.
    faulthandler.register(signal.SIGUSR1, all_threads=True)

    try:
        run(supervisor, dict(os.environ))
    except StopRequested:
        supervisor.say("stopping")
        code = 0
    except ChildDied as died:
        supervisor.say(f"{died}; stopping everything")
        code = 1
    except SupervisorError as error:
        supervisor.say(f"error: {error}")
        code = 1
    finally:
        supervisor.stop_all()
    supervisor.say("all processes stopped")
    return code


if __name__ == "__main__":
    sys.exit(main())
