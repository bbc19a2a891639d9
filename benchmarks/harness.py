"""Start and stop the real parts a benchmark measures: a private Redis, a sandbox, the console
(gunicorn, a Celery worker and beat) on a migrated SQLite database, and a mirror filled at a
setup budget. Everything started here is stopped again, also on Ctrl-C, SIGTERM or a failure."""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
SYSTEM_ID = "12345"
API_KEY = "sandbox-api-key"
BIG_BUDGET = 1_000_000  # a budget too large to pace anything (setup phases)
# The to-do types of the sandbox's seeds, as `make run` gives them (scripts/run.py).
SANDBOX_TODO_TYPES = "1566=Telefonhívás,1567=Találkozó,1568=E-mail,1569=Feladat"


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
    reset: bool = True,
    port: int | None = None,
) -> Iterator[str]:
    """A sandbox process on a free port (or `port`) with a fresh data file; yields its base URL.

    The data file is temporary unless `data` names one (then it is kept, for reading after
    the sandbox stopped); with `reset=False` a kept file is served as it is, not seeded again."""
    port = port or free_port()
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
                *(["--reset"] if reset else []),
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


def sandbox_put(base_url: str, path: str, body: dict[str, object]) -> dict[str, object]:
    """A write straight to the sandbox's API with its own credentials, as another MiniCRM user
    (or integration) would make it; its answer."""
    answer = requests.put(f"{base_url}{path}", json=body, auth=(SYSTEM_ID, API_KEY), timeout=30)
    answer.raise_for_status()
    return dict(answer.json())


# -- processes of the console ------------------------------------------------------------------


def stop_on_sigterm() -> None:
    """SIGTERM and SIGHUP end the benchmark as Ctrl-C does: each `finally` stops what it started."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A process in its own session (Ctrl-C reaches only the benchmark, which stops it), its
    output in `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process's group (gunicorn's and Celery's children too), then SIGKILL."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_for(check: Callable[[], bool], what: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            sys.exit(f"{what} did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)


def console_env(
    *,
    database: Path,
    redis_url: str,
    base_url: str,
    limit: int,
    window: float = 60,
    **extra: str,
) -> dict[str, str]:
    """The environment of the console's processes as deployed (debug off), on plain HTTP on
    loopback, pointed at the private parts, with a budget of `limit` per `window` seconds."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crmconsole.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        # Plain HTTP: cookies without Secure, no redirect to HTTPS (on by default, debug off).
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATABASE_URL": f"sqlite:///{database}",
        "REDIS_URL": redis_url,
        "MINICRM_BASE_URL": base_url,
        "MINICRM_SYSTEM_ID": SYSTEM_ID,
        "MINICRM_API_KEY": API_KEY,
        "MINICRM_RATE_LIMIT": str(limit),
        "MINICRM_RATE_WINDOW": f"{window:g}",
        "MINICRM_TODO_TYPES": SANDBOX_TODO_TYPES,
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def manage(args: list[str], env: dict[str, str], log: Path | None = None) -> str:
    """`manage.py ARGS` in a subprocess; its output (failing loudly with it)."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    output = done.stdout + done.stderr
    if log is not None:
        log.write_text(output)
    if done.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{output[-3000:]}")
    return output


def _http_status(url: str) -> int:
    try:
        return requests.get(url, timeout=2, allow_redirects=False).status_code
    except requests.RequestException:
        return 0


def _log_has(log: Path, marker: str) -> bool:
    return log.exists() and marker in log.read_text(errors="replace")


@contextmanager
def celery(env: dict[str, str], logs: Path) -> Iterator[None]:
    """A Celery worker (`--concurrency 3`, as `make run` starts it: a sync run holds one slot)
    and beat (which starts the mirror's sync every MIRROR_TICK_SECONDS), until both are ready."""
    logs.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "celery", "-A", "crmconsole"]
    worker_log, beat_log = logs / "worker.log", logs / "beat.log"
    schedule = logs / "celerybeat-schedule"
    worker = start([*command, "worker", "--concurrency", "3", "-l", "info"], env, worker_log)
    try:
        beat = start([*command, "beat", "-l", "info", "-s", str(schedule)], env, beat_log)
        try:
            wait_for(lambda: _log_has(worker_log, " ready."), "the Celery worker", worker_log, 90)
            wait_for(lambda: _log_has(beat_log, "beat: Starting"), "Celery beat", beat_log, 90)
            yield
        finally:
            stop(beat)
    finally:
        stop(worker)


