"""Server time of the console's card changelist, and what each page costs in MiniCRM requests,
beside Django admin's changelist of a local model of the same shape.

    .venv/bin/python -m benchmarks.changelist [--requests 50]

Starts a private Redis and a sandbox seeded `demo` (5,000 cards: five modules of 1,000) with a
budget too large to pace anything, migrates a temporary SQLite database and logs a user in with
Django's test client (in-process: the time is the server's, from middleware to rendered page,
including the round trip to the sandbox on this machine). Then:

- the console: /modules/<id>/?p=1..10 of each module (100 cards a page, MiniCRM's paging), the
  MiniCRM requests each page cost (from the sandbox's request log, cleared before each page),
  and the SQL queries;
- Django admin: the same 5,000 cards copied into a throwaway table of the same columns (name,
  module, status and owner as choices, contact and company ids), a ModelAdmin with the same
  columns (name, status, owner, company), filters by status and owner, a name search and 100
  rows a page, on an AdminSite of this script (nothing is registered in the project), paged the
  same way: /bench-admin/core/benchcard/?category_id=<id>&p=1..10, with its SQL queries.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import types
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from benchmarks.harness import (
    console_env,
    private_redis,
    sandbox,
    sandbox_log,
)

BIG_BUDGET = 1_000_000
MODULES = (20, 21, 22, 23, 24)  # the demo seed's card modules, 1,000 cards each
PAGES = 10


def configure(database: str, redis_url: str, base_url: str) -> None:
    """Settings as a deployment has them (debug off), pointed at the private parts."""
    os.environ.update(
        console_env(
            database=Path(database), redis_url=redis_url, base_url=base_url, limit=BIG_BUDGET
        )
    )
    import django

    # WhiteNoise looks for collected static files, which pages of this benchmark never fetch.
    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()


def console_client(database: str, redis_url: str, base_url: str) -> Any:
    """Django's test client, logged in as a superuser of a migrated console (configured)."""
    configure(database, redis_url, base_url)
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    client = Client()
    client.force_login(User.objects.create_superuser("bench", "bench@example.com", None))
    return client


