"""The admin at scale: server time of the console's busiest pages on a mirror of 100,000 cards
and 50,000 contacts, the MiniCRM requests they make (none), and exports of 20,000 cards.

    .venv/bin/python -m benchmarks.admin_scale [--requests 50] [--database-url URL]

Writes a generated seed straight into a migrated temporary SQLite database (or the database
`--database-url` names, e.g. one `scripts/private_postgres.py` started): five modules of
20,000 cards (the demo seed's modules: statuses in four groups, ten owners, custom fields of
every kind: text, int (money), float, select, multi-select, date, datetime, yes/no), 15,000
companies and 35,000 persons, and 30,000 to-dos, with bulk inserts. Each card and contact is
held in full detail, its search text made by the mirror's own `store` functions (what
production stores), and every module and the contacts are marked as fully listed (`SyncState`
with `filled_at`), so the console reads only the mirror.

MiniCRM is a counting stub on a free port that answers every request with a 503 and notes
its path: the target is that no measured page makes one. Redis is private. With Django's
test client in-process (debug off, a superuser whose MiniCRM user is an owner), each page is
requested a few times untimed, then `--requests` times, and the median and p95 of the
server time and the SQL queries per page are printed:

- a module's changelist with two filters (a status and an owner) sorted by a column (`o=`),
  each module, status and owner in turn, and the same sorted without filters;
- the header search (/search/?q=...): a common word prefix of card names, a common surname's
  prefix, a rare name, and accent-free queries for accented names;
- a module's board; the dashboard.

Then the export of a whole module (20,000 cards) and of one owner's cards (2,000) as CSV and
XLSX: the time, the peak of Python's allocations (tracemalloc, while the streamed response is
consumed; a second pass, as tracing slows the code) and how far the process's resident set
grew above what it held before (its peak, VmHWM, reset first), and the file's size.
"""

from __future__ import annotations

import os
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from benchmarks.changelist import describe, tally
from benchmarks.harness import BIG_BUDGET, console_env, doc_parser, private_redis, run_main

SEED = 20261203
CARDS_PER_MODULE = 20_000
COMPANIES = 15_000
PERSONS = 35_000
TODOS = 30_000
OWNERS = {
    101: "Nagy Katalin",
    102: "Kovács Péter",
    103: "Tóth Zsófia",
    104: "Szabó Gergő",
    105: "Horváth Anikó",
    106: "Varga Bence",
    107: "Kiss Réka",
    108: "Molnár Ádám",
    109: "Farkas Júlia",
    110: "Balogh Ödön",
}
ME = 101  # the benchmark user's MiniCRM user
BATCH = 2000
NOW = datetime.now(UTC).replace(microsecond=0)
# A few cards and persons carry a rare (accented) name the search must find.
RARE = ["Zsigmondy Örs", "Fülöp-Ürményi Tünde", "Ősz Győző"]
SEARCHES = ["bev", "kov", "zsigmondy", "urmenyi tunde", "osz gyozo", "szucs"]
WARM_UP = 3


# -- a MiniCRM that counts --------------------------------------------------------------------


