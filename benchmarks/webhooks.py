"""The webhook receiver under load: EVENTS messages from CONNECTIONS connections, then processing.

    .venv/bin/python -m benchmarks.webhooks [--events 5000] [--connections 16]
                                            [--workers 4] [--threads 4] [--celery 2]

Sets up everything of its own: a temporary SQLite database for the console (migrated in a
subprocess), a private Redis, one handler (cards of module 10, any field, the always-on
refresh as its only action) and the console under gunicorn (WORKERS processes of THREADS
threads each). CONNECTIONS threads then POST EVENTS distinct MiniCRM messages to the handler's
address with its Basic credentials, each over one kept-alive HTTP connection, and it prints:

- events answered per second, and the answer time (p50, p99, max) of each POST;
- the answers by status code and the events stored (each answered 200 must be stored once);
- then, with a Celery worker of CELERY processes started, the time until every stored event
  is processed and the processed count.

No MiniCRM is involved: the receiver stores and answers, the worker refreshes Redis's cache.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from benchmarks.harness import ROOT, free_port, private_redis, start, stop, wait_for

SLUG = "bench"


def console_env(workdir: Path, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crmconsole.settings",
        "DJANGO_DEBUG": "0",
        # Plain HTTP on loopback: no redirect to HTTPS (on by default with debug off).
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECRET_KEY": "benchmark-only-secret-key-not-used-anywhere-else",
        "DATABASE_URL": f"sqlite:///{workdir / 'console.sqlite3'}",
        "REDIS_URL": redis_url,
        "MINICRM_BASE_URL": "http://127.0.0.1:9",  # never called
        "MINICRM_SYSTEM_ID": "12345",
        "DJANGO_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def gunicorn_ready(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("POST", f"/hooks/{SLUG}/", body=b"{}")
        return connection.getresponse().status == 401
    except OSError:
        return False


def message(number: int) -> bytes:
    return json.dumps(
        {
            "Id": str(100000 + number),
            "Type": "Project",
            "Data": {
                "CategoryId": "10",
                "StatusId": "2623",
                "Name": f"Benchmark kártya {number}",
                "UpdatedAt": "2026-11-29 10:00:00",
            },
            "Changed": ["StatusId", "UpdatedAt"],
        }
    ).encode()


def post_all(
    port: int, authorization: str, events: int, connections: int
) -> tuple[float, list[float], Counter[int | str]]:
    """POST every message once; return the wall time, each answer time, the answers."""
    times: list[float] = []
    answers: Counter[int | str] = Counter()
    lock = threading.Lock()
    headers = {"Content-Type": "application/json", "Authorization": authorization}

    def sender(numbers: range) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        seen: Counter[int | str] = Counter()
        for number in numbers:
            body = message(number)
            started = time.perf_counter()
            try:
                connection.request("POST", f"/hooks/{SLUG}/", body=body, headers=headers)
                answer = connection.getresponse()
                answer.read()
                seen[answer.status] += 1
                if answer.will_close:
                    connection.close()
            except (OSError, http.client.HTTPException) as error:
                seen[type(error).__name__] += 1
                connection.close()
            mine.append(time.perf_counter() - started)
        connection.close()
        with lock:
            times.extend(mine)
            answers.update(seen)

    share = -(-events // connections)
    threads = [
        threading.Thread(
            target=sender, args=(range(i * share, min(events, (i + 1) * share)),), daemon=True
        )
        for i in range(connections)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, times, answers


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn process")
    parser.add_argument("--celery", type=int, default=2, help="Celery worker processes")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    print(
        f"{args.events} events from {args.connections} connections; gunicorn "
        f"{args.workers} workers x {args.threads} threads; SQLite; {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as tmp, private_redis() as redis_url:
        workdir = Path(tmp)
        env = console_env(workdir, redis_url)
        os.environ.update(env)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        import django

        django.setup()
        from apps.webhooks.models import Event, Handler
        from apps.webhooks.services import handler_credentials_new

        handler = Handler(name="Benchmark", slug=SLUG, type="Project", category_id=10, fields=[])
        password = handler_credentials_new(handler=handler)
        handler.save()
        credentials = f"{handler.username}:{password}".encode()
        authorization = "Basic " + base64.b64encode(credentials).decode()

        port = free_port()
        web_log = workdir / "gunicorn.log"
        web = start(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "crmconsole.wsgi",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                str(args.workers),
                "--threads",
                str(args.threads),
                "--keep-alive",
                "30",
            ],
            env,
            web_log,
        )
        worker = None
        try:
            wait_for(lambda: gunicorn_ready(port), "gunicorn", web_log)
            wall, times, answers = post_all(port, authorization, args.events, args.connections)
            stored = Event.objects.filter(handler=handler).count()
            print(f"answered {len(times)} POSTs in {wall:.1f} s: {len(times) / wall:.0f} events/s")
            print(
                f"answer time: p50 {percentile(times, 0.5) * 1000:.1f} ms, "
                f"p99 {percentile(times, 0.99) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms, "
                f"mean {statistics.mean(times) * 1000:.1f} ms"
            )
            print(f"answers: {dict(sorted(answers.items(), key=str))}")
            print(f"stored: {stored} (answered 200: {answers[200]})")

            worker_log = workdir / "worker.log"
            started = time.monotonic()
            worker = start(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "crmconsole",
                    "worker",
                    "--concurrency",
                    str(args.celery),
                    "--loglevel",
                    "WARNING",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ],
                env,
                worker_log,
            )
            deadline = time.monotonic() + 600
            while Event.objects.filter(status=Event.Status.RECEIVED).exists():
                if time.monotonic() > deadline or worker.poll() is not None:
                    print(worker_log.read_text(errors="replace")[-3000:])
                    break
                time.sleep(0.5)
            took = time.monotonic() - started
            statuses = Counter(Event.objects.values_list("status", flat=True))
            processed = statuses[Event.Status.PROCESSED]
            print(
                f"processed: {processed} of {stored} in {took:.1f} s with {args.celery} Celery "
                f"processes ({processed / took:.0f} events/s, worker start included); "
                f"statuses: {dict(statuses)}"
            )
        finally:
            if worker is not None:
                stop(worker)
            stop(web)


if __name__ == "__main__":
    main()
