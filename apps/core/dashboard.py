"""The dashboard's reads: every module's cards by status, the person's to-dos due today and
overdue, recent activity, the API budget spent over the last hour, and the write queue's
throughput. All from the console's own database and Redis: the dashboard never asks MiniCRM.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from django.conf import settings
from django.db.models import Count
from django.db.models.functions import TruncMinute
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.minicrm import SOURCES, SYNC_SOURCE, redis_connection
from apps.mirror import store
from apps.mirror.models import Card as MirrorCard
from apps.mirror.models import Contact as MirrorContact
from apps.mirror.models import Module as MirrorModule
from apps.todos.selectors import my_todos, my_todos_held
from apps.webhooks.models import Event
from apps.writes.models import TARGET_LABELS, Write
from apps.writes.selectors import QueueStatus, queue_status
from minicrm import Priority
from minicrm.ratelimit import tally_minutes

# The budget chart's series, bottom to top.
BUDGET_SOURCES = (SOURCES[Priority.INTERACTIVE], SYNC_SOURCE, SOURCES[Priority.BULK])
SERIES_LABELS = {
    SOURCES[Priority.INTERACTIVE]: _("People's pages"),
    SYNC_SOURCE: _("Mirror sync"),
    SOURCES[Priority.BULK]: _("Write queue"),
}
HOUR_MINUTES = 60
ACTIVITY_ROWS = 10
TODO_ROWS = 5


# -- charts: geometry for server-drawn SVG (templates/core/_chart_*.html) --------------------


@dataclass(frozen=True)
class Bar:
    """One bar of a chart: where it is drawn (SVG units) and what it stands for."""

    x: float
    y: float
    width: float
    height: float
    series: str
    value: int
    title: str = ""


@dataclass(frozen=True)
class StackedChart:
    """Columns of stacked bars (one per minute), a dashed line at `ceiling`, labels under it."""

    width: float
    height: float
    bars: list[Bar]
    ceiling_y: float | None  # the limit's line, None when off the chart
    peak: int  # the y axis' top value
    axis: list[tuple[float, str]]  # (x, label) under the columns


CHART_HEIGHT = 150.0


def stacked_chart(
    columns: list[tuple[datetime, dict[str, int]]],
    *,
    series: tuple[str, ...],
    ceiling: int | None = None,
    every: int = 15,
    width: float = 900.0,
) -> StackedChart:
    """Bars stacked by `series` per column, scaled so the tallest column (or `ceiling`) fits;
    `width` sets the drawing's proportions (its SVG units), the page its size."""
    peak = max([sum(counts.values()) for _, counts in columns] + [ceiling or 0, 1])
    slot = width / max(1, len(columns))
    scale = CHART_HEIGHT / peak
    bars: list[Bar] = []
    axis: list[tuple[float, str]] = []
    for index, (moment, counts) in enumerate(columns):
        bottom = CHART_HEIGHT
        for name in series:
            value = counts.get(name, 0)
            if value <= 0:
                continue
            height = value * scale
            bottom -= height
            bars.append(
                Bar(
                    x=round(index * slot + slot * 0.1, 2),
                    y=round(bottom, 2),
                    width=round(slot * 0.8, 2),
                    height=round(height, 2),
                    series=name,
                    value=value,
                    title=timezone.localtime(moment).strftime("%H:%M"),
                )
            )
        if index % every == 0:
            axis.append((round(index * slot, 2), timezone.localtime(moment).strftime("%H:%M")))
    ceiling_y = round(CHART_HEIGHT - ceiling * scale, 2) if ceiling else None
    return StackedChart(width, CHART_HEIGHT, bars, ceiling_y, peak, axis)


# -- the parts of the dashboard ---------------------------------------------------------------


@dataclass(frozen=True)
class StatusCount:
    status_id: int | None
    label: str
    count: int
    percent: float  # of the module's largest status, for the bar's length


@dataclass(frozen=True)
class ModuleStatuses:
    id: int
    name: str
    total: int
    statuses: list[StatusCount]


def modules_by_status() -> list[ModuleStatuses]:
    """Each mirrored module's cards by status (the schema's order; one grouped query)."""
    counts: dict[int, dict[int | None, int]] = {}
    rows = (
        MirrorCard.objects.filter(deleted=False)
        .exclude(category_id=0)
        .values("category_id", "status_id")
        .annotate(cards=Count("id"))
    )
    for row in rows:
        counts.setdefault(row["category_id"], {})[row["status_id"]] = row["cards"]
    shown: list[ModuleStatuses] = []
    for module in MirrorModule.objects.order_by("name", "id"):
        held = counts.get(module.id, {})
        schema = store.module_field_schema(module.id)
        spec = schema.fields.get("StatusId") if schema else None
        choices: dict[Any, str] = dict(spec.choices) if spec else {}
        order = [status_id for status_id in choices if status_id in held]
        order += sorted((s for s in held if s not in choices), key=lambda s: (s is None, s or 0))
        top = max(held.values(), default=0)
        shown.append(
            ModuleStatuses(
                id=module.id,
                name=module.name,
                total=sum(held.values()),
                statuses=[
                    StatusCount(
                        status_id=status_id,
                        label=choices.get(status_id) or (f"#{status_id}" if status_id else "—"),
                        count=held[status_id],
                        percent=round(100 * held[status_id] / top, 1) if top else 0.0,
                    )
                    for status_id in order
                ],
            )
        )
    return shown