def describe(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"


def tally(counts: list[int]) -> str:
    return ", ".join(f"{n} ({times}x)" for n, times in sorted(Counter(counts).items()))


def page_urls(template: str, requests: int) -> list[str]:
    """Every page of every module in turn (module 20 pages 1..10, then 21, ...), repeated."""
    urls = [template.format(module=m, page=p) for m in MODULES for p in range(1, PAGES + 1)]
    return [urls[n % len(urls)] for n in range(requests)]


def timed_get(client: Any, url: str, rows: Callable[[bytes], int]) -> tuple[float, int]:
    """One GET: its server time and its SQL queries; fails unless a full page came back."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - started
    if response.status_code != 200 or rows(response.content) != 100:
        sys.exit(f"{url}: {response.status_code}, {rows(response.content)} rows")
    return elapsed, len(queries)


def console_rows(content: bytes) -> int:
    return content.count(b'name="selected"')


def admin_rows(content: bytes) -> int:
    return content.count(b'class="action-select"')


def bench_console(client: Any, base_url: str, redis_url: str, requests: int) -> dict[str, Any]:
    from apps.core.minicrm import minicrm_client

    urls = page_urls("/modules/{module}/?p={page}", requests)
    # A first page with empty caches (modules, schema), then warm-up pages that are not timed.
    redis.Redis.from_url(redis_url).flushdb()
    sandbox_log(base_url, clear=True)
    timed_get(client, urls[0], console_rows)
    cold = sandbox_log(base_url)
    # Warm-up, not timed: the first page of each module reads its schema (then cached).
    for module in MODULES:
        timed_get(client, f"/modules/{module}/?p=1", console_rows)
    times, queries, calls = [], [], []
    for url in urls:
        sandbox_log(base_url, clear=True)
        elapsed, sql = timed_get(client, url, console_rows)
        times.append(elapsed)
        queries.append(sql)
        calls.append(len(sandbox_log(base_url)))
    # MiniCRM's share: the same searches straight through the console's client.
    searches = []
    for url in urls:
        module, page = int(url.split("/")[2]), int(url.rsplit("=", 1)[1]) - 1
        started = time.perf_counter()
        minicrm_client().projects.search(category_id=module, page=page)
        searches.append(time.perf_counter() - started)
    return {
        "times": times,
        "queries": queries,
        "calls": calls,
        "cold": [entry["path"] for entry in cold],
        "searches": searches,
    }


def copy_cards() -> tuple[type, int]:
    """A throwaway model of the changelist's shape, filled with the sandbox's 5,000 cards."""
    from django.db import connection, models

    from apps.core.minicrm import minicrm_client

    client = minicrm_client()
    statuses: dict[int, str] = {}
    owners: dict[int, str] = {}
    for module in MODULES:
        schema = client.schemas.project(module)
        statuses |= schema.fields["StatusId"].choices
        owners |= schema.fields["UserId"].choices

    class BenchCard(models.Model):
        category_id = models.IntegerField("module", db_index=True)
        name = models.CharField(max_length=512)
        status = models.IntegerField(choices=sorted(statuses.items()))
        owner = models.IntegerField(choices=sorted(owners.items()))
        contact_id = models.IntegerField(null=True)
        business_id = models.IntegerField("company", null=True)

        class Meta:
            app_label = "core"
            db_table = "benchmark_card"
            ordering = ("id",)

        def __str__(self) -> str:
            return self.name

    with connection.schema_editor() as editor:
        editor.create_model(BenchCard)
    rows = []
    for module in MODULES:
        for page in range(PAGES):
            for item in client.projects.search(category_id=module, page=page).items:
                rows.append(
                    BenchCard(
                        id=item.id,
                        category_id=module,
                        name=item.name,
                        status=item.status.id or 0,
                        owner=item.user.id or 0,
                        contact_id=item.contact_id,
                        business_id=item.business_id,
                    )
                )
    BenchCard._default_manager.bulk_create(rows)
    return BenchCard, len(rows)


def admin_urlconf(model: type) -> str:
    """An AdminSite of this script with the model registered, as its own URLconf."""
    from django.contrib import admin
    from django.urls import include, path

    class BenchCardAdmin(admin.ModelAdmin):
        list_display = ("name", "status", "owner", "business_id")
        list_filter = ("status", "owner")
        search_fields = ("name",)
        list_per_page = 100

    site = admin.AdminSite(name="bench")
    site.register(model, BenchCardAdmin)
    urls = types.ModuleType("benchmark_admin_urls")
    urls.urlpatterns = [  # type: ignore[attr-defined]
        path("bench-admin/", site.urls),
        path("", include("crmconsole.urls")),
    ]
    sys.modules[urls.__name__] = urls
    return urls.__name__


def bench_admin(client: Any, urlconf: str, requests: int) -> dict[str, Any]:
    from django.test import override_settings

    urls = page_urls("/bench-admin/core/benchcard/?category_id={module}&p={page}", requests)
    with override_settings(ROOT_URLCONF=urlconf):
        for url in urls[:5]:
            timed_get(client, url, admin_rows)
        times, queries = [], []
        for url in urls:
            elapsed, sql = timed_get(client, url, admin_rows)
            times.append(elapsed)
            queries.append(sql)
    return {"times": times, "queries": queries}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as workdir,
        private_redis() as redis_url,
        sandbox("demo", rate_limit=BIG_BUDGET) as base_url,
    ):
        client = console_client(f"{workdir}/benchmark.sqlite3", redis_url, base_url)

        console = bench_console(client, base_url, redis_url, args.requests)
        model, copied = copy_cards()
        admin = bench_admin(client, admin_urlconf(model), args.requests)

    report(args.requests, console, admin, copied)


def report(requests: int, console: dict[str, Any], admin: dict[str, Any], copied: int) -> None:
    print(
        f"demo seed, 5 modules x 1,000 cards; {requests} requests: pages 1..{PAGES} of each "
        "module in turn,\n100 rows a page; Django's test client in-process, debug off"
    )
    print(f"console card changelist, /modules/<id>/?p=N: {describe(console['times'])}")
    print(f"  MiniCRM requests per page: {tally(console['calls'])}")
    print(
        f"  with empty caches (first page): {len(console['cold'])} "
        f"({', '.join(sorted(set(console['cold'])))})"
    )
    print(
        "  MiniCRM's own answer (the same searches, sandbox on this machine): "
        f"{describe(console['searches'])}"
    )
    print(f"  SQL queries per page: {tally(console['queries'])}")
    print(
        f"Django admin changelist, a local model of the same shape ({copied:,} rows copied "
        "from the sandbox):"
    )
    print(f"  /bench-admin/core/benchcard/?category_id=<id>&p=N: {describe(admin['times'])}")
    print(f"  SQL queries per page: {tally(admin['queries'])}; MiniCRM requests: 0")


if __name__ == "__main__":
    main()