class CountingMiniCRM:
    """An HTTP server on a free port that notes each request's method and path and answers
    503: any request a page makes shows up here (and fails)."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _refuse(self) -> None:
                owner.paths.append(f"{self.command} {self.path.split('?')[0]}")
                body = b'{"error": "the benchmark answers no MiniCRM request"}'
                self.send_response(503)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_DELETE = _refuse

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    @contextmanager
    def running(self) -> Iterator[CountingMiniCRM]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()


# -- the seed ---------------------------------------------------------------------------------


def stamp(moment: datetime) -> str:
    """MiniCRM's local time as its API writes it (the mirror's `minicrm_moment` reads it)."""
    from apps.core.fieldviews import minicrm_naive

    return minicrm_naive(moment).strftime("%Y-%m-%d %H:%M:%S")


def module_schema(statuses: dict[int, str], fields: list[Any], options: dict[str, dict]) -> dict:
    """A module's schema as MiniCRM's Schema/Project/{id} answers it."""
    schema: dict[str, Any] = {
        "Id": "Int",
        "CategoryId": "Int",
        "ContactId": "Int",
        "BusinessId": "Int",
        "Name": "Text(512)",
        "StatusId": {str(k): v for k, v in statuses.items()},
        "UserId": {str(k): v for k, v in OWNERS.items()},
        "ReferenceId": "Text(255)",
        "Deleted": "Int",
        "StatusUpdatedAt": "DateTime",
        "CreatedAt": "DateTime",
        "UpdatedAt": "DateTime",
    }
    for spec in fields:
        if spec.kind in ("Select", "MultiSelect"):
            schema[spec.name] = {str(k): v for k, v in options[spec.name].items()}
        else:
            schema[spec.name] = spec.kind
    return schema


def _options(spec: Any, next_id: list[int]) -> dict[int, str]:
    if spec.kind == "MultiSelect":
        return {2**i: label for i, label in enumerate(spec.options)}
    chosen = {}
    for label in spec.options:
        next_id[0] += 1
        while not next_id[0] & (next_id[0] - 1):  # never a power of two
            next_id[0] += 1
        chosen[next_id[0]] = label
    return chosen


def _value(rng: random.Random, spec: Any, options: dict[int, str], moment: datetime) -> Any:
    """A custom field's value as a card's detail holds it (dropdowns by their labels)."""
    kind = spec.kind
    if not spec.required and rng.random() < 0.15:
        return [] if kind == "MultiSelect" else ""
    if kind == "Int":
        return rng.randint(1, 500) * 10_000
    if kind == "Float":
        return round(rng.uniform(0, 100), 1)
    if kind == "Date":
        return (moment + timedelta(days=rng.randint(0, 90))).date().isoformat()
    if kind == "DateTime":
        return stamp(moment + timedelta(days=rng.randint(0, 90), minutes=rng.randint(0, 600)))
    if kind == "Boolean":
        return rng.randint(0, 1)
    if kind.startswith("File"):
        return f"https://files.example.com/scale/{rng.randint(1000, 9999)}.pdf"
    if kind == "Select":
        return rng.choice(list(options.values()))
    if kind == "MultiSelect":
        return [options[k] for k in sorted(rng.sample(list(options), rng.randint(0, 3)))]
    return rng.choice(
        [
            "Visszahívást kért.",
            "Árajánlatot vár, jövő héten dönt.",
            "Referenciát kért a bevezetésről.",
            "Elégedett ügyfél, bővítene.",
            "Számlázási kérdése van.",
        ]
    )[: int(kind[5:-1])]


def seed(rng: random.Random) -> dict[str, Any]:
    """The generated mirror, written with bulk inserts; what the measurements need of it."""
    from apps.mirror import store
    from apps.mirror.models import Card, Completeness, Contact, Module, Schema, SyncState, ToDo
    from apps.mirror.services import CONTACTS, POLLS, module_key
    from apps.sandbox.seeds import demo
    from minicrm.resources.schema import Schema as FieldSchema

    started = time.perf_counter()
    Module.objects.all().delete()
    for model in (Card, Contact, ToDo, SyncState):
        model.objects.all().delete()
    detail = Completeness.DETAIL
    next_id = [4000]
    modules = []
    for position, (category_id, name, kind, statuses, fields) in enumerate(demo.MODULES):
        status_ids = {6000 + 10 * position + i: label for i, (label, _g) in enumerate(statuses)}
        groups = {str(sid): group for sid, (_l, group) in zip(status_ids, statuses, strict=True)}
        options = {
            spec.name: _options(spec, next_id)
            for spec in fields
            if spec.kind in ("Select", "MultiSelect")
        }
        schema_data = module_schema(status_ids, fields, options)
        Module.objects.create(
            id=category_id,
            name=name,
            type=kind,
            position=position,
            schema=schema_data,
            schema_synced_at=NOW,
            status_groups=groups,
            synced_at=NOW,
        )
        parsed = FieldSchema.parse("Project", schema_data, category_id)
        modules.append((category_id, status_ids, groups, fields, options, parsed))
    Schema.objects.bulk_create(
        [
            Schema(
                entity="Business", data={"Name": "Text(255)", "Email": "Text(255)"}, synced_at=NOW
            ),
            Schema(
                entity="Person",
                data={"FirstName": "Text(255)", "LastName": "Text(255)"},
                synced_at=NOW,
            ),
        ]
    )

    # Companies 1.., persons after them, each at a company.
    companies = [
        f"{p} {c} {f}"
        for p in demo.COMPANY_PREFIXES
        for c in demo.COMPANY_CORES
        for f in demo.COMPANY_FORMS
    ]
    contacts: list[Contact] = []
    persons: list[tuple[int, int]] = []

    def flush_contacts(force: bool = False) -> None:
        if contacts and (force or len(contacts) >= BATCH):
            Contact.objects.bulk_create(contacts)
            contacts.clear()

    for index in range(COMPANIES):
        company_id = 1 + index
        name = f"{companies[index % len(companies)]}" + (
            f" {index // len(companies) + 1}" if index >= len(companies) else ""
        )
        created = NOW - timedelta(days=rng.randint(30, 1500))
        data: dict[str, Any] = {
            "Id": company_id,
            "Type": "Business",
            "Name": name,
            "Email": f"info{company_id}@ceg{company_id}.hu",
            "Phone": f"06 1 {rng.randint(200, 999)} {rng.randint(1000, 9999)}",
            "Region": rng.choice(demo.CITIES)[1],
            "VatNumber": f"{rng.randint(10000000, 29999999)}-2-{rng.randint(10, 44)}",
            "Deleted": 0,
            "CreatedAt": stamp(created),
            "UpdatedAt": stamp(created + timedelta(days=20)),
        }
        contacts.append(_contact(store, data, "Business", None, created, detail))
        flush_contacts()
    for index in range(PERSONS):
        person_id = 1 + COMPANIES + index
        company_id = 1 + rng.randrange(COMPANIES)
        if index < len(RARE):
            last, first = RARE[index].split(" ", 1)
        else:
            last, first = rng.choice(demo.LAST_NAMES), rng.choice(demo.FIRST_NAMES)
        created = NOW - timedelta(days=rng.randint(30, 1500))
        data = {
            "Id": person_id,
            "Type": "Person",
            "FirstName": first,
            "LastName": last,
            "Email": f"{demo.ascii_slug(first)}.{demo.ascii_slug(last)}{person_id}"
            f"@ceg{company_id}.hu",
            "Phone": f"+36 30 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            "Position": rng.choice(demo.POSITIONS),
            "BusinessId": company_id,
            "Deleted": 0,
            "CreatedAt": stamp(created),
            "UpdatedAt": stamp(created + timedelta(days=21)),
        }
        contacts.append(_contact(store, data, "Person", company_id, created, detail))
        persons.append((person_id, company_id))
        flush_contacts()
    flush_contacts(force=True)

    cards: list[Card] = []
    card_id = 100_001
    owners = list(OWNERS)
    for category_id, status_ids, groups, fields, options, parsed in modules:
        for index in range(CARDS_PER_MODULE):
            person_id, company_id = rng.choice(persons)
            status_id = rng.choice(list(status_ids))
            # Owners in turn: each owner has a tenth of a module's cards (2,000 of 20,000).
            owner = owners[index % len(owners)]
            created = NOW - timedelta(days=rng.randint(1, 1000), minutes=rng.randint(0, 600))
            updated = min(
                NOW, created + timedelta(days=rng.randint(0, 60), minutes=rng.randint(0, 600))
            )
            topic = rng.choice(demo.TOPICS)
            name = f"{topic} #{card_id - 100_000}"
            if index < 2 and category_id == modules[0][0]:
                name = f"{RARE[index]}: {topic}"
            data = {
                "Id": card_id,
                "CategoryId": category_id,
                "ContactId": person_id,
                "StatusId": status_ids[status_id],
                "UserId": OWNERS[owner],
                "Name": name,
                "StatusUpdatedAt": stamp(updated),
                "Deleted": 0,
                "CreatedAt": stamp(created),
                "UpdatedAt": stamp(updated),
                "ReferenceId": "",
                "ProjectHash": f"{card_id:032x}",
                "ProjectEmail": f"{card_id:012x}@scale.minicrm.invalid",
            }
            for spec in fields:
                data[spec.name] = _value(rng, spec, options.get(spec.name, {}), created)
            data["BusinessId"] = company_id
            cards.append(
                Card(
                    id=card_id,
                    category_id=category_id,
                    name=name,
                    status_id=status_id,
                    status_group=groups[str(status_id)],
                    user_id=owner,
                    contact_id=person_id,
                    business_id=company_id,
                    created_at=store.minicrm_moment(data["CreatedAt"]),
                    updated_at=store.minicrm_moment(data["UpdatedAt"]),
                    status_updated_at=store.minicrm_moment(data["StatusUpdatedAt"]),
                    data=data,
                    completeness=detail,
                    synced_at=NOW,
                    detail_synced_at=NOW,
                    listed_at=NOW,
                    todos_synced_at=NOW,
                    history_synced_at=NOW,
                    search_text=store._card_text(name, data, parsed),
                )
            )
            card_id += 1
            if len(cards) >= BATCH:
                Card.objects.bulk_create(cards)
                cards.clear()
    Card.objects.bulk_create(cards)
    last_card = card_id - 1

    todos = []
    for todo_id in range(700_001, 700_001 + TODOS):
        deadline = NOW + timedelta(days=rng.randint(-20, 40), hours=rng.randint(-8, 8))
        todos.append(
            ToDo(
                id=todo_id,
                card_id=rng.randint(100_001, last_card),
                status=rng.choice(["Open", "Open", "Closed"]),
                comment=rng.choice(["Visszahívni", "Ajánlatot küldeni", "Számlát ellenőrizni"]),
                deadline=deadline,
                user_id=rng.choice(owners),
                type_id=rng.choice([1566, 1567, 1568, 1569]),
                data={},
                completeness=detail,
                synced_at=NOW,
            )
        )
    ToDo.objects.bulk_create(todos, batch_size=BATCH)

    keys = [module_key(m[0]) for m in modules] + [CONTACTS]
    SyncState.objects.bulk_create(
        [
            SyncState(
                key=key,
                filled_at=NOW,
                rescanned_at=NOW,
                listed_total=CARDS_PER_MODULE if key != CONTACTS else COMPANIES + PERSONS,
            )
            for key in keys
        ]
        + [SyncState(key=key, polled_at=NOW, cursor=stamp(NOW)) for key in POLLS]
    )
    return {
        "seconds": time.perf_counter() - started,
        "modules": [(m[0], list(m[1])) for m in modules],
        "first": modules[0][0],
    }


def seeded_before() -> dict[str, Any] | None:
    """What `seed` returned, from a database it filled before (--keep); None if it did not."""
    from apps.mirror.models import Card, Module

    modules = [
        (module.id, [int(k) for k in (module.schema or {}).get("StatusId", {})])
        for module in Module.objects.order_by("position")
    ]
    if not modules or Card.objects.count() != len(modules) * CARDS_PER_MODULE:
        return None
    return {"seconds": 0.0, "modules": modules, "first": modules[0][0], "reused": True}


def _contact(
    store: Any, data: dict, kind: str, business_id: int | None, created: datetime, detail: str
) -> Any:
    from apps.mirror.models import Contact

    name = store._contact_name(data)
    return Contact(
        id=data["Id"],
        type=kind,
        name=name,
        email=data["Email"].casefold(),
        phone_digits=store.phone_digits(data["Phone"]),
        business_id=business_id,
        created_at=created,
        updated_at=store.minicrm_moment(data["UpdatedAt"]),
        data=data,
        completeness=detail,
        synced_at=NOW,
        detail_synced_at=NOW,
        listed_at=NOW,
        search_text=store._contact_text(name, data),
    )


# -- measuring --------------------------------------------------------------------------------


def timed_get(client: Any, url: str) -> tuple[float, float, int, Any]:
    """One GET: its server time (a streamed body consumed), the CPU time this thread spent on
    it (SQLite works in it too; less disturbed than the time by other processes on the
    machine), its SQL queries and the response; fails unless it answered 200."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    connection.queries_log.clear()  # full (9,000) it would count nothing
    with CaptureQueriesContext(connection) as queries:
        started, cpu = time.perf_counter(), time.thread_time()
        response = client.get(url)
        size = sum(len(part) for part in response.streaming_content) if response.streaming else 0
        elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu
    if response.status_code != 200:
        sys.exit(f"{url}: {response.status_code}\n{response.content[:2000]!r}")
    response.size = size or len(response.content)
    return elapsed, cpu, len(queries), response