@dataclass(frozen=True)
class BudgetHour:
    """The requests made of MiniCRM in each of the last 60 minutes, by who made them."""

    chart: StackedChart | None  # None when Redis cannot be reached
    totals: dict[str, int]
    per_minute: int  # the budget's limit, per minute

    @property
    def legend(self) -> list[tuple[str, str, int]]:
        """(series, its label, requests in the hour), as the chart stacks them."""
        return [
            (name, str(SERIES_LABELS[name]), self.totals.get(name, 0)) for name in BUDGET_SOURCES
        ]

    @property
    def total(self) -> int:
        return sum(self.totals.values())


def budget_hour(*, now: datetime | None = None) -> BudgetHour:
    per_minute = round(settings.MINICRM_RATE_LIMIT * 60 / settings.MINICRM_RATE_WINDOW)
    try:
        minutes = tally_minutes(
            redis_connection(),
            system_id=settings.MINICRM_SYSTEM_ID,
            minutes=HOUR_MINUTES,
            now=(now or timezone.now()).timestamp(),
        )
    except (redis.RedisError, OSError):
        return BudgetHour(None, {}, per_minute)
    columns = [(datetime.fromtimestamp(start, tz=UTC), counts) for start, counts in minutes]
    totals = {name: sum(counts.get(name, 0) for _, counts in columns) for name in BUDGET_SOURCES}
    chart = stacked_chart(columns, series=BUDGET_SOURCES, ceiling=per_minute)
    return BudgetHour(chart, totals, per_minute)


@dataclass(frozen=True)
class Throughput:
    """The write queue: its state now, and the writes that landed or failed in the last hour."""

    queue: QueueStatus
    done: int
    failed: int
    chart: StackedChart


def queue_throughput(*, now: datetime | None = None) -> Throughput:
    now = now or timezone.now()
    start = (now - timedelta(minutes=HOUR_MINUTES - 1)).replace(second=0, microsecond=0)
    landed = {
        row["minute"]: row["writes"]
        for row in Write.objects.filter(done_at__gte=start)
        .annotate(minute=TruncMinute("done_at"))
        .values("minute")
        .annotate(writes=Count("id"))
    }
    columns = [
        (moment, {"done": landed.get(moment, 0)})
        for moment in (start + timedelta(minutes=i) for i in range(HOUR_MINUTES))
    ]
    failed = Write.objects.filter(
        state__in=(Write.State.FAILED, Write.State.CONFLICT), updated_at__gte=start
    ).count()
    return Throughput(
        queue=queue_status(),
        done=sum(landed.values()),
        failed=failed,
        chart=stacked_chart(columns, series=("done",), every=30, width=450.0),
    )


@dataclass(frozen=True)
class Activity:
    """One line of recent activity: a change made through the console, or a webhook event; the
    object it concerns by its name where the mirror knows it."""

    at: datetime
    object_type: str  # "project", "contact", "order", "todo" or ""
    object_id: int | None
    label: str
    write: Write | None = None
    event: Event | None = None


def recent_activity(*, rows: int = ACTIVITY_ROWS) -> list[Activity]:
    writes = Write.objects.select_related("requested_by").order_by("-updated_at", "-pk")[:rows]
    events = Event.objects.select_related("handler").order_by("-received_at", "-pk")[:rows]
    merged: list[tuple[datetime, str, int | None, Write | None, Event | None]]
    merged = [(w.updated_at, w.target_type, w.target_id, w, None) for w in writes]
    merged += [(e.received_at, e.object_type.lower(), e.object_id, None, e) for e in events]
    merged = sorted(merged, key=lambda item: item[0], reverse=True)[:rows]
    ids = {
        kind: {i for _, t, i, _, _ in merged if t == kind and i} for kind in ("project", "contact")
    }
    names = {
        "project": dict(MirrorCard.objects.filter(pk__in=ids["project"]).values_list("id", "name")),
        "contact": dict(
            MirrorContact.objects.filter(pk__in=ids["contact"]).values_list("id", "name")
        ),
    }
    shown: list[Activity] = []
    for at, kind, object_id, write, event in merged:
        label = names.get(kind, {}).get(object_id or 0) or ""
        if not label:
            template = TARGET_LABELS.get(kind)
            if write is not None:
                label = write.target_label
            elif object_id and template is not None:
                label = str(template) % {"id": object_id}
        shown.append(Activity(at, kind, object_id, label, write=write, event=event))
    return shown


@dataclass(frozen=True)
class DueToDos:
    """The person's open to-dos due today and overdue (the first few of each), from the
    mirror; `held` is False when the mirror does not hold to-dos yet."""

    held: bool
    today: list[Any] = field(default_factory=list)
    overdue: list[Any] = field(default_factory=list)
    today_count: int = 0
    overdue_count: int = 0


def due_todos(*, user: Any) -> DueToDos:
    if not my_todos_held():
        return DueToDos(held=False)
    mine = my_todos(user=user)
    today = [m for m in mine if m.due("today") and not m.overdue]
    overdue = [m for m in mine if m.overdue]
    return DueToDos(
        held=True,
        today=today[:TODO_ROWS],
        overdue=overdue[:TODO_ROWS],
        today_count=len(today),
        overdue_count=len(overdue),
    )


@dataclass(frozen=True)
class Dashboard:
    modules: list[ModuleStatuses]
    todos: DueToDos
    activity: list[Activity]
    budget: BudgetHour
    throughput: Throughput


def dashboard(*, user: Any) -> Dashboard:
    return Dashboard(
        modules=modules_by_status(),
        todos=due_todos(user=user),
        activity=recent_activity(),
        budget=budget_hour(),
        throughput=queue_throughput(),
    )