@contextmanager
def console(
    env: dict[str, str],
    logs: Path,
    *,
    workers: int = 2,
    threads: int = 8,
    with_celery: bool = True,
) -> Iterator[str]:
    """The console under gunicorn (gunicorn.conf.py, as the Dockerfile starts it, on a free
    port) and, with `with_celery`, a Celery worker and beat (`celery`); yields its base URL.

    CONSOLE_BASE_URL (where the sandbox sends webhooks) is that URL in all of them."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **env,
        "CONSOLE_BASE_URL": url,
        "WEB_WORKERS": str(workers),
        "WEB_THREADS": str(threads),
    }
    logs.mkdir(parents=True, exist_ok=True)
    web_log = logs / "gunicorn.log"
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    web = start(
        [gunicorn, "crmconsole.wsgi", "--config", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}"],
        env,
        web_log,
    )
    try:
        wait_for(lambda: _http_status(f"{url}/accounts/login/") == 200, "gunicorn", web_log, 90)
        if with_celery:
            with celery(env, logs):
                yield url
        else:
            yield url
    finally:
        stop(web)


def login(url: str, username: str, password: str) -> requests.Session:
    """A browser-like session logged in to the console through its login form."""
    session = requests.Session()
    session.trust_env = False  # loopback: never through a proxy of the environment
    session.get(f"{url}/accounts/login/", timeout=30).raise_for_status()
    answer = session.post(
        f"{url}/accounts/login/",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        timeout=60,
        allow_redirects=False,
    )
    if answer.status_code != 302:
        sys.exit(f"logging in to {url} failed: {answer.status_code}")
    return session


def user_create(env: dict[str, str], username: str) -> str:
    """A superuser of the console's database (in a subprocess); its new random password."""
    password = secrets.token_urlsafe(16)
    code = (
        "from django.contrib.auth.models import User; "
        f"User.objects.filter(username={username!r}).delete(); "
        f"User.objects.create_superuser({username!r}, '', {password!r})"
    )
    manage(["shell", "-c", code], env)
    return password


# -- a filled mirror ---------------------------------------------------------------------------


def fill_mirror(workdir: Path, redis_url: str, *, seed: str = "demo") -> dict[str, object]:
    """A sandbox data file and a console database whose mirror is complete, in `workdir`.

    Made once (the sandbox seeded, the database migrated, `manage.py mirror_sync` until it has
    caught up, with the sandbox and the console at a setup budget too large to pace anything)
    and kept there: a later call finds `fill.json` and reuses them. Returns what the fill took.
    At 60/min the backfill of the demo seed's card details alone would take hours."""
    marker = workdir / "fill.json"
    if marker.exists():
        # A newer checkout may have migrations the kept database lacks.
        env = console_env(
            database=workdir / "console.sqlite3",
            redis_url=redis_url,
            base_url="http://127.0.0.1:9",  # not called
            limit=BIG_BUDGET,
        )
        manage(["migrate", "--verbosity", "0"], env)
        return dict(json.loads(marker.read_text())) | {"reused": True}
    workdir.mkdir(parents=True, exist_ok=True)
    for stale in ("console.sqlite3", "sandbox.sqlite3"):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{workdir / stale}{suffix}").unlink(missing_ok=True)
    print(
        f"filling the mirror at a setup budget ({BIG_BUDGET:,} requests per 60 s), once; kept in "
        f"{workdir}",
        flush=True,
    )
    with sandbox(seed, rate_limit=BIG_BUDGET, data=workdir / "sandbox.sqlite3") as base_url:
        env = console_env(
            database=workdir / "console.sqlite3",
            redis_url=redis_url,
            base_url=base_url,
            limit=BIG_BUDGET,
        )
        manage(["migrate", "--verbosity", "0"], env)
        started = time.monotonic()
        output = manage(["mirror_sync"], env, workdir / "fill.log")
        took = time.monotonic() - started
        requests_made = len(sandbox_log(base_url))
    if "Caught up" not in output:
        sys.exit(f"the mirror's fill did not catch up:\n{output[-3000:]}")
    summary = re.search(r"^Caught up after .*$", output, re.MULTILINE)
    fill: dict[str, object] = {
        "seconds": round(took),
        "requests": requests_made,
        "summary": summary.group(0) if summary else "",
        "at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    marker.write_text(json.dumps(fill))
    redis.Redis.from_url(redis_url).flushdb()  # the setup budget's log, schema cache, ...
    return fill | {"reused": False}


class _HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """--help keeps the docstring's paragraphs and shows each option's default."""


def doc_parser(doc: str) -> argparse.ArgumentParser:
    """A parser whose --help is the script's docstring: its first paragraph as the description,
    the rest (after the usage example) below the options."""
    paragraphs = doc.strip().split("\n\n")
    return argparse.ArgumentParser(
        description=" ".join(paragraphs[0].split()),
        epilog="\n\n".join(paragraphs[2:]),
        formatter_class=_HelpFormatter,
    )


def run_main(main: Callable[[], None]) -> None:
    """Run a benchmark's main; Ctrl-C or SIGTERM end it with a line, not a traceback (what it
    started was stopped on the way out)."""
    stop_on_sigterm()
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted: every process the benchmark started has been stopped")