def measure(client: Any, minicrm: CountingMiniCRM, urls: list[str], requests: int) -> dict:
    for url in urls[:WARM_UP]:
        timed_get(client, url)
    times, cpus, queries, calls = [], [], [], []
    for n in range(requests):
        before = len(minicrm.paths)
        elapsed, cpu, sql, _response = timed_get(client, urls[n % len(urls)])
        times.append(elapsed)
        cpus.append(cpu)
        queries.append(sql)
        calls.append(len(minicrm.paths) - before)
    return {"times": times, "cpus": cpus, "queries": queries, "calls": calls}


def p95(seconds: list[float]) -> float:
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def pages(seeded: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """The measured pages: a label and the URLs requested in turn."""
    filtered = []
    for module, statuses in seeded["modules"]:
        for index, status in enumerate(statuses):
            owner = list(OWNERS)[index % len(OWNERS)]
            filtered.append(f"/modules/{module}/?status={status}&owner={owner}")
    modules = [module for module, _s in seeded["modules"]]
    # Sorted by a custom number field of the module, with two filters: a status and an owner,
    # or a status and one of the module's dropdowns.
    by_number, by_dropdown = [], []
    for module, statuses in seeded["modules"]:
        number, dropdown = _custom_fields(module)
        if number is None:
            continue
        for index, status in enumerate(statuses):
            owner = list(OWNERS)[index % len(OWNERS)]
            by_number.append(f"/modules/{module}/?status={status}&owner={owner}&o=-{number}")
            if dropdown is not None:
                name, choice = dropdown
                by_dropdown.append(
                    f"/modules/{module}/?status={status}&f_{name}={choice}&o={number}"
                )
    return [
        ("changelist, status + owner, o=-<number field>", by_number),
        ("changelist, status + dropdown, o=<number field>", by_dropdown),
        ("changelist, status + owner, o=-updated", [f"{u}&o=-updated" for u in filtered]),
        ("changelist, status + owner, o=name", [f"{u}&o=name" for u in filtered]),
        ("changelist, status + owner, o=company", [f"{u}&o=company" for u in filtered]),
        ("changelist, no filter, o=-updated", [f"/modules/{m}/?o=-updated" for m in modules]),
        ("changelist, no filter, o=name", [f"/modules/{m}/?o=name" for m in modules]),
        *((f"header search, q={q}", [f"/search/?q={q.replace(' ', '+')}"]) for q in SEARCHES),
        ("board", [f"/modules/{m}/board/" for m in modules]),
        ("dashboard", ["/"]),
    ]


def _custom_fields(module: int) -> tuple[str | None, tuple[str, int] | None]:
    """A module's first custom number field, and its first dropdown with a choice."""
    from apps.cards.columns import NOT_COLUMNS
    from apps.mirror import store

    schema = store.module_field_schema(module)
    specs = [s for s in (schema.fields.values() if schema else []) if s.name not in NOT_COLUMNS]
    number = next((s.name for s in specs if s.kind in ("int", "float")), None)
    dropdown = next(
        ((s.name, next(iter(s.choices))) for s in specs if s.kind == "select" and s.choices), None
    )
    return number, dropdown


# -- exports ----------------------------------------------------------------------------------


def _rss_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_rss_peak() -> bool:
    """Reset the process's peak resident set (VmHWM) to its current size (Linux)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def export(client: Any, minicrm: CountingMiniCRM, url: str) -> dict[str, Any]:
    """An export: its time and size, then (traced) its Python allocations' peak; and how far
    the resident set grew above what it was before the request."""
    import gc

    gc.collect()
    before = _rss_kib("VmRSS")
    reset = _reset_rss_peak()
    calls = len(minicrm.paths)
    elapsed, _cpu, sql, response = timed_get(client, url)
    peak_rss = _rss_kib("VmHWM") if reset else None
    calls = len(minicrm.paths) - calls
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    timed_get(client, url)
    _current, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "seconds": elapsed,
        "queries": sql,
        "calls": calls,
        "bytes": response.size,
        "traced_peak": traced,
        "rss_growth": (peak_rss - before) * 1024 if peak_rss and before else None,
    }


# -- the run ----------------------------------------------------------------------------------


def configure(database_url: str, redis_url: str, base_url: str) -> None:
    env = console_env(
        database=Path("/unused"), redis_url=redis_url, base_url=base_url, limit=BIG_BUDGET
    )
    env["DATABASE_URL"] = database_url
    os.environ.update(env)
    import django

    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()


def main() -> None:
    parser = doc_parser(__doc__)
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page")
    parser.add_argument(
        "--database-url", default="", help="a database to fill (default: a temporary SQLite)"
    )
    parser.add_argument(
        "--keep",
        type=Path,
        help="keep the seeded SQLite database in this file, and reuse it when it is there",
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="the seed's size as a fraction (a trial run)"
    )
    args = parser.parse_args()
    global CARDS_PER_MODULE, COMPANIES, PERSONS, TODOS
    CARDS_PER_MODULE, COMPANIES, PERSONS, TODOS = (
        max(100, round(n * args.scale)) for n in (CARDS_PER_MODULE, COMPANIES, PERSONS, TODOS)
    )
    with (
        tempfile.TemporaryDirectory() as workdir,
        private_redis() as redis_url,
        CountingMiniCRM().running() as minicrm,
    ):
        kept = args.keep.resolve() if args.keep else None
        database_url = args.database_url or f"sqlite:///{kept or f'{workdir}/admin-scale.sqlite3'}"
        reuse = bool(kept and kept.exists() and not args.database_url)
        configure(database_url, redis_url, minicrm.url)
        from django.contrib.auth.models import User
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client

        from apps.core.models import Profile
        from apps.mirror.models import Card

        call_command("migrate", verbosity=0)
        if args.database_url and Card.objects.exists():
            sys.exit(
                "the database already holds a mirror: give an empty one (the seed replaces it)"
            )
        seeded = seeded_before() if reuse else None
        if seeded is None:
            print(
                f"seeding {5 * CARDS_PER_MODULE:,} cards, {COMPANIES + PERSONS:,} contacts and "
                f"{TODOS:,} to-dos into {connection.vendor} ...",
                flush=True,
            )
            seeded = seed(random.Random(SEED))
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # the planner's statistics, as a live database has
            print(f"  seeded in {seeded['seconds']:.0f} s", flush=True)
        User.objects.filter(username="bench").delete()
        user = User.objects.create_superuser("bench", "bench@example.com", None)
        Profile.objects.create(user=user, minicrm_user_id=ME)
        client = Client()
        client.force_login(user)

        results = []
        for label, urls in pages(seeded):
            results.append((label, urls[0], measure(client, minicrm, urls, args.requests)))
            print(f"  {label}: {describe(results[-1][2]['times'])}", flush=True)

        first = seeded["first"]
        owner_url = f"/modules/{first}/export/?owner={ME}&format="
        whole_url = f"/modules/{first}/export/?format="
        exports = []
        for fmt in ("csv", "xlsx"):
            for rows, url in (
                (CARDS_PER_MODULE // len(OWNERS), owner_url + fmt),
                (CARDS_PER_MODULE, whole_url + fmt),
            ):
                exports.append((fmt, rows, url, export(client, minicrm, url)))
                print(f"  export {fmt} {rows:,}: {exports[-1][3]['seconds']:.1f} s", flush=True)
        vendor = connection.vendor
        unexpected = sorted(set(minicrm.paths))

    report(args.requests, vendor, seeded, results, exports, unexpected)


def report(
    requests: int,
    vendor: str,
    seeded: dict[str, Any],
    results: list[tuple[str, str, dict]],
    exports: list[tuple[str, int, str, dict]],
    unexpected: list[str],
) -> None:
    print()
    print(
        f"{5 * CARDS_PER_MODULE:,} cards (5 modules x {CARDS_PER_MODULE:,}), "
        f"{COMPANIES:,} companies + {PERSONS:,} persons, {TODOS:,} to-dos on {vendor}, "
        + ("reused (--keep)" if seeded.get("reused") else f"seeded in {seeded['seconds']:.0f} s")
    )
    print(
        f"{requests} requests a page after {WARM_UP} untimed; Django's test client in-process, "
        "debug off; MiniCRM = a counting stub answering 503"
    )
    width = max(len(label) for label, _u, _r in results)
    print(
        f"{'page':<{width}}  {'median':>7}  {'p95':>7}  {'CPU med':>7}  {'CPU p95':>7}  MiniCRM  "
        "p95 < 150 ms  SQL queries (times)"
    )
    for label, _url, result in results:
        times = result["times"]
        print(
            f"{label:<{width}}  {statistics.median(times) * 1000:>4.0f} ms  "
            f"{p95(times) * 1000:>4.0f} ms  {statistics.median(result['cpus']) * 1000:>4.0f} ms  "
            f"{p95(result['cpus']) * 1000:>4.0f} ms  "
            f"{sum(result['calls']):>7}  {'met' if p95(times) < 0.150 else 'MISSED':<12}  "
            f"{tally(result['queries'])}"
        )
    for label, url, _r in results:
        if label.startswith(("changelist, status + owner, o=-updated", "board")):
            print(f"  {label}: {url}, ...")
    print(
        f"{'export':<18}  {'time':>7}  {'size':>9}  {'traced peak':>11}  {'RSS growth':>10}  "
        "SQL  MiniCRM"
    )
    for fmt, rows, _url, result in exports:
        growth = result["rss_growth"]
        print(
            f"{fmt + f' {rows:,} cards':<18}  {result['seconds']:>5.1f} s  "
            f"{result['bytes'] / 1e6:>6.1f} MB  {result['traced_peak'] / 1e6:>8.1f} MB  "
            + (f"{growth / 1e6:>7.1f} MB" if growth is not None else "    n/a")
            + f"  {result['queries']:>3}  {result['calls']:>7}"
        )
    for _fmt, rows, url, _result in exports[:2]:
        print(f"  {rows:,} cards: {url}")
    print(f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print(
        "MiniCRM requests during the whole run (target 0): "
        + (", ".join(unexpected) if unexpected else "0")
    )


if __name__ == "__main__":
    run_main(main)
